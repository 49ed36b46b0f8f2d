"""A blueprint's hooks in RequestHooks answer as Flask's did: they run only for the blueprint's
views (nested blueprints included), in Flask's order around the app's, not on a 404 or 405; a
before hook that aborts is answered by the blueprint's handler, else the app's, and the after
hooks see that answer; teardown hooks run blueprint first. Each request goes to the Flask app and
to a NativeApp written with RequestHooks; status, body and headers must be the same."""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from fastapi import APIRouter, HTTPException
from fastapi.testclient import TestClient
from flask import Blueprint, Flask, abort, g, jsonify, request
from starlette.requests import Request
from starlette.responses import JSONResponse

from flask2fastapi_runtime import BlueprintHooks, NativeApp, NativeRoute, RequestHooks, ResponseHead

TEAM = {"X-Team-Key": "k-1"}
REQUESTS = [
    ("GET", "/me", {}),
    ("GET", "/team/members/1", {}),  # the team's before hook aborts: its own 401 handler
    ("GET", "/team/members/1", TEAM),
    ("GET", "/team/members/2", TEAM),  # the view aborts 404: the team's handler, hooks around it
    ("HEAD", "/team/members/1", TEAM),
    ("GET", "/team/admin/panel", TEAM),  # a nested blueprint: both blueprints' hooks
    ("GET", "/team/admin/panel", {**TEAM, "X-Admin": "no"}),  # the inner one aborts 403: no handler of a blueprint, the app's
    ("GET", "/open/ping", {}),  # a blueprint whose before hook answers in the view's place
    ("GET", "/open/ping", {"X-Pass": "1"}),
    ("GET", "/team/nowhere", TEAM),  # a 404 under the prefix: no blueprint's hooks
    ("POST", "/team/members/1", TEAM),  # a 405: none either
    ("GET", "/teardowns", {}),  # what the teardown hooks counted, in their order
]


def flask_app() -> Flask:
    app = Flask(__name__)
    trail: list[str] = []

    @app.before_request
    def start():
        g.order = ["start"]

    @app.after_request
    def stamp(response):
        response.headers["X-Order"] = ",".join([*g.get("order", []), "stamp"])
        return response

    @app.teardown_request
    def app_down(error):
        trail.append("app")

    @app.errorhandler(403)
    def forbidden(error):
        return jsonify(error="forbidden by the app"), 403

    team = Blueprint("team", __name__, url_prefix="/team")

    @team.before_request
    def team_key():
        g.order.append("team_key")
        if request.headers.get("X-Team-Key") != "k-1":
            abort(401)

    @team.before_request
    def team_second():
        g.order.append("team_second")

    @team.after_request
    def team_mark(response):
        g.order.append("team_mark")
        response.headers["X-Team"] = "yes"
        return response

    @team.after_request
    def team_last(response):
        g.order.append("team_last")
        return response

    @team.teardown_request
    def team_down(error):
        trail.append("team")

    @team.errorhandler(401)
    def team_unauthorized(error):
        return jsonify(error="team key required"), 401

    @team.errorhandler(404)
    def member_missing(error):
        return jsonify(error="no such member"), 404

    @team.route("/members/<int:member_id>")
    def member(member_id):
        if member_id != 1:
            abort(404)
        return {"member": member_id, "order": g.order}

    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.before_request
    def admins_only():
        g.order.append("admins_only")
        if request.headers.get("X-Admin") == "no":
            abort(403)

    @admin.after_request
    def admin_mark(response):
        g.order.append("admin_mark")
        return response

    @admin.teardown_request
    def admin_down(error):
        trail.append("admin")

    @admin.route("/panel")
    def panel():
        return {"order": g.order}

    team.register_blueprint(admin)
    app.register_blueprint(team)

    opened = Blueprint("open", __name__, url_prefix="/open")

    @opened.before_request
    def gate():
        if not request.headers.get("X-Pass"):
            return {"error": "no pass"}, 402

    @opened.route("/ping")
    def ping():
        return {"pong": True}

    app.register_blueprint(opened)

    @app.route("/me")
    def me():
        return {"order": g.order}

    @app.route("/teardowns")
    def teardowns():
        return {"trail": trail}

    return app


def converted_app() -> NativeApp:
    api = NativeApp(__name__, static_folder=None)
    trail: list[str] = []

    def start(request: Request) -> None:
        request.state.order = ["start"]

    def stamp(request: Request, response: ResponseHead) -> None:
        response.headers["X-Order"] = ",".join([*getattr(request.state, "order", []), "stamp"])

    def app_down(request: Request) -> None:
        trail.append("app")

    async def forbidden(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": "forbidden by the app"}, status_code=403)

    api.add_exception_handler(403, forbidden)

    def team_key(request: Request) -> None:
        request.state.order.append("team_key")
        if request.headers.get("X-Team-Key") != "k-1":
            raise HTTPException(status_code=401)

    def team_second(request: Request) -> None:
        request.state.order.append("team_second")

    def team_mark(request: Request, response: ResponseHead) -> None:
        request.state.order.append("team_mark")
        response.headers["X-Team"] = "yes"

    def team_last(request: Request, response: ResponseHead) -> None:
        request.state.order.append("team_last")

    def team_down(request: Request) -> None:
        trail.append("team")

    def team_unauthorized(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": "team key required"}, status_code=401)

    async def member_missing(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": "no such member"}, status_code=404)

    def admins_only(request: Request) -> None:
        request.state.order.append("admins_only")
        if request.headers.get("X-Admin") == "no":
            raise HTTPException(status_code=403)

    def admin_mark(request: Request, response: ResponseHead) -> None:
        request.state.order.append("admin_mark")

    def admin_down(request: Request) -> None:
        trail.append("admin")

    def gate(request: Request):
        if not request.headers.get("X-Pass"):
            return {"error": "no pass"}, 402
        return None

    # the blueprints' routers, included as the converter includes them (prefixes, one inside another)
    team = APIRouter(route_class=NativeRoute)
    admin = APIRouter(route_class=NativeRoute)
    opened = APIRouter(route_class=NativeRoute)

    @team.get("/members/{member_id}", name="team.member")
    def member(member_id: int, request: Request):
        if member_id != 1:
            # the blueprint's handler of the view's own errors is not RequestHooks' to apply
            # (FastAPI's exception handlers answer inside the app): its answer, written here
            return JSONResponse({"error": "no such member"}, status_code=404)
        return {"member": member_id, "order": request.state.order}

    @admin.get("/panel", name="team.admin.panel")
    def panel(request: Request):
        return {"order": request.state.order}

    @opened.get("/ping", name="open.ping")
    def ping():
        return {"pong": True}

    @api.get("/me", name="me")
    def me(request: Request):
        return {"order": request.state.order}

    @api.get("/teardowns", name="teardowns")
    def teardowns():
        return {"trail": trail}

    team.include_router(admin, prefix="/admin")
    api.include_router(team, prefix="/team")
    api.include_router(opened, prefix="/open")
    api.add_middleware(
        RequestHooks, before=[start], after=[stamp], teardown=[app_down],
        blueprints={
            "team": BlueprintHooks(
                before=[team_key, team_second], after=[team_mark, team_last], teardown=[team_down],
                handlers={401: team_unauthorized, 404: member_missing},
            ),
            "team.admin": BlueprintHooks(before=[admins_only], after=[admin_mark], teardown=[admin_down]),
            "open": BlueprintHooks(before=[gate]),
        },
    )
    return api


def answers(client: TestClient) -> list[tuple]:
    out = []
    for method, path, headers in REQUESTS:
        response = client.request(method, path, headers=headers)
        kept = {k: response.headers.get(k) for k in ("X-Order", "X-Team", "Content-Type")}
        # Flask lists the methods in the order of a set's iteration: the set is compared
        kept["Allow"] = sorted(response.headers["Allow"].split(", ")) if "Allow" in response.headers else None
        json = response.headers.get("content-type") == "application/json" and response.content
        body = response.json() if json else response.text
        out.append((method, path, response.status_code, body, kept))
    return out


def test_blueprint_hooks_answer_as_flasks_did() -> None:
    original = answers(TestClient(WSGIMiddleware(flask_app())))
    converted = answers(TestClient(converted_app()))
    statuses = [a[2] for a in original]
    assert statuses == [200, 401, 200, 404, 200, 200, 403, 402, 200, 404, 405, 200]
    # what the test pins down of Flask's order, so that a change of the fixture cannot hide it
    assert original[2][3] == {"member": 1, "order": ["start", "team_key", "team_second"]}
    assert original[2][4]["X-Order"] == "start,team_key,team_second,team_last,team_mark,stamp"
    assert original[1][3] == {"error": "team key required"}
    assert original[1][4]["X-Order"] == "start,team_key,team_last,team_mark,stamp"
    assert original[5][4]["X-Order"] == "start,team_key,team_second,admins_only,admin_mark,team_last,team_mark,stamp"
    assert original[6][3] == {"error": "forbidden by the app"}
    assert original[9][4] == {"X-Order": "start,stamp", "X-Team": None, "Content-Type": "text/html; charset=utf-8", "Allow": None}
    assert original[11][3]["trail"][:12] == ["app", "team", "app", "team", "app", "team", "app", "team", "app", "admin", "team", "app"]
    assert converted == original


def test_the_endpoint_is_found_as_the_router_will_find_it() -> None:
    from flask2fastapi_runtime.hooks import _blueprints_of, endpoint_of

    api = converted_app()
    scope = {"type": "http", "method": "GET", "path": "/team/admin/panel", "root_path": "", "headers": [], "query_string": b"", "app": api}
    assert endpoint_of(scope) == "team.admin.panel"
    assert _blueprints_of("team.admin.panel") == ["team.admin", "team"]
    assert endpoint_of({**scope, "method": "HEAD", "path": "/team/members/1"}) == "team.member"
    assert endpoint_of({**scope, "method": "POST", "path": "/team/members/1"}) is None
    assert endpoint_of({**scope, "path": "/team/nowhere"}) is None
