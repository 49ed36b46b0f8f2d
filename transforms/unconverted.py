"""Flags what is still Flask once the other transforms have run, so nothing is lost silently.

Runs last in the traversal and looks at each statement as the traversal leaves it: any remaining use of a ``flask`` name, a Flask extension, a werkzeug
HTTP exception, or a Flask-only attribute of an app or blueprint (``app.config``,
``@app.errorhandler``...) gets a marker saying what to do by hand. Later versions convert
these; until then the marker is the contract that nothing was dropped.
"""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ParentNodeProvider, ScopeProvider

from codemod.findings import MARKER_RE, Code
from codemod.transform import SUPPORT_MODULE, Example, Transform

FLASK_ADVICE = {
    "flask.request": "read it through typed parameters or a `request: Request` parameter",
    "flask.g": "keep per-request state on request.state or in a dependency",
    "flask.session": "add SessionMiddleware and use request.session",
    "flask.current_app": "reach settings and state without the app context",
    "flask.url_for": "use request.url_for(name, **params) or app.url_path_for",
    "flask.redirect": "return RedirectResponse(url, status_code=302)",
    "flask.make_response": "build a fastapi.responses.Response",
    "flask.Response": "use a Starlette Response or StreamingResponse",
    "flask.stream_with_context": "return a StreamingResponse",
    "flask.abort": "raise fastapi.HTTPException(status_code=...)",
    "flask.stream_template": "render with render_template and return a StreamingResponse of its chunks",
    "flask.jsonify": "return the value, or a JSONResponse",
    "flask.Flask": "use fastapi.FastAPI",
    "flask.Blueprint": "use fastapi.APIRouter",
}
WERKZEUG_EXCEPTIONS = "werkzeug.exceptions."
# Attributes an app or router has after conversion; anything else on them is Flask API.
FASTAPI_ATTRIBUTES = frozenset(
    {
        "include_router", "get", "post", "put", "patch", "delete", "head", "options", "trace",
        "api_route", "add_api_route", "websocket", "add_api_websocket_route", "mount",
        "add_middleware", "middleware", "exception_handler", "add_exception_handler", "state",
        "router", "routes", "openapi", "openapi_schema", "url_path_for", "on_event",
        "dependency_overrides", "title", "version", "prefix", "tags", "lifespan", "debug",
        "user_middleware", "middleware_stack", "dependencies", "docs_url", "openapi_url",
        # what flask_compat.add_flask_attributes gives a converted app
        "config", "logger", "instance_path", "extensions", "name", "cli", "template_folder", "flask_root_path",
        # what flask_compat's LoginManager.init_app gives it
        "login_manager",
    }
)
ATTRIBUTE_ADVICE = {
    "config": "keep settings in a settings object (pydantic-settings) reachable from the views",
    "errorhandler": "register it with app.exception_handler(...) returning the same response",
    "register_error_handler": "use app.add_exception_handler(...)",
    "before_request": "use a middleware or a dependency",
    "after_request": "use a middleware",
    "teardown_request": "use a middleware or a dependency with yield",
    "teardown_appcontext": "use a dependency with yield, or the lifespan",
    "test_client": "use fastapi.testclient.TestClient(app)",
    "logger": "use logging.getLogger(__name__)",
    "add_url_rule": "use app.add_api_route(path, view, methods=[...])",
    "url_map": "use app.routes and app.url_path_for",
    "secret_key": "pass the secret to SessionMiddleware",
    "app_context": "call it: flask_compat's app_context(app) replaces app.app_context()",
    "test_request_context": "flask_compat's test_request_context(app, path, ...) takes path, base_url, query_string, "
    "method, headers, data, json and content_type; pass those, or call the view through TestClient",
    "test_cli_runner": "invoke the commands with click.testing.CliRunner().invoke(app.cli, [...])",
    "jinja_env": "use flask_compat's templates_of(app).env (the Jinja2 environment render_template uses)",
    "context_processor": "a blueprint's context processor served its own views' templates: register it "
    "app-wide with flask_compat's context_processor(app) if it may serve all",
}


class UnconvertedTransform(Transform):
    NAME = "unconverted"
    DESCRIPTION = "flags remaining Flask API (request, g, app.config, errorhandler, ...) for a person"
    FINDINGS = {
        "flask_name": Code(
            "F2F191",
            "`{name}` is Flask API that this version does not convert: {advice}",
            "The converted module still uses a name from flask. It imports, but the name needs "
            "Flask's request or app context, which FastAPI does not provide. Convert it by hand.",
        ),
        "app_attribute": Code(
            "F2F192",
            "`.{attr}` is Flask API of the app or blueprint that this version does not convert: {advice}",
            "FastAPI apps and routers do not have this attribute; the line fails at import or at "
            "run time until it is converted by hand.",
        ),
        "werkzeug_exception": Code(
            "F2F193",
            "`{name}` is a werkzeug HTTP exception; FastAPI answers it with 500: raise "
            "fastapi.HTTPException(status_code=...) instead",
            "FastAPI handles its own and Starlette's HTTPException, not werkzeug's.",
        ),
        "flask_extension": Code(
            "F2F194",
            "`{name}` comes from the Flask extension {extension}, which this version does not "
            "convert: use its FastAPI/Starlette counterpart",
            "Flask extensions hook into the Flask app object and request context; on a FastAPI "
            "app they fail or do nothing. Flask-CORS (CORSMiddleware), Flask-SQLAlchemy (plain "
            "SQLAlchemy, a session per request), Flask-Login and Flask-HTTPAuth (transform auth) are "
            "converted; what is flagged of them (signals, HTTPDigestAuth, FlaskLoginClient) has no "
            "flask_compat counterpart: write a FastAPI dependency or an event hook by hand. "
            "Flask-Migrate has no counterpart yet: run Alembic on the same models. Flask-JWT-Extended becomes "
            "flask_compat's JWT support (transform jwt_auth).",
        ),
    }
    EXAMPLES = (
        Example(
            "from flask import stream_template\n\ndef view():\n    return stream_template('feed.html')\n",
            "from flask import stream_template\n\ndef view():\n    # TODO[F2F191]: `flask.stream_template` is Flask API that this "
            "version does not convert: render with render_template and return a StreamingResponse of its chunks\n"
            "    return stream_template('feed.html')\n",
            codes=("F2F191",),
            title="a streamed template is flagged",
        ),
        Example(
            "from flask_migrate import Migrate\n\nmigrate = Migrate()\n",
            "from flask_migrate import Migrate\n\n# TODO[F2F194]: `flask_migrate.Migrate` comes from the Flask "
            "extension flask_migrate, which this version does not convert: use its FastAPI/Starlette counterpart\n"
            "migrate = Migrate()\n",
            codes=("F2F194",),
            title="an extension is flagged",
        ),
        Example("from myapp import request\n\ndef view():\n    return request.args\n", title="a lookalike"),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # anchor -> references to Flask inside it, checked when the traversal leaves the anchor
        self.candidates: dict[cst.CSTNode, list[cst.CSTNode]] = {}

    def visit_Name(self, node: cst.Name) -> None:
        self._candidate(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and self.qualified_names(node.value) == {"flask"}:
            self._candidate(node)
        elif node.attr.value not in FASTAPI_ATTRIBUTES and self.kind_of(node.value) is not None:
            self._candidate(node)

    def _candidate(self, node: cst.CSTNode) -> None:
        anchor = self.anchor_of(node)
        if anchor is not None:
            self.candidates.setdefault(anchor, []).append(node)

    def leave_anchor(self, anchor: cst.CSTNode) -> None:
        """Flag what in this statement still refers to Flask: every other transform has left it."""
        # a finding of another transform (or of an earlier run) already sends a person here
        marked = bool(self.run.pending.get(anchor)) or any(
            MARKER_RE.search(c.comment.value) for c in getattr(anchor, "leading_lines", ()) if c.comment
        )
        for node in self.candidates.pop(anchor, ()):
            if node in self.run.consumed:
                continue
            if isinstance(node, cst.Attribute) and not self.names(node.value, "flask"):
                attr = node.attr.value
                self.flag(node, "app_attribute", attr=attr, advice=ATTRIBUTE_ADVICE.get(attr, "convert it by hand"))
            elif not marked:
                self._check(node)

    def _check(self, node: cst.CSTNode) -> None:
        for name in sorted(self.qualified_names(node)):
            if name.startswith(WERKZEUG_EXCEPTIONS):
                if self._raised_or_made(node):  # an annotation or an import is harmless
                    self.flag(node, "werkzeug_exception", name=name.removeprefix(WERKZEUG_EXCEPTIONS))
            elif name.partition(".")[0].startswith("flask_") and SUPPORT_MODULE not in name.split("."):
                self.flag(node, "flask_extension", name=name, extension=name.partition(".")[0])
            elif name.startswith("flask."):
                key = next((k for k in FLASK_ADVICE if name == k or name.startswith(k + ".")), None)
                advice = FLASK_ADVICE[key] if key else "convert it by hand"
                self.flag(node, "flask_name", name=key or name, advice=advice)

    def _raised_or_made(self, node: cst.CSTNode) -> bool:
        """Whether a werkzeug exception is raised or instantiated here (``raise NotFound()``)."""
        parent = self.get_metadata(ParentNodeProvider, node, None)
        if isinstance(parent, cst.Call) and parent.func is node:
            return True
        return isinstance(parent, cst.Raise)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        """Imports from flask (and werkzeug) all of whose uses were converted can go."""
        scopes = {scope for scope in self.metadata[ScopeProvider].values() if scope is not None}
        for scope in scopes:
            for assignment in scope.assignments:
                statement = getattr(assignment, "node", None)
                if not isinstance(statement, (cst.Import, cst.ImportFrom)) or not assignment.references:
                    continue  # not an import, or one the original never used (a re-export)
                if all(reference.node in self.run.consumed for reference in assignment.references):
                    self.run.removable_imports |= _import_keys(statement, assignment.name)
        return updated_node


def _import_keys(statement: cst.Import | cst.ImportFrom, bound: str) -> set[tuple[str, str, str | None]]:
    """(module, name, asname) of the flask or werkzeug import in ``statement`` that binds ``bound``."""
    if isinstance(statement, cst.ImportFrom):
        if statement.relative or statement.module is None or isinstance(statement.names, cst.ImportStar):
            return set()
        module = get_full_name_for_node(statement.module) or ""
        return {
            (module, alias.evaluated_name, alias.evaluated_alias)
            for alias in statement.names
            if (alias.evaluated_alias or alias.evaluated_name) == bound and _is_flask_module(module)
        }
    return {
        (alias.evaluated_name, alias.evaluated_name, alias.evaluated_alias)
        for alias in statement.names
        if (alias.evaluated_alias or alias.evaluated_name) == bound and _is_flask_module(alias.evaluated_name)
    }


def _is_flask_module(module: str) -> bool:
    """flask, its extensions (flask_cors, ...) and werkzeug."""
    top = module.split(".")[0]
    return top == "werkzeug" or top == "flask" or top.startswith("flask_")
