"""A native view's JSON body as a Pydantic model (FlaskJson): every answer is the Flask view's,
for a missing key, a wrong type, a body that is no object, malformed JSON, another content type,
an empty body, and in the order the view's decorator and checks gave them."""

from __future__ import annotations

import functools
from typing import Annotated, Any

import pytest
from a2wsgi import WSGIMiddleware
from fastapi import APIRouter
from fastapi.testclient import TestClient
from flask import Flask, abort, request
from flask.wrappers import Request as FlaskRequestObject
from pydantic import BaseModel, ConfigDict, Field

from flask2fastapi_runtime import FlaskBridge, FlaskRoute
from flask2fastapi_runtime.json_body import FlaskJson


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if request.headers.get("Authorization") != "Bearer good":
            return {"error": "unauthorized"}, 401
        return view(*args, **kwargs)

    return wrapped


class JsonErrors(FlaskRequestObject):
    """A request class that answers a bad JSON body itself (as many APIs do)."""

    def on_json_loading_failed(self, e):
        abort(400, description="malformed JSON" if e is not None else "not JSON")


def _app(request_class: type | None = None) -> Flask:
    app = Flask(__name__)
    if request_class is not None:
        app.request_class = request_class

    @app.errorhandler(400)
    def bad_request(error):
        return {"error": "bad request", "description": error.description}, 400

    return app


def flask_app(request_class: type | None = None) -> Flask:
    app = _app(request_class)

    @app.post("/items")
    def create_item():
        data = request.get_json()
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return {"error": "name is required"}, 400
        price = data.get("price", 0)
        if not isinstance(price, (int, float)):
            return {"error": "price must be a number"}, 400
        return {"name": data["name"], "price": price, "in-stock": data.get("in-stock")}, 201

    @app.post("/notes")
    @login_required
    def create_note():
        data = request.get_json(silent=True) or {}
        if not isinstance(data, dict):
            abort(400, description="body must be a JSON object")
        title = data.get("title")
        if title is not None and not isinstance(title, str):
            return {"error": "title must be a string"}, 400
        return {"title": title, "sent": "title" in data}, 201

    return app


class CreateItemBody(BaseModel):
    name: str | None = None
    price: int | float = 0
    in_stock: bool | None = Field(default=None, alias="in-stock")


class CreateNoteBody(BaseModel):
    title: str | None = None


router = APIRouter(route_class=FlaskRoute)


@router.post("/items", name="create_item")
def create_item(data: Annotated[CreateItemBody | None, FlaskJson()] = None):
    if data is None or not isinstance(data.name, str):
        return {"error": "name is required"}, 400
    price = data.price
    if not isinstance(price, (int, float)):
        return {"error": "price must be a number"}, 400
    return {"name": data.name, "price": price, "in-stock": data.in_stock}, 201


@router.post("/notes", name="create_note")
@login_required
def create_note(data: Annotated[CreateNoteBody | None, FlaskJson(silent=True, or_empty=True)] = None):
    if data is None:
        abort(400, description="body must be a JSON object")
    title = data.title
    if title is not None and not isinstance(title, str):
        return {"error": "title must be a string"}, 400
    return {"title": title, "sent": "title" in data.model_fields_set}, 201


def bridged_app(request_class: type | None = None) -> FlaskBridge:
    api = FlaskBridge(_app(request_class))
    api.include_router(router)
    return api


JSON = {"Content-Type": "application/json"}
AUTH = {"Authorization": "Bearer good"}
BODIES = [
    {"json": {"name": "tea", "price": 3.5, "in-stock": True}},
    {"json": {"name": "tea", "price": 3}},  # an int stays an int (not 3.0)
    {"json": {"price": 3}},  # a missing key
    {"json": {"name": 5}},  # a wrong type
    {"json": {"name": "tea", "price": "3"}},  # a string is no number (no coercion)
    {"json": {"name": "tea", "price": True}},  # ... but a bool is, to isinstance
    {"json": {"name": "tea", "price": None}},  # an explicit null is not the default
    {"json": {"title": None}},
    {"json": {"title": 5}},
    {"json": {}},
    {"json": [1, 2]},  # no object
    {"json": []},  # a falsy one: `or {}`
    {"json": "text"},
    {"json": 0},
    {"content": b"null", "headers": JSON},
    {"content": b"{broken", "headers": JSON},  # malformed
    {"content": b"\xff\xfe", "headers": JSON},  # not UTF-8
    {"content": b"", "headers": JSON},  # empty
    {"content": b""},
    {"content": b'{"name": "tea"}', "headers": {"Content-Type": "text/plain"}},
    {"content": b'{"name": "tea"}'},  # no content type
    {"content": b'{"name": "tea"}', "headers": {"Content-Type": "application/vnd.api+json"}},
    {"data": {"name": "tea"}},  # a form
]


def answer(client: TestClient, path: str, options: dict) -> tuple:
    response = client.post(path, **options)
    return response.status_code, response.headers.get("content-type"), response.content


@pytest.mark.parametrize("path", ["/items", "/notes"])
@pytest.mark.parametrize("options", BODIES, ids=[repr(b)[:60] for b in BODIES])
@pytest.mark.parametrize("request_class", [None, JsonErrors], ids=["flask", "custom-request-class"])
def test_same_answer_as_flask(path: str, options: dict, request_class: type | None) -> None:
    options = {**options, "headers": {**options.get("headers", {}), **AUTH}}
    original = TestClient(WSGIMiddleware(flask_app(request_class)))
    converted = TestClient(bridged_app(request_class))
    assert answer(converted, path, options) == answer(original, path, options)


@pytest.mark.parametrize("options", [{"json": [1]}, {"content": b"{broken", "headers": JSON}, {"content": b""}])
def test_the_decorator_answers_first(options: dict) -> None:
    """Flask reads the body when the view is called, after its decorator: without a token the
    answer is the decorator's 401, whatever the body."""
    original = TestClient(WSGIMiddleware(flask_app()))
    converted = TestClient(bridged_app())
    assert answer(converted, "/notes", options) == answer(original, "/notes", options)
    assert answer(converted, "/notes", options)[0] == 401


def test_openapi_documents_the_model() -> None:
    schema = bridged_app().openapi()
    body = schema["paths"]["/items"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CreateItemBody"}
    fields = schema["components"]["schemas"]["CreateItemBody"]["properties"]
    assert fields["price"]["default"] == 0 and {"type": "integer"} in fields["price"]["anyOf"]
    assert "in-stock" in fields


class StrictBody(BaseModel):
    model_config = ConfigDict(strict=True)
    name: str
    price: int | float = 0


strict = APIRouter(route_class=FlaskRoute)


@strict.post("/strict", name="strict")
def strict_item(data: StrictBody):
    return {"name": data.name, "price": data.price}, 201


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({"json": {"name": "tea"}}, 201),
        ({"json": {"price": 3}}, 422),
        ({"json": {"name": "tea", "price": "3"}}, 422),
        ({"json": [1]}, 422),
        ({"content": b"{broken", "headers": JSON}, 422),
        ({"content": b""}, 422),
    ],
)
def test_native_validation_answers_422(options: dict, status: int) -> None:
    """--native-validation: no FlaskJson, a strict model, FastAPI's own answers."""
    api = FlaskBridge(Flask(__name__), flask_errors=False)
    api.include_router(strict)
    assert TestClient(api).post("/strict", **options).status_code == status


def test_a_flask_json_body_needs_a_default() -> None:
    with pytest.raises(TypeError, match="default"):

        @APIRouter(route_class=FlaskRoute).post("/x")
        def no_default(data: Annotated[CreateNoteBody | None, FlaskJson()]):
            return {}


def test_a_value_of_no_model_is_what_get_json_gave() -> None:
    """``Annotated[Any, FlaskJson()]``: the value itself (``or {}`` applied), no model; FastAPI
    takes it as the JSON body (``Body()``), not as a query parameter."""
    import inspect

    from flask2fastapi_runtime.json_body import as_bodies, json_parameters

    def view(data: Annotated[Any, FlaskJson(or_empty=True)] = None, q: str = ""):
        return data

    signature = inspect.signature(view, eval_str=True)  # (this module's annotations are strings)
    bodies = json_parameters(signature)
    assert bodies == {"data": (FlaskJson(or_empty=True), None)}
    how = bodies["data"][0]
    assert how.model_of([], None) == {} and how.model_of([1], None) == [1] and how.model_of("s", None) == "s"
    assert FlaskJson().model_of(None, None) is None and FlaskJson().model_of({"a": 1}, None) == {"a": 1}
    data, q = as_bodies(list(signature.parameters.values()), bodies)
    assert q.annotation is str
    assert [type(m).__name__ for m in data.annotation.__metadata__] == ["FlaskJson", "Body"]
    with pytest.raises(TypeError, match="default"):

        @APIRouter(route_class=FlaskRoute).post("/x")
        def no_default(data: Annotated[Any, FlaskJson()]):
            return {}
