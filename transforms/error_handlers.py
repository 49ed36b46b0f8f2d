"""Flask error handlers (the app's, a blueprint's) into FastAPI exception handlers, where provably equivalent.

Targets https://fastapi.tiangolo.com/tutorial/handling-errors/#install-custom-exception-handlers .
``codemod/error_handlers.py`` decides, for the whole program, which handlers convert: all the
registrations of one are the app's, or all are one blueprint's (FastAPI has no handlers per
router: ``bp_handlers = blueprint_handlers(bp, {404: f})`` after its last registration, see
``codemod/blueprint_handlers.py``), nothing else calls or holds it, and its body reads the
exception and uses Flask only in ways that have an equal FastAPI form. Then:

- ``@bp.app_errorhandler(418)`` -> ``api.add_exception_handler(418, f)`` right after the
  project's one ``app.register_blueprint(bp)``, where Flask added it to the app;
- ``@app.errorhandler(404)`` -> ``@api.exception_handler(404)``; ``app.register_error_handler(key,
  f)`` -> ``<bridge>.add_exception_handler(key, f)``, the bridge being ``bridge_of(app)`` where
  the code holds only the Flask app (an ``init_app(app)``), loops over codes included;
- keys: werkzeug's ``HTTPException`` -> Starlette's (``StarletteHTTPException``), ``NotFound`` &
  co. -> their status; the app's exception classes as they are;
- the handler takes ``(request: Request, exc: <its exception>)``; ``exc.code`` ->
  ``exc.status_code``, ``exc.description`` -> ``exc.detail``, ``exc.name`` ->
  ``HTTPStatus(exc.status_code).phrase`` (``status_name(exc.status_code)``, werkzeug's name,
  where the phrase is not it for every key), werkzeug's ``get_headers()`` loop -> ``(exc.headers
  or {}).items()``; ``jsonify(x)`` -> ``JSONResponse(x)``, ``return x, 404`` ->
  ``return JSONResponse(x, status_code=404)`` (an HTML ``HTMLResponse`` for a str), a jsonify
  response whose status and headers are set -> the JSONResponse, set alike; ``flask.request``'s
  ``method`` and ``headers`` -> the handler's Request's, its ``path`` -> ``request_path(request)``
  (werkzeug's path, which ``request.url.path`` is not for ``/a%3Fb``). JSON the code
  cannot show is plain data (``jsonify(error_body(...))``) is the runtime's
  ``FlaskJSONResponse``, which encodes it as jsonify did; so is ``return jsonify(x), status`` in
  a function whose answer only converted handlers return (``return error_body(...)``), which
  they then return as it is;
- a function the handler hands its exception to (``_error_code(exc)``) gets the same renames
  in its body, and Starlette's HTTPException for a werkzeug annotation; a helper that reads
  what the app's hooks keep on ``flask.g`` gets the handler's ``request``
  (``transforms/request_state.py``).

The runtime (``flask2fastapi_runtime.handlers``) registers such a handler with the Flask app
too, under the same key, so Flask's lookup picks it where it picked the Flask handler, and for
every request the app served before, it still runs inside Flask's request cycle: a helper it
calls may go on reading ``flask.g``. Anything else stays a Flask handler, registrations and all.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.blueprint_handlers import mapping_variable
from codemod.error_handlers import Key, phrase_is_name, read_key, registration_call, registration_decorator
from codemod.find import findall
from codemod.handler_body import HTTP_ATTRIBUTES, encodes_alike, headers_loop, is_jsonify, jsonify_content, reply_kind
from codemod.state import REQUEST
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, bridge_reference, kwarg
from codemod.names import Parents

STARLETTE_RESPONSES = {
    "JSONResponse": "starlette.responses.JSONResponse", "HTMLResponse": "starlette.responses.HTMLResponse",
}


class ErrorHandlersTransform(Transform):
    NAME = "error_handlers"
    DESCRIPTION = "@app.errorhandler(404) -> @api.exception_handler(404) with (request, exc), where equivalent"
    PREFILTER = (b"errorhandler", b"error_handler")
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            from werkzeug.exceptions import HTTPException, NotFound

            app = Flask(__name__)


            @app.errorhandler(NotFound)
            def not_found(error):
                return jsonify(error="not_found", message=error.description), 404


            def http_error(exc: HTTPException):
                response = jsonify(error=exc.code, message=exc.description)
                response.status_code = exc.code
                for name, value in exc.get_headers():
                    if name.lower() != "content-type":
                        response.headers[name] = value
                return response


            app.register_error_handler(HTTPException, http_error)
            """,
            """\
            from flask import Flask
            from starlette.exceptions import HTTPException as StarletteHTTPException
            from fastapi import Request
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)


            @api.exception_handler(404)
            def not_found(request: Request, error: StarletteHTTPException):
                return JSONResponse({"error": "not_found", "message": error.detail}, status_code=404)


            def http_error(request: Request, exc: StarletteHTTPException):
                response = JSONResponse({"error": exc.status_code, "message": exc.detail})
                response.status_code = exc.status_code
                for name, value in (exc.headers or {}).items():
                    if name.lower() != "content-type":
                        response.headers[name] = value
                return response


            api.add_exception_handler(StarletteHTTPException, http_error)
            """,
            title="a 404 handler and werkzeug's HTTPException handler, with the headers of the error",
        ),
        Example(
            """\
            from flask import Flask


            class Refused(Exception):
                def __init__(self, message, status):
                    super().__init__(message)
                    self.message = message
                    self.status = status


            def handle_refused(error: Refused):
                return {"error": error.message}, error.status


            def handle_crash(error):
                return "<h1>Sorry</h1>", 500


            def init_app(app):
                for status in (500,):
                    app.register_error_handler(status, handle_crash)
                app.register_error_handler(Refused, handle_refused)


            def create_app():
                app = Flask(__name__)
                init_app(app)
                return app
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from fastapi.responses import HTMLResponse, JSONResponse
            from flask2fastapi_runtime import FlaskBridge, bridge_of


            class Refused(Exception):
                def __init__(self, message, status):
                    super().__init__(message)
                    self.message = message
                    self.status = status


            def handle_refused(request: Request, error: Refused):
                return JSONResponse({"error": error.message}, status_code=error.status)


            def handle_crash(request: Request, error: Exception):
                return HTMLResponse("<h1>Sorry</h1>", status_code=500)


            def init_app(app):
                for status in (500,):
                    bridge_of(app).add_exception_handler(status, handle_crash)
                bridge_of(app).add_exception_handler(Refused, handle_refused)


            def create_app():
                app = Flask(__name__)
                api = FlaskBridge(app)
                init_app(app)
                return api
            """,
            title="an init_app(app) every call of which passes a bridged app; the app's class, a loop over codes",
        ),
        Example(
            """\
            from flask import Flask, current_app, jsonify
            from werkzeug.exceptions import HTTPException

            app = Flask(__name__)


            def error_code(exc: HTTPException):
                return exc.name.lower().replace(" ", "_")


            def error_body(code, message, **extra):
                return {"error": {"code": code, "message": message, **extra}}


            @app.errorhandler(HTTPException)
            def http_error(exc):
                if exc.code >= 500:
                    current_app.logger.warning("%s", exc.description)
                return jsonify(error_body(error_code(exc), exc.description)), exc.code


            @app.errorhandler(418)
            def teapot(error):
                return jsonify(error=error.name), 418
            """,
            """\
            from flask import Flask
            import logging
            from starlette.exceptions import HTTPException as StarletteHTTPException
            from fastapi import Request
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse, status_name

            logger = logging.getLogger("example")

            app = Flask(__name__)
            api = FlaskBridge(app)


            def error_code(exc: StarletteHTTPException):
                return status_name(exc.status_code).lower().replace(" ", "_")


            def error_body(code, message, **extra):
                return {"error": {"code": code, "message": message, **extra}}


            @api.exception_handler(StarletteHTTPException)
            def http_error(request: Request, exc: StarletteHTTPException):
                if exc.status_code >= 500:
                    logger.warning("%s", exc.detail)
                return FlaskJSONResponse(error_body(error_code(exc), exc.detail), status_code=exc.status_code)


            @api.exception_handler(418)
            def teapot(request: Request, error: StarletteHTTPException):
                return JSONResponse({"error": status_name(error.status_code)}, status_code=418)
            """,
            title="a helper's dict as jsonify wrote it (FlaskJSONResponse), the error handed to a helper that"
            " converts with the handler, werkzeug's name of any status (status_name), the app's logger",
        ),
        Example(
            """\
            from flask import Flask, jsonify
            from werkzeug.exceptions import HTTPException

            app = Flask(__name__)


            def problem(code, message, status):
                return jsonify(error={"code": code, "message": message}), status


            @app.errorhandler(HTTPException)
            def http_error(error):
                return problem(error.name, error.description, error.code)


            @app.errorhandler(500)
            def crash(error):
                return problem("internal", "something went wrong", 500)
            """,
            """\
            from flask import Flask
            from starlette.exceptions import HTTPException as StarletteHTTPException
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse, status_name

            app = Flask(__name__)
            api = FlaskBridge(app)


            def problem(code, message, status):
                return FlaskJSONResponse({"error": {"code": code, "message": message}}, status_code=status)


            @api.exception_handler(StarletteHTTPException)
            def http_error(request: Request, error: StarletteHTTPException):
                return problem(status_name(error.status_code), error.detail, error.status_code)


            @api.exception_handler(500)
            def crash(request: Request, error: Exception):
                return problem("internal", "something went wrong", 500)
            """,
            title="handlers returning a helper's jsonify(...), status: the helper answers FlaskJSONResponse"
            " (jsonify's bytes), where converting handlers' returns are its only calls, with an int status",
        ),
        Example(
            """\
            from flask import Flask, jsonify

            app = Flask(__name__)


            def problem(message, status):
                return jsonify(error=message), status


            @app.errorhandler(404)
            def not_found(error):
                return problem(error.description, 404)


            @app.errorhandler(409)
            def conflict(error):
                return problem(error.description, "409 CONFLICT")


            def refuse():
                return problem("refused", 403)
            """,
            """\
            from flask import Flask, jsonify
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)


            def problem(message, status):
                return jsonify(error=message), status


            @app.errorhandler(404)
            def not_found(error):
                return problem(error.description, 404)


            @app.errorhandler(409)
            def conflict(error):
                return problem(error.description, "409 CONFLICT")


            def refuse():
                return problem("refused", 403)
            """,
            title="stay Flask's: a helper's tuple some other code also takes (and a status given as text)",
        ),
        Example(
            """\
            from flask import Blueprint, Flask, jsonify

            app = Flask(__name__)
            bp = Blueprint("items", __name__)


            @bp.errorhandler(404)
            def item_not_found(error):
                return jsonify(error="no such item", description=error.description), 404


            def item_gone(error):
                return jsonify(error="gone"), 410


            bp.register_error_handler(410, item_gone)


            @bp.app_errorhandler(418)
            def teapot(error):
                return jsonify(error="short and stout"), 418


            @app.errorhandler(403)
            def forbidden(error):
                return jsonify(error="forbidden", type=error.response), 403


            app.register_blueprint(bp)
            """,
            """\
            from flask import Blueprint, Flask, jsonify
            from starlette.exceptions import HTTPException as StarletteHTTPException
            from fastapi import Request
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge, blueprint_handlers

            app = Flask(__name__)
            api = FlaskBridge(app)
            bp = Blueprint("items", __name__)


            def item_not_found(request: Request, error: StarletteHTTPException):
                return JSONResponse({"error": "no such item", "description": error.detail}, status_code=404)


            def item_gone(request: Request, error: StarletteHTTPException):
                return JSONResponse({"error": "gone"}, status_code=410)


            bp_handlers = blueprint_handlers(bp, {404: item_not_found, 410: item_gone})


            def teapot(request: Request, error: StarletteHTTPException):
                return JSONResponse({"error": "short and stout"}, status_code=418)


            @app.errorhandler(403)
            def forbidden(error):
                return jsonify(error="forbidden", type=error.response), 403


            app.register_blueprint(bp)
            api.add_exception_handler(418, teapot)
            """,
            title="a blueprint's handlers: the runtime's blueprint_handlers registers them for its requests only,"
            " an app-wide one is the app's where the blueprint is registered (codemod/blueprint_handlers.py);"
            " stays Flask's: an attribute of the error Starlette's has no equal for",
        ),
        Example(
            """\
            from flask import Flask, jsonify, request

            app = Flask(__name__)


            @app.errorhandler(404)
            def not_found(error):
                return jsonify(error=error.description, path=request.path, method=request.method), 404


            @app.errorhandler(400)
            def bad_request(error):
                return jsonify(error=error.description, args=request.args.to_dict()), 400
            """,
            """\
            from flask import Flask, jsonify, request
            from starlette.exceptions import HTTPException as StarletteHTTPException
            from fastapi import Request
            from fastapi.responses import JSONResponse
            from flask2fastapi_runtime import FlaskBridge, request_path

            app = Flask(__name__)
            api = FlaskBridge(app)


            @api.exception_handler(404)
            def not_found(request: Request, error: StarletteHTTPException):
                return JSONResponse({"error": error.detail, "path": request_path(request), "method": request.method}, status_code=404)


            @app.errorhandler(400)
            def bad_request(error):
                return jsonify(error=error.description, args=request.args.to_dict()), 400
            """,
            title="what the handler reads of flask.request, from its Request: werkzeug's path (request_path), the"
            " method; request.args stays Flask's (Starlette's query_params give a list's values otherwise)",
        ),
        Example(
            """\
            from quart import Quart, jsonify

            app = Quart(__name__)


            @app.errorhandler(404)
            async def not_found(error):
                return jsonify(error="not found"), 404


            def refused(error):
                return {"error": "refused"}, 403


            app.register_error_handler(403, refused)
            """,
            title="a lookalike: Quart's errorhandler, on no Flask app",
        ),
        Example(
            """\
            from fastapi import FastAPI, Request
            from fastapi.responses import JSONResponse

            app = FastAPI()


            @app.exception_handler(404)
            def not_found(request: Request, exc):
                return JSONResponse({"error": "not found"}, status_code=404)
            """,
            title="already FastAPI",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        # per function: (param, mode, body, keys, node) when it is a handler that converts, or a
        # function it hands its exception to (keys None)
        self.handlers: list[tuple[str, str, cst.BaseSuite, tuple[Key, ...] | None, cst.FunctionDef] | None] = []
        self.bodies: list[cst.BaseSuite] = []  # the converting handlers' bodies being visited
        self.helpers = {h: plan.mode for plan in run.project.error_handlers.values() if plan.convert for h in plan.helpers}
        self.responders = {r for plan in run.project.error_handlers.values() if plan.convert for r in plan.responders}
        self.responding: list[bool] = []  # per function: a responder whose jsonify returns become FlaskJSONResponse
        # a blueprint's converting handlers (codemod/blueprint_handlers.py): per blueprint variable,
        # its (key, handler) registrations in order, and the statement after which the mapping goes
        self.blueprint_keys: dict[str, list[tuple[cst.BaseExpression, str]]] = {}
        self.last_registration: dict[cst.CSTNode, str] = {}

    # -- a blueprint's handlers ------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            for blueprint, key, handler in self._blueprint_registrations(statement):
                self.blueprint_keys.setdefault(blueprint, []).append((key, handler))
                self.last_registration = {s: b for s, b in self.last_registration.items() if b != blueprint}
                self.last_registration[statement] = blueprint

    def _blueprint_registrations(self, statement: cst.CSTNode) -> list[tuple[str, cst.BaseExpression, str]]:
        """(blueprint variable, key, handler's name) of each registration the statement makes of
        a handler the plan converts as a blueprint's."""
        found = []
        if isinstance(statement, cst.FunctionDef):
            plan = self._plan(statement)
            for decorator in statement.decorators if plan is not None and plan.convert and plan.blueprint and not plan.app_wide else ():
                read = registration_decorator(decorator)
                if read is not None and read[2] is not None:
                    found.append((plan.blueprint, read[2], statement.name.value))
        elif m.matches(statement, m.SimpleStatementLine([m.Expr(m.Call())])):
            call = statement.body[0].value  # type: ignore[attr-defined]
            read = registration_call(call)
            plan = self._registered_plan(call)
            if read is not None and read[1] is not None and isinstance(read[2], cst.Name) and plan is not None and plan.blueprint and not plan.app_wide:
                found.append((plan.blueprint, read[1], read[2].value))
        return found

    def _registered_plan(self, call: cst.Call):
        read = registration_call(call)
        if read is None or read[2] is None:
            return None
        plans = self.run.project.error_handlers
        return next((plans[n] for n in sorted(self.qualified_names(read[2])) if n in plans and plans[n].convert), None)

    def _with_mapping(self, original: cst.CSTNode, updated):
        """The statement, followed by ``bp_handlers = blueprint_handlers(bp, {key: handler})``
        where it is the last registration of the blueprint's converting handlers."""
        blueprint = self.last_registration.get(original)
        if blueprint is None:
            return updated
        helper = self.import_reference(original, RUNTIME, "blueprint_handlers", replaces=False)
        variable = blueprint.rpartition(".")[2]
        entries = []
        for key, handler in self.blueprint_keys[blueprint]:
            new_key = self._key(key, key.deep_clone())
            entries.append(cst.DictElement(new_key, cst.Name(handler), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
        entries[-1] = entries[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        call = cst.Call(helper, [cst.Arg(cst.Name(variable), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(cst.Dict(entries))])
        assign = cst.Assign([cst.AssignTarget(cst.Name(mapping_variable(variable)))], call)
        line = cst.SimpleStatementLine([assign], leading_lines=[cst.EmptyLine(indent=False)] * 2)
        if isinstance(updated, cst.RemovalSentinel):
            return line.with_changes(leading_lines=original.leading_lines)  # type: ignore[attr-defined]
        return cst.FlattenSentinel([updated, line])

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        """``bp.register_error_handler(401, f)`` of a blueprint's converting handler: the mapping
        registers it. ``app.register_blueprint(bp)``: the blueprint's app-wide handlers follow it."""
        if not m.matches(original_node, m.SimpleStatementLine([m.Expr(m.Call())])):
            return updated_node
        app_wide = self._app_wide_registrations(original_node, updated_node)
        if app_wide:
            return cst.FlattenSentinel([updated_node, *app_wide])
        if not self._blueprint_registrations(original_node):
            return updated_node
        self.consume(original_node.body[0].value)  # type: ignore[attr-defined]
        return self._with_mapping(original_node, cst.RemovalSentinel.REMOVE)

    def _in_function(self, node: cst.CSTNode) -> bool:
        parent = self.get_metadata(Parents, node, None)
        while parent is not None and not isinstance(parent, cst.FunctionDef):
            parent = self.get_metadata(Parents, parent, None)
        return parent is not None

    def _app_wide_registrations(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine) -> list[cst.SimpleStatementLine]:
        """``api.add_exception_handler(418, teapot)`` for each app-wide handler of the blueprint
        that ``app.register_blueprint(bp)`` registers, where Flask added it to the app."""
        if not m.matches(updated, m.SimpleStatementLine([m.Expr(m.Call())])):
            return []  # another transform made it something else (``raise`` for ``abort``)
        call, new_call = original.body[0].value, updated.body[0].value  # type: ignore[attr-defined]
        if not m.matches(call.func, m.Attribute(attr=m.Name("register_blueprint"))) or not call.args or call.args[0].keyword is not None:
            return []
        registered = self.qualified_names(call.args[0].value)
        handlers = sorted((name, plan) for name, plan in self.run.project.error_handlers.items() if plan.convert and plan.app_wide and plan.blueprint in registered)
        lines = []
        for name, plan in handlers:
            module, _, short = name.rpartition(".")
            if module == (self.context.full_module_name or ""):
                handler: cst.BaseExpression = cst.Name(short)
            elif self._in_function(original):
                # registered in a factory, which imports the blueprint's module there: so does the
                # handler's import, as a module-level one could make an import cycle (the module
                # may import the factory's module at its top)
                handler = cst.Name(short)
                lines.append(cst.SimpleStatementLine([cst.ImportFrom(
                    module=cst.parse_expression(module), names=[cst.ImportAlias(cst.Name(short))],  # type: ignore[arg-type]
                )]))
            else:
                handler = self.import_reference(call, module, short, replaces=False)
            for key in plan.keys:
                if key.kind == "code":
                    fastapi_key: cst.BaseExpression = cst.Integer(str(key.code))
                else:
                    fastapi_key = self.import_reference(call, "starlette.exceptions", "HTTPException", replaces=False, alias="StarletteHTTPException")
                bridge = bridge_reference(self, call.func.value, new_call.func.value)
                registration = cst.Call(cst.Attribute(bridge, cst.Name("add_exception_handler")), [
                    cst.Arg(fastapi_key, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), cst.Arg(handler),
                ])
                lines.append(cst.SimpleStatementLine([cst.Expr(registration)]))
        return lines

    # -- where we are ---------------------------------------------------------------------------
    def _plan(self, function: cst.FunctionDef):
        for name in sorted(self.qualified_names(function.name)):
            plan = self.run.project.error_handlers.get(name)
            if plan is not None:
                return plan
        return None

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plan = self._plan(node)
        helper = next((self.helpers[n] for n in sorted(self.qualified_names(node.name)) if n in self.helpers), None)
        self.responding.append(bool(self.qualified_names(node.name) & self.responders))
        if plan is not None and plan.convert:
            self.handlers.append((node.params.params[0].name.value, plan.mode, node.body, plan.keys, node))
        elif helper is not None:
            self.handlers.append((node.params.params[0].name.value, helper, node.body, None, node))
        else:
            self.handlers.append(None)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        handler = self.handlers[-1] if self.handlers else None
        if handler is not None and handler[2] is node:
            self.bodies.append(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        if self.bodies and self.bodies[-1] is original_node:
            self.bodies.pop()
        return updated_node

    def _converting(self) -> tuple[str, str] | None:
        """(parameter, mode) of the handler (or its helper) whose body (not its decorators) is
        being visited."""
        handler = self.handlers[-1] if self.handlers else None
        if handler is None or not self.bodies or self.bodies[-1] is not handler[2]:
            return None
        return handler[0], handler[1]

    # -- registrations --------------------------------------------------------------------------
    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        read = registration_decorator(original_node)
        function = self.get_metadata(Parents, original_node, None)
        if read is None or not isinstance(function, cst.FunctionDef) or not self._converts(function):
            return updated_node
        receiver, _, key = read
        plan = self._plan(function)
        if plan is not None and plan.blueprint:  # a blueprint's: the mapping after it registers it
            self.consume(original_node.decorator)
            return cst.RemovalSentinel.REMOVE
        call = updated_node.decorator
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and key is not None
        bridge = bridge_reference(self, receiver, call.func.value)
        new_key = self._key(key, call.args[0].value)
        return updated_node.with_changes(
            decorator=cst.Call(cst.Attribute(bridge, cst.Name("exception_handler")), [call.args[0].with_changes(value=new_key)])
        )

    def _converts(self, function: cst.FunctionDef) -> bool:
        plan = self._plan(function)
        return plan is not None and plan.convert

    def _converted_registration(self, call: cst.Call) -> bool:
        """``x.register_error_handler(key, f)`` of a handler f that converts."""
        read = registration_call(call)
        if read is None or read[2] is None:
            return False
        plans = self.run.project.error_handlers
        return any(plans[n].convert for n in self.qualified_names(read[2]) if n in plans)

    def _key(self, original: cst.BaseExpression, updated: cst.BaseExpression) -> cst.BaseExpression:
        """The FastAPI key for a Flask key (which the plan has read): werkzeug's HTTPException is
        Starlette's, werkzeug's NotFound is 404; a status, a loop's variable, a class stay."""
        keys = read_key(original, self.qualified_names, None)
        if isinstance(keys, str) or len(keys) != 1 or isinstance(original, cst.Integer):
            return updated
        (key,) = keys
        if key.kind == "http":
            self.consume(original)
            return self.import_reference(original, "starlette.exceptions", "HTTPException", replaces=False, alias="StarletteHTTPException")
        if key.kind == "code":
            self.consume(original)
            return cst.Integer(str(key.code))
        return updated

    # -- the handler's body ---------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self._converted_registration(original_node) and not self._registered_plan(original_node).blueprint:  # type: ignore[union-attr]
            receiver, key, _ = registration_call(original_node)  # type: ignore[misc]
            assert isinstance(updated_node.func, cst.Attribute) and key is not None
            bridge = bridge_reference(self, receiver, updated_node.func.value)
            args = list(updated_node.args)
            args[0] = args[0].with_changes(value=self._key(key, args[0].value))
            return updated_node.with_changes(func=cst.Attribute(bridge, cst.Name("add_exception_handler")), args=args)
        handler = self._converting()
        if handler is None or not is_jsonify(original_node, self.qualified_names):
            return updated_node
        self.consume(original_node.func)
        content = jsonify_content(updated_node)
        assert content is not None  # the plan made sure
        return cst.Call(self._json_response(original_node, jsonify_content(original_node)), [cst.Arg(content)])

    def _response(self, anchor: cst.CSTNode, name: str) -> cst.Name:
        same = STARLETTE_RESPONSES[name]
        return self.import_reference(anchor, "fastapi.responses", name, same=lambda q: q == same, replaces=False)

    def _json_response(self, anchor: cst.CSTNode, content: cst.BaseExpression | None) -> cst.Name:
        """JSONResponse for what it encodes as jsonify did, else the runtime's FlaskJSONResponse."""
        function = self.handlers[-1][4]  # type: ignore[index]
        if content is not None and encodes_alike(function, content, self.qualified_names):
            return self._response(anchor, "JSONResponse")
        return self.import_reference(anchor, RUNTIME, "FlaskJSONResponse", replaces=False)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        handler = self._converting()
        if handler is not None and self.handlers[-1][3] is not None and self.qualified_names(original_node.value) & REQUEST:
            # flask.request.method -> the handler's request.method (the plan made sure); its path,
            # werkzeug's, is request_path(request): request.url.path writes odd paths otherwise
            self.consume(original_node.value)
            request = cst.Name(self._request_name(self.handlers[-1][4]))  # type: ignore[index]
            if original_node.attr.value == "path":
                return cst.Call(self.import_reference(original_node, RUNTIME, "request_path", replaces=False), [cst.Arg(request)])
            return updated_node.with_changes(value=request)
        if handler is None or handler[1] != "http" or not m.matches(original_node.value, m.Name(handler[0])):
            return updated_node
        attribute = original_node.attr.value
        if attribute in HTTP_ATTRIBUTES:
            return updated_node.with_changes(attr=cst.Name(HTTP_ATTRIBUTES[attribute]))
        if attribute == "name":
            code = cst.Attribute(cst.Name(handler[0]), cst.Name("status_code"))
            keys = self.handlers[-1][3]  # type: ignore[index]
            if keys is None or not phrase_is_name(keys):  # werkzeug's name, not always the phrase
                return cst.Call(self.import_reference(original_node, RUNTIME, "status_name", replaces=False), [cst.Arg(code)])
            status = self.import_reference(original_node, "http", "HTTPStatus", replaces=False)
            return cst.Attribute(cst.Call(status, [cst.Arg(code)]), cst.Name("phrase"))
        return updated_node

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        handler = self._converting()
        if handler is None or handler[1] != "http" or not headers_loop(original_node, handler[0]):
            return updated_node
        headers = cst.BooleanOperation(
            cst.Attribute(cst.Name(handler[0]), cst.Name("headers")), cst.Or(), cst.Dict([]),
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()],
        )
        return updated_node.with_changes(iter=cst.Call(cst.Attribute(headers, cst.Name("items"))))

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        if self.responding and self.responding[-1] and original_node.value is not None:
            return self._responder_return(original_node, updated_node)
        if self._converting() is None or original_node.value is None or updated_node.value is None:
            return updated_node
        status = None
        body, new_body = original_node.value, updated_node.value
        if isinstance(body, cst.Tuple) and isinstance(new_body, cst.Tuple):
            body, new_body, status = body.elements[0].value, new_body.elements[0].value, new_body.elements[1].value
        kind = reply_kind(body, None, self.qualified_names)
        if kind in ("response", "template", None) or self.handlers[-1][3] is None:  # (None: a responder's answer)  # type: ignore[index]  (a helper's return is its own)
            return updated_node
        if kind == "json":
            new_body = cst.Call(self._json_response(original_node, body), [cst.Arg(new_body)])
        elif kind == "html":
            new_body = cst.Call(self._response(original_node, "HTMLResponse"), [cst.Arg(new_body)])
        assert isinstance(new_body, cst.Call)
        if status is not None:
            args = [*new_body.args[:-1], new_body.args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
            new_body = new_body.with_changes(args=[*args, kwarg("status_code", status)])
        return updated_node.with_changes(value=new_body)

    def _responder_return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        """``return jsonify(x), status`` of a function whose answer converted handlers return:
        ``return FlaskJSONResponse(x, status_code=status)``, jsonify's bytes as a Starlette response."""
        value = updated_node.value
        status = None
        if isinstance(value, cst.Tuple):
            value, status = value.elements[0].value, value.elements[1].value
        original = original_node.value.elements[0].value if isinstance(original_node.value, cst.Tuple) else original_node.value
        assert isinstance(original, cst.Call) and isinstance(value, cst.Call)  # the plan made sure
        self.consume(original.func)
        content = jsonify_content(value)
        assert content is not None
        response = self.import_reference(original_node, RUNTIME, "FlaskJSONResponse", replaces=False)
        args = [cst.Arg(content)]
        if status is not None:
            args = [cst.Arg(content, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), kwarg("status_code", status)]
        return updated_node.with_changes(value=cst.Call(response, args))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        self.responding.pop()
        return self._with_mapping(original_node, self._converted_function(original_node, updated_node))

    def _converted_function(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        handler = self.handlers.pop()
        if handler is None:
            return updated_node
        _, mode, _, keys, _ = handler
        if keys is None:  # a helper: its parameter is Starlette's HTTPException, not werkzeug's
            (old,) = original_node.params.params
            written = old.annotation.annotation if old.annotation is not None else None
            if written is None or mode != "http" or not any(q.partition(".")[0] in ("flask", "werkzeug") for q in self.qualified_names(written)):
                return updated_node
            self.consume(written)
            (new,) = updated_node.params.params
            annotation = self.import_reference(original_node, "starlette.exceptions", "HTTPException", replaces=False, alias="StarletteHTTPException")
            return updated_node.with_changes(params=updated_node.params.with_changes(params=[new.with_changes(annotation=cst.Annotation(annotation))]))
        request = cst.Param(
            cst.Name(self._request_name(original_node)),
            cst.Annotation(self.import_reference(original_node, "fastapi", "Request", replaces=False)),
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
        )
        (old,) = original_node.params.params
        (new,) = updated_node.params.params
        annotation = self._annotation(original_node, old, mode, len(keys))
        exc = new.with_changes(annotation=cst.Annotation(annotation) if annotation is not None else new.annotation)
        return updated_node.with_changes(params=updated_node.params.with_changes(params=[request, exc]))

    def _request_name(self, function: cst.FunctionDef) -> str:
        return handler_request(self, function)

    def _annotation(self, function: cst.FunctionDef, param: cst.Param, mode: str, keys: int) -> cst.BaseExpression | None:
        """The exception's annotation; None to keep the one written (in "same" mode, not Flask's)."""
        written = param.annotation.annotation if param.annotation is not None else None
        flask = written is not None and any(q.partition(".")[0] in ("flask", "werkzeug") for q in self.qualified_names(written))
        if written is not None and not flask and mode == "same":
            return None
        if flask:
            self.consume(written)  # type: ignore[arg-type]
        if mode == "http":
            return self.import_reference(function, "starlette.exceptions", "HTTPException", replaces=False, alias="StarletteHTTPException")
        own = [r[2] for r in map(registration_decorator, function.decorators) if r is not None]
        if mode == "same" and keys == 1 and len(own) == 1 and isinstance(own[0], (cst.Name, cst.Attribute)):
            return own[0].deep_clone()  # the class of its decorator, bound where the decorator is
        return cst.Name("Exception")


def handler_request(transform: Transform, function: cst.FunctionDef) -> str:
    """The name of a converted handler's Request: ``request``, unless the handler has a
    ``request`` of its own (Flask's it reads becomes this one)."""
    own = [n for n in findall(function, m.Name("request")) if not transform.qualified_names(n) & REQUEST]
    return "http_request" if own else "request"
