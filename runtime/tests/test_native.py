"""NativeApp and NativeRoute answer as the Flask app they replace did, with no Flask imported.

One small app is written twice: as Flask code, and as what the converter makes of it once no Flask
is left. The same requests go to both; statuses, bodies, content types and the headers Flask's
conventions set (Allow, Location) must be equal."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, HTTPException, Request, Response
from flask import Flask, abort, jsonify, request
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from werkzeug import exceptions as werkzeug
from werkzeug.http import HTTP_STATUS_CODES

from flask2fastapi_runtime import Config, FlaskJson, NativeApp, NativeRoute, OrDefault, Settings, http_errors


def flask_app() -> Flask:
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=64, PAGE=10)

    @app.get("/items")
    def items():
        page = request.args.get("page", 1, type=int)
        return {"page": page, "tag": request.args.get("tag"), "agent": request.headers.get("X-Agent")}

    @app.post("/items")
    def create():
        data = request.get_json(silent=True) or {}
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            return jsonify(error="name is required"), 400
        return {"name": data["name"]}, 201, {"Location": "/items/1"}

    @app.put("/strict")
    def strict():
        return {"sent": request.get_json()}

    @app.get("/items/<int:item_id>")
    def item(item_id):
        if item_id > 5:
            abort(404)
        return jsonify(id=item_id)

    @app.get("/price/<float:value>")
    def price(value):
        return {"value": value}

    @app.get("/things/<uuid:key>")
    def thing(key):
        return {"key": str(key)}

    @app.get("/folder/")
    def folder():
        return "<p>folder</p>"

    @app.delete("/items/<int:item_id>")
    def delete(item_id):
        return "", 204

    @app.get("/needs")
    def needs():
        return {"q": request.args["q"]}

    return app


class CreateBody(BaseModel):
    name: str | None = None


def native_app(handlers: bool = False) -> NativeApp:
    app = NativeApp(__name__)
    app.config.update(MAX_CONTENT_LENGTH=64, PAGE=10)
    router = APIRouter(route_class=NativeRoute)

    @router.get("/items", name="items")
    async def items(page: Annotated[int, OrDefault] = 1, tag: str | None = None, request: Request = None):  # type: ignore[assignment]
        return {"page": page, "tag": tag, "agent": request.headers.get("X-Agent")}

    @router.post("/items", name="create", status_code=201)
    async def create(response: Response, data: Annotated[CreateBody | None, FlaskJson(silent=True, or_empty=True)] = None):
        if data is None or not isinstance(data.name, str):
            return {"error": "name is required"}, 400
        response.headers["Location"] = "/items/1"
        return {"name": data.name}

    @router.put("/strict", name="strict")
    def strict(data: Annotated[CreateBody | None, FlaskJson()] = None):
        return {"sent": data.model_dump(exclude_unset=True) if data is not None else None}

    @router.get("/items/{item_id}", name="item")
    async def item(item_id: int):
        if item_id > 5:
            raise HTTPException(status_code=404)
        return {"id": item_id}

    @router.get("/price/{value}", name="price")
    async def price(value: float):
        return {"value": value}

    @router.get("/things/{key}", name="thing")
    async def thing(key: uuid.UUID):
        return {"key": str(key)}

    @router.get("/folder/", name="folder")
    async def folder():
        return "<p>folder</p>"

    @router.delete("/items/{item_id}", name="delete")
    async def delete(item_id: int):
        return "", 204

    @router.get("/needs", name="needs")
    async def needs(q: str):
        return {"q": q}

    app.include_router(router)
    return app


REQUESTS = [
    ("GET", "/items?page=2&page=3&tag=a&tag=b", {}, None),
    ("GET", "/items?page=abc", {"X-Agent": "one"}, None),
    ("POST", "/items", {"Content-Type": "application/json"}, b'{"name": "pen"}'),
    ("POST", "/items", {"Content-Type": "application/json"}, b"{broken"),
    ("POST", "/items", {"Content-Type": "text/plain"}, b'{"name": "pen"}'),
    ("POST", "/items", {"Content-Type": "application/json"}, b"[1, 2]"),
    ("PUT", "/strict", {"Content-Type": "application/json"}, b'{"name": "x"}'),
    ("PUT", "/strict", {"Content-Type": "application/json"}, b"{broken"),
    ("PUT", "/strict", {"Content-Type": "text/plain"}, b"{}"),
    ("PUT", "/strict", {"Content-Type": "application/json"}, b'{"name": "' + b"x" * 80 + b'"}'),
    # not JSON: 415 (or, silent, no body) before the size counts
    ("PUT", "/strict", {"Content-Type": "text/plain"}, b"x" * 80),
    ("POST", "/items", {"Content-Type": "text/plain"}, b"x" * 80),
    ("POST", "/items", {"Content-Type": "application/json"}, b'{"name": "' + b"x" * 80 + b'"}'),
    ("GET", "/items/3", {}, None),
    ("GET", "/items/9", {}, None),
    ("GET", "/items/x", {}, None),
    ("GET", "/items/-1", {}, None),
    ("GET", "/price/1.5", {}, None),
    ("GET", "/price/1", {}, None),
    ("GET", "/things/6F9619FF-8B86-D011-B42D-00C04FC964FF", {}, None),
    ("GET", "/things/nope", {}, None),
    ("GET", "/folder", {}, None),
    ("GET", "/folder?x=1&y=2", {}, None),
    ("HEAD", "/folder", {}, None),
    ("POST", "/folder", {}, None),
    ("OPTIONS", "/folder", {}, None),
    ("GET", "/folder/", {}, None),
    ("HEAD", "/items/3", {}, None),
    ("OPTIONS", "/items/3", {}, None),
    ("PATCH", "/items/3", {}, None),
    ("DELETE", "/items/3", {}, None),
    ("GET", "/nowhere", {}, None),
    ("GET", "/needs", {}, None),
    ("GET", "/needs?q=1", {}, None),
]


def answer(response) -> dict:
    return {
        "status": response.status_code,
        "type": response.headers.get("Content-Type"),
        "body": response.get_data(),
        "allow": ", ".join(sorted(m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip())),
        "location": response.headers.get("Location"),
    }


@pytest.mark.parametrize(("method", "path", "headers", "body"), REQUESTS)
def test_it_answers_as_flask(method, path, headers, body):
    original = flask_app().test_client().open(path, method=method, headers=headers, data=body)
    converted = native_app().test_client().open(path, method=method, headers=headers, data=body)
    assert answer(converted) == answer(original)


def test_the_projects_handlers_get_what_werkzeug_gave_flasks():
    flask = flask_app()
    native = native_app()

    def methods(allow):
        return sorted(m.strip() for m in allow.split(",")) if allow else None

    @flask.errorhandler(werkzeug.HTTPException)
    def flask_handler(error):
        allow = dict(error.get_headers()).get("Allow")
        return {"code": error.code, "description": error.description, "name": error.name, "allow": methods(allow)}, error.code

    def native_handler(request, exc):
        allow = (exc.headers or {}).get("Allow")
        body = {"code": exc.status_code, "description": exc.detail, "name": http_errors.status_name(exc.status_code), "allow": methods(allow)}
        return Response(json.dumps(body), status_code=exc.status_code, media_type="application/json")

    native.add_exception_handler(StarletteHTTPException, native_handler)
    for path, method in (("/nowhere", "GET"), ("/items/9", "GET"), ("/items/3", "PATCH"), ("/needs", "GET")):
        original = flask.test_client().open(path, method=method)
        converted = native.test_client().open(path, method=method)
        assert (converted.status_code, converted.get_json()) == (original.status_code, original.get_json())


def test_an_unhandled_error_reaches_the_test_as_flask_let_it(tmp_path):
    app = native_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    app.config["TESTING"] = True
    with pytest.raises(RuntimeError, match="boom"):
        app.test_client().get("/boom")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    original = flask_app()
    original.config["PROPAGATE_EXCEPTIONS"] = False
    original.get("/boom")(boom)
    assert answer(app.test_client().get("/boom")) == answer(original.test_client().get("/boom"))
    # the project's own handler, registered after the app was made, answers instead
    app.add_exception_handler(Exception, lambda request, exc: Response('{"error": "internal"}', 500, media_type="application/json"))
    assert app.test_client().get("/boom").get_json() == {"error": "internal"}


def test_settings_and_url_for_and_cookies():
    app = NativeApp(__name__)
    app.config.from_mapping(GREETING="hi")
    router = APIRouter(route_class=NativeRoute)

    @router.get("/hello/{name}", name="hello")
    async def hello(name: str, settings: Settings, request: Request, response: Response):
        response.set_cookie("seen", name)
        return {"text": f"{settings['GREETING']} {name}", "self": request.url_for("hello", name=name).path}

    @router.get("/seen", name="seen")
    async def seen(request: Request):
        return {"seen": request.cookies.get("seen")}

    app.include_router(router, prefix="/api")
    client = app.test_client()
    assert client.get("/api/hello/ann").get_json() == {"text": "hi ann", "self": "/api/hello/ann"}
    assert client.get("/api/seen").get_json() == {"seen": "ann"}


def test_config_loads_as_flasks(tmp_path, monkeypatch):
    (tmp_path / "settings.py").write_text("SECRET = 'file'\nlower = 1\nNESTED = {'a': 1}\n")

    class Defaults:
        DB_URL = "sqlite://"
        DB_POOL = 5
        hidden = True

    monkeypatch.setenv("FLASK_PORT", "8000")
    monkeypatch.setenv("FLASK_NAME", "not json")
    monkeypatch.setenv("FLASK_NESTED__b", "[1, 2]")
    monkeypatch.setenv("SETTINGS_FILE", str(tmp_path / "settings.py"))
    flask = Flask(__name__, root_path=str(tmp_path))
    native = Config(tmp_path, defaults={})
    for config in (flask.config, native):
        config.from_object(Defaults)
        config.from_pyfile("settings.py")
        assert config.from_pyfile("missing.py", silent=True) is False
        config.from_envvar("SETTINGS_FILE")
        config.from_mapping({"A": 1, "b": 2}, C=3)
        config.from_prefixed_env()
    picked = {key: flask.config[key] for key in native}
    assert native == picked
    assert native.get_namespace("DB_") == flask.config.get_namespace("DB_") == {"url": "sqlite://", "pool": 5}
    with pytest.raises(OSError):
        native.from_pyfile("missing.py")


def test_config_loaders_fail_and_nest_as_flasks(tmp_path, monkeypatch):
    (tmp_path / "c.json").write_text('{"A": 1, "b": 2}')
    for name, value in {"MYAPP_X": "true", "MYAPP_DB__HOST": '"h"', "MYAPP_DB__PORT": "5432", "MYAPP_S": "not json{"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NOPE_UNSET", raising=False)

    def run(config):
        def attempt(load):
            try:
                return load()
            except Exception as error:  # the class is what must match
                return type(error).__name__

        return [
            attempt(lambda: config.from_object("http.HTTPStatus") or config["NOT_FOUND"]),
            attempt(lambda: config.from_object("json:JSONDecoder")),
            attempt(lambda: config.from_file("c.json", load=json.load)),
            attempt(lambda: config.from_file("missing.json", load=json.load, silent=True)),
            attempt(lambda: config.from_file("missing.json", load=json.load)),
            attempt(lambda: config.from_envvar("NOPE_UNSET", silent=True)),
            attempt(lambda: config.from_envvar("NOPE_UNSET")),
            attempt(lambda: config.from_prefixed_env("MYAPP")),
            attempt(lambda: config.from_pyfile(str(tmp_path))),
            attempt(lambda: config.from_pyfile(str(tmp_path), silent=True)),
            config.get_namespace("DB", lowercase=False, trim_namespace=False),
            (config["X"], config["DB"], config["S"], config["A"], "b" in config),
        ]

    assert run(Config(tmp_path)) == run(Flask(__name__, root_path=str(tmp_path)).config)


def test_werkzeugs_words_without_werkzeug():
    for code, cls in werkzeug.default_exceptions.items():
        assert http_errors.description(code) == cls.description
        assert http_errors.error_page(code, cls.description) == cls().get_body()
    for code, name in HTTP_STATUS_CODES.items():
        assert http_errors.status_name(code) == name


def test_the_instance_folder_is_flasks(tmp_path):
    assert NativeApp(__name__).instance_path == Flask(__name__).instance_path
    assert NativeApp("flask2fastapi_runtime").instance_path == Flask("flask2fastapi_runtime").instance_path


NO_FLASK_APP = """
import importlib.abc, sys
class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "werkzeug", "a2wsgi", "flask_cors"):
            raise ImportError(name + " is blocked")
sys.meta_path.insert(0, NoFlask())

from typing import Annotated
from fastapi import APIRouter
from pydantic import BaseModel
from flask2fastapi_runtime import FlaskCorsMiddleware, FlaskJson, NativeApp, NativeRoute, OrDefault, Settings
from starlette.exceptions import HTTPException

class Body(BaseModel):
    name: str | None = None

app = NativeApp("noflask")
app.config.from_mapping(PAGE=3)
app.add_middleware(FlaskCorsMiddleware, config=app.config, origins=["https://a.example"])
router = APIRouter(route_class=NativeRoute)

@router.post("/things", name="things.create", status_code=201)
async def create(data: Annotated[Body | None, FlaskJson(silent=True)] = None, page: Annotated[int, OrDefault] = 1, *, settings: Settings):
    return {"name": data.name if data else None, "page": page, "per": settings["PAGE"]}

app.include_router(router)
from starlette.responses import JSONResponse
app.add_exception_handler(HTTPException, lambda request, exc: JSONResponse({"error": exc.status_code}, status_code=exc.status_code, headers=exc.headers))
client = app.test_client()
created = client.post("/things?page=x", json={"name": "a"}, headers={"Origin": "https://a.example"})
print(created.status_code, created.get_json(), created.headers["Access-Control-Allow-Origin"])
print(client.get("/nowhere").get_json(), client.get("/things").headers["Allow"])
print(sorted(m for m in sys.modules if m.partition(".")[0] in ("flask", "werkzeug")))
"""


def test_it_runs_with_flask_impossible_to_import(tmp_path):
    done = subprocess.run([sys.executable, "-c", NO_FLASK_APP], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "201 {'name': 'a', 'page': 1, 'per': 3} https://a.example",
        "{'error': 404} OPTIONS, POST",
        "[]",
    ]


def test_an_unhandled_error_is_answered_inside_the_hooks_and_logged(caplog):
    from flask2fastapi_runtime import RequestHooks

    flask = Flask("hooked")
    flask.config["PROPAGATE_EXCEPTIONS"] = False

    @flask.get("/boom")
    def flask_boom():
        raise RuntimeError("boom")

    flask.after_request(lambda response: (response.headers.__setitem__("X-Seen", "yes"), response)[1])

    native = NativeApp("hooked")
    native.config["PROPAGATE_EXCEPTIONS"] = False

    @native.get("/boom")
    def native_boom():
        raise RuntimeError("boom")

    def seen(request, response):
        response.headers["X-Seen"] = "yes"
        return response

    native.add_middleware(RequestHooks, after=[seen])
    with caplog.at_level("ERROR", logger="hooked"):
        converted = native.test_client().get("/boom")
    original = flask.test_client().get("/boom")
    assert answer(converted) == answer(original)
    assert converted.headers["X-Seen"] == original.headers["X-Seen"] == "yes"
    assert [r.getMessage() for r in caplog.records if r.name == "hooked"] == ["Exception on /boom [GET]"] * 2


def test_a_deferred_body_is_read_where_the_view_reads_it_on_both_apps():
    """FlaskJson(deferred=True): a 404 the view answers first wins over the 413 of an oversized
    body, as when a Flask helper read the body after the view's check."""
    from flask2fastapi_runtime import FlaskBridge, FlaskRoute

    def routes(route_class):
        router = APIRouter(route_class=route_class)

        @router.post("/notes/{note_id}", name="add")
        def add(note_id: int, data: Annotated[CreateBody | None, FlaskJson(silent=True, or_empty=True, deferred=True)] = None):
            if note_id > 5:
                raise HTTPException(status_code=404)
            body = data.read()
            return {"name": body.name if body is not None else None}

        return router

    flask = Flask("deferred")
    flask.config["MAX_CONTENT_LENGTH"] = 64
    bridge = FlaskBridge(flask)
    bridge.include_router(routes(FlaskRoute))
    native = NativeApp("deferred")
    native.config["MAX_CONTENT_LENGTH"] = 64
    native.include_router(routes(NativeRoute))
    big = b'{"name": "' + b"x" * 100 + b'"}'
    for app in (flask, native):
        client = app.test_client()
        assert client.post("/notes/9", data=big, content_type="application/json").status_code == 404
        assert client.post("/notes/1", data=big, content_type="application/json").status_code == 413
        assert client.post("/notes/1", json={"name": "a"}).get_json() == {"name": "a"}
        assert client.post("/notes/1", data="{x", content_type="application/json").get_json() == {"name": None}
