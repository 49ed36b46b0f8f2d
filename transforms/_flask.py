"""Qualified names of the Flask API, and recognisers shared by several transforms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider, ScopeProvider

if TYPE_CHECKING:
    from codemod.transform import Transform

FLASK = "flask.Flask"
BLUEPRINT = "flask.Blueprint"
JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})
ABORT = frozenset({"flask.abort", "werkzeug.exceptions.abort"})

# Flask's route decorators; the shortcut names are FastAPI's too.
ROUTE = "route"
SHORTCUTS = frozenset({"get", "post", "put", "patch", "delete"})
ROUTE_DECORATOR = m.Decorator(
    decorator=m.Call(func=m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n == ROUTE or n in SHORTCUTS))))
)


class RouteDecorator(NamedTuple):
    receiver: cst.BaseExpression
    method: str  # "route" or a shortcut
    call: cst.Call


def route_decorator(transform: Transform, decorator: cst.Decorator) -> RouteDecorator | None:
    """The parts of ``@x.route(...)`` / ``@x.get(...)`` when x is a Flask app or blueprint of
    this project (a FastAPI router or a lookalike from another library is not)."""
    if not m.matches(decorator, ROUTE_DECORATOR):
        return None
    call = decorator.decorator
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    if transform.kind_of(call.func.value) is None:
        return None
    return RouteDecorator(call.func.value, call.func.attr.value, call)


def enclosing_function(transform: Transform, node: cst.CSTNode) -> cst.FunctionDef | None:
    current = transform.get_metadata(ParentNodeProvider, node, None)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        current = transform.get_metadata(ParentNodeProvider, current, None)
    return current if isinstance(current, cst.FunctionDef) else None


def is_view(transform: Transform, function: cst.FunctionDef | None) -> bool:
    return function is not None and any(route_decorator(transform, d) for d in function.decorators)


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def bind(call: cst.Call, parameters: tuple[str, ...]) -> dict[str, cst.Arg]:
    """Arguments by parameter name, positional ones placed by ``parameters``' order."""
    bound: dict[str, cst.Arg] = {}
    positional = [a for a in call.args if a.keyword is None and not a.star]
    for name, arg in zip(parameters, positional):
        bound[name] = arg
    for arg in call.args:
        if arg.keyword is not None:
            bound[arg.keyword.value] = arg
    return bound


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain (non f-) string literal, else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


NO_SPACE = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value`` written the way PEP 8 writes keyword arguments."""
    return cst.Arg(value, keyword=cst.Name(name), equal=NO_SPACE)


def string_literal(value: str) -> cst.SimpleString:
    """A str literal node for ``value`` (double quotes unless that needs escapes)."""
    text = f'"{value}"' if value.isprintable() and '"' not in value and "\\" not in value else repr(value)
    return cst.SimpleString(text)


def last_arg(args: list[cst.Arg]) -> list[cst.Arg]:
    """Arguments with the trailing comma of the last one removed (so nothing dangles)."""
    if not args:
        return args
    return [*args[:-1], args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]


# flask names whose flask_compat counterpart has the same name and signature
SEND_FILE = frozenset({"flask.send_file", "flask.helpers.send_file"})
SEND_FROM_DIRECTORY = frozenset({"flask.send_from_directory", "flask.helpers.send_from_directory"})
RENDER_TEMPLATE = frozenset(
    {
        "flask.render_template", "flask.templating.render_template",
        "flask.render_template_string", "flask.templating.render_template_string",
    }
)
FLASH = frozenset({"flask.flash", "flask.helpers.flash", "flask.get_flashed_messages", "flask.helpers.get_flashed_messages"})


# -- names flask_compat provides ----------------------------------------------------------------
class Supported:
    """Names of Flask or of a Flask extension that flask_compat provides, each with flask_compat's
    name for it, imported from the package or from one of its ``modules``
    (``flask.helpers.send_file``, ``flask_login.utils.login_required``)."""

    def __init__(self, package: str, names: Iterable[str] | Mapping[str, str], modules: Iterable[str] = ()) -> None:
        self.package = package
        self.names: Mapping[str, str] = names if isinstance(names, Mapping) else {n: n for n in names}
        self.modules = frozenset(modules)

    def name_for(self, qualified: Iterable[str]) -> str | None:
        """flask_compat's name for one of these fully qualified names, or None."""
        for name in sorted(qualified):
            module, _, last = name.rpartition(".")
            if last in self.names and (module == self.package or module.removeprefix(self.package + ".") in self.modules):
                return self.names[last]
        return None

    def reference(self, transform: Transform, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression | None:
        """What a reference to one of these names becomes, or None when it is not one.

        A name keeps its local name, now imported from flask_compat (an alias stays an alias);
        ``module.name`` becomes a name that means flask_compat's there (never one the code
        defines itself: Transform.support_reference)."""
        if isinstance(original, cst.Name):
            if isinstance(transform.get_metadata(ParentNodeProvider, original, None), cst.ImportAlias):
                return None
            support = self.name_for(transform.qualified_names(original))
            if support is None:
                return None
            transform.consume(original)
            transform.use_support(support, asname=original.value)
            return updated
        if not isinstance(original, cst.Attribute) or not self._is_module(transform, original.value):
            return None
        support = self.name_for(transform.qualified_names(original))
        if support is None:
            return None
        transform.consume(original)
        # an import of the same name from the package or one of its modules is the same thing
        return transform.support_reference(original, support, same=lambda imported: self.name_for([imported]) == support)

    def _is_module(self, transform: Transform, node: cst.BaseExpression) -> bool:
        """Whether ``node`` is the package or one of its modules, imported with ``import``."""
        if not any(q == self.package or q.removeprefix(self.package + ".") in self.modules for q in transform.qualified_names(node)):
            return False
        root = node
        while isinstance(root, cst.Attribute):
            root = root.value
        scope = transform.get_metadata(ScopeProvider, root, None) if isinstance(root, cst.Name) else None
        bindings = scope[root.value] if scope is not None else ()  # type: ignore[union-attr]
        return bool(bindings) and all(isinstance(getattr(b, "node", None), cst.Import) for b in bindings)


# -- route dependencies -------------------------------------------------------------------------
def with_dependencies(route: cst.Call, dependencies: Sequence[cst.BaseExpression]) -> cst.Call:
    """``app.get(path, ...)`` with ``Depends(d)`` for each dependency added to its
    ``dependencies=[...]`` (after the ones it has). The caller imports ``Depends``."""
    added = [cst.Element(cst.Call(cst.Name("Depends"), [cst.Arg(d)])) for d in dependencies]
    args = list(route.args)
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == "dependencies" and isinstance(arg.value, cst.List):
            elements = list(arg.value.elements)
            if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
                elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            args[index] = arg.with_changes(value=arg.value.with_changes(elements=[*elements, *added]))
            return route.with_changes(args=args)
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return route.with_changes(args=[*args, kwarg("dependencies", cst.List(added))])


def without_decorators(function: cst.FunctionDef, removed: Iterable[int]) -> cst.FunctionDef:
    """``function`` without the decorators at the ``removed`` positions (those that became route
    dependencies). Comments above and after a removed decorator stay, above what came next."""
    gone = set(removed)
    kept: list[cst.Decorator] = []
    comments: list[cst.EmptyLine] = []
    for index, decorator in enumerate(function.decorators):
        if index in gone:
            comments += [line for line in decorator.leading_lines if line.comment is not None]
            if decorator.trailing_whitespace.comment is not None:  # @timed  # why it is here
                comments.append(cst.EmptyLine(comment=decorator.trailing_whitespace.comment))
        elif comments:
            kept.append(decorator.with_changes(leading_lines=[*comments, *decorator.leading_lines]))
            comments = []
        else:
            kept.append(decorator)
    return function.with_changes(decorators=kept, lines_after_decorators=[*comments, *function.lines_after_decorators])
