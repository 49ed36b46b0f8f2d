"""A blueprint's own error handlers (``@bp.errorhandler(NotFound)``, ``bp.register_error_handler(401,
f)``) convert to FastAPI exception handlers handed to the runtime's ``blueprint_handlers(bp, ...)``
(an app-wide ``@bp.app_errorhandler(418)`` is the app's, added where the blueprint is registered):
they answer the errors of the blueprint's views, and (through ``BlueprintHooks(handlers=...)``)
those an app's before hook raises for the blueprint's requests, and nothing else, as Flask looked
them up. Another blueprint's requests, the app's, and a 404 under the blueprint's prefix (no
blueprint: no route matched) get the app's answer, werkzeug's page."""

from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

APP = '''\
from flask import Flask, abort, request

from bhapp.shop import bp as shop
from bhapp.team import bp as team

app = Flask(__name__)


@app.before_request
def require_key():
    if request.headers.get("X-Key") is None:
        abort(401)


@app.route("/me")
def me():
    return {"me": True}


app.register_blueprint(team)
app.register_blueprint(shop)
'''
TEAM = '''\
from flask import Blueprint, abort, jsonify
from werkzeug.exceptions import NotFound

bp = Blueprint("team", __name__, url_prefix="/team")


@bp.errorhandler(NotFound)
def missing(error):
    return jsonify(error="no such member", description=error.description), 404


def unauthorized(error):
    return jsonify(error="team key required"), 401


bp.register_error_handler(401, unauthorized)


@bp.app_errorhandler(418)
def teapot(error):  # app-wide: the shop's 418 too
    return jsonify(error="short and stout"), 418


@bp.route("/members/<int:member_id>")
def member(member_id):
    if member_id != 1:
        abort(404, description=f"member {member_id} is not in the team")
    return {"member": member_id}


@bp.route("/locked")
def locked():
    abort(401)
'''
SHOP = '''\
from flask import Blueprint, abort

bp = Blueprint("shop", __name__, url_prefix="/shop")


@bp.route("/items/<int:item_id>")
def item(item_id):
    abort(404)


@bp.route("/brew")
def brew():
    abort(418)
'''
SPEC = "bhapp.app:app"
KEY = {"X-Key": "k"}
REQUESTS = [
    {"method": "GET", "path": "/me"},  # the app's hook aborts: no handler, werkzeug's page
    {"method": "GET", "path": "/team/members/1"},  # ... for a team route: the team's 401 handler
    {"method": "GET", "path": "/team/members/1", "headers": KEY},
    {"method": "GET", "path": "/team/members/2", "headers": KEY},  # the view's 404: the team's handler
    {"method": "GET", "path": "/team/locked", "headers": KEY},  # the view's 401: the team's handler
    {"method": "GET", "path": "/team/nowhere", "headers": KEY},  # no route: the app's 404
    {"method": "GET", "path": "/team/nowhere"},  # no route, so no blueprint: werkzeug's 401
    {"method": "GET", "path": "/shop/items/1"},  # another blueprint: werkzeug's 401
    {"method": "GET", "path": "/shop/items/1", "headers": KEY},  # and werkzeug's 404
    {"method": "GET", "path": "/shop/brew", "headers": KEY},  # the team's app-wide 418 handler
]
for request in REQUESTS:
    request["expect_headers"] = ["Content-Type"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bphandlers") / "input"
    (root / "bhapp").mkdir(parents=True)
    for name, code in {"__init__": "", "app": APP, "team": TEAM, "shop": SHOP}.items():
        (root / "bhapp" / f"{name}.py").write_text(code)
    return root


@pytest.fixture(scope="module")
def converted(project, tmp_path_factory) -> Path:
    return convert_copy(project, tmp_path_factory.mktemp("bphandlers") / "converted")


def test_the_blueprints_handlers_are_fastapis(converted):
    team = (converted / "bhapp" / "team.py").read_text()
    app = (converted / "bhapp" / "app.py").read_text()
    assert "def missing(request: Request, error: StarletteHTTPException):" in team
    assert "def unauthorized(request: Request, error: StarletteHTTPException):" in team
    assert "bp_handlers = blueprint_handlers(bp, {404: missing, 401: unauthorized})" in team
    assert "errorhandler" not in team and "register_error_handler" not in team
    # an app's hook raises for the team's requests too: the team's handlers answer first
    assert "from bhapp.team import bp_handlers, teapot, bp as team, router as team_router" in app
    # the app-wide one is the app's, where Flask added it: at the blueprint's registration
    assert "app.register_blueprint(team)\napi.add_exception_handler(418, teapot)\n" in app
    assert 'api.add_middleware(RequestHooks, before=[require_key], blueprints={"team": BlueprintHooks(handlers=bp_handlers)})' in app


def test_the_converted_app_answers_like_the_original(project, converted):
    original = answers_in(project, SPEC, REQUESTS)
    assert [a["status"] for a in original] == [401, 401, 200, 404, 401, 404, 401, 401, 404, 418]
    assert original[1]["body"] == original[4]["body"] == {"error": "team key required"}
    assert original[3]["body"] == {"description": "member 2 is not in the team", "error": "no such member"}
    assert original[9]["body"] == {"error": "short and stout"}
    assert original[0]["media_type"] == original[6]["media_type"] == original[7]["media_type"] == "text/html"
    comparison = compare(project, converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_the_blueprints_routes_are_idiomatic(project):
    results = convert_paths(discover([project]), ORDER)
    levels = {route["rule"]: route["level"] for r in results for route in r.routes}
    assert levels == {rule: "idiomatic" for rule in ("/me", "/team/members/<int:member_id>", "/team/locked", "/shop/items/<int:item_id>", "/shop/brew")}


FACTORY = '''\
from flask import Flask

extension = {"name": "made at import"}


def create_app():
    app = Flask(__name__)
    from cyapp.errors import bp as errors
    app.register_blueprint(errors)

    @app.route("/missing")
    def missing():
        return {"never": True}, 200 if False else 404

    return app
'''
ERRORS = '''\
from flask import Blueprint
from werkzeug.exceptions import HTTPException

from cyapp.app import extension

bp = Blueprint("errors", __name__)


@bp.app_errorhandler(HTTPException)
def http_error(error):
    return {"code": error.code, "by": extension["name"]}, error.code
'''


def test_an_app_wide_handler_registered_in_a_factory_is_imported_there(tmp_path):
    # the blueprint's module imports the factory's module at its top (microblog-api does): an
    # import of the handler at the top of the factory's module would be an import cycle
    root = tmp_path / "input"
    (root / "cyapp").mkdir(parents=True)
    (root / "cyapp" / "__init__.py").write_text("")
    (root / "cyapp" / "app.py").write_text(FACTORY)
    (root / "cyapp" / "errors.py").write_text(ERRORS)
    converted = convert_copy(root, tmp_path / "converted")
    code = (converted / "cyapp" / "app.py").read_text()
    assert "\n    from cyapp.errors import http_error\n    app.add_exception_handler(StarletteHTTPException, http_error)\n" in code, code
    assert "\nfrom cyapp.errors" not in code
    requests = [{"method": "GET", "path": "/nowhere"}, {"method": "POST", "path": "/missing"}]
    comparison = compare(root, converted, "cyapp.app:create_app()", requests)
    assert comparison.same, comparison
