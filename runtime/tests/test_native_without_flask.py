"""A converted project with no Flask left runs where Flask and werkzeug cannot be imported.

The project below is what the converter writes once Flask leaves (a factory that builds a
NativeApp, loads its settings Flask's ways, registers its handlers, hooks and routers), and its
tests drive it with ``app.test_client()`` as they drove the Flask app. It runs in a process whose
imports of flask and werkzeug raise (a meta-path finder in a ``sitecustomize`` on PYTHONPATH),
so anything of the runtime that still needed them would fail here."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

BLOCKER = """
import importlib.abc, sys

class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "werkzeug", "a2wsgi", "flask_cors"):
            raise ImportError(f"{name} is blocked: a project with no Flask left must not need it")

sys.meta_path.insert(0, NoFlask())
"""

FACTORY = '''
import logging
import os
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse

from flask2fastapi_runtime import (
    FlaskJSONResponse, FlaskJson, NativeApp, NativeRoute, OrDefault, RequestHooks, Settings, status_name,
)


class Config:
    SECRET_KEY = "dev"
    PER_PAGE = 10
    lowercase_ignored = True


class Login(BaseModel):
    username: str | None = None
    password: str | None = None


auth = APIRouter(route_class=NativeRoute)


@auth.post("/login", name="auth.login")
def login(data: Annotated[Login | None, FlaskJson()] = None):
    if data is None or not isinstance(data.username, str):
        return {"error": "username is required"}, 400
    return {"user": data.username}, 200, {"X-User": data.username}


@auth.get("/whoami", name="auth.whoami")
async def whoami(request: Request, settings: Settings, page: Annotated[int, OrDefault] = 1):
    return {"secret": settings["SECRET_KEY"], "per_page": settings["PER_PAGE"], "page": page,
            "login": request.url_for("auth.login").path}


@auth.get("/old", name="auth.old")
def old():
    return RedirectResponse("/auth/whoami", status_code=302)


@auth.post("/upload", name="auth.upload")
async def upload(title: Annotated[str, Form()], doc: UploadFile):
    return FlaskJSONResponse({"title": title, "size": len(await doc.read()), "name": doc.filename})


@auth.get("/folder/", name="auth.folder")
def folder():
    return "<p>folder</p>"


def not_found(request, exc):
    return JSONResponse({"error": "not found", "name": status_name(exc.status_code)}, status_code=404)


def http_error(request, exc):
    return JSONResponse({"error": exc.status_code, "name": status_name(exc.status_code)}, status_code=exc.status_code, headers=exc.headers)


def server_error(request, exc):
    return JSONResponse({"error": "internal"}, status_code=500)


def tag(request, response):
    response.headers["X-Hooked"] = "yes"


def create_app(overrides=None):
    app = NativeApp(__name__, instance_relative_config=True, static_folder=None)
    app.config.from_object(Config)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(overrides or {})
    os.makedirs(app.instance_path, exist_ok=True)
    app.logger.setLevel(logging.INFO)
    app.extensions["store"] = {"made": True}
    app.add_exception_handler(404, not_found)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(500, server_error)
    app.add_middleware(RequestHooks, before=[], after=[tag])
    app.include_router(auth, prefix="/auth")
    return app
'''

TESTS = '''
import sys

import pytest

import flask2fastapi_runtime
from flask2fastapi_runtime import NativeApp, check_password_hash, generate_password_hash
from project import create_app


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(NativeApp, "auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "config.py").write_text("PER_PAGE = 25\\n")
    app = create_app({"TESTING": True})
    return app


def test_the_factory(app, tmp_path):
    assert app.testing and not app.debug
    assert app.config["PER_PAGE"] == 25 and "lowercase_ignored" not in app.config
    assert app.instance_path == str(tmp_path / "instance")
    assert app.extensions["store"] == {"made": True} and app.logger.name == "project"


def test_the_routes(app):
    client = app.test_client()
    ok = client.post("/auth/login", json={"username": "ann"})
    assert (ok.status_code, ok.get_json(), ok.headers["X-User"], ok.headers["X-Hooked"]) == (200, {"user": "ann"}, "ann", "yes")
    assert ok.data == b'{"user":"ann"}\\n' and ok.is_json and ok.mimetype == "application/json"
    assert client.post("/auth/login", json={}).status_code == 400
    assert client.post("/auth/login", data="{nope", content_type="application/json").get_json() == {"error": 400, "name": "Bad Request"}
    assert client.post("/auth/login", data="x", content_type="text/plain").get_json() == {"error": 415, "name": "Unsupported Media Type"}
    me = client.get("/auth/whoami", query_string={"page": "x"}).get_json()
    assert me == {"secret": "dev", "per_page": 25, "page": 1, "login": "/auth/login"}
    assert client.get("/auth/whoami?page=3&page=4").get_json()["page"] == 3
    assert client.get("/auth/old", follow_redirects=True).request.path == "/auth/whoami"
    sent = client.post("/auth/upload", data={"title": "t", "doc": (__import__("io").BytesIO(b"abc"), "a.txt")})
    assert sent.get_json() == {"name": "a.txt", "size": 3, "title": "t"}
    assert client.get("/auth/folder").status_code == 308 and client.get("/auth/folder").location == "http://localhost/auth/folder/"
    assert client.get("/auth/folder", follow_redirects=True).get_data(as_text=True) == "<p>folder</p>"


def test_the_conventions_and_errors(app):
    client = app.test_client()
    assert client.get("/nowhere").get_json() == {"error": "not found", "name": "Not Found"}
    refused = client.get("/auth/login")
    assert (refused.status_code, refused.get_json(), refused.headers["Allow"]) == (405, {"error": 405, "name": "Method Not Allowed"}, "OPTIONS, POST")
    head = client.head("/auth/whoami")
    assert (head.status_code, head.data) == (200, b"")
    options = client.options("/auth/whoami")
    assert (options.status_code, options.data, options.headers["Allow"]) == (200, b"", "GET, HEAD, OPTIONS")
    app.config["MAX_CONTENT_LENGTH"] = 10
    assert client.post("/auth/login", json={"username": "a" * 20}).get_json() == {"error": 413, "name": "Request Entity Too Large"}


def test_an_unhandled_error(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        app.test_client().get("/boom")  # TESTING: Flask let it through
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert app.test_client().get("/boom").get_json() == {"error": "internal"}


def test_nothing_of_flask_was_imported():
    assert check_password_hash(generate_password_hash("pw"), "pw")
    assert not [m for m in sys.modules if m.partition(".")[0] in ("flask", "werkzeug", "a2wsgi")]
    with pytest.raises(ImportError, match="blocked"):
        flask2fastapi_runtime.FlaskBridge  # the bridge's side loads only when named, and needs Flask
'''


def test_a_converted_project_runs_and_tests_without_flask(tmp_path):
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text(BLOCKER)
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "__init__.py").write_text(textwrap.dedent(FACTORY))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_project.py").write_text(textwrap.dedent(TESTS))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "blocker"), str(tmp_path)])}
    env.pop("FLASK_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_the_blocker_blocks(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", "import werkzeug"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode != 0 and "blocked" in done.stderr
