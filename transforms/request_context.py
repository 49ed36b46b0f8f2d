"""flask.g, current_app, session, url_for, redirect, make_response, flask.request outside views,
and the app's request hooks into flask_compat.

Targets https://fastapi.tiangolo.com/tutorial/middleware/ . ``g`` becomes flask_compat's ``g``,
one namespace per request kept in a context variable, so it is the same object wherever Flask's
was: in views, in the helpers and decorators they call, in hooks and in error handlers.
``request`` read outside a view (in a hook, a helper, an auth decorator) becomes flask_compat's
``request``, Flask's request API over the request being handled (views declare parameters
instead: request_params). ``@app.before_request`` becomes ``@before_request(app)`` (likewise after_request,
teardown_request, teardown_appcontext): FLASK_MIDDLEWARE runs those hooks as Flask did, in
Flask's order, a before hook's return value answering instead of the view. A blueprint's hooks
(``@before_request(bp)``) run for that router's routes only, after the app's; its
``before_app_request`` & co. (``app_wide=True``) for every request of the app that includes it.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.transform import Example, Transform
from transforms._flask import Supported, kwarg

# flask names that flask_compat provides under the same name
SUPPORTED = Supported(
    "flask", ("g", "current_app", "url_for", "redirect", "make_response", "session"), modules=("globals", "helpers")
)
REQUEST = "flask.request"
HOOKS = {
    "before_request": "before_request",
    "after_request": "after_request",
    "teardown_request": "teardown_request",
    "teardown_appcontext": "teardown_appcontext",
}
APP_WIDE_FROM_BLUEPRINT = frozenset({"before_app_request", "after_app_request", "teardown_app_request"})
HOOK_ATTRIBUTE = m.Attribute(attr=m.Name(m.MatchIfTrue(lambda n: n in HOOKS or n in APP_WIDE_FROM_BLUEPRINT)))


class RequestContextTransform(Transform):
    NAME = "request_context"
    DESCRIPTION = (
        "flask.g -> per-request g; @app/@bp.before_request/after_request/teardown_* -> hooks run by FLASK_MIDDLEWARE"
    )
    EXAMPLES = (
        Example(
            "from flask import Flask, g\n\napp = Flask(__name__)\n\n\n@app.before_request\ndef load_user():\n"
            "    g.user = 'ann'\n\n\n@app.after_request\ndef stamp(response):\n"
            "    response.headers['X-User'] = g.user\n    return response\n",
            "from fastapi import FastAPI\nfrom flask_compat import FLASK_ERRORS, FLASK_MIDDLEWARE, add_flask_attributes, after_request, before_request, g\n\n"
            "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\nadd_flask_attributes(app, __name__)\n\n\n@before_request(app)\n"
            "def load_user():\n    g.user = 'ann'\n\n\n@after_request(app)\ndef stamp(response):\n"
            "    response.headers['X-User'] = g.user\n    return response\n",
            title="hooks and g",
        ),
        Example(
            "import flask\n\nbp = flask.Blueprint('b', __name__)\n\n\ndef close(error):\n    flask.g.pop('db', None)\n\n\n"
            "bp.teardown_request(close)\n\n\n@bp.before_app_request\ndef everywhere():\n    flask.g.seen = True\n",
            "from fastapi import APIRouter\nfrom flask_compat import before_request, g, teardown_request\n\nbp = APIRouter()\n\n\n"
            "def close(error):\n    g.pop('db', None)\n\n\nteardown_request(bp)(close)\n\n\n"
            "@before_request(bp, app_wide=True)\ndef everywhere():\n    g.seen = True\n",
            title="a blueprint's hooks: for its routes, or app-wide",
        ),
        Example("from myapp import g\n\ndef f():\n    return g.user\n", title="a lookalike g"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.requests: dict[cst.CSTNode, list[cst.Name]] = {}  # anchor -> flask.request names in it

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        converted = SUPPORTED.reference(self, original_node, updated_node)
        if converted is None and self.names(original_node, REQUEST):
            anchor = self.anchor_of(original_node)
            if anchor is not None:
                self.requests.setdefault(anchor, []).append(original_node)
        return converted or updated_node

    def leave_anchor(self, anchor: cst.CSTNode) -> None:
        """What request_params did not turn into parameters (reads in hooks, helpers and
        decorators, such as an auth decorator's Authorization header) reads flask_compat's
        request, which has Flask's API over the request being handled."""
        for name in self.requests.pop(anchor, ()):
            if name not in self.run.consumed:
                self.consume(name)
                self.use_support("request", asname=name.value)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return SUPPORTED.reference(self, original_node, updated_node) or updated_node  # flask.g, flask.url_for

    def leave_Decorator(self, original_node: cst.Decorator, updated_node: cst.Decorator) -> cst.Decorator:
        registrar = self._registrar(original_node.decorator)
        if registrar is None:
            return updated_node
        assert isinstance(updated_node.decorator, cst.Attribute)
        return updated_node.with_changes(decorator=self._build_registrar(registrar, updated_node.decorator.value))

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        registrar = self._registrar(original_node.func)
        if registrar is None or not isinstance(updated_node.func, cst.Attribute):
            return updated_node
        return updated_node.with_changes(func=self._build_registrar(registrar, updated_node.func.value))

    def _registrar(self, target: cst.BaseExpression) -> tuple[str, bool] | None:
        """(flask_compat registrar, app-wide) for ``app.before_request``, ``bp.after_request``,
        ``bp.before_app_request`` and friends on an app or blueprint of the project, or None."""
        if not m.matches(target, HOOK_ATTRIBUTE):
            return None
        assert isinstance(target, cst.Attribute)
        kind = self.kind_of(target.value)
        name = target.attr.value
        app_wide = name in APP_WIDE_FROM_BLUEPRINT
        if kind is None or (kind == "app" and app_wide):
            return None
        registrar = name.replace("_app_", "_") if app_wide else HOOKS[name]
        self.consume(target)
        self.use_support(registrar)
        return registrar, app_wide

    @staticmethod
    def _build_registrar(registrar: tuple[str, bool], owner: cst.BaseExpression) -> cst.Call:
        name, app_wide = registrar
        args = [cst.Arg(owner)]
        if app_wide:
            args = [cst.Arg(owner, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), kwarg("app_wide", cst.Name("True"))]
        return cst.Call(cst.Name(name), args)
