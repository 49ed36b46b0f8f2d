"""A NativeApp's test client reads responses as Flask's did, and the app takes Flask's constructor
arguments as far as it can honour them.

A converted project's tests still assert on ``response.get_json()``, ``response.json`` and
``response.status``: each is compared here with what Flask's test client (werkzeug's response)
gave for the same view. The constructor refuses what it would otherwise silently drop (a static
folder that exists, host matching)."""

import io
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from flask import Flask, Response as FlaskResponse, abort, redirect, request
from starlette.responses import RedirectResponse, Response

from flask2fastapi_runtime import NativeApp, NativeRoute


def flask_app() -> Flask:
    app = Flask(__name__)

    @app.get("/page")
    def page():
        return "<p>page</p>"

    @app.get("/data")
    def data():
        return {"a": [1, 2]}

    @app.get("/broken")
    def broken():
        return FlaskResponse(b"{", mimetype="application/json")

    @app.get("/large")
    def large():
        abort(413)

    @app.get("/teapot")
    def teapot():
        return "tea", 418

    @app.route("/own", methods=["GET", "OPTIONS"])
    def own():
        return "", 204, {"X-Own": "yes"}

    @app.route("/head-only", methods=["HEAD"])
    def head_only():
        return "body", 200, {"X-Head": "yes"}

    return app


def native_app() -> NativeApp:
    app = NativeApp(__name__, title="converted")
    router = APIRouter(route_class=NativeRoute)

    @router.get("/page")
    def page():
        return "<p>page</p>"

    @router.get("/data")
    def data():
        return {"a": [1, 2]}

    @router.get("/broken")
    def broken():
        return Response(b"{", media_type="application/json")

    @router.get("/large")
    def large():
        raise HTTPException(status_code=413)

    @router.get("/teapot")
    def teapot():
        return "tea", 418

    @router.api_route("/own", methods=["GET", "OPTIONS"])
    def own():
        return "", 204, {"X-Own": "yes"}

    @router.api_route("/head-only", methods=["HEAD"])
    def head_only():
        return "body", 200, {"X-Head": "yes"}

    app.include_router(router)
    return app


def read(response) -> dict:
    """What a test reads of a response, an exception's class where reading raises."""

    def attempt(read_it):
        try:
            return read_it()
        except Exception as error:  # the class is what must match
            return type(error).__mro__[1:3]

    return {
        "status": response.status,
        "status_code": response.status_code,
        "get_json": attempt(response.get_json),
        "json": attempt(lambda: response.json),
        "silent": response.get_json(silent=True),
        "is_json": response.is_json,
        "mimetype": response.mimetype,
        "text": response.get_data(as_text=True),
        "own": response.headers.get("X-Own"),
        "head": response.headers.get("X-Head"),
        "allow": sorted(m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()),
        "all types": response.headers.get_all("Content-Type"),
        "length": response.headers.get("Content-Length"),
    }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/page"), ("GET", "/data"), ("GET", "/broken"), ("GET", "/large"), ("GET", "/teapot"),
        ("GET", "/nowhere"), ("OPTIONS", "/own"), ("GET", "/own"), ("OPTIONS", "/data"), ("HEAD", "/head-only"),
        ("GET", "/head-only"),
    ],
)
def test_a_test_reads_the_response_as_under_flask(method, path):
    original = flask_app().test_client().open(path, method=method)
    converted = native_app().test_client().open(path, method=method)
    assert read(converted) == read(original)


def test_the_status_line_is_werkzeugs():
    from werkzeug.http import HTTP_STATUS_CODES
    from werkzeug.wrappers import Response as WerkzeugResponse

    from flask2fastapi_runtime.native_testing import NativeTestResponse

    for code in [*HTTP_STATUS_CODES, 299, 599]:
        assert NativeTestResponse(code, [], b"").status == WerkzeugResponse(b"", status=code).status


def test_flask_constructor_arguments(tmp_path, monkeypatch):
    package = tmp_path / "withstatic"
    (package / "static").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    # Flask served the folder at /static: dropping it silently would change the app
    with pytest.raises(TypeError, match="static folder"):
        NativeApp("withstatic")
    with pytest.raises(TypeError, match="static folder"):
        NativeApp("withstatic", static_folder="static", static_url_path="/assets")
    assert NativeApp("withstatic", static_folder=None).folder == str(package)
    # a folder that does not exist served nothing under Flask either
    assert NativeApp("withstatic", static_folder="missing", template_folder="views").template_folder == "views"
    with pytest.raises(TypeError, match="host_matching"):
        NativeApp("withstatic", static_folder=None, host_matching=True)
    # FastAPI's own options pass through; its debug= is the config's DEBUG
    assert NativeApp("withstatic", static_folder=None, title="T").title == "T"
    debugging = NativeApp("withstatic", static_folder=None, debug=True)
    assert debugging.debug and debugging.config["DEBUG"] is True


def test_an_installed_package_has_flasks_instance_folder():
    for name in ("pydantic", "json", "pydantic.main"):
        assert NativeApp(name, static_folder=None).instance_path == Flask(name).instance_path


def test_the_instance_folder_can_be_patched_as_on_flask(tmp_path, monkeypatch):
    monkeypatch.setattr(NativeApp, "auto_find_instance_path", lambda self: str(tmp_path / "inst"))
    app = NativeApp(__name__, instance_relative_config=True)
    (tmp_path / "inst").mkdir()
    (tmp_path / "inst" / "config.py").write_text("SECRET_KEY = 'from-instance'\nlower = 1\n")
    assert app.instance_path == str(tmp_path / "inst")
    assert app.config.from_pyfile("config.py") is True
    assert app.config["SECRET_KEY"] == "from-instance" and "lower" not in app.config
    assert app.config.from_pyfile("absent.py", silent=True) is False
    assert Path(app.instance_path).is_dir()


def flask_client_app() -> Flask:
    app = Flask(__name__)

    @app.post("/upload")
    def upload():
        sent = request.files["doc"]
        return {"title": request.form["title"], "name": sent.filename, "type": sent.mimetype, "size": len(sent.read())}

    @app.route("/moved", methods=["GET", "POST"])
    def moved():
        return redirect("/landing", code=int(request.args.get("code", 302)))

    @app.route("/landing", methods=["GET", "POST"])
    def landing():
        return {"method": request.method, "body": request.get_data(as_text=True), "ip": request.remote_addr, "cookie": request.headers.get("Cookie"),
                "auth": request.headers.get("Authorization"), "url": request.url, "type": request.content_type}

    @app.post("/form")
    def form():
        return {"t": request.form["t"], "all": request.form.getlist("t")}

    @app.get("/words/<word>")
    def words(word):
        return {"word": word}

    @app.get("/login")
    def login():
        response = FlaskResponse("in")
        response.set_cookie("session", "abc")
        return response

    return app


def native_client_app() -> NativeApp:
    app = NativeApp(__name__)
    router = APIRouter(route_class=NativeRoute)

    @router.post("/upload")
    async def upload(title: Annotated[str, Form()], doc: UploadFile):
        return {"title": title, "name": doc.filename, "type": doc.content_type, "size": len(await doc.read())}

    @router.api_route("/moved", methods=["GET", "POST"])
    def moved(code: int = 302):
        return RedirectResponse("/landing", status_code=code)

    @router.api_route("/landing", methods=["GET", "POST"])
    async def landing(request: Request):
        return {"method": request.method, "body": (await request.body()).decode(), "ip": request.client.host, "cookie": request.headers.get("Cookie"),
                "auth": request.headers.get("Authorization"), "url": str(request.url), "type": request.headers.get("Content-Type")}

    @router.post("/form")
    async def form(t: Annotated[str, Form()], request: Request):
        async with request.form() as sent:  # the view's own read, as Starlette's API allows
            return {"t": t, "all": sent.getlist("t")}

    @router.get("/words/{word}")
    def words(word: str):
        return {"word": word}

    @router.get("/login")
    def login():
        response = Response("in", media_type="text/html")
        response.set_cookie("session", "abc")
        return response

    app.include_router(router)
    return app


def test_the_client_sends_and_follows_as_flasks():
    def run(client):
        echoed = client.post("/landing", json={"b": 1, "a": "\u00e9"}).get_json()["body"]
        upload = client.post("/upload", data={"title": "t", "doc": (io.BytesIO(b"hello"), "notes.txt")})
        followed = {}
        for code in (302, 303, 307, 308):
            response = client.post(f"/moved?code={code}", data=b"payload", follow_redirects=True, environ_base={"REMOTE_ADDR": "10.0.0.7"})
            followed[code] = (response.get_json(), response.request.path, [r.status_code for r in response.history])
        followed["args"] = client.get("/landing?a=1&a=2&b=").request.args["a"]
        # the jar's cookies are the header: a test's own Cookie header is dropped, by both clients
        followed["cookie header"] = client.get("/landing", headers={"Cookie": "mine=1"}).get_json()["cookie"]
        followed["auth"] = client.post("/moved?code=307", auth=("ann", "pw"), data=b"x", mimetype="text/plain", follow_redirects=True).get_json()
        followed["base"] = client.get("/landing?q=1", base_url="https://example.org").get_json()["url"]
        followed["address"] = client.get("/landing", environ_base={"REMOTE_ADDR": "10.0.0.7"}).get_json()["ip"]
        client.get("/login")
        cookie = client.get_cookie("session")
        followed["jar"] = client.get("/landing", headers={"Cookie": "mine=1"}).get_json()["cookie"]
        return {
            "upload": upload.get_json(),
            "json body": echoed,
            "followed": followed,
            "not followed": client.post("/moved").location,
            "quoted": client.get("/words/a%20b").get_json(),
            "repeated field": client.post("/form", data={"t": ["a", "b"]}).get_json(),
            "cookie": (cookie.key, cookie.value),
            "no cookie": client.get_cookie("other"),
        }

    assert run(native_client_app().test_client()) == run(flask_client_app().test_client())


def test_a_form_over_max_content_length_is_refused_where_flask_read_it():
    original = flask_client_app()
    converted = native_client_app()
    original.config["MAX_CONTENT_LENGTH"] = converted.config["MAX_CONTENT_LENGTH"] = 1000

    def run(client):
        big = {"title": "x" * 2000, "doc": (io.BytesIO(b"hello"), "notes.txt")}
        small = {"title": "t", "doc": (io.BytesIO(b"hi"), "a.txt")}
        # /words reads no body: Flask never counted it
        return [client.post("/upload", data=big).status_code, client.post("/upload", data=small).status_code,
                client.open("/words/a", method="GET", data=b"x" * 2000).status_code]

    assert run(converted.test_client()) == run(original.test_client()) == [413, 200, 200]


def test_an_unhandled_error_is_handled_and_logged_as_flask_did(caplog):
    from flask2fastapi_runtime import RequestHooks

    original = Flask(__name__)
    original.config["PROPAGATE_EXCEPTIONS"] = False

    @original.get("/crash")
    def crash():
        raise RuntimeError("broke")

    @original.errorhandler(500)
    def flask_internal(error):
        return {"error": "internal"}, 500

    @original.after_request
    def flask_tag(response):
        response.headers["X-Seen"] = "yes"
        return response

    converted = NativeApp(__name__)
    converted.config["PROPAGATE_EXCEPTIONS"] = False

    @converted.get("/crash")
    def native_crash():
        raise RuntimeError("broke")

    converted.add_exception_handler(500, lambda request, exc: Response('{"error":"internal"}\n', 500, media_type="application/json"))

    def native_tag(request, response):
        response.headers["X-Seen"] = "yes"

    converted.add_middleware(RequestHooks, after=[native_tag])

    def run(app):
        caplog.clear()
        response = app.test_client().get("/crash")
        logged = [(r.name, r.levelname, r.getMessage(), r.exc_info[0]) for r in caplog.records if r.exc_info]
        return response.status_code, response.get_json(), response.headers.get("X-Seen"), logged

    assert run(converted) == run(original)
    # and where Flask propagated it, the test gets it
    converted.config["PROPAGATE_EXCEPTIONS"] = None
    converted.config["TESTING"] = True
    with pytest.raises(RuntimeError, match="broke"):
        converted.test_client().get("/crash")


def test_a_handler_for_exception_is_looked_up_as_flask_did():
    original = Flask(__name__)
    original.config["PROPAGATE_EXCEPTIONS"] = False
    converted = NativeApp(__name__)
    converted.config["PROPAGATE_EXCEPTIONS"] = False

    @original.get("/conflict")
    def conflict():
        abort(409)

    @original.get("/crash")
    def crash():
        raise RuntimeError("broke")

    # registered first, and still the one Flask picks for a RuntimeError: its lookup by class comes first
    @original.errorhandler(Exception)
    def flask_everything(error):
        code = getattr(error, "code", 500)
        return {"by": "Exception", "code": code}, code

    @original.errorhandler(500)
    def flask_internal(error):
        return {"by": "500"}, 500

    router = APIRouter(route_class=NativeRoute)

    @router.get("/conflict")
    def native_conflict():
        raise HTTPException(status_code=409)

    @router.get("/crash")
    def native_crash():
        raise RuntimeError("broke")

    converted.include_router(router)

    def everything(request, exc):
        code = getattr(exc, "status_code", 500)
        return Response(f'{{"by":"Exception","code":{code}}}\n', code, media_type="application/json")

    converted.add_exception_handler(Exception, everything)
    converted.add_exception_handler(500, lambda request, exc: Response('{"by":"500"}\n', 500, media_type="application/json"))

    for path in ("/conflict", "/nowhere", "/crash"):
        a, b = original.test_client().get(path), converted.test_client().get(path)
        assert (b.status_code, b.get_json()) == (a.status_code, a.get_json()), path
