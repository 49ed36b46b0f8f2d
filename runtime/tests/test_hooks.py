"""RequestHooks answers like Flask's before_request/after_request hooks did, on native routes,
bridged Flask views and plain FastAPI routes alike."""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from fastapi import APIRouter
from fastapi.testclient import TestClient
from flask import Flask, g, jsonify, request
from starlette.requests import Request
from starlette.responses import JSONResponse

from flask2fastapi_runtime import FlaskBridge, FlaskRoute, RequestHooks, ResponseHead

REQUESTS = [
    ("GET", "/native", {}),
    ("GET", "/bridged", {}),
    ("GET", "/native", {"X-Block": "yes"}),
    ("GET", "/bridged", {"X-Block": "yes"}),
    ("GET", "/nowhere", {}),
    ("POST", "/native", {}),
]


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.before_request
    def first():
        g.trail = ["first"]

    @app.before_request
    def block():
        if request.headers.get("X-Block"):
            return jsonify(error="blocked"), 403
        g.trail.append("block")

    @app.after_request
    def outer(response):
        response.headers["X-Outer"] = "set last"
        response.headers["X-Order"] = response.headers.get("X-Order", "") + "outer"
        return response

    @app.after_request
    def inner(response):
        response.headers["X-Order"] = "inner,"
        response.headers["X-Status"] = str(response.status_code)
        return response

    @app.get("/native")
    def native():
        return {"trail": g.trail}

    @app.get("/bridged")
    def bridged():
        return {"ok": True}

    return app


def first(request: Request) -> None:
    request.state.trail = ["first"]


async def block(request: Request) -> JSONResponse | None:
    if request.headers.get("X-Block"):
        return JSONResponse({"error": "blocked"}, status_code=403)
    request.state.trail.append("block")
    return None


def outer(request: Request, response: ResponseHead) -> ResponseHead:
    response.headers["X-Outer"] = "set last"
    response.headers["X-Order"] = response.headers.get("X-Order", "") + "outer"
    return response


def inner(request: Request, response: ResponseHead) -> None:
    response.headers["X-Order"] = "inner,"
    response.headers["X-Status"] = str(response.status_code)


def converted_app() -> FlaskBridge:
    app = Flask(__name__)

    @app.get("/bridged")  # a Flask view the hooks wrap as well
    def bridged():
        return {"ok": True}

    api = FlaskBridge(app)
    router = APIRouter(route_class=FlaskRoute)

    @router.get("/native", name="native")
    def native(request: Request):
        return {"trail": request.state.trail}

    api.include_router(router)
    api.add_middleware(RequestHooks, before=[first, block], after=[outer, inner])
    return api


def answer(client: TestClient, method: str, path: str, headers: dict) -> tuple:
    response = client.request(method, path, headers=headers)
    kept = {n: response.headers.get(n) for n in ("x-outer", "x-order", "x-status", "allow")}
    body = response.json() if response.headers.get("content-type") == "application/json" else response.status_code
    return response.status_code, kept, body


def test_hooks_answer_as_flasks_did() -> None:
    original = TestClient(WSGIMiddleware(flask_app()))
    converted = TestClient(converted_app())
    for method, path, headers in REQUESTS:
        assert answer(converted, method, path, headers) == answer(original, method, path, headers), (method, path)


def test_an_after_hook_may_not_swap_the_response() -> None:
    def swap(request: Request, response: ResponseHead) -> object:
        return object()

    api = FlaskBridge(Flask(__name__))
    api.add_middleware(RequestHooks, after=[swap])
    client = TestClient(api, raise_server_exceptions=True)
    try:
        client.get("/docs")
    except TypeError as error:
        assert "after hook" in str(error)
    else:
        raise AssertionError("a swapped response went unnoticed")


def test_a_hook_reads_a_repeated_header_as_flask_did() -> None:
    """A hook's ``request.headers.get`` gives a repeated header's values joined, as Flask's did
    (Starlette's own request gives the first), and one header as it is."""
    app = Flask(__name__)

    @app.before_request
    def echo():
        return {"id": request.headers.get("X-Request-ID", "none")}

    def converted_echo(request: Request):
        return JSONResponse({"id": request.headers.get("X-Request-ID", "none")})

    api = FlaskBridge(Flask(__name__))
    api.add_middleware(RequestHooks, before=[converted_echo])
    original, converted = TestClient(WSGIMiddleware(app)), TestClient(api)
    for headers in ([("X-Request-ID", "a"), ("X-Request-ID", "b")], [("X-Request-ID", "a")], []):
        assert converted.get("/", headers=headers).json() == original.get("/", headers=headers).json()
    assert converted.get("/", headers=[("X-Request-ID", "a"), ("X-Request-ID", "b")]).json() == {"id": "a,b"}


# Teardown hooks and a before hook's Flask-style answer: each request's status, headers and bytes,
# and the teardown calls it made, against Flask's.
TEARDOWN_REQUESTS = [
    ("GET", "/native", {}),
    ("GET", "/native", {"X-Closed": "yes"}),  # a before hook answers {"error": ...}, 503
    ("GET", "/nowhere", {}),  # Flask's 404: the hooks ran too
    ("GET", "/crash", {}),  # an unhandled exception: Flask's 500, after hooks, then the teardown
    ("GET", "/bridged", {}),
]


def flask_app_with_teardown(calls: list) -> Flask:
    app = Flask(__name__)

    @app.before_request
    def closed():
        if request.headers.get("X-Closed"):
            return {"error": "closed", "path": request.path}, 503

    @app.after_request
    def stamp(response):
        response.headers["X-Seen"] = str(len(calls))
        return response

    @app.teardown_request
    def registered_first(error):
        calls.append("first")

    @app.teardown_request
    def registered_second(error):
        calls.append("second")

    @app.get("/native")
    def native():
        return {"calls": len(calls)}

    @app.get("/crash")
    def crash():
        raise RuntimeError("kaput")

    @app.get("/bridged")
    def bridged():
        return {"ok": True}

    return app


def converted_app_with_teardown(calls: list) -> FlaskBridge:
    app = Flask(__name__)

    @app.get("/bridged")
    def bridged():
        return {"ok": True}

    api = FlaskBridge(app)
    router = APIRouter(route_class=FlaskRoute)

    @router.get("/native", name="native")
    def native():
        return {"calls": len(calls)}

    @router.get("/crash", name="crash")
    def crash():
        raise RuntimeError("kaput")

    def closed(request: Request):
        if request.headers.get("X-Closed"):
            return {"error": "closed", "path": request.url.path}, 503

    def stamp(request: Request, response: ResponseHead):
        response.headers["X-Seen"] = str(len(calls))

    def registered_first(request: Request):
        calls.append("first")

    def registered_second(request: Request):
        calls.append("second")

    api.include_router(router)
    api.add_middleware(RequestHooks, before=[closed], after=[stamp], teardown=[registered_first, registered_second])
    return api


def test_teardown_hooks_and_early_answers_run_as_flasks_did() -> None:
    flask_calls: list = []
    converted_calls: list = []
    original = TestClient(WSGIMiddleware(flask_app_with_teardown(flask_calls)), raise_server_exceptions=False)
    converted = TestClient(converted_app_with_teardown(converted_calls), raise_server_exceptions=False)
    for method, path, headers in TEARDOWN_REQUESTS:
        before = len(flask_calls)
        want = original.request(method, path, headers=headers)
        got = converted.request(method, path, headers=headers)
        assert (got.status_code, got.headers.get("x-seen"), got.headers.get("content-type"), got.content) == (
            want.status_code, want.headers.get("x-seen"), want.headers.get("content-type"), want.content,
        ), (method, path, headers)
        assert converted_calls == flask_calls, (method, path, headers)
        assert flask_calls[before:] == ["second", "first"]  # each request tore down once, last registered first
    assert original.get("/native", headers={"X-Closed": "yes"}).json() == {"error": "closed", "path": "/native"}
