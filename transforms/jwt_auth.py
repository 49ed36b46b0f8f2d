"""Flask-JWT-Extended into flask_compat's JWT support on PyJWT; ``@jwt_required()`` into a route dependency.

Targets https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-in-path-operation-decorators/ .
``@jwt_required(...)`` right below a view's route decorators becomes
``dependencies=[Depends(JWTRequired(...))]`` on each of them: it runs where the decorator ran,
before the view and before its parameters are checked, and refuses with Flask-JWT-Extended's
answers. Everything else the app imports from the extension (``JWTManager``, the loaders,
``create_access_token``, ``get_jwt``, ``current_user``, ``verify_jwt_in_request``...) comes from
flask_compat, which keeps the token format, the ``JWT_*`` settings and the error answers. A
``jwt_required`` that cannot become a dependency stays flask_compat's working decorator: a
protected view never loses its check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import ParentNodeProvider

from codemod.findings import Code
from codemod.transform import Example, Transform
from transforms._flask import Supported, last_arg, route_decorator, string_value, with_dependencies, without_decorators

PACKAGE = "flask_jwt_extended"
JWT_REQUIRED = "jwt_required"
# What flask_compat provides, by Flask-JWT-Extended's name (current_user is named apart from
# Flask-Login's).
SUPPORTED = Supported(
    PACKAGE,
    {
        name: name
        for name in (
        "JWTManager", "jwt_required", "verify_jwt_in_request", "create_access_token", "create_refresh_token",
        "decode_token", "get_jwt", "get_jwt_header", "get_jwt_identity", "get_jwt_request_location",
        "get_current_user", "get_unverified_jwt_headers", "get_jti", "get_csrf_token", "set_access_cookies",
        "set_refresh_cookies", "unset_jwt_cookies", "unset_access_cookies", "unset_refresh_cookies",
        "JWTExtendedException", "JWTDecodeError", "InvalidHeaderError", "InvalidQueryParamError",
        "NoAuthorizationError", "CSRFError", "WrongTokenError", "RevokedTokenError", "FreshTokenRequired",
        "UserLookupError", "UserClaimsVerificationError",
        )
    }
    | {"current_user": "jwt_current_user"},
    modules=("utils", "view_decorators", "jwt_manager", "exceptions", "tokens", "internal_utils"),
)
# jwt_required's parameters, in order; its arguments are copied into JWTRequired(...) when they are
# literals or names of constants (nothing another transform rewrites)
PARAMETERS = ("optional", "fresh", "refresh", "locations", "verify_type", "skip_revocation_check")
# a module constant (LOCATIONS, settings.LOCATIONS) is evaluated when the decorators are, either way
LITERAL = m.Name() | m.SimpleString() | m.ConcatenatedString() | m.Attribute(value=m.Name())
LITERAL_ARG = m.Arg(
    value=LITERAL | m.List(elements=[m.ZeroOrMore(m.Element(value=LITERAL))]) | m.Tuple(elements=[m.ZeroOrMore(m.Element(value=LITERAL))]),
    star="",
)
CSRF_FORM = "JWT_CSRF_CHECK_FORM"


class JwtAuthTransform(Transform):
    NAME = "jwt_auth"
    DESCRIPTION = "Flask-JWT-Extended -> flask_compat's JWT support (PyJWT); @jwt_required() -> a route dependency"
    FINDINGS: ClassVar[Mapping[str, Code]] = {
        "above_route": Code(
            "F2F221",
            "@jwt_required(...) is above the route decorator, so Flask registered the view without "
            "it and this route was NOT protected; move it below the route decorator to protect it",
            "Decorators apply bottom-up: the route decorator registered the unwrapped view, and "
            "the converted app keeps doing so. Most likely a bug in the original app.",
        ),
        "bare_decorator": Code(
            "F2F222",
            "@jwt_required without parentheses does not protect the view in Flask-JWT-Extended 4 "
            "(the route answered 500): write @jwt_required()",
            "Since version 4 jwt_required is a decorator factory; @jwt_required registered a "
            "function that fails when called. The converted app keeps that behaviour.",
        ),
        "csrf_form": Code(
            "F2F223",
            "JWT_CSRF_CHECK_FORM: flask_compat reads the CSRF value of a token cookie from the "
            "X-CSRF-TOKEN header only (a request without it now answers 500); send it as a header",
            "Reading the CSRF value from a form field would need the form parsed before the view; "
            "flask_compat refuses loudly instead of letting the request in.",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import Flask\nfrom flask_jwt_extended import JWTManager, get_jwt_identity, jwt_required\n\n"
            "app = Flask(__name__)\njwt = JWTManager(app)\n\n\n@app.route('/me')\n@jwt_required()\ndef me():\n"
            "    return {'me': get_jwt_identity()}\n\n\n@app.route('/refresh', methods=['POST'])\n"
            "@jwt_required(refresh=True)\ndef refresh():\n    return {'again': get_jwt_identity()}\n",
            "from fastapi import Depends, FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, "
            "JWTManager, JWTRequired, add_flask_attributes, get_jwt_identity\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n"
            "jwt = JWTManager(app)\n\n\n@app.get('/me', dependencies=[Depends(JWTRequired())])\ndef me():\n"
            "    return {'me': get_jwt_identity()}\n\n\n"
            "@app.post('/refresh', dependencies=[Depends(JWTRequired(refresh=True))])\n"
            "def refresh():\n    return {'again': get_jwt_identity()}\n",
            title="protected routes get a dependency",
        ),
        Example(
            "from flask import Blueprint\nfrom flask_jwt_extended import current_user, jwt_required\n\n"
            "bp = Blueprint('b', __name__)\n\n\n@bp.route('/a')\n@bp.route('/b')\n@jwt_required(optional=True)\n"
            "def view():\n    return {'user': current_user['name'] if current_user else None}\n",
            "from flask_compat import JWTRequired, jwt_current_user as current_user\nfrom fastapi import APIRouter, Depends\n\n"
            "bp = APIRouter()\n\n\n@bp.get('/a', dependencies=[Depends(JWTRequired(optional=True))])\n"
            "@bp.get('/b', dependencies=[Depends(JWTRequired(optional=True))])\n"
            "def view():\n    return {'user': current_user['name'] if current_user else None}\n",
            title="every route of the view; current_user",
        ),
        Example(
            "from flask import Flask\nfrom flask_jwt_extended import jwt_required\n\napp = Flask(__name__)\n\n\n"
            "@app.route('/x')\n# tokens from the mobile app too\n@jwt_required(locations=['headers', 'query_string'])\n"
            "def x():\n    return {}\n",
            "from fastapi import Depends, FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, JWTRequired, add_flask_attributes\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "@app.get('/x', dependencies=[Depends(JWTRequired(locations=['headers', 'query_string']))])\n"
            "# tokens from the mobile app too\ndef x():\n    return {}\n",
            title="a comment above the decorator stays",
        ),
        Example(
            "from flask import Flask\nfrom flask_jwt_extended import jwt_required\n\napp = Flask(__name__)\n\n\n"
            "def audited(view):\n    return view\n\n\n@app.route('/x')\n@audited\n@jwt_required()\ndef x():\n    return {}\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, jwt_required\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "def audited(view):\n    return view\n\n\n@app.get('/x')\n@audited\n@jwt_required()\ndef x():\n    return {}\n",
            title="below another decorator it stays a working decorator, so the order of the checks stays",
        ),
        Example(
            "from flask import Flask\nfrom flask_jwt_extended import jwt_required\n\napp = Flask(__name__)\n\n\n"
            "@jwt_required()\n@app.route('/x')\ndef x():\n    return {}\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, jwt_required\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n"
            "# TODO[F2F221]: @jwt_required(...) is above the route decorator, so Flask registered the view without it "
            "and this route was NOT protected; move it below the route decorator to protect it\n"
            "@jwt_required()\n@app.get('/x')\ndef x():\n    return {}\n",
            codes=("F2F221",),
            title="above the route it never protected the route: flagged",
        ),
        Example(
            "from myauth import jwt_required\n\n\n@jwt_required()\ndef x():\n    return {}\n",
            title="a lookalike jwt_required from another module",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # original FunctionDef -> the jwt_required decorator that becomes a dependency of its routes
        self.dependencies: dict[cst.FunctionDef, cst.Decorator] = {}
        # original FunctionDef -> that decorator as the traversal left it, to remove
        self.removed: dict[cst.FunctionDef, cst.Decorator] = {}

    # -- names ---------------------------------------------------------------------------
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        if original_node in self.run.consumed:  # a jwt_required that became a dependency
            return updated_node
        return SUPPORTED.reference(self, original_node, updated_node) or updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if original_node in self.run.consumed:
            return updated_node
        return SUPPORTED.reference(self, original_node, updated_node) or updated_node  # fje.get_jwt -> get_jwt

    # -- settings flask_compat does not follow -------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        """``JWT_CSRF_CHECK_FORM = True`` (a config object) or ``app.config["JWT_CSRF_CHECK_FORM"] = True``."""
        for target in node.targets:
            key = target.target
            if isinstance(key, cst.Subscript) and len(key.slice) == 1 and isinstance(key.slice[0].slice, cst.Index):
                key = key.slice[0].slice.value
            self._setting(key, node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._setting(node.keyword, node.value)  # from_mapping(JWT_CSRF_CHECK_FORM=True)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._setting(node.key, node.value)

    def _setting(self, key: cst.BaseExpression, value: cst.BaseExpression) -> None:
        name = key.value if isinstance(key, cst.Name) else string_value(key)
        if name == CSRF_FORM and not m.matches(value, m.Name("False") | m.Name("None")):
            self.flag(key, "csrf_form")

    # -- @jwt_required(...) ----------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        decorators = list(node.decorators)
        routes = [i for i, d in enumerate(decorators) if route_decorator(self, d) is not None]
        for index, decorator in enumerate(decorators):
            if not isinstance(decorator.decorator, cst.Call) and self._is_jwt_required(decorator.decorator):
                self.flag(decorator, "bare_decorator")
            elif not (isinstance(decorator.decorator, cst.Call) and self._is_jwt_required(decorator.decorator.func)):
                continue
            elif routes and index < routes[0]:
                self.flag(decorator, "above_route")
            elif routes and self._convertible(decorators, routes, index):
                self.dependencies[node] = decorator
                self.consume(decorator.decorator)

    def _is_jwt_required(self, node: cst.BaseExpression) -> bool:
        return SUPPORTED.name_for(self.qualified_names(node)) == JWT_REQUIRED

    def _convertible(self, decorators: list[cst.Decorator], routes: list[int], index: int) -> bool:
        """Whether the decorator at ``index`` may become a dependency of the routes: it comes
        right below a block of route decorators (each registered the view it wraps, so a check
        before the view is where it ran) and its arguments are literals that can be copied."""
        if index != routes[-1] + 1 or routes != list(range(routes[0], index)):
            return False
        call = decorators[index].decorator
        assert isinstance(call, cst.Call)
        names = [a.keyword.value if a.keyword else None for a in call.args]
        if len(call.args) > len(PARAMETERS) or not all(n is None or n in PARAMETERS for n in names):
            return False
        flask = any(q == "flask" or q.startswith("flask.") for a in call.args for q in self.qualified_names(a.value))
        return not flask and all(m.matches(a, LITERAL_ARG) for a in call.args)

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        function = self.get_metadata(ParentNodeProvider, original_node, None)
        protected = self.dependencies.get(function)  # type: ignore[arg-type]
        if protected is None:
            return updated_node
        if original_node is protected:
            # removed when the function is left: until then every transform sees the decorators
            # of the original at the same positions
            self.removed[function] = updated_node  # type: ignore[index]
            return updated_node
        if route_decorator(self, original_node) is None or not isinstance(updated_node.decorator, cst.Call):
            return updated_node
        return updated_node.with_changes(decorator=self._with_dependency(updated_node.decorator, protected))

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        """The ``@jwt_required(...)`` that became a dependency goes; comments above it stay,
        above what came next."""
        self.dependencies.pop(original_node, None)
        protected = self.removed.pop(original_node, None)
        if protected is None:
            return updated_node
        index = next((i for i, d in enumerate(updated_node.decorators) if d is protected or d.deep_equals(protected)), None)
        if index is None:  # another transform took it already
            return updated_node
        return without_decorators(updated_node, [index])

    def _with_dependency(self, route: cst.Call, protected: cst.Decorator) -> cst.Call:
        """``@app.get(path, ...)`` with ``Depends(JWTRequired(<jwt_required's arguments>))``
        added to its ``dependencies``."""
        assert isinstance(protected.decorator, cst.Call)
        AddImportsVisitor.add_needed_import(self.context, "fastapi", "Depends")
        self.use_support("JWTRequired")
        check = cst.Call(cst.Name("JWTRequired"), last_arg(list(protected.decorator.args)))
        return with_dependencies(route, [check])
