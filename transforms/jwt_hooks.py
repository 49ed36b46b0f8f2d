"""Flask-JWT-Extended outside the views: a before hook that verifies the token, and the
project's own decorator that does (the extension's documented ``admin_required``), on the
runtime's ``JWTAuth``.

Targets https://fastapi.tiangolo.com/tutorial/dependencies/ and
https://fastapi.tiangolo.com/tutorial/middleware/ . transforms/request_state.py makes the
app's and blueprints' hooks ``RequestHooks`` middleware (codemod/state.py plans which); in a hook
that uses Flask-JWT-Extended (``HookFacts.jwt``), this one writes the token's part:

    @bp.before_request                              async def admins_only(request: Request):
    def admins_only():                                  request.state.jwt = await jwt.verify(request)
        verify_jwt_in_request()             ->          if request.state.jwt.claims.get("role") != "admin":
        if get_jwt().get("role") != "admin":                return FlaskJSONResponse({"msg": "no"}, status_code=403)
            return jsonify(msg="no"), 403

``jwt.verify`` refuses as ``verify_jwt_in_request`` did, raising ``JWTRefused``, which the
middleware answers with the app's handler (``JWTAuth.init_app``), hooks in Flask's order. The
token stays on ``request.state.jwt``, where a view that read it after the hook takes it from
(``Depends(jwt.current)``, transforms/jwt_auth.py). A guard decorator (codemod/jwt_facts.py's
``jwt_check`` and ``converted_guards``) becomes a dependency returning the token, which refuses
with the answer the decorator gave (``Refused``, the bytes ``jsonify`` wrote):

    def role_required(role):                        def role_required(role):
        def wrapper(view):                              def decorator(token: Annotated[JWT, Depends(jwt.required())]):
            @wraps(view)                                    if token.claims.get("role") != role:
            def decorator(*args, **kwargs):                     raise Refused(FlaskJSONResponse({"msg": "no"}, status_code=403))
                verify_jwt_in_request()         ->          return token
                if get_jwt().get("role") != role:
                    return jsonify(msg="no"), 403           return decorator
                return view(*args, **kwargs)
            return decorator
        return wrapper

and its views take it in their route's ``dependencies`` (or as their token where they read it).
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.handler_body import jsonify_content
from codemod.jwt_facts import answer, converted_guards, verifies
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, kwarg
from transforms._views import names_used, parameter_names
from transforms.jwt_auth import CURRENT_USER, READS, TOKEN_NAMES


class JwtHooksTransform(Transform):
    NAME = "jwt_hooks"
    DESCRIPTION = "Flask-JWT-Extended in before hooks and guard decorators -> the runtime's jwt.verify, a token dependency"
    PREFILTER = (b"flask_jwt_extended",)
    EXAMPLES = (
        Example(
            """\
            from functools import wraps

            from flask import Flask, jsonify
            from flask_jwt_extended import JWTManager, get_jwt, verify_jwt_in_request

            app = Flask(__name__)
            jwt = JWTManager(app)


            def admin_required(view):
                @wraps(view)
                def decorator(*args, **kwargs):
                    verify_jwt_in_request(fresh=True)
                    if get_jwt().get("role") != "admin":
                        return jsonify(msg="admins only"), 403
                    return view(*args, **kwargs)

                return decorator


            @app.route("/stats")
            @admin_required
            def stats():
                return {"users": 2}
            """,
            """\
            from flask import Flask
            from fastapi import Depends
            from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse, JWT, JWTAuth
            from flask2fastapi_runtime.refusals import Refused
            from pydantic import BaseModel
            from typing import Annotated

            app = Flask(__name__)
            api = FlaskBridge(app)
            jwt = JWTAuth(app)


            def admin_required(token: Annotated[JWT, Depends(jwt.required(fresh=True))]):
                if token.claims.get("role") != "admin":
                    raise Refused(FlaskJSONResponse({"msg": "admins only"}, status_code=403))
                return token


            class StatsResponse(BaseModel):
                \"\"\"What stats answers with (documents its 200 answer in OpenAPI).\"\"\"

                users: int


            @api.get("/stats", dependencies=[Depends(admin_required)], response_model=StatsResponse)
            def stats():
                return {"users": 2}
            """,
            title="the extension's documented admin_required becomes a dependency refusing with the same answer",
        ),
        Example(
            """\
            from flask import Flask, jsonify, request
            from flask_jwt_extended import JWTManager, get_jwt_identity, verify_jwt_in_request

            app = Flask(__name__)
            jwt = JWTManager(app)


            @app.before_request
            def api_needs_a_token():
                if request.path.startswith("/api/"):
                    verify_jwt_in_request(optional=True)
                    if get_jwt_identity() == "banned":
                        return jsonify(msg="banned"), 403


            @app.route("/api/me")
            def me():
                return jsonify(user=get_jwt_identity())
            """,
            """\
            from flask import Flask
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse, JWT, JWTAuth, RequestHooks
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            jwt = JWTAuth(app)


            async def api_needs_a_token(request: Request):
                if request.url.path.startswith("/api/"):
                    request.state.jwt = await jwt.verify(request, optional=True)
                    if request.state.jwt.identity == "banned":
                        return FlaskJSONResponse({"msg": "banned"}, status_code=403)


            api.add_middleware(RequestHooks, before=[api_needs_a_token])


            class MeResponse(BaseModel):
                \"\"\"What me answers with (documents its 200 answer in OpenAPI).\"\"\"

                user: Any


            @api.get("/api/me", response_model=MeResponse)
            def me(token: Annotated[JWT, Depends(jwt.current)]):
                return {"user": token.identity}
            """,
            title="a hook verifying the token becomes middleware on the runtime's verify; the view reads its token from a dependency",
        ),
        Example(
            """\
            from functools import wraps

            from flask import Flask, jsonify, request
            from flask_jwt_extended import get_jwt, verify_jwt_in_request


            def admin_required(view):
                @wraps(view)
                def decorator(*args, **kwargs):
                    verify_jwt_in_request()
                    if get_jwt().get("role") != "admin" or request.args.get("x"):
                        return jsonify(msg="admins only"), 403
                    return view(*args, **kwargs)

                return decorator
            """,
            title="a guard that reads Flask's request too, and no JWTManager in the project: unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.hook: bool = False  # in a converted before hook using Flask-JWT-Extended
        self.check: cst.FunctionDef | None = None  # the original wrapper of a guard becoming a dependency
        self.token = "token"
        self.factory = False
        self._options: list[cst.Arg] = []  # the guard's verify_jwt_in_request options, for jwt.required(...)
        self._guards: frozenset[str] | None = None

    @property
    def guards(self) -> frozenset[str]:
        if self._guards is None:
            self._guards = converted_guards(self.run.project)
        return self._guards

    def _qualified(self, node: cst.FunctionDef) -> str:
        return f"{self.context.full_module_name or ''}.{node.name.value}"

    # -- where we are ----------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        hook = self.run.project.state.hook_functions.get(self._qualified(node))
        if hook is not None and hook.jwt and hook.kind == "before":
            self.hook = True
        if self._qualified(node) in self.guards and self.check is None:
            self.check = _wrapper(node)
            self.factory = self.check not in node.body.body
            self._options = []
            taken = parameter_names(self.check) | names_used(node)
            self.token = next(n for n in (*TOKEN_NAMES, *(f"token_{i}" for i in range(2, 99))) if n not in taken)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        qualified = self._qualified(original_node)
        if self.hook and qualified in self.run.project.state.hook_functions:
            self.hook = False
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        if qualified in self.guards and self.check is not None:
            dependency = self._dependency(self.check, updated_node)
            self.check = None
            if self.factory:  # the dependency is what the factory returns
                body = [dependency, _returning(dependency)]
                block = updated_node.body.with_changes(body=_docstring(updated_node) + body)
                return updated_node.with_changes(body=block)
            return dependency.with_changes(name=updated_node.name, leading_lines=updated_node.leading_lines, decorators=updated_node.decorators)
        return updated_node

    # -- rewriting ---------------------------------------------------------------------------
    def _dependency(self, check: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """The guard's check as a dependency: the token its verification gave as its parameter."""
        wrapped = _find(updated, check.name.value)
        options = self._options
        depends = self.import_reference(check, "fastapi", "Depends", replaces=False)
        annotated = self.import_reference(check, "typing", "Annotated", replaces=False)
        jwt_type = self.import_reference(check, RUNTIME, "JWT", replaces=False)
        required = cst.Call(cst.Attribute(self._manager(check), cst.Name("required")), options)
        annotation = cst.Subscript(annotated, [
            cst.SubscriptElement(cst.Index(jwt_type)), cst.SubscriptElement(cst.Index(cst.Call(depends, [cst.Arg(required)]))),
        ])
        for decorator in check.decorators:  # functools.wraps
            self.consume(decorator.decorator)
        body = list(wrapped.body.body)
        body[-1] = cst.SimpleStatementLine([cst.Return(cst.Name(self.token))])
        return wrapped.with_changes(
            decorators=[], params=cst.Parameters([cst.Param(cst.Name(self.token), cst.Annotation(annotation))]),
            body=wrapped.body.with_changes(body=body), leading_lines=[],
        )

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        if not (self.hook or self.check is not None):
            return updated_node
        call = verifies(original_node, self.qualified_names)
        if call is None:
            return updated_node
        self.consume(call.func)
        if self.check is not None:  # the dependency's parameter verifies
            self._options = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in updated_node.body[0].value.args]  # type: ignore[attr-defined]
            return cst.RemoveFromParent()
        request = cst.Name("request")
        verify = cst.Call(cst.Attribute(self._manager(original_node), cst.Name("verify")), [
            cst.Arg(request), *(a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in updated_node.body[0].value.args),  # type: ignore[attr-defined]
        ])
        target = cst.AssignTarget(_state_token())
        return updated_node.with_changes(body=[cst.Assign([target], cst.Await(verify))])

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not (self.hook or self.check is not None) or original_node.args:
            return updated_node
        read = next((READS[n] for n in self.qualified_names(original_node.func) if n in READS), None)
        if read is None:
            return updated_node
        self.consume(original_node.func)
        return cst.Attribute(self._token(), cst.Name(read))

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if not (self.hook or self.check is not None) or not self.qualified_names(original_node) & CURRENT_USER:
            return updated_node
        self.consume(original_node)
        return cst.Attribute(self._token(), cst.Name("user"))

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.BaseSmallStatement:
        if not (self.hook or self.check is not None):
            return updated_node
        call = answer(original_node)
        if call is None or not self.qualified_names(call.func) & {"flask.jsonify", "flask.json.jsonify"}:
            return updated_node
        content = jsonify_content(answer(updated_node))  # type: ignore[arg-type]  (the token's reads in it rewritten)
        if content is None:
            return updated_node
        self.consume(call.func)
        args = [cst.Arg(content)]
        if isinstance(original_node.value, cst.Tuple):
            args.append(kwarg("status_code", original_node.value.elements[1].value))
        response = cst.Call(self.import_reference(call, RUNTIME, "FlaskJSONResponse", replaces=False), args)
        if self.hook:  # the middleware answers what a before hook returns
            return updated_node.with_changes(value=response)
        refused = self.import_reference(call, f"{RUNTIME}.refusals", "Refused", replaces=False)
        return cst.Raise(cst.Call(refused, [cst.Arg(response)]))

    def _token(self) -> cst.BaseExpression:
        return _state_token() if self.hook else cst.Name(self.token)

    def _manager(self, anchor: cst.CSTNode) -> cst.Name:
        module, _, name = next(iter(self.run.project.jwt_managers)).rpartition(".")
        if module == self.context.full_module_name:
            return cst.Name(name)
        return self.import_reference(anchor, module, name, replaces=False)


def _state_token() -> cst.Attribute:
    return cst.Attribute(cst.Attribute(cst.Name("request"), cst.Name("state")), cst.Name("jwt"))


def _docstring(function: cst.FunctionDef) -> list[cst.BaseStatement]:
    first = function.body.body[0]
    docstring = cst.SimpleStatementLine([cst.Expr(m.SimpleString() | m.ConcatenatedString())])
    return [first] if m.matches(first, docstring) else []


def _wrapper(guard: cst.FunctionDef) -> cst.FunctionDef:
    """The ``*args, **kwargs`` function a guard (or the decorator a factory returns) wraps the view in."""
    for node in guard.body.body:
        if isinstance(node, cst.FunctionDef):
            return node if node.params.star_arg != cst.MaybeSentinel.DEFAULT else _wrapper(node)
    raise ValueError(guard.name.value)


def _find(function: cst.FunctionDef, name: str) -> cst.FunctionDef:
    for node in function.body.body:
        if isinstance(node, cst.FunctionDef):
            return node if node.name.value == name else _find(node, name)
    raise ValueError(name)


def _returning(function: cst.FunctionDef) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Return(cst.Name(function.name.value))], leading_lines=[cst.EmptyLine(indent=False)])
