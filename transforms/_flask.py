"""Qualified names of the Flask API, and recognisers shared by several transforms."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import libcst as cst
import libcst.matchers as m

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


def route_decorator(transform: "Transform", decorator: cst.Decorator) -> RouteDecorator | None:
    """The parts of ``@x.route(...)`` / ``@x.get(...)`` when x is a Flask app or blueprint of
    this project (a FastAPI router or a lookalike from another library is not)."""
    if not m.matches(decorator, ROUTE_DECORATOR):
        return None
    call = decorator.decorator
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    if transform.kind_of(call.func.value) is None:
        return None
    return RouteDecorator(call.func.value, call.func.attr.value, call)


def enclosing_function(transform: "Transform", node: cst.CSTNode) -> cst.FunctionDef | None:
    from libcst.metadata import ParentNodeProvider

    current = transform.get_metadata(ParentNodeProvider, node, None)
    while current is not None and not isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
        current = transform.get_metadata(ParentNodeProvider, current, None)
    return current if isinstance(current, cst.FunctionDef) else None


def is_view(transform: "Transform", function: cst.FunctionDef | None) -> bool:
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
