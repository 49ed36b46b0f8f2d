"""Which ``render_template`` calls a converted app renders without Flask, decided once for the
project: transforms/templates.py writes what this allows, and the error handler plan
(codemod/error_handlers.py) converts a handler that renders a template only where it does.

The facts of each module (``template_facts``): how many ``Flask(__name__)`` apps it makes, whether
it changes its Jinja environment's syntax (``jinja_options``...), whether the name ``templates``
is taken, which modules it imports from, the template folders of its apps and blueprints, and what
the template sources it gives ``render_template_string`` read of Flask's session.

The plan (``plan_templates``): templates convert in the module of the project's one app, made at
module level as ``Flask(__name__)`` next to its ``templates`` folder. A template (and every
template it extends, includes or imports, codemod/templates.py) converts given the names a call
passes where what it reads of Flask's template context the converted module's
``Jinja2Templates`` gives too (``TemplatePlan.blockers``):

- ``config`` (``app.config``, a global as in Flask), ``request.path``, ``url_for`` of a native
  route given exactly its variables, ``get_flashed_messages`` where Flask's session cookie leaves
  Flask (codemod/session_facts.py): the runtime's context processor gives the last three, so a
  call that passes one of those names itself does not convert (Starlette's processors win);
- the filters, tests and globals the project registers in a way codemod/templates.py reads, and
  the app's context processors (merged under each call's values);
- a name no one gives is Jinja's undefined in both, unless the app adds values to templates in a
  way not understood or a Flask extension may add one.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import jinja2
import libcst as cst
import libcst.matchers as m
from jinja2 import nodes
from libcst.metadata import MetadataWrapper
from codemod.names import FullNames, Scopes, LazyValue

from codemod.discovery import discover
from codemod.facts import keywords, literal
from codemod.find import findall
from codemod.plan import RoutePlan
from codemod.templates import FLASK_FILTERS, FLASK_NAMES, Needs, Registered, UrlFor, needs, registered
from codemod.vendor import canonical

FLASK = frozenset({"flask.Flask", "flask.app.Flask"})
BLUEPRINT = frozenset({"flask.Blueprint", "flask.blueprints.Blueprint"})
RENDER_STRING = frozenset({"flask.render_template_string", "flask.templating.render_template_string"})
RENDER = RENDER_STRING | {"flask.render_template", "flask.templating.render_template"}
NAME = "templates"  # the converted module's Jinja2Templates
# what changes the Jinja environment beyond names a template reads
ENVIRONMENT = re.compile(r"jinja_options|jinja_environment|create_jinja_environment|jinja_env\.(?!globals\b|filters\b|tests\b)")
EXTENSION = re.compile(r"^\s*(?:from|import)\s+flask_", re.MULTILINE)  # a Flask extension's package
# the names of Flask's template context the runtime's context processor gives
CONTEXT = frozenset({"request", "url_for", "get_flashed_messages"})
# the route variables whose werkzeug converter writes what the runtime's url_for writes
URL_VARIABLES = frozenset({"builtins.str", "builtins.int", "typing.Literal"})
# what reads or writes Flask's session cookie from a template
SESSION_NAMES = frozenset({"session", "get_flashed_messages"})
UNKNOWN = "?"  # a template folder that is no literal


@dataclass(frozen=True)
class TemplateFacts:
    """What one module tells of its templates (module doc)."""

    path: str = ""
    module: str = ""
    made: int = 0  # Flask(__name__) calls
    environment: bool = False
    templates_taken: bool = False
    imported: frozenset[str] = frozenset()
    # the template folders its apps and blueprints search, as paths (UNKNOWN: not a literal)
    folders: tuple[str, ...] = ()
    # of Flask's session names, what the sources given to render_template_string read
    # (all of them for a source that is no literal)
    strings_read: frozenset[str] = frozenset()
    url_defaults: bool = False  # registers url_defaults: url_for writes more than a route's path
    renders: bool = False  # calls render_template or render_template_string


def template_facts(wrapper: MetadataWrapper, path: Path, module: str, source: bytes) -> TemplateFacts:
    names = wrapper.resolve(FullNames)
    scope = wrapper.resolve(Scopes).get(wrapper.module)

    def called(call: cst.Call) -> set[str]:
        found = names.get(call.func, ())
        return {canonical(q.name) for q in (found() if isinstance(found, LazyValue) else found)}

    calls = [c for c in findall(wrapper.module, m.Call()) if isinstance(c, cst.Call)]
    own = m.Call(args=[m.Arg(value=m.Name("__name__"), keyword=None)])
    folders, read = [], set()
    for call in calls:
        found = called(call)
        if found & (FLASK | BLUEPRINT):
            options = keywords(call)
            default = "templates" if found & FLASK else None
            folder = literal(options["template_folder"]) if "template_folder" in options else default
            # template_folder given by position, or a root_path: not read here
            positional = sum(1 for a in call.args if a.keyword is None)
            odd = positional > (6 if found & FLASK else 4) or "root_path" in options or any(a.star for a in call.args)
            if odd or "template_folder" in options and folder is None:
                folders.append(UNKNOWN)
            elif folder is not None:
                folders.append(str(path.parent / folder))
        elif found & RENDER_STRING:
            text = call.args[0].value if call.args and call.args[0].keyword is None else None
            read |= _session_reads(text.evaluated_value) if isinstance(text, cst.SimpleString) else set(SESSION_NAMES)
    made = sum(1 for c in calls if m.matches(c, own) and called(c) & FLASK)
    renders = any(called(c) & RENDER for c in calls)
    imported = {
        cst.Module([]).code_for_node(i.module) for i in findall(wrapper.module, m.ImportFrom(relative=[]))
        if isinstance(i, cst.ImportFrom) and i.module is not None
    }
    defaults = findall(wrapper.module, m.Attribute(attr=m.Name("url_defaults") | m.Name("app_url_defaults")))
    return TemplateFacts(
        str(path), module, made, bool(ENVIRONMENT.search(source.decode("utf-8", "replace"))),
        scope is not None and NAME in scope, frozenset(imported), tuple(folders), frozenset(read), bool(defaults), renders,
    )


def _session_reads(text: str | bytes) -> set[str]:
    """Which of Flask's session names a template source names (all of them: it does not parse);
    a name it binds itself counts too, which errs on the safe side."""
    try:
        tree = jinja2.Environment().parse(text)
    except (jinja2.TemplateSyntaxError, TypeError):
        return set(SESSION_NAMES)
    return {n.name for n in tree.find_all(nodes.Name)} & SESSION_NAMES


def session_reads(facts: dict[str, TemplateFacts]) -> tuple[frozenset[str], list[str]]:
    """Of Flask's session names, what any template of the project's folders (or a source given to
    render_template_string) reads; and why that cannot be known, where it cannot. Nothing for a
    project that renders no template."""
    read: set[str] = set()
    unknown: list[str] = []
    if not any(module.renders for module in facts.values()):
        return frozenset(), []
    for module in facts.values():
        read |= module.strings_read
        for folder in module.folders:
            if folder == UNKNOWN:
                unknown.append(f"{module.path}: a template folder that is no literal")
                continue
            for template in sorted(Path(folder).rglob("*")) if Path(folder).is_dir() else ():
                try:
                    read |= _session_reads(template.read_text(encoding="utf-8")) if template.is_file() else set()
                except (OSError, UnicodeDecodeError):
                    continue  # Flask cannot render it either
    return frozenset(read), unknown


@dataclass
class TemplatePlan:
    """Where templates convert and what they are given (module doc); ``module`` "": nowhere."""

    module: str = ""
    folder: Path | None = None
    app: str = ""
    endpoints: dict[str, list[RoutePlan]] = field(default_factory=dict)
    imported: frozenset[str] = frozenset()
    flashes: bool = False  # get_flashed_messages is the runtime's (codemod/session_facts.py)

    # read from the project's files only once a template is looked at
    @functools.cached_property
    def registered(self) -> Registered:
        if self.folder is None:
            return Registered({}, {}, {}, {}, (), frozenset(), ())
        return registered(self.folder.parent, self.module.rpartition(".")[0], self.module, self.app)

    @functools.cached_property
    def extension(self) -> bool:
        """Whether the project's code next to the app imports a Flask extension."""
        return self.folder is not None and _extension(self.folder.parent)

    def blockers(
        self, module: str, template: str, passed: frozenset[str], text: str | None = None,
    ) -> tuple[Needs | None, list[str]]:
        """What the template needs, and why it does not render alike in ``module`` given ``passed``
        (empty: it does); ``text``: the template's source, given as a string (``render_template_string``)."""
        if self.folder is None or module != self.module:
            return None, ["not the app module's"]
        found = needs(self.folder, template, text)
        if not found.found:  # a blueprint's template, or none: Flask's loader decides, not a person
            return None, [f"{template} is not in the app's template folder"]
        blockers = self._flask_names(found, passed) + self._registered(found) + list(found.blockers)
        env = self.registered
        known = passed | FLASK_NAMES | set(env.globals) | set(env.functions) | env.given
        missing = sorted(found.names - known)
        if missing and (env.opaque or self.extension):
            blockers.append(f"reads {', '.join(missing)}, which the view does not pass")
            blockers.extend(env.opaque)
        return found, blockers

    def _flask_names(self, found: Needs, passed: frozenset[str]) -> list[str]:
        given = {"config"}  # Flask's env.globals["config"] is app.config: so is the converted one
        if found.request <= {"path"}:
            given.add("request")
        if all(self._url_alike(u) for u in found.url_fors):
            given.add("url_for")
        if self.flashes:
            given.add("get_flashed_messages")
        # Starlette's context processors win over the values of the call and the app's processors
        overridden = sorted(found.names & (passed | self.registered.given) & CONTEXT)
        left = sorted((found.names & FLASK_NAMES) - passed - given)
        return [f"uses Flask's {', '.join(left)}"] * bool(left) + [
            f"is given {', '.join(overridden)} by the view or a context processor, which the converted context would override"
        ] * bool(overridden)

    def _url_alike(self, call: UrlFor) -> bool:
        """Whether the runtime's url_for writes what Flask's wrote for this template call: a
        literal endpoint of one native route, given exactly its variables, of types both write alike."""
        if not call.plain or call.endpoint is None or call.endpoint.startswith("."):
            return False
        targets = self.endpoints.get(call.endpoint, [])
        if len(targets) != 1 or targets[0].level != "native":
            return False
        variables = targets[0].annotations
        return set(variables) == call.values and all(q in URL_VARIABLES for q, _ in variables.values())

    def _registered(self, found: Needs) -> list[str]:
        blockers = []
        env = self.registered
        for kind, names, known in (("filter", found.filters, env.filters), ("test", found.tests, env.tests)):
            for name in sorted(names):
                where = known.get(name)
                if name in FLASK_FILTERS or where is None:
                    blockers.append(f"uses the {name} {kind}, Flask's or one registered in a way not converted")
                elif where[0] != self.module and where[0] not in self.imported:
                    blockers.append(f"uses the {name} {kind} of {where[0]}, which the app's module does not import")
        return blockers


def plan_templates(
    facts: dict[str, TemplateFacts], apps: list[tuple[str, str, bool]], endpoints: dict[str, list[RoutePlan]], flashes: bool,
) -> TemplatePlan:
    """The plan (module doc). ``apps``: (variable, module, made at module level) of each Flask
    app; ``endpoints``: the route plans by endpoint; ``flashes``: get_flashed_messages is the runtime's."""
    if len(apps) != 1 or not apps[0][2]:
        return TemplatePlan()
    app, module, _ = apps[0]
    own = facts.get(module)
    if own is None or own.made != 1 or own.environment or own.templates_taken or not Path(own.path).is_file():
        return TemplatePlan()  # (a module on disk, next to its templates)
    folder = Path(own.path).parent / "templates"
    return TemplatePlan(module, folder, app, {} if own.url_defaults else endpoints, own.imported, flashes)


def _extension(folder: Path) -> bool:
    """Whether the project's code next to the app imports a Flask extension, which may add
    values to every template (Flask-Login's ``current_user``, Flask-WTF's ``csrf_token``)."""
    for path in discover([folder]):  # the project's files: not a virtual environment's
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return True
        if EXTENSION.search(text):
            return True
    return False


# -- what the plan reads besides the module being converted (codemod/cache.py keys on it) -------------


def folders_read(facts: dict[str, TemplateFacts], outside_of: Sequence[Path]) -> list[Path]:
    """The template folders the project names (``template_folder="../x"``) outside the folders
    ``outside_of``: ``session_reads`` reads their templates."""
    named = {Path(f).resolve() for module in facts.values() for f in module.folders if f != UNKNOWN}
    return sorted(f for f in named if not any(f.is_relative_to(root) for root in outside_of))


def modules_read(facts: dict[str, TemplateFacts], files: Sequence[Path]) -> list[Path]:
    """Of ``files``, those whose text a module's conversion may read besides its own: where the
    project renders templates, the modules next to each app's (``TemplatePlan.registered`` reads
    what they register on its Jinja environment, ``_extension`` whether they use an extension)."""
    if not any(module.renders for module in facts.values()):
        return []
    folders = {Path(module.path).resolve().parent for module in facts.values() if module.made}
    return [path for path in (p.resolve() for p in files) if any(path.is_relative_to(folder) for folder in folders)]
