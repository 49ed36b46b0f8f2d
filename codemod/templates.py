"""What a Jinja template needs to render as Flask rendered it: facts for transforms/templates.py.

Flask renders ``render_template(name, **context)`` in an environment of its own. It looks the name
up in the app's template folder first, then in the blueprints' folders; it autoescapes templates
named ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg``; and it adds names of its own to every
template: ``request``, ``session``, ``g``, ``config``, ``url_for``, ``get_flashed_messages``, the
``tojson`` filter, and whatever the app registers (context processors, globals, filters, tests).

Some of these a converted app gives its ``Jinja2Templates`` too (transforms/templates.py decides
which): ``needs()`` says which filters and tests outside Jinja's a template uses, which
attributes of ``request`` it reads and how it calls ``url_for`` (``Needs.url_fors``).

A template renders the same in a plain Jinja environment with the same autoescape rule when
everything it (and every template it extends, includes or imports) reads is either a name the
view passes or Jinja's own: ``needs()`` parses the templates (``jinja2.meta``), never runs them,
and says what stands in the way, if anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import libcst as cst
import libcst.matchers as m
from jinja2 import meta, nodes
from jinja2.loaders import split_template_path

from codemod.discovery import discover
from codemod.find import findall

# what Flask's environment adds to every template
FLASK_NAMES = frozenset({"request", "session", "g", "config", "url_for", "get_flashed_messages"})
FLASK_FILTERS = frozenset({"tojson"})  # Flask's own, not Jinja's (sorted keys, its JSON provider)
# Flask's select_jinja_autoescape
AUTOESCAPED = (".html", ".htm", ".xml", ".xhtml", ".svg")
JINJA = jinja2.Environment()  # only parses: Jinja's own filters and tests, its syntax


@dataclass(frozen=True)
class UrlFor:
    """A ``url_for(...)`` call of a template: its literal endpoint (None: another expression)
    and the names of its keyword arguments; ``plain``: it has no other arguments."""

    endpoint: str | None
    values: frozenset[str]
    plain: bool


@dataclass(frozen=True)
class Needs:
    """What rendering a template reads: ``names`` the context must give; ``blockers``, why it
    cannot render outside Flask (empty: it can, given those names and ``filters``/``tests``)."""

    names: frozenset[str]
    blockers: tuple[str, ...]
    found: bool = True  # the template itself is in the folder
    filters: frozenset[str] = frozenset()  # not Jinja's own (the app's, or Flask's tojson)
    tests: frozenset[str] = frozenset()
    # the attributes of ``request`` read (``request.path``); "" where it is read otherwise
    request: frozenset[str] = frozenset()
    url_fors: tuple[UrlFor, ...] = ()  # "url_for" in names, not called: an UrlFor(None, ...)


def needs(folder: Path, name: str, text: str | None = None) -> Needs:
    """What the template ``name`` of ``folder`` and the templates it uses read (module doc);
    ``text``: the source of ``name`` itself, a template given as a string (``render_template_string``,
    which Flask autoescapes whatever it is called)."""
    names: set[str] = set()
    blockers: list[str] = []
    seen: set[str] = set()
    todo = [name]
    declared: set[str] = set()  # set, imported or defined at the top of a template used
    parser = jinja2.Environment()  # the stand-ins of the app's filters go in this one
    filters: set[str] = set()
    tests: set[str] = set()
    request: set[str] = set()
    url_fors: list[UrlFor] = []
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        given = text is not None and current == name
        source = text if given else _source(folder, current)
        if source is None:
            blockers.append(f"{current} is not in the app's template folder")
            continue
        if not given and current.lower().endswith(AUTOESCAPED) != current.endswith(AUTOESCAPED):
            blockers.append(f"{current}: Flask's autoescape reads its extension case-sensitively")
        try:
            tree = parser.parse(source)
        except jinja2.TemplateSyntaxError as error:
            blockers.append(f"{current} does not parse ({error.message})")
            continue
        for node in tree.find_all((nodes.Filter, nodes.Test)):
            known = JINJA.filters if isinstance(node, nodes.Filter) else JINJA.tests
            if node.name not in known or node.name in FLASK_FILTERS:
                (filters if isinstance(node, nodes.Filter) else tests).add(node.name)
                # a stand-in, so that the names it reads can be found
                (parser.filters if isinstance(node, nodes.Filter) else parser.tests).setdefault(node.name, _stand_in)
        undeclared = meta.find_undeclared_variables(tree)
        names |= undeclared
        request |= _attributes(tree, "request") if "request" in undeclared else set()
        url_fors += _url_fors(tree) if "url_for" in undeclared else []
        declared |= _declared(tree)
        for referred in meta.find_referenced_templates(tree):
            if referred is None:
                blockers.append(f"{current} names a template only known when it runs")
            else:
                todo.append(referred)
    # a name one template declares at its top (``{% import "m.html" as ui %}`` in the base) is
    # the templates' own where another reads it (a child's block)
    found = text is not None or _source(folder, name) is not None
    return Needs(
        frozenset(names - (declared - FLASK_NAMES)), tuple(dict.fromkeys(blockers)), found,
        frozenset(filters), frozenset(tests), frozenset(request), tuple(url_fors),
    )


def _attributes(tree: nodes.Template, name: str) -> set[str]:
    """The attributes of ``name`` the template reads; "" where it reads the name otherwise."""
    read = [n for n in tree.find_all(nodes.Getattr) if isinstance(n.node, nodes.Name) and n.node.name == name]
    uses = sum(1 for n in tree.find_all(nodes.Name) if n.name == name)
    return {n.attr for n in read} | ({""} if uses > len(read) else set())


def _url_fors(tree: nodes.Template) -> list[UrlFor]:
    """The template's ``url_for`` calls; an ``UrlFor(None, ...)`` where it is read otherwise."""
    calls = [n for n in tree.find_all(nodes.Call) if isinstance(n.node, nodes.Name) and n.node.name == "url_for"]
    found = [
        UrlFor(
            c.args[0].value if c.args and isinstance(c.args[0], nodes.Const) and isinstance(c.args[0].value, str) else None,
            frozenset(k.key for k in c.kwargs),
            len(c.args) == 1 and c.dyn_args is None and c.dyn_kwargs is None,
        )
        for c in calls
    ]
    uses = sum(1 for n in tree.find_all(nodes.Name) if n.name == "url_for")
    return found + [UrlFor(None, frozenset(), False)] * (uses - len(calls))


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


@dataclass(frozen=True)
class Registered:
    """What the project adds to its Flask app's Jinja environment, as far as it is understood:
    filters, tests and function globals by their template name -> (module, function); literal
    globals by name -> their expression; the app's context processors (module, function) and
    the names they give; ``opaque``: what adds more in a way not understood."""

    filters: dict[str, tuple[str, str]]
    tests: dict[str, tuple[str, str]]
    globals: dict[str, cst.BaseExpression]
    functions: dict[str, tuple[str, str]]
    processors: tuple[tuple[str, str], ...]
    given: frozenset[str]  # the names the context processors give
    opaque: tuple[str, ...]


# decorator attribute -> what it registers; the blueprint's app_* forms are app-wide
DECORATORS = {
    "template_filter": "filters", "app_template_filter": "filters",
    "template_test": "tests", "app_template_test": "tests",
    "template_global": "functions", "app_template_global": "functions",
}
ENVIRONMENT_WORDS = ("jinja_env", "add_template_", "context_processor", "template_")


def registered(package: Path, package_name: str, app_module: str, app: str) -> Registered:
    """What the ``.py`` files under ``package`` (the module ``package_name``) register on the
    Jinja environment of the app ``app`` made in ``app_module`` (see ``Registered``)."""
    found: dict[str, dict] = {"filters": {}, "tests": {}, "functions": {}}
    literals: dict[str, cst.BaseExpression] = {}
    processors: list[tuple[str, str]] = []
    given: set[str] = set()
    opaque: list[str] = []
    for path in discover([package]):  # the project's files: not a virtual environment's
        relative = path.relative_to(package).with_suffix("").parts
        parts = (package_name, *relative[:-1], *([] if relative[-1] == "__init__" else relative[-1:]))
        module = ".".join(part for part in parts if part)
        try:
            source = path.read_text(encoding="utf-8")
            tree = cst.parse_module(source) if any(w in source for w in ENVIRONMENT_WORDS) else None
        except (OSError, UnicodeDecodeError, cst.ParserSyntaxError):
            opaque.append(f"{path.name} could not be read")
            continue
        if tree is None:
            continue
        understood: set[int] = set()  # the ids of nodes a registration below explains
        flask_names = _flask_imports(tree)
        for function in tree.body:
            if not isinstance(function, cst.FunctionDef):
                continue
            for decorator in function.decorators:
                target = decorator.decorator
                call = target if isinstance(target, cst.Call) else None
                attribute = call.func if call is not None else target
                if not isinstance(attribute, cst.Attribute):
                    continue
                kind = DECORATORS.get(attribute.attr.value)
                if kind is not None:
                    name = _literal_name(call, function.name.value)
                    if name is None:
                        continue
                    found[kind][name] = (module, function.name.value)
                    understood.add(id(attribute))
                elif attribute.attr.value == "context_processor" and call is None and module == app_module and (
                    m.matches(attribute.value, m.Name(app))
                ):
                    keys = _returned_keys(function, flask_names)
                    if keys is None:
                        continue
                    processors.append((module, function.name.value))
                    given |= keys
                    understood.add(id(attribute))
        for statement in tree.body:
            for small in statement.body if isinstance(statement, cst.SimpleStatementLine) else ():
                literal = _global_literal(small, app) if module == app_module else None
                if literal is not None:
                    literals[literal[0]] = literal[1]
                    understood |= {id(n) for n in findall(small, m.Attribute(attr=m.Name("jinja_env")))}
        for attribute in findall(tree, m.Attribute()):
            assert isinstance(attribute, cst.Attribute)
            word = attribute.attr.value
            if id(attribute) in understood:
                continue
            if word in DECORATORS or word in ("jinja_env", "context_processor", "app_context_processor") or (
                word.startswith("add_template_")
            ):
                opaque.append(f"{path.name} uses {word} in a way not converted")
    return Registered(
        found["filters"], found["tests"], literals, found["functions"], tuple(processors), frozenset(given),
        tuple(dict.fromkeys(opaque)),
    )


def _literal_name(call: cst.Call | None, default: str) -> str | None:
    """The template name a ``@x.template_filter("name")`` decorator gives (None: not a literal)."""
    if call is None or not call.args:
        return default
    first = call.args[0]
    if first.keyword is not None and first.keyword.value != "name" or len(call.args) > 1:
        return None
    value = first.value
    return value.evaluated_value if isinstance(value, cst.SimpleString) else None  # type: ignore[return-value]


def _flask_imports(tree: cst.Module) -> set[str]:
    """The names a module binds from Flask or a Flask extension (``from flask import g``)."""
    names: set[str] = set()
    for node in findall(tree, m.ImportFrom() | m.Import()):
        if isinstance(node, cst.ImportFrom):
            module = cst.Module([]).code_for_node(node.module) if node.module else ""
            if module.split(".")[0].startswith("flask") and not isinstance(node.names, cst.ImportStar):
                names |= {(a.asname.name.value if a.asname else cst.Module([]).code_for_node(a.name)) for a in node.names}  # type: ignore[union-attr]
        elif isinstance(node, cst.Import):
            for alias in node.names:
                dotted = cst.Module([]).code_for_node(alias.name)
                if dotted.startswith("flask"):
                    names.add(alias.asname.name.value if alias.asname else dotted.split(".")[0])  # type: ignore[union-attr]
    return names


def _returned_keys(function: cst.FunctionDef, flask_names: set[str]) -> frozenset[str] | None:
    """The keys of a context processor that takes nothing, reads nothing of Flask and returns a
    dict literal with string keys (None: another one)."""
    params = function.params
    if params.params or params.posonly_params or params.kwonly_params or isinstance(params.star_arg, cst.Param) or params.star_kwarg:
        return None
    if function.asynchronous or any(n.value in flask_names for n in findall(function.body, m.Name())):
        return None
    body = function.body.body
    last = body[-1] if body else None
    returned = last.body[0] if isinstance(last, cst.SimpleStatementLine) and len(last.body) == 1 else None
    returns = findall(function.body, m.Return())
    if not isinstance(returned, cst.Return) or len(returns) != 1 or not isinstance(returned.value, cst.Dict):
        return None
    keys = [e.key for e in returned.value.elements]
    if not all(isinstance(k, cst.SimpleString) for k in keys):
        return None
    return frozenset(k.evaluated_value for k in keys)  # type: ignore[union-attr]


LITERALS = (cst.SimpleString, cst.Integer, cst.Float)


def _global_literal(node: cst.BaseSmallStatement, app: str) -> tuple[str, cst.BaseExpression] | None:
    """``app.jinja_env.globals["name"] = <a str or number literal>`` -> (name, the literal)."""
    globals_of_app = m.Attribute(value=m.Attribute(value=m.Name(app), attr=m.Name("jinja_env")), attr=m.Name("globals"))
    pattern = m.Assign(
        targets=[m.AssignTarget(m.Subscript(value=globals_of_app, slice=[m.SubscriptElement(m.Index(m.SimpleString()))]))],
    )
    if not m.matches(node, pattern) or not isinstance(node.value, LITERALS):  # type: ignore[attr-defined]
        return None
    key = node.targets[0].target.slice[0].slice.value  # type: ignore[attr-defined]
    return key.evaluated_value, node.value  # type: ignore[attr-defined]
