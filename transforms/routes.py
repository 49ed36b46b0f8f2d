"""Flask route decorators into FastAPI path operations, URL converters into typed path parameters.

Targets https://fastapi.tiangolo.com/tutorial/path-params/ and
https://fastapi.tiangolo.com/reference/apirouter/#fastapi.APIRouter.api_route .
``@x.route(rule, methods=[...])`` becomes ``@x.get(path)`` (one method) or
``@x.api_route(path, methods=[...])`` (several); ``<int:id>`` becomes ``{id}`` and the view's
``id`` parameter is annotated ``Annotated[int, IntRule]``: FastAPI converts it as Flask did, and
flask_compat's rule refuses what werkzeug's converter did not match (``-1``), a 404 in both.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import ParentNodeProvider

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import (
    ROUTE,
    SHORTCUTS,
    last_arg,
    route_decorator,
    string_literal,
    string_value,
)

# werkzeug's rule syntax: <converter(args):name> or <name>
CONVERTER_RE = re.compile(r"<(?:(?P<converter>[a-zA-Z_]\w*)(?:\((?P<args>[^)]*)\))?:)?(?P<name>[a-zA-Z_]\w*)>")
# converter -> (annotation as (module, name) or a builtin, path suffix)
# converter -> (annotation: a builtin or (module, name), path suffix, flask_compat rule or None).
# The rule keeps werkzeug's matching (no sign for int, a dot for float, a non-empty path); the
# default converter matches [^/]+ in werkzeug and in Starlette alike, so it needs none.
CONVERTERS = {
    "default": ("str", "", None),
    "string": ("str", "", None),
    "int": ("int", "", "IntRule"),
    "float": ("float", "", "FloatRule"),
    "path": ("str", ":path", "PathRule"),
    "uuid": (("uuid", "UUID"), "", "UuidRule"),
}
SINGLE_METHOD = {method.upper(): method for method in SHORTCUTS}
# Route options that FastAPI has no equivalent for, and what to do by hand.
DROPPED_OPTIONS = {
    "strict_slashes": "FastAPI redirects to the other slash form (307) when redirect_slashes is on",
    "defaults": "give the view parameters defaults and add a route without the variable part",
    "provide_automatic_options": "add or drop the OPTIONS method in methods=[...]",
    "subdomain": "FastAPI does not match routes on subdomains",
    "host": "FastAPI does not match routes on the host",
    "redirect_to": "return a RedirectResponse from a view instead",
    "merge_slashes": "FastAPI does not merge repeated slashes",
    "build_only": "remove the route; build the URL by hand",
    "websocket": "use @app.websocket for WebSocket routes",
}


class Converted(NamedTuple):
    name: str
    annotation: object  # "int" | ("uuid", "UUID") | ("Literal", [values])


class RoutesTransform(Transform):
    NAME = "routes"
    DESCRIPTION = "@x.route(rule, methods=...) -> @x.get/post/.../api_route(path); URL converters -> typed path parameters"
    FINDINGS = {
        "converter_args": Code(
            "F2F111",
            "URL converter <{converter}({args}):{name}> restricted what matched; FastAPI does not: "
            "check {name} in the view (Flask answered 404)",
            "werkzeug converters can take arguments (length=, min=, max=, signed=). The path "
            "parameter keeps its type but not those limits; check them in the view.",
        ),
        "custom_converter": Code(
            "F2F112",
            "custom URL converter <{converter}:{name}>: FastAPI passes {name} as a string; convert it in the view",
            "A converter registered on app.url_map has no FastAPI counterpart. The path parameter "
            "now arrives as a str; call the converter's to_python() in the view.",
        ),
        "dynamic_rule": Code(
            "F2F113",
            "the route path is not a string literal: convert its <converter:name> parts to {{name}} by hand",
            "Only literal rules can be rewritten safely.",
        ),
        "dropped_option": Code(
            "F2F114",
            "route option {option}= has no FastAPI counterpart and was dropped: {advice}",
            "Flask's route() took an option FastAPI's path operations do not have.",
        ),
        "conflicting_types": Code(
            "F2F115",
            "the routes of this view give {name} different converters: annotate it by hand",
            "Stacked route decorators convert the same variable differently.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/items/<int:item_id>', methods=['GET', 'post'])\n"
            "def item(item_id):\n    return {}\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, IntRule, add_flask_attributes\nfrom typing import Annotated\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n@app.api_route('/items/{item_id}', methods=['GET', 'POST'])\n"
            "def item(item_id: Annotated[int, IntRule]):\n    return {}\n",
            title="several methods, an int converter",
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/files/<path:name>', endpoint='file')\n"
            "def get_file(name):\n    return {}\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, PathRule, add_flask_attributes\nfrom typing import Annotated\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n@app.get('/files/{name:path}', name='file')\n"
            "def get_file(name: Annotated[str, PathRule]):\n    return {}\n",
            title="a path converter and an endpoint name",
        ),
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/items/{item_id}')\ndef item(item_id: int):\n    return {}\n",
            title="already FastAPI",
        ),
        Example(
            "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/u/<string(length=2):code>')\n"
            "def lang(code):\n    return {}\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes\n\napp = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n"
            "# TODO[F2F111]: URL converter <string(length=2):code> restricted what matched; FastAPI does not: "
            "check code in the view (Flask answered 404)\n@app.get('/u/{code}')\n"
            "def lang(code: str):\n    return {}\n",
            codes=("F2F111",),
            title="converter arguments are flagged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # original FunctionDef -> {parameter name: annotation} from its route decorators
        self.path_types: dict[cst.FunctionDef, dict[str, object]] = {}

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        route = route_decorator(self, original_node)
        if route is None:
            return updated_node
        call = updated_node.decorator
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        function = self.get_metadata(ParentNodeProvider, original_node)
        args = list(call.args)
        if args and args[0].keyword is None:
            args[0] = args[0].with_changes(value=self._build_path(original_node, args[0].value, function))
        method = route.method
        kept: list[cst.Arg] = []
        for arg in args:
            name = arg.keyword.value if arg.keyword is not None else None
            if name == "methods":
                method, arg = self._methods(arg)
            elif name == "endpoint":
                arg = arg.with_changes(keyword=cst.Name("name"))
            elif name in DROPPED_OPTIONS:
                self.flag(original_node, "dropped_option", option=name, advice=DROPPED_OPTIONS[name])
                continue
            if arg is not None:
                kept.append(arg)
        self.consume(route.call.func)
        if method == ROUTE:
            method = "get"
        func = call.func.with_changes(attr=cst.Name(method))
        return updated_node.with_changes(decorator=call.with_changes(func=func, args=last_arg(kept)))

    def _methods(self, arg: cst.Arg) -> tuple[str, cst.Arg | None]:
        """(decorator name, methods argument to keep) for ``methods=...``."""
        value = arg.value
        if not isinstance(value, (cst.List, cst.Tuple, cst.Set)):
            return "api_route", arg
        methods = [string_value(e.value) for e in value.elements]
        if any(v is None for v in methods):
            return "api_route", arg
        upper = list(dict.fromkeys(v.upper() for v in methods))  # type: ignore[union-attr]
        if len(upper) == 1 and upper[0] in SINGLE_METHOD:
            return SINGLE_METHOD[upper[0]], None
        elements = [cst.Element(cst.SimpleString(_quoted(v, value.elements[0].value))) for v in upper]
        return "api_route", arg.with_changes(value=cst.List(last_elements(elements)))

    def _build_path(self, decorator: cst.Decorator, rule: cst.BaseExpression, function: cst.CSTNode) -> cst.BaseExpression:
        if string_value(rule) is None:
            self.flag(decorator, "dynamic_rule")
            return rule
        if not isinstance(rule, cst.SimpleString) or "<" not in rule.value:
            return rule
        types = self.path_types.setdefault(function, {}) if isinstance(function, cst.FunctionDef) else {}

        def replace(match: re.Match[str]) -> str:
            converter, name, args = match["converter"] or "default", match["name"], match["args"]
            if converter == "any":
                values = tuple(v.strip().strip("'\"") for v in (args or "").split(",") if v.strip())
                annotation, suffix, rule = ("Literal", values), "", None
            elif converter in CONVERTERS:
                annotation, suffix, rule = CONVERTERS[converter]
                if args:
                    self.flag(decorator, "converter_args", converter=converter, args=args, name=name)
            else:
                self.flag(decorator, "custom_converter", converter=converter, name=name)
                annotation, suffix, rule = "str", "", None
            if rule is not None and not self.run.options.native_validation:
                annotation = ("Annotated", (annotation, rule))
            if types.setdefault(name, annotation) != annotation:
                self.flag(decorator, "conflicting_types", name=name)
            return "{" + name + suffix + "}"

        return rule.with_changes(value=CONVERTER_RE.sub(replace, rule.value))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        types = self.path_types.pop(original_node, None)
        if not types:
            return updated_node
        params = updated_node.params
        annotated = [self._annotate(p, types) for p in params.params]
        kwonly = [self._annotate(p, types) for p in params.kwonly_params]
        posonly = [self._annotate(p, types) for p in params.posonly_params]
        return updated_node.with_changes(
            params=params.with_changes(params=annotated, kwonly_params=kwonly, posonly_params=posonly)
        )

    def _annotate(self, param: cst.Param, types: dict[str, object]) -> cst.Param:
        annotation = types.get(param.name.value)
        if annotation is None or param.annotation is not None:
            return param
        return param.with_changes(annotation=cst.Annotation(self._build_annotation(annotation)))

    def _build_annotation(self, annotation: object) -> cst.BaseExpression:
        if isinstance(annotation, str):
            return cst.Name(annotation)
        module, value = annotation  # type: ignore[misc]
        if module == "Annotated":
            base, rule = value
            self.use_support(rule)
            AddImportsVisitor.add_needed_import(self.context, "typing", "Annotated")
            elements = [cst.SubscriptElement(cst.Index(self._build_annotation(base))), cst.SubscriptElement(cst.Index(cst.Name(rule)))]
            return cst.Subscript(cst.Name("Annotated"), elements)
        if module == "Literal":
            AddImportsVisitor.add_needed_import(self.context, "typing", "Literal")
            elements = [cst.SubscriptElement(cst.Index(string_literal(v))) for v in value]
            return cst.Subscript(cst.Name("Literal"), elements)
        AddImportsVisitor.add_needed_import(self.context, module, value)
        return cst.Name(value)


def _quoted(value: str, like: cst.BaseExpression) -> str:
    """``value`` as a string literal in the quote style of ``like``."""
    quote = like.quote if isinstance(like, cst.SimpleString) else '"'
    return f"{quote}{value}{quote}"


def last_elements(elements: list[cst.Element]) -> list[cst.Element]:
    return [*elements[:-1], elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)] if elements else elements
