"""On a FlaskBridge, RequestHooks finds a request's blueprint by Flask's url_map
(``FlaskBridge.endpoint_for``), the blueprint's handlers from ``blueprint_handlers`` answer what
its views and the app's before hooks raise for its requests, and a hook's HTTPException that no
handler of the project's takes is werkzeug's page, as Flask answered an ``abort`` in a hook (not
FastAPI's JSON). Each request goes to the Flask app and to the bridged app written the converted
way; status, Content-Type and body (the same JSON, or the same bytes) must be the same."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.testclient import TestClient
from flask import Blueprint, Flask, abort, jsonify, request
from starlette.responses import JSONResponse

from flask2fastapi_runtime import BlueprintHooks, FlaskBridge, FlaskRoute, RequestHooks, blueprint_handlers

KEY = {"X-Key": "k"}
REQUESTS = [
    ("/me", {}),  # the app's hook aborts 401: werkzeug's page
    ("/team/members/1", {}),  # ... for the team's route: the team's 401 handler
    ("/team/members/1", KEY),
    ("/team/members/2", KEY),  # the view's 404: no handler, werkzeug's page
    ("/team/locked", KEY),  # the view's 401: the team's handler
    ("/team/members/x", {}),  # no route matches (the int converter): no blueprint, werkzeug's 401
]


def original() -> Flask:
    app = Flask(__name__)

    @app.before_request
    def require_key():
        if request.headers.get("X-Key") is None:
            abort(401)

    @app.route("/me")
    def me():
        return {"me": True}

    team = Blueprint("team", __name__, url_prefix="/team")

    @team.errorhandler(401)
    def unauthorized(error):
        return jsonify(error="team key required"), 401

    @team.route("/members/<int:member_id>")
    def member(member_id):
        if member_id != 1:
            abort(404)
        return {"member": member_id}

    @team.route("/locked")
    def locked():
        abort(401)

    app.register_blueprint(team)
    return app


def converted() -> FlaskBridge:
    app = Flask(__name__)
    api = FlaskBridge(app)

    def require_key(request: Request):
        if request.headers.get("X-Key") is None:
            raise HTTPException(status_code=401)

    @api.get("/me")
    def me():
        return {"me": True}

    team = Blueprint("team", __name__, url_prefix="/team")

    def unauthorized(request: Request, exc: HTTPException):
        return JSONResponse({"error": "team key required"}, status_code=401)

    team_handlers = blueprint_handlers(team, {401: unauthorized})
    router = APIRouter(route_class=FlaskRoute)

    @router.get("/members/{member_id}", name="team.member")
    def member(member_id: int):
        if member_id != 1:
            raise HTTPException(status_code=404)
        return {"member": member_id}

    @router.get("/locked", name="team.locked")
    def locked():
        raise HTTPException(status_code=401)

    api.add_middleware(RequestHooks, before=[require_key], blueprints={"team": BlueprintHooks(handlers=team_handlers)})
    app.register_blueprint(team)
    api.include_router(router, prefix="/team")
    return api


def test_the_bridged_app_answers_as_flask_did():
    flask_client, client = original().test_client(), TestClient(converted())
    for path, headers in REQUESTS:
        expected, got = flask_client.get(path, headers=headers), client.get(path, headers=headers)
        assert (got.status_code, got.headers["content-type"]) == (expected.status_code, expected.headers["content-type"]), path
        if expected.is_json:  # the same JSON (jsonify ends its text with a newline, JSONResponse not)
            assert got.json() == expected.json, path
        else:
            assert got.content == expected.data, path
    assert [flask_client.get(p, headers=h).status_code for p, h in REQUESTS] == [401, 401, 200, 404, 401, 401]
    assert flask_client.get("/team/members/1").json == {"error": "team key required"}
    assert flask_client.get("/me").headers["content-type"].startswith("text/html")
