"""What an expression of a view provably is, read from the code alone.

A rewrite of a response is only as faithful as what is known about the value it carries: Flask's
``make_response`` serializes a returned dict or list exactly as ``jsonify`` does, but a str
becomes an HTML page; Starlette's JSONResponse encodes str, numbers, booleans, None, lists and
str-keyed dicts of them to the JSON Flask writes, but nothing else (no datetime, no NaN); a
header value must be a str. Each predicate answers True only where the code shows it: a literal,
a builtin known to return that type, or a local name every binding of which is one of those.
The one convention taken on trust is that a ``to_dict()`` or pydantic ``model_dump()`` method
returns a dict.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable

import libcst as cst

from codemod.names import Parents, Scopes

if TYPE_CHECKING:
    from codemod.transform import Transform

CONTAINER_CALLS = frozenset({"builtins.dict", "builtins.list", "builtins.sorted"})
DICT_METHODS = frozenset({"to_dict", "model_dump"})
# builtins whose result JSONResponse encodes as Flask does (float() can give NaN: not here)
NATIVE_CALLS = frozenset({"builtins.str", "builtins.int", "builtins.len", "builtins.bool"})
TEXT_CALLS = frozenset({"builtins.str", "flask.url_for", "flask.helpers.url_for"})
# path parameters FastAPI parsed into a JSON-native value (werkzeug's float converter only
# matches digits, so no NaN), by the qualified name of the annotation the plan gives them
NATIVE_PARAMETERS = frozenset({"builtins.int", "builtins.float", "builtins.str", "typing.Literal"})
TEXT_PARAMETERS = frozenset({"builtins.str", "typing.Literal"})

Parameters = dict[str, str]  # a view's path parameters: name -> qualified annotation (plan)
Seen = frozenset[str]  # names being proved (a name bound to itself proves nothing)


def is_container(t: Transform, node: cst.BaseExpression, seen: Seen = frozenset()) -> bool:
    """A dict or a list: what Flask's make_response turns into the JSON ``jsonify`` gives."""
    if isinstance(node, (cst.Dict, cst.List, cst.DictComp, cst.ListComp)):
        return True
    if isinstance(node, cst.Call):
        if t.qualified_names(node.func) & CONTAINER_CALLS:
            return True
        return isinstance(node.func, cst.Attribute) and node.func.attr.value in DICT_METHODS
    if isinstance(node, cst.Name):
        return _every_binding(
            t, node, seen, lambda value, seen: not isinstance(value, cst.Param) and is_container(t, value, seen)
        )
    return False


def is_native(t: Transform, node: cst.BaseExpression, parameters: Parameters, seen: Seen = frozenset()) -> bool:
    """JSON data that Starlette's JSONResponse encodes to the same JSON as Flask's provider."""
    if isinstance(node, (cst.Integer, cst.FormattedString)) or is_str_literal(node):
        return True
    if isinstance(node, cst.Float):
        return math.isfinite(float(node.value))  # 1e999 is inf: Flask writes Infinity, Starlette refuses
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        return isinstance(node.expression, (cst.Integer, cst.Float)) and is_native(t, node.expression, parameters, seen)
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return True
    if isinstance(node, cst.IfExp):
        return is_native(t, node.body, parameters, seen) and is_native(t, node.orelse, parameters, seen)
    if isinstance(node, (cst.List, cst.Tuple)):
        return all(isinstance(e, cst.Element) and is_native(t, e.value, parameters, seen) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and is_str_literal(e.key) and is_native(t, e.value, parameters, seen)
            for e in node.elements
        )
    if isinstance(node, cst.Call):
        return bool(t.qualified_names(node.func) & NATIVE_CALLS) and not any(a.star for a in node.args)
    if isinstance(node, cst.Name):
        # a container bound to a name may have been filled with anything since: only scalars
        def scalar(value: cst.CSTNode, seen: Seen) -> bool:
            if isinstance(value, cst.Param):
                return parameters.get(node.value) in NATIVE_PARAMETERS
            if isinstance(value, (cst.List, cst.Tuple, cst.Dict)):
                return False
            return is_native(t, value, parameters, seen)  # type: ignore[arg-type]

        return _every_binding(t, node, seen, scalar)
    return False


def is_text(t: Transform, node: cst.BaseExpression, parameters: Parameters, seen: Seen = frozenset()) -> bool:
    """A str (a header value)."""
    if is_str_literal(node) or isinstance(node, cst.FormattedString):
        return True
    if isinstance(node, cst.Call):
        return bool(t.qualified_names(node.func) & TEXT_CALLS)
    if isinstance(node, cst.Name):

        def text(value: cst.CSTNode, seen: Seen) -> bool:
            if isinstance(value, cst.Param):
                return parameters.get(node.value) in TEXT_PARAMETERS
            return is_text(t, value, parameters, seen)  # type: ignore[arg-type]

        return _every_binding(t, node, seen, text)
    return False


def is_str_literal(node: cst.CSTNode) -> bool:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return isinstance(node.evaluated_value, str)
    return False


def _every_binding(t: Transform, name: cst.Name, seen: Seen, check: Callable[[cst.CSTNode, Seen], bool]) -> bool:
    """Whether every binding ``name`` may refer to is an assignment (``x = value``, ``x: T =
    value``) or a parameter that passes ``check``; False for any other binding (a loop target,
    an import, ``+=``, ``global``) and for a name met again while proving it (``x = x or 1``)."""
    scope = t.get_metadata(Scopes, name, None)
    assignments = list(scope[name.value]) if scope is not None and name.value not in seen else []
    if not assignments:
        return False
    seen = seen | {name.value}
    for assignment in assignments:
        bound = getattr(assignment, "node", None)
        if isinstance(bound, cst.Param):
            value: cst.CSTNode | None = bound
        else:
            parent = t.get_metadata(Parents, bound, None) if bound is not None else None
            if isinstance(parent, cst.AssignTarget):
                parent = t.get_metadata(Parents, parent, None)
            assigned = isinstance(parent, (cst.Assign, cst.AnnAssign)) and parent.value is not None
            value = parent.value if assigned else None  # type: ignore[union-attr]
        if value is None or not check(value, seen):
            return False
    return True


def is_parameter(t: Transform, node: cst.BaseExpression, parameters: Parameters, annotations: frozenset[str]) -> bool:
    """A path parameter of the view that FastAPI parsed into one of ``annotations``."""
    if not isinstance(node, cst.Name):
        return False
    name = node.value
    return _every_binding(
        t, node, frozenset(), lambda value, seen: isinstance(value, cst.Param) and parameters.get(name) in annotations
    )


# What a value of these calls is in JSON, named by the Python type that documents it.
TYPED_CALLS = {
    "builtins.str": "str", "builtins.int": "int", "builtins.len": "int", "builtins.bool": "bool",
    "builtins.float": "float", "builtins.list": "list", "builtins.sorted": "list", "builtins.dict": "dict",
    "builtins.repr": "str", "builtins.format": "str", "secrets.token_urlsafe": "str", "secrets.token_hex": "str",
}
# path parameters by their annotation (a UUID is written as its str by Flask's JSON provider)
TYPED_PARAMETERS = {"builtins.int": "int", "builtins.float": "float", "builtins.str": "str", "typing.Literal": "str", "uuid.UUID": "str"}


def json_types(t: Transform, node: cst.BaseExpression, parameters: Parameters, seen: Seen = frozenset()) -> frozenset[str] | None:
    """The types (``str``, ``int``, ``float``, ``bool``, ``list``, ``dict``, ``None``) that a value
    provably has once Flask's provider wrote it as JSON; None when the code does not show it. A
    tuple is a JSON list; ``to_dict()`` and ``model_dump()`` are taken to give dicts."""
    if is_str_literal(node) or isinstance(node, cst.FormattedString):
        return frozenset({"str"})
    if isinstance(node, cst.Integer):
        return frozenset({"int"})
    if isinstance(node, cst.Float):
        return frozenset({"float"})
    if isinstance(node, cst.UnaryOperation):
        if isinstance(node.operator, cst.Not):
            return frozenset({"bool"})
        if isinstance(node.operator, cst.Minus) and isinstance(node.expression, (cst.Integer, cst.Float)):
            return json_types(t, node.expression, parameters, seen)
        return None
    if isinstance(node, cst.Comparison):
        return frozenset({"bool"})
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return frozenset({"bool"})
    if isinstance(node, cst.Name) and node.value == "None":
        return frozenset({"None"})
    if isinstance(node, (cst.List, cst.ListComp, cst.Tuple)):
        return frozenset({"list"})
    if isinstance(node, (cst.Dict, cst.DictComp)):
        return frozenset({"dict"})
    if isinstance(node, (cst.IfExp, cst.BooleanOperation)):
        sides = (node.body, node.orelse) if isinstance(node, cst.IfExp) else (node.left, node.right)
        found = [json_types(t, side, parameters, seen) for side in sides]
        return None if None in found else frozenset().union(*found)  # type: ignore[arg-type]
    if isinstance(node, cst.Call):
        if any(a.star for a in node.args):
            return None
        read = _request_read(t, node, parameters, seen)
        if read is not None:
            return read
        called = t.qualified_names(node.func) & TYPED_CALLS.keys()
        if len(called) == 1:
            return frozenset({TYPED_CALLS[called.pop()]})
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in DICT_METHODS:
            return frozenset({"dict"})
        return None
    if isinstance(node, cst.Name):
        found: set[str] = set()

        def typed(value: cst.CSTNode, seen: Seen) -> bool:
            if isinstance(value, cst.Param):
                kind = TYPED_PARAMETERS.get(parameters.get(node.value, ""))
                types = frozenset({kind}) if kind is not None else None
            else:
                types = json_types(t, value, parameters, seen)  # type: ignore[arg-type]
            found.update(types or ())
            return types is not None

        return frozenset(found) if _every_binding(t, node, seen, typed) else None
    return None


REQUEST_MAPPINGS = frozenset({"flask.request.args", "flask.request.form", "flask.request.headers", "flask.request.cookies"})
TYPE_CONVERSIONS = {"builtins.int": "int", "builtins.float": "float", "builtins.str": "str"}


def _request_read(t: Transform, node: cst.Call, parameters: Parameters, seen: Seen) -> frozenset[str] | None:
    """``request.args.get("k", default, type=int)`` and the like: a str (or what ``type=``
    converts to), else the default (None without one)."""
    func = node.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in ("get", "getlist") and t.qualified_names(func.value) & REQUEST_MAPPINGS):
        return None
    if func.attr.value == "getlist":
        return frozenset({"list"})
    positional = [a for a in node.args if a.keyword is None]
    keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
    if not 1 <= len(positional) <= 2 or set(keywords) - {"default", "type"}:
        return None
    value: frozenset[str] | None = frozenset({"str"})
    if "type" in keywords:
        converted = t.qualified_names(keywords["type"]) & TYPE_CONVERSIONS.keys()
        value = frozenset({TYPE_CONVERSIONS[converted.pop()]}) if len(converted) == 1 else None
    default = positional[1].value if len(positional) == 2 else keywords.get("default")
    otherwise = json_types(t, default, parameters, seen) if default is not None else frozenset({"None"})
    return None if value is None or otherwise is None else value | otherwise


# headers Flask's make_response and the runtime set themselves, which a plain update would not
OWN_HEADERS = frozenset({"content-type", "content-length", "set-cookie"})


def literal_headers(t: Transform, headers: cst.BaseExpression, parameters: Parameters) -> bool:
    """A dict literal of str names (each once, none of ``OWN_HEADERS``) and str values: headers
    that Flask's response and Starlette's take alike."""
    if not isinstance(headers, cst.Dict):
        return False
    names = []
    for element in headers.elements:
        if not isinstance(element, cst.DictElement) or not is_str_literal(element.key):
            return False
        if not is_text(t, element.value, parameters):
            return False
        names.append(element.key.evaluated_value.lower())  # type: ignore[union-attr]
    return len(set(names)) == len(names) and not set(names) & OWN_HEADERS
