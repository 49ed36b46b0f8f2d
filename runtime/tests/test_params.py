"""Query, header and cookie parameters of native routes answer as the Flask view's reads did."""

from __future__ import annotations

from typing import Annotated

import pytest
from a2wsgi import WSGIMiddleware
from fastapi import APIRouter, Cookie, Depends, Header, Query, Request
from fastapi.security import HTTPBearer
from fastapi.testclient import TestClient
from flask import Flask, request

from flask2fastapi_runtime import FlaskBridge, FlaskRoute
from flask2fastapi_runtime.params import OrDefault


def _handlers(app: Flask) -> Flask:
    @app.errorhandler(400)
    def bad_request(error):
        return {"error": "bad request", "description": error.description, "key_error": isinstance(error, KeyError)}, 400

    return app


def flask_app() -> Flask:
    app = _handlers(Flask(__name__))

    @app.get("/search")
    def search():
        return {
            "page": request.args.get("page", 1, type=int),
            "low": request.args.get("low", type=float),
            "q": request.args.get("q"),
            "sort": request.args.get("sort", "name"),
            "tags": request.args.getlist("tag"),
            "key": request.headers.get("X-Api-Key"),
            "sid": request.cookies.get("sid"),
        }

    @app.get("/need")
    def need():
        return {"q": request.args["q"]}

    return app


router = APIRouter(route_class=FlaskRoute)


@router.get("/search", name="search")
def search(
    page: Annotated[int, OrDefault] = 1,
    low: Annotated[float | None, OrDefault] = None,
    q: str | None = None,
    sort: str = "name",
    tag: Annotated[list[str], Query()] = [],
    x_api_key: Annotated[str | None, Header(alias="X-Api-Key")] = None,
    sid: Annotated[str | None, Cookie()] = None,
):
    return {"page": page, "low": low, "q": q, "sort": sort, "tags": tag, "key": x_api_key, "sid": sid}


@router.get("/need", name="need")
def need(q: str):
    return {"q": q}


def bridged_app() -> FlaskBridge:
    api = FlaskBridge(_handlers(Flask(__name__)))
    api.include_router(router)
    return api


REQUESTS = [
    ("/search", {}),
    ("/search?page=3&low=2.5&q=tea&sort=price&tag=a&tag=b", {}),
    ("/search?page=abc&low=cheap", {}),  # type= falls back to the default
    ("/search?page=&low=", {}),
    ("/search?page=%2B3&low=1e3", {}),  # int("+3"), float("1e3")
    ("/search?page=3.0&low=nan", {}),  # int("3.0") fails; float("nan") does not
    ("/search?page=1_000", {}),
    ("/search?page=1&page=2&q=a&q=b&tag=x&tag=y&tag=x", {}),  # the first of repeated keys
    ("/search", {"headers": [("X-Api-Key", "k1"), ("X-Api-Key", "k2")]}),  # joined, as the environ has it
    ("/search", {"headers": {"x-api-key": "k3", "Cookie": "sid=a; sid=b"}}),  # the first cookie
    ("/need?q=x", {}),
    ("/need", {}),  # request.args["q"]: Flask's 400 (a BadRequestKeyError)
    ("/need?q=", {}),
]


def answer(client: TestClient, path: str, options: dict) -> tuple:
    response = client.get(path, **options)
    return response.status_code, response.headers.get("content-type"), response.content


@pytest.mark.parametrize(("path", "options"), REQUESTS, ids=[f"{p} {o}" for p, o in REQUESTS])
def test_same_answer_as_flask(path: str, options: dict) -> None:
    original = TestClient(WSGIMiddleware(flask_app()))
    converted = TestClient(bridged_app())
    assert answer(converted, path, options) == answer(original, path, options)


def test_openapi_documents_the_types() -> None:
    parameters = {p["name"]: p for p in bridged_app().openapi()["paths"]["/search"]["get"]["parameters"]}
    assert parameters["page"]["schema"]["type"] == "integer" and parameters["page"]["schema"]["default"] == 1
    assert {"type": "number"} in parameters["low"]["schema"]["anyOf"]
    assert parameters["tag"]["schema"]["type"] == "array"
    assert parameters["X-Api-Key"]["in"] == "header" and parameters["sid"]["in"] == "cookie"


def test_native_validation_answers_422() -> None:
    api = FlaskBridge(Flask(__name__), flask_errors=False)
    api.include_router(router)
    client = TestClient(api)
    assert client.get("/need").status_code == 422
    assert client.get("/search?page=abc").json()["page"] == 1  # OrDefault is the view's own fallback


def test_or_default_refuses_other_types() -> None:
    with pytest.raises(TypeError, match="OrDefault"):
        from pydantic import TypeAdapter

        TypeAdapter(Annotated[str, OrDefault])


def test_what_each_route_reads_as_flask() -> None:
    """Only the sources the view's parameters read go through Flask's request object (it costs
    a parse per request); a route of path parameters alone has FastAPI's own request."""
    sources = {route.path: route.flask_sources for route in router.routes}
    assert sources == {"/search": {"query_params", "headers", "cookies"}, "/need": {"query_params"}}

    only_path = APIRouter(route_class=FlaskRoute)

    @only_path.get("/items/{item_id}")
    def item(item_id: int):
        return {}

    assert only_path.routes[0].flask_sources == frozenset()


bearer = HTTPBearer(auto_error=False)


def current_user(request: Request, credentials=Depends(bearer)):
    return None


def paging(page: int = 1, x_trace: Annotated[str | None, Header()] = None):
    return page


def test_what_dependencies_read_counts_too() -> None:
    """A dependency's own Query/Header/Cookie parameters are read as Flask read them, and so are
    the query, headers and cookies of a request a dependency (or a security scheme) takes."""
    deps = APIRouter(route_class=FlaskRoute)

    @deps.get("/users/{user_id}")
    def user(user_id: int, me=Depends(current_user)):
        return {}

    @deps.get("/users")
    def users(paged: Annotated[int, Depends(paging)], me=Depends(current_user)):
        return {}

    every = {"query_params", "headers", "cookies"}
    assert [route.flask_sources for route in deps.routes] == [every, every]


def token_required(request: Request) -> None:
    from fastapi import HTTPException

    if request.headers.get("Authorization") != "Bearer s3cret":
        raise HTTPException(status_code=401)


def test_a_guard_reads_the_headers_flask_read() -> None:
    """A guard converted from Flask (``dependencies=[Depends(guard)]``) reads
    ``request.headers.get("Authorization")`` as Flask's request gave it: a repeated header's
    values joined, so a second token after a good one is refused as it was."""
    app = Flask(__name__)

    @app.post("/flask")
    def flask_view():
        if request.headers.get("Authorization") != "Bearer s3cret":
            return "", 401
        return {"ok": True}

    guarded = APIRouter(route_class=FlaskRoute)

    @guarded.post("/native", dependencies=[Depends(token_required)])
    def native_view():
        return {"ok": True}

    api = FlaskBridge(app)
    api.include_router(guarded)
    assert guarded.routes[0].flask_sources == {"query_params", "headers", "cookies"}
    client = TestClient(api)
    for headers in ([("Authorization", "Bearer s3cret")], [("Authorization", "Bearer s3cret"), ("Authorization", "Bearer x")], []):
        assert client.post("/native", headers=headers).status_code == client.post("/flask", headers=headers).status_code
