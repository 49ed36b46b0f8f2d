"""Flask-HTTPAuth and Flask-Login into flask_compat's counterparts, view decorators into route
dependencies that refuse exactly what the extension refused.

Targets https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-in-path-operation-decorators/
and https://fastapi.tiangolo.com/advanced/security/http-basic-auth/ . The extension objects keep
their API (``HTTPTokenAuth()``, ``@auth.verify_token``, ``auth.current_user()``, ``LoginManager``,
``login_user``, ``current_user``), now from flask_compat. An auth decorator that runs first on a
view becomes a dependency of its routes, which runs at the same moment (after the request hooks,
before the view and its other decorators) and shows the scheme in the OpenAPI docs::

    @app.route("/admin")                     @app.get("/admin", dependencies=[Depends(auth.dependency(role="admin"))])
    @auth.login_required(role="admin")  ->   def admin():
    def admin():

An auth decorator below another decorator stays a decorator (flask_compat's objects are
decorators too), so that the other decorator still runs before it, as in Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import Supported, last_arg, route_decorator, with_dependencies, without_decorators

# flask_compat has these under the same names.
HTTPAUTH = Supported("flask_httpauth", ("HTTPBasicAuth", "HTTPTokenAuth", "MultiAuth"))
LOGIN = Supported(
    "flask_login",
    (
        "LoginManager", "UserMixin", "AnonymousUserMixin", "login_user", "logout_user", "current_user",
        "login_required", "fresh_login_required", "confirm_login", "login_fresh", "login_remembered",
        "login_url", "make_next_param", "encode_cookie", "decode_cookie",
    ),
    modules=("utils", "login_manager", "mixins", "config"),
)
DIGEST = "flask_httpauth.HTTPDigestAuth"
# Flask-Login's decorators on views -> the dependency flask_compat gives them
LOGIN_DECORATORS = frozenset({"login_required", "fresh_login_required"})
LOGIN_REQUIRED = m.Attribute(attr=m.Name("login_required"))


def supported_name(qualified: set[str]) -> str | None:
    """The flask_compat name for a Flask-HTTPAuth or Flask-Login name."""
    return HTTPAUTH.name_for(qualified) or LOGIN.name_for(qualified)


class AuthTransform(Transform):
    NAME = "auth"
    DESCRIPTION = "Flask-HTTPAuth / Flask-Login -> flask_compat's; @auth.login_required on a view -> a route dependency"
    FINDINGS: ClassVar[Mapping[str, Code]] = {
        "digest": Code(
            "F2F211",
            "HTTPDigestAuth is not converted: protect these routes with a dependency that checks the "
            "Digest response by hand (fastapi.security.HTTPDigest only documents the scheme), or switch to Basic over HTTPS",
            "Flask-HTTPAuth's Digest auth keeps its nonce and opaque values in Flask's session and "
            "reads Flask's request; it does not run on FastAPI and flask_compat has no counterpart.",
        ),
        "above_route": Code(
            "F2F212",
            "this auth decorator is above the route decorator, so Flask registered the view without "
            "the check and the route was NOT protected; move it below the route decorator if it should be",
            "Decorators apply from the bottom up: the route decorator registers what is below it. "
            "The conversion keeps the original behaviour (no check on this route); a person decides.",
        ),
        "blueprint_login_views": Code(
            "F2F213",
            "per-blueprint login views are not kept: flask_compat's LoginManager redirects to "
            "login_manager.login_view for every route; give each router's routes an unauthorized_handler instead",
            "Flask-Login picks the login view of the blueprint that handled the request; FastAPI "
            "routers are not known to the request.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask\nfrom flask_httpauth import HTTPTokenAuth\n\napp = Flask(__name__)\n"
            "auth = HTTPTokenAuth(scheme='Bearer')\n\n\n@auth.verify_token\ndef verify(token):\n"
            "    return token == 'secret'\n\n\n@app.route('/admin')\n@auth.login_required(role='admin')\n"
            "def admin():\n    return {'user': auth.current_user()}\n",
            "from fastapi import Depends, FastAPI\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, HTTPTokenAuth, add_flask_attributes\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "auth = HTTPTokenAuth(scheme='Bearer')\n\n\n@auth.verify_token\ndef verify(token):\n"
            "    return token == 'secret'\n\n\n@app.get('/admin', dependencies=[Depends(auth.dependency(role='admin'))])\n"
            "def admin():\n    return {'user': auth.current_user()}\n",
            title="a token-protected view with a role",
        ),
        Example(
            "from flask import Flask\nfrom flask_login import LoginManager, current_user, login_required\n\n"
            "app = Flask(__name__)\nlogin_manager = LoginManager(app)\n\n\n@app.route('/me')\n@login_required\n"
            "def me():\n    return {'name': current_user.name}\n",
            "from fastapi import Depends, FastAPI\n"
            "from flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, LoginManager, add_flask_attributes, current_user, login_required\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "login_manager = LoginManager(app)\n\n\n@app.get('/me', dependencies=[Depends(login_required.dependency)])\n"
            "def me():\n    return {'name': current_user.name}\n",
            title="Flask-Login's login_required",
        ),
        Example(
            "from flask_httpauth import HTTPDigestAuth\n\nauth = HTTPDigestAuth()\n",
            "from flask_httpauth import HTTPDigestAuth\n\n# TODO[F2F211]: HTTPDigestAuth is not converted: protect these routes "
            "with a dependency that checks the Digest response by hand (fastapi.security.HTTPDigest only documents the "
            "scheme), or switch to Basic over HTTPS\nauth = HTTPDigestAuth()\n",
            codes=("F2F211",),
            title="Digest auth is flagged",
        ),
        Example(
            "from myapp.security import login_required\n\n\n@login_required\ndef view():\n    return {}\n",
            title="a lookalike login_required",
        ),
    )

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        converted = HTTPAUTH.reference(self, original_node, updated_node) or LOGIN.reference(self, original_node, updated_node)
        if converted is None and DIGEST in self.qualified_names(original_node):
            self.flag(original_node, "digest")
        return converted or updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        converted = HTTPAUTH.reference(self, original_node, updated_node) or LOGIN.reference(self, original_node, updated_node)
        if converted is not None:  # flask_login.current_user -> current_user (or a free alias)
            return converted
        if original_node.attr.value == "blueprint_login_views" and self._is_login_manager(original_node.value):
            self.flag(original_node, "blueprint_login_views")
        return updated_node

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        routes = [i for i, d in enumerate(original_node.decorators) if route_decorator(self, d) is not None]
        if not routes or len(original_node.decorators) != len(updated_node.decorators):
            return updated_node  # another transform added decorators: the auth ones stay decorators
        first, last = routes[0], routes[-1]
        for decorator in original_node.decorators[:first]:
            if self._dependency(decorator, decorator.decorator) is not None:
                self.flag(decorator, "above_route")
        if routes != list(range(first, last + 1)):
            return updated_node  # other decorators between routes: each route saw a different view
        # The auth decorators right below the routes run first, before any other decorator:
        # as dependencies they still do. One below another decorator stays a decorator.
        dependencies: list[cst.BaseExpression] = []
        below = last + 1
        while below < len(original_node.decorators):
            dependency = self._dependency(original_node.decorators[below], updated_node.decorators[below].decorator)
            if dependency is None:
                break
            dependencies.append(dependency)
            below += 1
        if not dependencies:
            return updated_node
        AddImportsVisitor.add_needed_import(self.context, "fastapi", "Depends")
        decorators = list(updated_node.decorators)
        for index in routes:
            route = decorators[index].decorator
            assert isinstance(route, cst.Call)
            decorators[index] = decorators[index].with_changes(decorator=with_dependencies(route, dependencies))
        return without_decorators(updated_node.with_changes(decorators=decorators), range(last + 1, below))

    def _dependency(self, original: cst.Decorator, updated: cst.BaseExpression) -> cst.BaseExpression | None:
        """What goes in ``Depends(...)`` for an auth decorator, or None when it is not one."""
        expression = original.decorator
        if supported_name(self.qualified_names(expression)) in LOGIN_DECORATORS:
            # updated is the flask_compat name (flask_login.login_required became login_required)
            return cst.Attribute(updated, cst.Name("dependency"))
        call = expression if isinstance(expression, cst.Call) else None
        target = call.func if call is not None else expression
        project = self.run.project
        if (call is None and self.qualified_names(expression) & project.guards) or (
            call is not None and self.qualified_names(call.func) & project.guard_factories
        ):  # the project's own check-then-call decorator (codemod.project._is_guard)
            self.use_support("decorator_dependency")
            return cst.Call(cst.Name("decorator_dependency"), [cst.Arg(updated)])
        if not m.matches(target, LOGIN_REQUIRED) or not self._is_httpauth(target.value):  # type: ignore[attr-defined]
            return None
        if call is not None and any(a.keyword is None for a in call.args):
            return None  # login_required(view) called by hand: not a decorator factory
        assert isinstance(updated, (cst.Attribute, cst.Call))
        receiver = (updated.func if isinstance(updated, cst.Call) else updated).value  # type: ignore[union-attr]
        args = list(updated.args) if isinstance(updated, cst.Call) else []
        return cst.Call(cst.Attribute(receiver, cst.Name("dependency")), last_arg(args))

    def _is_login_manager(self, node: cst.BaseExpression) -> bool:
        """``manager = LoginManager()`` of this module, or ``app.login_manager``."""
        if m.matches(node, m.Attribute(attr=m.Name("login_manager"))):
            return self.kind_of(node.value) == "app"  # type: ignore[attr-defined]
        values = self.assigned_values(node) if isinstance(node, cst.Name) else []
        return any(isinstance(v, cst.Call) and supported_name(self.qualified_names(v.func)) == "LoginManager" for v in values)

    def _is_httpauth(self, node: cst.BaseExpression) -> bool:
        """Whether ``node`` names a Flask-HTTPAuth object (of this module or imported)."""
        if self.qualified_names(node) & self.run.project.auth_objects:
            return True
        if isinstance(node, cst.Name):
            for value in self.assigned_values(node):
                if isinstance(value, cst.Call) and HTTPAUTH.name_for(self.qualified_names(value.func)) is not None:
                    return True
        return False
