"""Flask-JWT-Extended -> the runtime's ``JWTAuth``: ``@jwt_required(...)`` becomes a dependency
the view takes its token from.

Targets https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/ (a dependency that decodes
the token with PyJWT). ``JWTAuth`` (runtime/flask2fastapi_runtime/jwt_auth.py) takes the
project's ``JWTManager``'s place with the same settings, loaders, claims and refusals, so tokens
issued before keep working and clients see the same answers:

    jwt = JWTManager()                          jwt = JWTAuth()

    @app.get("/me")                             @api.get("/me")
    @jwt_required(fresh=True)           ->      def me(token: Annotated[JWT, Depends(jwt.required(fresh=True))]):
    def me():                                       return {"id": token.identity, "role": token.claims["role"]}
        return {"id": get_jwt_identity(),
                "role": get_jwt()["role"]}

In the view, ``get_jwt()`` is ``token.claims``, ``get_jwt_identity()`` ``token.identity``,
``current_user`` ``token.user``; anywhere, ``create_access_token(...)`` is
``jwt.create_access_token(...)``. A loader's ``jsonify(...)`` is written as the dict it
serializes, which Flask and the runtime answer alike. What stays Flask's (a ``before_request``
hook or a decorator calling ``verify_jwt_in_request``, a view reading a token a hook verified)
keeps working: ``JWTAuth.init_app`` registers Flask-JWT-Extended's own manager with the same
loaders on the Flask app, and answers the dependency's refusals in Flask's cycle, hooks first.
Where the project's manager cannot be taken over (codemod/jwt_facts.py), or a helper the view
calls reads the token from Flask-JWT-Extended's context, ``@jwt_required`` stays, with a finding.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.findings import Code
from codemod.handler_body import jsonify_content
from codemod.jwt_facts import LOADERS, MANAGERS, converted_guards, plain_jsonify, reaches_reader
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, kwarg
from transforms._views import names_used, native_plans, parameter_names, with_parameter, with_route_options

JWT_REQUIRED = frozenset({"flask_jwt_extended.jwt_required", "flask_jwt_extended.view_decorators.jwt_required"})
# flask_jwt_extended's readers of the request's token -> the attribute of the runtime's JWT
READS = {
    f"flask_jwt_extended{module}.{name}": attribute
    for module in ("", ".utils")
    for name, attribute in (
        ("get_jwt", "claims"), ("get_jwt_identity", "identity"), ("get_jwt_header", "header"),
        ("get_jwt_request_location", "location"), ("get_current_user", "user"),
    )
}
CURRENT_USER = frozenset({"flask_jwt_extended.current_user", "flask_jwt_extended.utils.current_user"})
# functions of the current app's manager -> JWTAuth's methods of the same name
ISSUERS = {
    f"flask_jwt_extended{module}.{name}": name
    for module in ("", ".utils")
    for name in ("create_access_token", "create_refresh_token", "decode_token")
}
OPTIONS = frozenset({"optional", "fresh", "refresh", "locations", "verify_type", "skip_revocation_check"})
TOKEN_NAMES = ("token", "jwt_token", "access_token_claims")


class JwtAuthTransform(Transform):
    NAME = "jwt_auth"
    DESCRIPTION = "Flask-JWT-Extended -> the runtime's JWTAuth: @jwt_required(...) -> a token dependency, get_jwt() -> its claims"
    PREFILTER = (b"flask_jwt_extended",)
    FINDINGS = {
        "kept": Code(
            "F2F291",
            "Flask-JWT-Extended stays for this view: {reason}",
            "The view keeps @jwt_required and its get_jwt() calls, which run in Flask's request "
            "context: the route works as before but keeps Flask on its path. Make the loaders "
            "named in the reason free of Flask (return a dict, not a response), or write the "
            "dependency by hand with flask2fastapi_runtime.JWTAuth.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            from flask_jwt_extended import JWTManager, create_access_token, get_jwt, get_jwt_identity, jwt_required

            app = Flask(__name__)
            jwt = JWTManager(app)


            @jwt.unauthorized_loader
            def missing(reason):
                return jsonify(error="authorization_required", msg=reason), 401


            @app.route("/login", methods=["POST"])
            def login():
                return jsonify(token=create_access_token(identity="ann", fresh=True))


            @app.route("/me")
            @jwt_required(fresh=True)
            def me():
                return jsonify(user=get_jwt_identity(), role=get_jwt()["role"])
            """,
            """\
            from flask import Flask
            from fastapi import Depends
            from flask2fastapi_runtime import FlaskBridge, JWT, JWTAuth
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            jwt = JWTAuth(app)


            @jwt.unauthorized_loader
            def missing(reason):
                return {"error": "authorization_required", "msg": reason}, 401


            class LoginResponse(BaseModel):
                \"\"\"What login answers with (documents its 200 answer in OpenAPI).\"\"\"

                token: Any


            @api.post("/login", response_model=LoginResponse)
            def login():
                return {"token": jwt.create_access_token(identity="ann", fresh=True)}


            class MeResponse(BaseModel):
                \"\"\"What me answers with (documents its 200 answer in OpenAPI).\"\"\"

                user: Any
                role: Any


            @api.get("/me", response_model=MeResponse)
            def me(token: Annotated[JWT, Depends(jwt.required(fresh=True))]):
                return {"user": token.identity, "role": token.claims["role"]}
            """,
            title="the manager, a loader, a token issued and a view that requires one",
        ),
        Example(
            """\
            from flask import Flask, make_response
            from flask_jwt_extended import JWTManager, jwt_required

            app = Flask(__name__)
            jwt = JWTManager(app)


            @jwt.expired_token_loader
            def expired(header, data):
                return make_response("expired", 401)


            @app.route("/me")
            @jwt_required()
            def me():
                return {"ok": True}
            """,
            """\
            from flask import Flask, make_response
            from flask_jwt_extended import JWTManager, jwt_required
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel

            app = Flask(__name__)
            api = FlaskBridge(app)
            jwt = JWTManager(app)


            @jwt.expired_token_loader
            def expired(header, data):
                return make_response("expired", 401)


            class MeResponse(BaseModel):
                \"\"\"What me answers with (documents its 200 answer in OpenAPI).\"\"\"

                ok: bool


            @api.get("/me", response_model=MeResponse)
            # TODO[F2F291]: Flask-JWT-Extended stays for this view: example: the loader expired uses flask.make_response
            @jwt_required()
            def me():
                return {"ok": True}
            """,
            codes=("F2F291",),
            title="a loader answering with a Flask response keeps Flask-JWT-Extended, said at each view",
        ),
        Example(
            """\
            from flask import Flask
            from flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required

            app = Flask(__name__)
            jwt = JWTManager(app)


            def owner():
                return get_jwt_identity()


            @app.route("/mine")
            @jwt_required()
            def mine():
                return {"owner": owner()}
            """,
            """\
            from flask import Flask
            from flask_jwt_extended import get_jwt_identity, jwt_required
            from flask2fastapi_runtime import FlaskBridge, JWTAuth
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            jwt = JWTAuth(app)


            def owner():
                return get_jwt_identity()


            class MineResponse(BaseModel):
                \"\"\"What mine answers with (documents its 200 answer in OpenAPI).\"\"\"

                owner: Any


            @api.get("/mine", response_model=MineResponse)
            # TODO[F2F291]: Flask-JWT-Extended stays for this view: owner reads its token from Flask-JWT-Extended's context
            @jwt_required()
            def mine():
                return {"owner": owner()}
            """,
            codes=("F2F291",),
            title="a helper reading the token the decorator verified keeps the decorator",
        ),
        Example(
            """\
            from flask_jwt_extended import jwt_required
            from jwt import decode


            def get_jwt():
                return {}


            @jwt_required()
            def helper():
                return get_jwt(), decode
            """,
            title="no view, a function named like Flask-JWT-Extended's, PyJWT's module: unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tokens: list[str | None] = []  # per function entered: the token parameter of a converted view
        self.loaders = 0  # loader functions of the manager entered
        # view -> (its @jwt_required, a guard's decorator or None for a hook's token; the token's name or None)
        self.planned: dict[cst.FunctionDef, tuple[cst.Decorator | None, str | None]] = {}
        self._guards: frozenset[str] | None = None  # codemod/jwt_facts.converted_guards, once a file

    # -- where we are ------------------------------------------------------------------------
    @property
    def manager(self) -> str | None:
        project = self.run.project
        if len(project.jwt_managers) != 1 or project.jwt_problems:
            return None
        return next(iter(project.jwt_managers))

    def _blocker(self) -> str:
        project = self.run.project
        if len(project.jwt_managers) > 1:
            return "the project has more than one JWTManager"
        if not project.jwt_managers:
            return "no JWTManager made at module level in the project"
        return project.jwt_problems[0]

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.loaders += self._is_loader(node)
        token = self.tokens[-1] if self.tokens else None
        requirement = self._requirement(node)
        if requirement is not None:
            reader = self._reader_reached(node)
            if self.manager is None or reader is not None:
                reason = self._blocker() if self.manager is None else f"{reader} reads its token from Flask-JWT-Extended's context"
                self.flag(requirement, "kept", reason=reason)
            elif self._options(requirement) is not None:
                token = _free_token(node)
                self.planned[node] = (requirement, token)
        elif native_plans(self, node):
            token = self._plan_other(node)
        self.tokens.append(token)

    def _plan_other(self, node: cst.FunctionDef) -> str | None:
        """A native view's token from elsewhere than ``@jwt_required``: the dependency a JWT guard
        decorator became (transforms/jwt_hooks.py), or the one giving the token a before hook
        verified where the view reads it (``jwt.current``). The token's name where it reads it."""
        project = self.run.project
        view = project.views.get((self.context.filename or "", node.name.value))
        qualified = f"{self._module()}.{node.name.value}"
        if view is None or self.manager is None or len(view.decorators) > 1:
            return None
        if self._guards is None:
            self._guards = converted_guards(project)
        guard = self._guards
        decorator = next((d for d in node.decorators if self.qualified_names(_called(d.decorator)) & guard), None)
        reads = qualified in project.jwt_readers
        if decorator is None and (view.decorators or not reads):
            return None
        if decorator is None:
            hooks = [h for h in project.hooks if h.jwt]
            if not hooks or any(h.qualified not in project.state.hook_functions for h in hooks):
                return None  # the hooks stay Flask's: they verify in Flask-JWT-Extended's context
            reader = reaches_reader(project, qualified)
            if reader is not None:
                self.flag(node, "kept", reason=f"{reader.rpartition('.')[2]} reads its token from Flask-JWT-Extended's context")
                return None
        token = _free_token(node) if reads else None
        self.planned[node] = (decorator, token)
        return token

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self.tokens.pop()
        self.loaders -= self._is_loader(original_node)
        planned = self.planned.pop(original_node, None)
        if planned is None:
            return updated_node
        requirement, token = planned
        decorators = [d for o, d in zip(original_node.decorators, updated_node.decorators) if o is not requirement]
        dependency: cst.BaseExpression
        if requirement is None:  # the token a hook verified
            dependency = cst.Attribute(self._manager_name(original_node), cst.Name("current"))
        elif self.names(_called(requirement.decorator), *JWT_REQUIRED):
            self.consume(requirement.decorator)
            dependency = cst.Call(cst.Attribute(self._manager_name(original_node), cst.Name("required")), self._options(requirement) or [])
        else:  # a guard made a dependency: the decorator's own expression
            dependency = next(d for o, d in zip(original_node.decorators, updated_node.decorators) if o is requirement).decorator
        depends = self.import_reference(original_node, "fastapi", "Depends", replaces=False)
        if token is None:  # the view does not read it: its route's dependencies
            updated_node = updated_node.with_changes(decorators=decorators)
            listed = cst.List([cst.Element(cst.Call(depends, [cst.Arg(dependency)]))])
            return with_route_options(self, original_node, updated_node, [kwarg("dependencies", listed)])
        annotated = self.import_reference(original_node, "typing", "Annotated", replaces=False)
        jwt_type = self.import_reference(original_node, RUNTIME, "JWT", replaces=False)
        annotation = cst.Subscript(annotated, [
            cst.SubscriptElement(cst.Index(jwt_type)), cst.SubscriptElement(cst.Index(cst.Call(depends, [cst.Arg(dependency)]))),
        ])
        return with_parameter(updated_node.with_changes(decorators=decorators), token, annotation)

    def _reader_reached(self, view: cst.FunctionDef) -> str | None:
        """A project function the view calls (transitively) that reads the token through
        Flask-JWT-Extended (codemod/jwt_facts.py): the dependency's token is not there."""
        reader = reaches_reader(self.run.project, f"{self._module()}.{view.name.value}")
        return None if reader is None else reader.rpartition(".")[2]

    def _requirement(self, node: cst.FunctionDef) -> cst.Decorator | None:
        """The ``@jwt_required(...)`` of a native view whose only other decorators are its routes'."""
        if not native_plans(self, node):
            return None
        view = self.run.project.views.get((self.context.filename or "", node.name.value))
        found = [d for d in node.decorators if isinstance(d.decorator, cst.Call) and self.names(d.decorator.func, *JWT_REQUIRED)]
        if len(found) != 1 or view is None or len(view.decorators) != 1:
            return None
        return found[0]

    def _options(self, decorator: cst.Decorator) -> list[cst.Arg] | None:
        """``jwt_required``'s arguments, each a literal and by keyword (None: not so)."""
        call = decorator.decorator
        assert isinstance(call, cst.Call)
        literal = m.Name("True") | m.Name("False") | m.Name("None") | m.SimpleString() | m.List() | m.Tuple()
        for arg in call.args:
            if arg.keyword is None or arg.keyword.value not in OPTIONS or not m.matches(arg.value, literal):
                return None
        return [arg.with_changes(comma=cst.MaybeSentinel.DEFAULT) if i == len(call.args) - 1 else arg for i, arg in enumerate(call.args)]

    def _is_loader(self, node: cst.FunctionDef) -> bool:
        manager = self.manager
        return manager is not None and any(
            self.qualified_names(d.decorator) & {f"{manager}.{loader}" for loader in LOADERS} for d in node.decorators
        )

    def _manager_name(self, anchor: cst.CSTNode) -> cst.Name:
        module, _, name = (self.manager or "").rpartition(".")
        if module == self._module():
            return cst.Name(name)
        return self.import_reference(anchor, module, name, replaces=False)

    def _module(self) -> str:
        return self.context.full_module_name or ""

    # -- rewriting -----------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        value = original_node.value
        manager = self.manager
        if manager is None or not isinstance(value, cst.Call) or not self.names(value.func, *MANAGERS):
            return updated_node
        if not any(manager in self.qualified_names(t.target) for t in original_node.targets):
            return updated_node
        self.consume(value.func)
        auth = self.import_reference(value.func, RUNTIME, "JWTAuth", replaces=False)
        return updated_node.with_changes(value=updated_node.value.with_changes(func=auth))  # type: ignore[attr-defined]

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if self.manager is None:
            return updated_node
        names = self.qualified_names(original_node.func)
        token = self.tokens[-1] if self.tokens else None
        read = next((READS[n] for n in names if n in READS), None)
        if read is not None and token is not None and not original_node.args:
            self.consume(original_node.func)
            return cst.Attribute(cst.Name(token), cst.Name(read))
        issuer = next((ISSUERS[n] for n in names if n in ISSUERS), None)
        if issuer is not None:
            self.consume(original_node.func)
            return updated_node.with_changes(func=cst.Attribute(self._manager_name(original_node), cst.Name(issuer)))
        if self.loaders and plain_jsonify(original_node, self.qualified_names):
            content = jsonify_content(updated_node)
            if content is not None:
                self.consume(original_node.func)
                return content
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        token = self.tokens[-1] if self.tokens else None
        if token is None or self.manager is None or not self.qualified_names(original_node) & CURRENT_USER:
            return updated_node
        self.consume(original_node)
        return cst.Attribute(cst.Name(token), cst.Name("user"))


def _called(decorator: cst.BaseExpression) -> cst.BaseExpression:
    """What a decorator names: ``f`` of ``@f(...)`` and of ``@f``."""
    return decorator.func if isinstance(decorator, cst.Call) else decorator


def _free_token(view: cst.FunctionDef) -> str:
    taken = parameter_names(view) | names_used(view)
    return next(n for n in (*TOKEN_NAMES, *(f"token_{i}" for i in range(2, 99))) if n not in taken)
