"""What a Jinja template needs to render as Flask rendered it: facts for transforms/templates.py.

Flask renders ``render_template(name, **context)`` in an environment of its own. It looks the name
up in the app's template folder first, then in the blueprints' folders; it autoescapes templates
named ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg``; and it adds names of its own to every
template: ``request``, ``session``, ``g``, ``config``, ``url_for``, ``get_flashed_messages``, the
``tojson`` filter, and whatever the app registers (context processors, globals, filters, tests).

A template renders the same in a plain Jinja environment with the same autoescape rule when
everything it (and every template it extends, includes or imports) reads is either a name the
view passes or Jinja's own: ``needs()`` parses the templates (``jinja2.meta``), never runs them,
and says what stands in the way, if anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from jinja2 import meta, nodes
from jinja2.loaders import split_template_path

# what Flask's environment adds to every template
FLASK_NAMES = frozenset({"request", "session", "g", "config", "url_for", "get_flashed_messages"})
FLASK_FILTERS = frozenset({"tojson"})  # Flask's own, not Jinja's (sorted keys, its JSON provider)
# Flask's select_jinja_autoescape
AUTOESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg")
JINJA = jinja2.Environment()  # only parses: Jinja's own filters and tests, its syntax


@dataclass(frozen=True)
class Needs:
    """What rendering a template reads: ``names`` the context must give; ``blockers``, why it
    cannot render outside Flask (empty: it can, given those names)."""

    names: frozenset[str]
    blockers: tuple[str, ...]
    found: bool = True  # the template itself is in the folder


def needs(folder: Path, name: str) -> Needs:
    """What the template ``name`` of ``folder`` and the templates it uses read (module doc)."""
    names: set[str] = set()
    blockers: list[str] = []
    seen: set[str] = set()
    todo = [name]
    declared: set[str] = set()  # set, imported or defined at the top of a template used
    parser = jinja2.Environment()  # the stand-ins of the app's filters go in this one
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = _source(folder, current)
        if source is None:
            blockers.append(f"{current} is not in the app's template folder")
            continue
        if current.lower().endswith(AUTOESCAPED) != current.endswith(AUTOESCAPED):
            blockers.append(f"{current}: Flask's autoescape reads its extension case-sensitively")
        try:
            tree = parser.parse(source)
        except jinja2.TemplateSyntaxError as error:
            blockers.append(f"{current} does not parse ({error.message})")
            continue
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            known = JINJA.filters if isinstance(node, nodes.Filter) else JINJA.tests
            if node.name not in known or node.name in FLASK_FILTERS:
                blockers.append(f"{current} uses the {node.name} {type(node).__name__.lower()}, the app's or Flask's")
                # a stand-in, so that the names it reads can be found
                (parser.filters if isinstance(node, nodes.Filter) else parser.tests).setdefault(node.name, _stand_in)
        names |= meta.find_undeclared_variables(tree)
        declared |= _declared(tree)
        for referred in meta.find_referenced_templates(tree):
            if referred is None:
                blockers.append(f"{current} names a template only known when it runs")
            else:
                todo.append(referred)
    flask = sorted(names & FLASK_NAMES)
    if flask:
        blockers.insert(0, f"uses Flask's {', '.join(flask)}")
    # a name one template declares at its top (``{% import "m.html" as ui %}`` in the base) is
    # the templates' own where another reads it (a child's block)
    found = _source(folder, name) is not None
    return Needs(frozenset(names - (declared - FLASK_NAMES)), tuple(dict.fromkeys(blockers)), found)


def _declared(tree: nodes.Template) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            names |= {n.name for n in node.target.find_all(nodes.Name)} | (
                {node.target.name} if isinstance(node.target, nodes.Name) else set()
            )
        elif isinstance(node, nodes.Import):
            names.add(node.target)
        elif isinstance(node, nodes.FromImport):
            names |= {alias if isinstance(alias, str) else alias[1] for alias in node.names}
        elif isinstance(node, nodes.Macro):
            names.add(node.name)
    return names


def _stand_in(*args: object, **kwargs: object) -> None:
    return None


def _source(folder: Path, name: str) -> str | None:
    try:
        path = folder.joinpath(*split_template_path(name))
    except jinja2.TemplateNotFound:  # a name with ".." in it
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
