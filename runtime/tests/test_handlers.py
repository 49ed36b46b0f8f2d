"""Error handlers written the FastAPI way (``@api.exception_handler``) answer every error as the
same handlers written the Flask way (``@app.errorhandler``) did: raised in a native view, a
bridged view, a before_request hook or a native route's dependency, or by werkzeug's routing
(404, 405 with Allow); Flask's lookup still prefers a blueprint's own handler."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from flask import Blueprint, Flask, abort, jsonify
from flask import request as flask_request
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import HTTPException as WerkzeugHTTPException
from werkzeug.exceptions import Unauthorized

from flask2fastapi_runtime import FlaskBridge, FlaskRoute

REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/items/1", {}),
    ("GET", "/items/2", {}),  # abort(404) in a blueprint's native view: the blueprint's handler
    ("GET", "/items/3", {}),  # HTTPException(401) with WWW-Authenticate in a native view
    ("GET", "/items/4", {}),  # the app's exception class
    ("GET", "/items/5", {}),  # unhandled: the 500 handler
    ("GET", "/items/1", {"X-Deny": "1"}),  # HTTPException in a dependency
    ("GET", "/items/1", {"X-App-Error": "1"}),  # the app's exception class in a dependency
    ("GET", "/items/1", {"X-Crash": "1"}),  # unhandled in a dependency
    ("GET", "/items/x", {}),  # werkzeug's int converter: 404, the app's handler
    ("GET", "/nowhere", {}),  # unknown URL
    ("DELETE", "/legacy/1", {}),  # 405 with Allow
    ("GET", "/legacy/1", {}),  # abort(401, description=...) in a bridged view
    ("GET", "/legacy/2", {}),  # Unauthorized with a WWW-Authenticate challenge
    ("GET", "/legacy/3", {}),
    ("GET", "/legacy/4", {}),
    ("GET", "/legacy/5", {}),
    ("GET", "/legacy/6", {}),  # abort(404) in a bridged view: the app's 404 handler
    ("GET", "/legacy/1", {"X-Closed": "1"}),  # abort(503) in a before_request hook
    ("GET", "/legacy/1", {"X-Hook-Error": "1"}),  # the app's exception class in a hook
    ("HEAD", "/legacy/1", {}),
]
HEADERS = ("content-type", "allow", "www-authenticate", "x-after")


class AppError(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _app(fastapi_way: bool, seen: list[Any] | None = None) -> FlaskBridge:
    app = Flask(__name__)
    api = FlaskBridge(app)
    bp = Blueprint("items", __name__)
    router = APIRouter(route_class=FlaskRoute)

    def guard(request: Request) -> None:
        request.state.guarded = True
        if request.headers.get("X-Deny"):
            raise HTTPException(status_code=403, detail="denied by the dependency")
        if request.headers.get("X-App-Error"):
            raise AppError("refused by the dependency", 409)
        if request.headers.get("X-Crash"):
            raise RuntimeError("the dependency crashed")

    @router.get("/items/{item_id}", name="items.get_item", dependencies=[Depends(guard)])
    def get_item(item_id: int):
        if item_id == 2:
            abort(404, description="no item 2")
        if item_id == 3:
            raise HTTPException(status_code=401, detail="who are you?", headers={"WWW-Authenticate": "Bearer"})
        if item_id == 4:
            raise AppError("item 4 is locked", 423)
        if item_id == 5:
            raise RuntimeError("item 5 is broken")
        return {"id": item_id}

    @bp.errorhandler(404)  # a blueprint's own handler stays Flask's and comes first
    def blueprint_not_found(error):
        return {"blueprint": "items", "detail": error.description}, 404

    @app.route("/legacy/<int:n>")
    def legacy(n):
        if n == 2:
            abort(401, description="legacy needs a token")
        if n == 3:
            raise Unauthorized("a challenge", www_authenticate=WWWAuthenticate("bearer", {"realm": "api"}))
        if n == 4:
            raise AppError("legacy 4 is locked", 423)
        if n == 5:
            raise RuntimeError("legacy 5 is broken")
        if n == 6:
            abort(404)
        return {"n": n}

    @app.before_request
    def hook():
        if flask_request.headers.get("X-Closed"):
            abort(503, description="closed")
        if flask_request.headers.get("X-Hook-Error"):
            raise AppError("refused by the hook", 400)

    @app.after_request
    def after(response):
        response.headers["X-After"] = "yes"
        return response

    if fastapi_way:
        _fastapi_handlers(api, seen if seen is not None else [])
    else:
        _flask_handlers(app)
    app.register_blueprint(bp)
    api.include_router(router)
    return api


def _flask_handlers(app: Flask) -> None:
    @app.errorhandler(404)
    def not_found(error):
        return jsonify(error="not_found", detail=error.description), 404

    @app.errorhandler(WerkzeugHTTPException)
    def http_error(error):
        response = jsonify(error=error.code, detail=error.description)
        response.status_code = error.code
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(AppError)
    def app_error(error):
        return jsonify(error="app", message=error.message), error.status

    @app.errorhandler(500)
    def server_error(error):
        return jsonify(error="internal"), 500


def _fastapi_handlers(api: FlaskBridge, seen: list[Any]) -> None:
    @api.exception_handler(404)
    def not_found(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": "not_found", "detail": exc.detail}, status_code=404)

    @api.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException):
        seen.append((request.url.path, request.app is api, exc.headers, getattr(request.state, "guarded", False)))
        response = JSONResponse({"error": exc.status_code, "detail": exc.detail})
        response.status_code = exc.status_code
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @api.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError):  # async: run to the end in Flask's thread
        return JSONResponse({"error": "app", "message": exc.message}, status_code=exc.status)

    @api.exception_handler(500)
    def server_error(request: Request, exc: Exception):
        seen.append(type(exc))
        return JSONResponse({"error": "internal"}, status_code=500)


def _answers(send: Any) -> list[tuple[Any, ...]]:
    answers = []
    for method, path, headers in REQUESTS:
        response = send(method, path, headers)
        content = response.content if hasattr(response, "content") else response.get_data()
        is_json = response.headers.get("content-type") == "application/json" and content
        body = json.loads(content) if is_json else content.decode()
        answers.append((response.status_code, {h: response.headers.get(h) for h in HEADERS}, body))
    return answers


def _served(api: FlaskBridge) -> list[tuple[Any, ...]]:
    client = TestClient(api)
    return _answers(lambda method, path, headers: client.request(method, path, headers=headers))


def _flask_client(api: FlaskBridge) -> list[tuple[Any, ...]]:
    client = api.test_client()
    answers = _answers(lambda method, path, headers: client.open(path, method=method, headers=headers))
    return [(status, headers, body.replace("\n", "") if isinstance(body, str) else body) for status, headers, body in answers]


@pytest.mark.parametrize("answers", [_served, _flask_client], ids=["served", "flask test client"])
def test_same_answers_either_way(answers: Any) -> None:
    expected, got = answers(_app(fastapi_way=False)), answers(_app(fastapi_way=True))
    for (method, path, headers), want, have in zip(REQUESTS, expected, got):
        assert have == want, f"{method} {path} {headers}"


def test_the_answers_are_the_ones_meant() -> None:
    seen: list[Any] = []
    answers = dict(zip((f"{m} {p} {h}" for m, p, h in REQUESTS), _served(_app(fastapi_way=True, seen=seen))))
    assert answers["GET /items/2 {}"][2] == {"blueprint": "items", "detail": "no item 2"}
    assert answers["GET /items/3 {}"][:2] == (401, {**answers["GET /items/3 {}"][1], "www-authenticate": "Bearer"})
    assert answers["GET /items/4 {}"][::2] == (423, {"error": "app", "message": "item 4 is locked"})
    assert answers["GET /items/1 {'X-Deny': '1'}"][2] == {"error": 403, "detail": "denied by the dependency"}
    assert answers["GET /items/1 {'X-App-Error': '1'}"][0] == 409
    assert answers["GET /items/1 {'X-Crash': '1'}"][::2] == (500, {"error": "internal"})
    assert sorted(answers["DELETE /legacy/1 {}"][1]["allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]
    assert answers["GET /legacy/2 {}"][2] == {"error": 401, "detail": "legacy needs a token"}
    assert answers["GET /legacy/3 {}"][1]["www-authenticate"] == "Bearer realm=api"  # werkzeug's quoting
    assert answers["GET /legacy/6 {}"][2]["error"] == "not_found"
    assert answers["GET /legacy/1 {'X-Closed': '1'}"][::2] == (503, {"error": 503, "detail": "closed"})
    assert all(answer[1]["x-after"] == "yes" for answer in answers.values())  # the hooks saw every answer
    # the 500 handler got what went unhandled, as FastAPI's ServerErrorMiddleware gives it
    assert [s for s in seen if isinstance(s, type)] == [RuntimeError, RuntimeError, RuntimeError]
    path, is_bridge, headers, _ = next(s for s in seen if isinstance(s, tuple) and s[0] == "/legacy/1")
    assert is_bridge and list(headers) == ["Allow"]  # not the Content-Type of werkzeug's page
    assert ("/items/1", True, None, True) in seen  # the dependency's request.state, in Flask's answer
    seen.clear()
    api = _app(fastapi_way=True, seen=seen)
    api.test_client().get("/items/1", headers={"X-Deny": "1"})  # a server that gives no scope state
    assert seen == [("/items/1", True, None, True)]


def test_errors_flask_lets_through_go_on() -> None:
    """TESTING (PROPAGATE_EXCEPTIONS): Flask called no 500 handler, nor does FastAPI."""
    for fastapi_way in (False, True):
        api = _app(fastapi_way)
        api.flask_app.testing = True
        with pytest.raises(RuntimeError, match="legacy 5"):
            TestClient(api).get("/legacy/5")
        with pytest.raises(RuntimeError, match="the dependency crashed"):
            TestClient(api).get("/items/1", headers={"X-Crash": "1"})
        answered = TestClient(api, raise_server_exceptions=False).get("/legacy/5")
        assert (answered.status_code, answered.text) == (500, "Internal Server Error")


def test_plain_fastapi_routes_are_fastapis_alone() -> None:
    """A route of a plain APIRouter: FastAPI calls the handlers itself, Flask plays no part."""
    seen: list[Any] = []
    api = _app(fastapi_way=True, seen=seen)
    plain = APIRouter()

    @plain.get("/plain/{n}")
    def view(n: int):
        if n == 1:
            raise HTTPException(status_code=404, detail="plain 404")
        raise RuntimeError("plain crash")

    api.include_router(plain)
    client = TestClient(api, raise_server_exceptions=False)
    missing = client.get("/plain/1")
    assert (missing.status_code, missing.json(), missing.headers.get("x-after")) == (
        404, {"error": "not_found", "detail": "plain 404"}, None
    )
    crashed = client.get("/plain/2")
    assert (crashed.status_code, crashed.json()) == (500, {"error": "internal"}) and seen[-1] is RuntimeError


def test_handlers_given_to_the_constructor_and_codes_werkzeug_lacks() -> None:
    def teapot(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"teapot": exc.detail}, status_code=exc.status_code)

    app = Flask(__name__)
    app.add_url_rule("/tea", "tea", lambda: abort(418, description="short and stout"))
    app.add_url_rule("/odd", "odd", lambda: (_ for _ in ()).throw(HTTPException(status_code=599, detail="odd")))
    api = FlaskBridge(app, exception_handlers={418: teapot})
    api.add_exception_handler(599, teapot)  # no Flask key: FastAPI's alone
    client = TestClient(api)
    assert client.get("/tea").json() == {"teapot": "short and stout"}
    assert client.get("/odd").status_code == 599  # Flask's own answer: werkzeug has no 599 handler


def test_a_handler_must_return_a_starlette_response() -> None:
    app = Flask(__name__)
    app.add_url_rule("/missing", "missing", lambda: abort(404))
    api = FlaskBridge(app)
    api.add_exception_handler(404, lambda request, exc: {"not": "a response"})
    app.testing = True
    with pytest.raises(TypeError, match="return a Starlette response"):
        TestClient(api).get("/missing")


def test_a_handlers_background_task_runs_after_the_answer() -> None:
    from starlette.background import BackgroundTask

    done: list[str] = []

    def later(request: Request, exc: StarletteHTTPException):
        return JSONResponse({}, status_code=exc.status_code, background=BackgroundTask(done.append, request.url.path))

    def refuse() -> None:
        raise HTTPException(status_code=403)

    router = APIRouter(route_class=FlaskRoute)
    router.add_api_route("/native", lambda: {}, name="native", dependencies=[Depends(refuse)])
    app = Flask(__name__)
    app.add_url_rule("/bridged", "bridged", lambda: abort(404))
    api = FlaskBridge(app)
    api.include_router(router)
    api.add_exception_handler(StarletteHTTPException, later)
    client = TestClient(api)
    assert (client.get("/bridged").status_code, client.get("/native").status_code) == (404, 403)
    assert done == ["/bridged", "/native"]


def test_fastapis_side_gives_http_errors_as_flasks_side_does() -> None:
    """One handler, one error, one answer: ``raise HTTPException(404)`` on a plain FastAPI route
    has werkzeug's description of a 404 as detail, as ``abort(404)`` had in a Flask view;
    Starlette's own 405 keeps its Allow; a detail of the view's own goes through as it is."""
    from flask2fastapi_runtime import status_name

    def describe(request: Request, exc: StarletteHTTPException):
        headers = {k: v for k, v in (exc.headers or {}).items()}
        return JSONResponse(
            {"detail": exc.detail, "name": status_name(exc.status_code), "headers": headers}, status_code=exc.status_code
        )

    app = Flask(__name__)
    app.add_url_rule("/flask/<int:n>", "flask", lambda n: abort(n) if n != 200 else "", methods=["GET"])
    app.add_url_rule("/flask-own", "flask_own", lambda: abort(404, description="none here"))
    api = FlaskBridge(app)
    plain = APIRouter()

    @plain.get("/plain/{n}")
    def raising(n: int):
        raise HTTPException(status_code=n)

    @plain.get("/plain-own")
    def raising_own():
        raise StarletteHTTPException(status_code=404, detail="none here")

    api.include_router(plain)
    api.add_exception_handler(StarletteHTTPException, describe)
    client = TestClient(api)
    for code in (400, 401, 404, 413, 418):
        flask_side, fastapi_side = client.get(f"/flask/{code}"), client.get(f"/plain/{code}")
        assert (fastapi_side.status_code, fastapi_side.json()) == (flask_side.status_code, flask_side.json()), code
    assert client.get("/plain/418").json()["name"] == "I'm a teapot"  # werkzeug's, not HTTPStatus's phrase
    assert client.get("/plain/404").json()["detail"].startswith("The requested URL was not found")
    assert client.get("/plain-own").json() == client.get("/flask-own").json()
    flask_405, fastapi_405 = client.post("/flask/200"), client.post("/plain/200")
    assert fastapi_405.status_code == flask_405.status_code == 405
    assert fastapi_405.json()["detail"] == flask_405.json()["detail"]
    assert fastapi_405.json()["headers"] == {"Allow": "GET"}
