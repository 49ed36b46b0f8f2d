"""Flask error handlers into FastAPI exception handlers that answer the same way.

Targets https://fastapi.tiangolo.com/tutorial/handling-errors/#install-custom-exception-handlers .
``@app.errorhandler(404)`` becomes ``@app.exception_handler(404)`` over
``@flask_error_handler``, which hands the unchanged handler werkzeug's ``code``, ``name`` and
``description`` and turns what it returns into a response as Flask does; a handler for one of
the app's exception classes gets ``@flask_exception_handler`` and the exception as raised.
werkzeug's ``NotFound`` & co. become their status codes, its ``HTTPException`` Starlette's.
``app.register_error_handler(...)`` becomes ``app.add_exception_handler(...)`` the same way.
A blueprint's handlers become ``@blueprint_errorhandler(bp, key)``: flask_compat lays them over
the app's for that router's routes only (``app_errorhandler``: ``app_wide=True``, every request).
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import kwarg, last_arg

WERKZEUG = "werkzeug.exceptions."
# werkzeug's HTTP exception classes by the status they stand for
STATUS_CLASSES = {
    "BadRequest": 400, "Unauthorized": 401, "Forbidden": 403, "NotFound": 404, "MethodNotAllowed": 405,
    "NotAcceptable": 406, "RequestTimeout": 408, "Conflict": 409, "Gone": 410, "RequestEntityTooLarge": 413,
    "UnsupportedMediaType": 415, "UnprocessableEntity": 422, "TooManyRequests": 429,
    "InternalServerError": 500, "NotImplemented": 501, "BadGateway": 502, "ServiceUnavailable": 503,
    "GatewayTimeout": 504,
}
HTTP_EXCEPTIONS = frozenset({f"{WERKZEUG}HTTPException", "werkzeug.HTTPException"})
HANDLER_CALL = m.Call(
    func=m.Attribute(attr=m.Name("errorhandler") | m.Name("app_errorhandler")), args=[m.Arg(keyword=None)]
)
HTTP, EXCEPTION, BLUEPRINT = "flask_error_handler", "flask_exception_handler", "blueprint_errorhandler"


class ErrorsTransform(Transform):
    NAME = "errors"
    DESCRIPTION = "@app.errorhandler / register_error_handler -> exception handlers answering as Flask's did"
    FINDINGS = {
        "dynamic_handler_key": Code(
            "F2F142",
            "error handler registered for something that is not a status code or a class name: convert it by hand",
            "Only literal status codes and class names can be mapped to exception handlers.",
        ),
        "exception_catches_http": Code(
            "F2F143",
            "Flask also sent HTTP errors (404, 405, abort) to this Exception handler when no other "
            "handler took them; FastAPI sends it unhandled exceptions only",
            "An errorhandler(Exception) caught werkzeug's HTTP exceptions too. Register it for "
            "StarletteHTTPException as well if it must answer those.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask, jsonify\nfrom werkzeug.exceptions import NotFound\n\napp = Flask(__name__)\n\n\n"
            "@app.errorhandler(NotFound)\ndef not_found(error):\n    return jsonify(error=error.description), 404\n",
            "from fastapi import FastAPI\nfrom fastapi.responses import JSONResponse\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, flask_error_handler\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "@app.exception_handler(404)\n@flask_error_handler\ndef not_found(error):\n"
            '    return JSONResponse({"error": error.description}, status_code=404)\n',
            title="a werkzeug class becomes its status code",
        ),
        Example(
            "from flask import Flask\n\nclass Oops(Exception):\n    pass\n\n\ndef register(app: Flask):\n"
            "    app.register_error_handler(Oops, lambda e: ({'error': 'oops'}, 418))\n",
            "from fastapi import FastAPI\nfrom flask_compat import flask_exception_handler\n\nclass Oops(Exception):\n    pass\n\n\n"
            "def register(app: FastAPI):\n"
            "    app.add_exception_handler(Oops, flask_exception_handler(lambda e: ({'error': 'oops'}, 418)))\n",
            title="an exception class, registered in a function that takes the app",
        ),
        Example(
            "from flask import Blueprint\n\nbp = Blueprint('b', __name__)\n\n\n@bp.errorhandler(404)\n"
            "def missing(error):\n    return 'missing', 404\n\n\n@bp.app_errorhandler(500)\ndef oops(error):\n"
            "    return 'oops', 500\n",
            "from fastapi import APIRouter\nfrom flask_compat import blueprint_errorhandler\n\nbp = APIRouter()\n\n\n"
            "@blueprint_errorhandler(bp, 404)\ndef missing(error):\n    return 'missing', 404\n\n\n"
            "@blueprint_errorhandler(bp, 500, app_wide=True)\ndef oops(error):\n    return 'oops', 500\n",
            title="a blueprint's handlers: for its routes, or app-wide",
        ),
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n@app.exception_handler(404)\nasync def nf(request, exc):\n    return None\n",
            title="already FastAPI",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.adapters: dict[cst.Decorator, str] = {}  # converted decorator -> adapter to put below it

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        if not m.matches(original_node.decorator, HANDLER_CALL):
            return updated_node
        call = original_node.decorator
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        converted = self._registration(original_node, call.func, call.args[0].value)
        if converted is None:
            return updated_node
        key, adapter = converted
        new_call = updated_node.decorator
        assert isinstance(new_call, cst.Call) and isinstance(new_call.func, cst.Attribute)
        if adapter == BLUEPRINT:
            app_wide = call.func.attr.value == "app_errorhandler"
            return updated_node.with_changes(decorator=_blueprint_registration(new_call.func.value, key, app_wide))
        self.adapters[original_node] = adapter
        func = new_call.func.with_changes(attr=cst.Name("exception_handler"))
        return updated_node.with_changes(decorator=new_call.with_changes(func=func, args=[cst.Arg(key)]))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        decorators = []
        for original, updated in zip(original_node.decorators, updated_node.decorators):
            decorators.append(updated)
            adapter = self.adapters.pop(original, None)
            if adapter is not None:
                self.use_support(adapter)
                decorators.append(cst.Decorator(cst.Name(adapter)))
        return updated_node.with_changes(decorators=decorators)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = original_node.func
        if not (m.matches(func, m.Attribute(attr=m.Name("register_error_handler"))) and len(original_node.args) == 2):
            return updated_node
        assert isinstance(func, cst.Attribute) and isinstance(updated_node.func, cst.Attribute)
        converted = self._registration(original_node, func, original_node.args[0].value)
        if converted is None:
            return updated_node
        key, adapter = converted
        if adapter == BLUEPRINT:  # blueprint_errorhandler(bp, key)(handler)
            return cst.Call(_blueprint_registration(updated_node.func.value, key), [cst.Arg(updated_node.args[1].value)])
        self.use_support(adapter)
        handler = cst.Call(cst.Name(adapter), [cst.Arg(updated_node.args[1].value)])
        return updated_node.with_changes(
            func=updated_node.func.with_changes(attr=cst.Name("add_exception_handler")),
            args=last_arg([cst.Arg(key), cst.Arg(handler)]),
        )

    def _registration(self, where: cst.CSTNode, method: cst.Attribute, target: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
        """(key, adapter) for ``app.errorhandler(target)`` / ``app.register_error_handler(target,
        ...)`` on an app of the project; (key, BLUEPRINT) for a blueprint's; None leaves it as it is."""
        kind = self.kind_of(method.value)
        if kind is None or (kind == "app" and method.attr.value == "app_errorhandler"):
            return None
        converted = self._key(where, target)
        if converted is None:
            return None
        self.consume(method)
        if kind == "blueprint":
            self.use_support(BLUEPRINT)
            return converted[0], BLUEPRINT
        return converted

    def _loops_over_codes(self, name: cst.Name) -> bool:
        """Whether ``name`` is only bound by ``for name in (<status codes>)`` loops."""
        from libcst.metadata import ParentNodeProvider, ScopeProvider

        scope = self.get_metadata(ScopeProvider, name, None)
        bindings = [a.node for a in scope[name.value]] if scope is not None else []
        loops = [self.get_metadata(ParentNodeProvider, b, None) for b in bindings]
        return bool(loops) and all(
            isinstance(loop, cst.For)
            and isinstance(loop.iter, (cst.Tuple, cst.List))
            and all(isinstance(e.value, cst.Integer) for e in loop.iter.elements)
            for loop in loops
        )

    def _key(self, where: cst.CSTNode, target: cst.BaseExpression) -> tuple[cst.BaseExpression, str] | None:
        """(exception_handler key, adapter) for what Flask registered the handler for."""
        if isinstance(target, cst.Integer):
            return target, HTTP
        names = self.qualified_names(target)
        for name in names:
            short = name.removeprefix(WERKZEUG)
            if name.startswith(WERKZEUG) and short in STATUS_CLASSES:
                self.consume(target)
                return cst.Integer(str(STATUS_CLASSES[short])), HTTP
            if name in HTTP_EXCEPTIONS:
                self.consume(target)
                AddImportsVisitor.add_needed_import(self.context, "starlette.exceptions", "HTTPException", "StarletteHTTPException")
                return cst.Name("StarletteHTTPException"), HTTP
        if "builtins.Exception" in names:
            self.flag(where, "exception_catches_http")
            return target, EXCEPTION
        values = self.assigned_values(target) if isinstance(target, cst.Name) else []
        if values and all(isinstance(v, cst.Integer) for v in values):
            return target, HTTP  # a constant holding a status code
        if isinstance(target, cst.Name) and self._loops_over_codes(target):
            return target, HTTP  # for status in (400, 401, 404): register_error_handler(status, ...)
        if isinstance(target, (cst.Name, cst.Attribute)) and names and not any(values):
            return target, EXCEPTION  # a class: defined, imported or built in
        self.flag(where, "dynamic_handler_key")
        return None



def _blueprint_registration(router: cst.BaseExpression, key: cst.BaseExpression, app_wide: bool = False) -> cst.Call:
    """``blueprint_errorhandler(bp, key)``, with ``app_wide=True`` for ``bp.app_errorhandler``."""
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    args = [cst.Arg(router, comma=comma), cst.Arg(key)]
    if app_wide:
        args = [args[0], args[1].with_changes(comma=comma), kwarg("app_wide", cst.Name("True"))]
    return cst.Call(cst.Name(BLUEPRINT), args)
