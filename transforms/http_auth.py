"""Flask-HTTPAuth's ``@auth.login_required`` -> a dependency that returns the current user.

Targets https://fastapi.tiangolo.com/tutorial/security/ and
https://fastapi.tiangolo.com/tutorial/dependencies/ , with the runtime's objects
(runtime/flask2fastapi_runtime/httpauth.py), which take the project's callbacks as they are and
answer refusals as Flask-HTTPAuth did. ``codemod/httpauth.py`` plans which objects convert (all
uses of a group, or none); this transform writes it:

- ``HTTPBasicAuth()``, ``HTTPTokenAuth(...)``, ``MultiAuth(...)`` become the runtime's classes;
- a view reading ``auth.current_user()`` takes ``user: Annotated[Any, Depends(auth.login_required(...))]``
  and reads ``user``; another one gets ``dependencies=[Depends(auth.login_required(...))]``; a
  check below another decorator of the view becomes ``@auth.guard(...)``;
- a blueprint's ``before_request`` hook that only checked goes: its views take the dependency;
- in the callbacks, ``g.x = value`` becomes ``request.state.x = value`` (the runtime hands a
  callback its ``request``), and the views they protect read ``request.state.x``;
  ``return jsonify(...), status`` in an ``error_handler`` returns the dict, which the runtime
  writes as ``jsonify`` did.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.facts import ROUTE_DECORATOR
from codemod.find import findall
from codemod.httpauth import FLASK_HTTPAUTH, G, JSONIFY, RUNTIME_HTTPAUTH
from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME
from transforms._views import names_used, native_plans, option, parameter_names, with_parameter, with_route_options
from codemod.names import Parents

LOGIN_REQUIRED = m.Attribute(value=m.Name(), attr=m.Name("login_required"))
CURRENT_USER = m.Call(func=m.Attribute(value=m.Name(), attr=m.Name("current_user")), args=[])


class HttpAuthTransform(Transform):
    NAME = "http_auth"
    DESCRIPTION = "Flask-HTTPAuth's login_required -> Depends on the runtime's auth objects, returning the user"
    PREFILTER = (b"flask_httpauth", b"login_required", b"current_user")
    FINDINGS = {
        "kept": Code(
            "F2F501",
            "Flask-HTTPAuth's {name} stays, and Flask on the routes it checks: {why}",
            "The runtime's auth objects take the checks as dependencies only where every use of an "
            "object (and of the objects a MultiAuth ties to it) converts. Change the use named "
            "(or convert it by hand) and run the conversion again.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, g, jsonify
            from flask_httpauth import HTTPTokenAuth

            app = Flask(__name__)
            auth = HTTPTokenAuth(scheme="Bearer")
            TOKENS = {"t-ann": "ann"}


            @auth.verify_token
            def verify_token(token):
                g.token = token
                return TOKENS.get(token)


            @auth.error_handler
            def refused(status):
                return jsonify(error="refused"), status


            @app.route("/me")
            @auth.login_required
            def me():
                return jsonify(user=auth.current_user(), token=g.token)


            @app.route("/reports", methods=["POST"])
            @auth.login_required(role="admin")
            def reports():
                return jsonify(ok=True)
            """,
            """\
            from flask import Flask
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.httpauth import HTTPTokenAuth
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            auth = HTTPTokenAuth(scheme="Bearer")
            TOKENS = {"t-ann": "ann"}


            @auth.verify_token
            def verify_token(token, request: Request):
                request.state.token = token
                return TOKENS.get(token)


            @auth.error_handler
            def refused(status):
                return {"error": "refused"}, status


            class MeResponse(BaseModel):
                \"\"\"What me answers with (documents its 200 answer in OpenAPI).\"\"\"

                user: Any
                token: Any


            @api.get("/me", response_model=MeResponse)
            def me(request: Request, user: Annotated[Any, Depends(auth.login_required())]):
                return {"user": user, "token": request.state.token}


            class ReportsResponse(BaseModel):
                \"\"\"What reports answers with (documents its 200 answer in OpenAPI).\"\"\"

                ok: bool


            @api.post("/reports", dependencies=[Depends(auth.login_required(role="admin"))], response_model=ReportsResponse)
            def reports():
                return {"ok": True}
            """,
            title="the check a dependency returning the user; g in the callbacks request.state; the error handler's jsonify its dict",
        ),
        Example(
            """\
            from flask import Flask
            from flask_httpauth import HTTPBasicAuth

            app = Flask(__name__)
            auth = HTTPBasicAuth()


            @app.route("/secret")
            @auth.login_required
            def secret():
                return "s"


            def helper():
                return auth.username()
            """,
            """\
            from flask import Flask
            from flask_httpauth import HTTPBasicAuth
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)
            # TODO[F2F501]: Flask-HTTPAuth's auth stays, and Flask on the routes it checks: auth.username, which the runtime's objects have not
            auth = HTTPBasicAuth()


            @api.get("/secret")
            @auth.login_required
            def secret():
                return "s"


            def helper():
                return auth.username()
            """,
            codes=("F2F501",),
            title="an object used in a way the runtime's has no equal of (username()) stays Flask-HTTPAuth's",
        ),
        Example(
            """\
            from myauth import HTTPBasicAuth

            auth = HTTPBasicAuth()


            @auth.verify_password
            def verify(username, password):
                return username


            def who():
                return auth.current_user()
            """,
            title="a lookalike of another library: unchanged",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.httpauth
        self.module = context.full_module_name or ""
        self.functions: list[str | None] = []  # qualified names of the module-level functions we are in
        self.hook_checks: dict[str, cst.BaseExpression] = {}  # hook -> its login_required decorator
        self.users: dict[str, str] = {}  # view -> the parameter its user comes in as
        self.requests: dict[str, str] = {}  # function -> its Request parameter, where g became request.state

    # -- where we are ---------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        for statement in node.body:
            if isinstance(statement, cst.FunctionDef) and f"{self.module}.{statement.name.value}" in self.plan.hooks:
                check = next(d.decorator for d in statement.decorators if self._is_check(d))
                self.hook_checks[f"{self.module}.{statement.name.value}"] = check

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.functions:
            self.functions.append(self.functions[-1])
            return
        qualified = f"{self.module}.{node.name.value}"
        self.functions.append(qualified)
        check = self.plan.checks.get(qualified)
        if check is not None and check.form == "param" and native_plans(self, node):
            keywords = {a.keyword for a in findall(node, m.Arg(keyword=m.Name()))}  # type: ignore[union-attr]
            used = {n.value for n in findall(node, m.Name()) if n not in keywords}  # type: ignore[union-attr]
            self.users[qualified] = next(n for n in ("user", "current_user", "auth_user") if n not in used)
        if self.plan.state and (qualified in self.plan.callbacks or (check is not None and native_plans(self, node))):
            if any(self._state_attribute(a) for a in findall(node.body, m.Attribute())):
                used = names_used(node) - parameter_names(node)
                self.requests[qualified] = next(n for n in ("request", "http_request", "starlette_request") if n not in used)

    def _is_check(self, decorator: cst.Decorator) -> bool:
        """``@auth.login_required[(...)]`` of a converted object."""
        expression = decorator.decorator
        target = expression.func if isinstance(expression, cst.Call) else expression
        return m.matches(target, LOGIN_REQUIRED) and bool(self.qualified_names(target.value) & self.plan.objects.keys())  # type: ignore[attr-defined]

    def _here(self) -> str | None:
        return self.functions[-1] if self.functions else None

    def _state_attribute(self, node: cst.CSTNode) -> bool:
        return (
            isinstance(node, cst.Attribute) and node.attr.value in self.plan.state and bool(self.qualified_names(node.value) & G)
        )

    # -- expressions ----------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        here = self._here()
        found = self.qualified_names(original_node.func) & FLASK_HTTPAUTH.keys()
        assigned = self._assigned_object(original_node) if found else None
        if assigned in self.plan.kept:
            self.flag(original_node, "kept", name=assigned.rpartition(".")[2], why=self.plan.kept[assigned])  # type: ignore[union-attr]
        if found and assigned in self.plan.objects:
            (flask_class,) = found
            self.consume(original_node.func)
            name = self.import_reference(
                original_node.func, RUNTIME_HTTPAUTH, flask_class.rpartition(".")[2], replaces=False,
                supersedes=lambda imported: imported == flask_class,
            )
            return updated_node.with_changes(func=name)
        if here in self.users and m.matches(original_node, CURRENT_USER) and self.qualified_names(original_node.func.value) & self.plan.objects.keys():  # type: ignore[attr-defined]
            return cst.Name(self.users[here])
        returned = self._returned(original_node) if here in self.plan.callbacks and self.qualified_names(original_node.func) & JSONIFY else None
        if returned == "tuple":  # (body, status): the runtime makes the body what jsonify made
            self.consume(original_node.func)
            return _jsonified(updated_node)
        if returned == "alone":  # a response: its 200 stays, where a body's would become 401
            self.consume(original_node.func)
            response = self.import_reference(original_node.func, RUNTIME, "FlaskJSONResponse", replaces=False)
            return cst.Call(response, [cst.Arg(_jsonified(updated_node))])
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        here = self._here()
        if here in self.requests and self._state_attribute(original_node):
            self.consume(original_node)
            state = cst.Attribute(cst.Name(self.requests[here]), cst.Name("state"))
            return cst.Attribute(state, original_node.attr)
        return updated_node

    def _assigned_object(self, call: cst.Call) -> str | None:
        """``x`` (qualified) of a module-level ``x = call``."""
        parent = self.get_metadata(Parents, call, None)
        if not m.matches(parent, m.Assign([m.AssignTarget(m.Name())])) or self.functions:
            return None
        return f"{self.module}.{parent.targets[0].target.value}"  # type: ignore[union-attr]

    def _returned(self, call: cst.Call) -> str | None:
        """"alone" for ``return call``, "tuple" for ``return call, status`` (the first element)."""
        parent = self.get_metadata(Parents, call, None)
        if isinstance(parent, cst.Return):
            return "alone"
        if isinstance(parent, cst.Element):
            tuple_ = self.get_metadata(Parents, parent)
            first = isinstance(tuple_, cst.Tuple) and tuple_.elements[0] is parent
            if first and isinstance(self.get_metadata(Parents, tuple_, None), cst.Return):
                return "tuple"
        return None

    # -- functions ------------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        qualified = self.functions.pop()
        if self.functions or qualified is None:
            return updated_node
        if qualified in self.plan.hooks:
            for name in findall(original_node, m.Name()):
                self.consume(name)
            return cst.RemovalSentinel.REMOVE
        if qualified in self.requests:
            request = self.import_reference(original_node, "fastapi", "Request", replaces=False)
            updated_node = with_parameter(updated_node, self.requests[qualified], request)
        check = self.plan.checks.get(qualified)
        if check is None or not native_plans(self, original_node):
            return updated_node
        index = next((i for i, d in enumerate(original_node.decorators) if self._is_check(d)), None)
        expression = self.hook_checks.get(check.hook or "") if index is None else updated_node.decorators[index].decorator
        if expression is None:
            return updated_node
        if check.form == "decorator":
            assert index is not None
            guard = _called(expression).with_changes(func=_called(expression).func.with_changes(attr=cst.Name("guard")))  # type: ignore[attr-defined]
            decorators = list(updated_node.decorators)
            decorators[index] = decorators[index].with_changes(decorator=guard)
            return updated_node.with_changes(decorators=decorators)
        # the object's name, now in the dependency (its import stays, whatever the hook's removal consumed)
        self.run.reused.update(n.value for n in findall(expression, m.Name()))  # type: ignore[union-attr]
        depends = cst.Call(self.import_reference(original_node, "fastapi", "Depends", replaces=False), [cst.Arg(_called(expression))])
        if check.form == "param":
            annotated = self.import_reference(original_node, "typing", "Annotated", replaces=False)
            any_ = self.import_reference(original_node, "typing", "Any", replaces=False)
            annotation = cst.Subscript(annotated, [
                cst.SubscriptElement(cst.Index(any_), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.SubscriptElement(cst.Index(depends)),
            ])
            updated_node = with_parameter(updated_node, self.users[qualified], annotation)
        else:
            updated_node = _with_dependency(self, original_node, updated_node, depends)
        if index is not None:
            updated_node = updated_node.with_changes(decorators=[d for i, d in enumerate(updated_node.decorators) if i != index])
        return updated_node




def _called(expression: cst.BaseExpression) -> cst.Call:
    """``auth.login_required`` -> ``auth.login_required()``; a call as it is."""
    return expression if isinstance(expression, cst.Call) else cst.Call(expression)


def _jsonified(call: cst.Call) -> cst.BaseExpression:
    """``jsonify(a=1)`` -> ``{"a": 1}``; ``jsonify(value)`` -> ``value``."""
    if len(call.args) == 1 and call.args[0].keyword is None:
        return call.args[0].value
    elements = [
        cst.DictElement(cst.SimpleString(f'"{a.keyword.value}"'), a.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))  # type: ignore[union-attr]
        for a in call.args
    ]
    elements[-1] = elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return cst.Dict(elements)


def _with_dependency(transform: Transform, original: cst.FunctionDef, updated: cst.FunctionDef, depends: cst.Call) -> cst.FunctionDef:
    """``updated`` with ``depends`` in each route's ``dependencies=[...]`` (after those it has)."""
    decorators = list(updated.decorators)
    for index, decorator in enumerate(original.decorators):
        call = decorators[index].decorator
        if not m.matches(decorator, ROUTE_DECORATOR) or not isinstance(call, cst.Call):
            continue
        given = next((i for i, a in enumerate(call.args) if a.keyword is not None and a.keyword.value == "dependencies"), None)
        if given is None:
            continue  # with_route_options adds it
        value = call.args[given].value
        before = list(value.elements) if isinstance(value, cst.List) else [cst.StarredElement(value)]
        if before:
            before[-1] = before[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args = list(call.args)
        args[given] = args[given].with_changes(value=cst.List([*before, cst.Element(depends)]))
        decorators[index] = decorators[index].with_changes(decorator=call.with_changes(args=args))
    updated = updated.with_changes(decorators=decorators)
    return with_route_options(transform, original, updated, [option("dependencies", cst.List([cst.Element(depends)]))])
