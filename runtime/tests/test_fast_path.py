"""Async native views on the fast path (fastpath): the same answers as through Flask's cycle,
without a request context or a thread, and only where nothing of the Flask app acts on it."""

from typing import Annotated

import pytest
from fastapi import APIRouter, HTTPException, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, StreamingResponse
from fastapi.testclient import TestClient
from flask import Flask, after_this_request, g, jsonify, request, session
from flask import Response as FlaskResponse
from flask import signals
from pydantic import BaseModel

from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse, FlaskJson, FlaskRoute, fastpath, wsgi


class Note(BaseModel):
    text: str | None = None


def build(secret_key: str | None = None) -> tuple[FlaskBridge, Flask]:
    """A bridge whose Flask app registers nothing; every view async, one per return shape."""
    app = Flask(__name__)
    app.secret_key = secret_key
    bridge = FlaskBridge(app)
    router = APIRouter(route_class=FlaskRoute)
    shapes = {
        "dict": lambda: {"b": 1, "a": "é"},
        "list": lambda: [3, {"z": None, "y": 2}],
        "str": lambda: "<p>hi</p>",
        "bytes": lambda: b"raw",
        "pair": lambda: ({"created": True}, 201),
        "triple": lambda: ("made", 202, {"X-One": "1", "Location": "/x"}),
        "body-headers": lambda: ("text", [("X-Two", "a"), ("X-Two", "b")]),
        "flask-response": lambda: FlaskResponse("flask", status=203, headers={"X-F": "1"}, mimetype="text/plain"),
        "json-response": lambda: JSONResponse({"b": 1, "a": 2}, status_code=418),
        "flask-json-response": lambda: FlaskJSONResponse({"b": 1, "a": "é"}),
        "cookie": lambda: _with_cookie(PlainTextResponse("c")),
        "redirect": lambda: RedirectResponse("/elsewhere"),
        "stream": lambda: StreamingResponse(_chunks(), media_type="text/plain"),
        "none": lambda: None,
    }
    for name, make in shapes.items():
        router.add_api_route(f"/shape/{name}", _async(make), name=f"shape_{name}", methods=["GET"])

    @router.post("/created", name="created", status_code=201)
    async def created():
        return {"id": 7}

    @router.delete("/gone", name="gone", status_code=204)
    async def gone():
        return None

    @router.get("/sub", name="sub")
    async def sub(response: Response):
        response.headers["X-Sub"] = "yes"
        response.set_cookie("k", "v")
        response.status_code = 202
        return {"ok": True}

    @router.get("/raise/{code}", name="raises")
    async def raises(code: int):
        if code == 500:
            raise ValueError("boom")
        raise HTTPException(status_code=code, detail="nope", headers={"X-Why": "test"} if code == 401 else None)

    @router.get("/flask/{what}", name="flask_use")
    async def flask_use(what: str):  # touches Flask's context: the slow path from there on
        if what == "request":
            return {"q": request.args.get("q")}
        if what == "g":
            g.seen = 1
            return {"g": g.seen}
        if what == "jsonify":
            return jsonify(z=1, a=2)
        if what == "session":
            session["n"] = 1
            return "stored"
        @after_this_request
        def add(response):
            response.headers["X-Later"] = "1"
            return response
        return "later"

    @router.post("/note", name="note")
    async def note(data: Annotated[Note | None, FlaskJson(silent=True)] = None):
        return {"text": data.text if data else None}

    @router.post("/strict", name="strict")
    async def strict(data: Annotated[Note | None, FlaskJson()] = None):
        return {"text": data.text if data else None, "sent": sorted(data.model_fields_set) if data else None}

    bridge.include_router(router)
    return bridge, app


def _async(make):
    async def view():
        return make()

    return view


def _with_cookie(response):
    response.set_cookie("flavour", "oat", httponly=True)
    return response


async def _chunks():
    yield "one,"
    yield "two"


@pytest.fixture
def counted(monkeypatch):
    """How many Flask request contexts were made and thread-pool calls Flask's cycle made."""
    count = {"contexts": 0, "threads": 0}
    made, pooled = Flask.request_context, wsgi.run_in_threadpool

    def request_context(self, environ):
        count["contexts"] += 1
        return made(self, environ)

    async def run_in_threadpool(*args, **kwargs):
        count["threads"] += 1
        return await pooled(*args, **kwargs)

    monkeypatch.setattr(Flask, "request_context", request_context)
    monkeypatch.setattr(wsgi, "run_in_threadpool", run_in_threadpool)
    return count


def answer(path, slow, monkeypatch, method="GET", **options):
    """(status, headers, body) for ``path`` of a fresh app, on the fast path or (``slow``) not."""
    with monkeypatch.context() as patch:
        if slow:
            patch.setattr(fastpath, "applies", lambda *args: False)
        bridge, _ = build()
        with TestClient(bridge) as client:
            response = client.request(method, path, follow_redirects=False, **options)
    return response.status_code, sorted(response.headers.multi_items()), response.content


PATHS = [f"/shape/{name}" for name in (
    "dict", "list", "str", "bytes", "pair", "triple", "body-headers", "flask-response", "json-response",
    "flask-json-response", "cookie", "redirect", "stream", "none",
)] + ["/sub", "/raise/404", "/raise/401", "/raise/418", "/raise/500", "/flask/request?q=x", "/flask/g",
      "/flask/jsonify", "/flask/session", "/flask/later"]


# answered on the fast path to the end (the others: Flask's cycle answers an error or a view
# that touched Flask's context, on either path)
FAST = {path for path in PATHS if path.startswith(("/shape/", "/sub")) and path != "/shape/none"}


@pytest.mark.parametrize("path", PATHS)
def test_both_paths_answer_alike(path, monkeypatch, counted):
    assert answer(path, False, monkeypatch) == answer(path, True, monkeypatch)
    fast_contexts = counted["contexts"] - 2  # the slow path's own two
    assert (fast_contexts == 0) is (path in FAST)


@pytest.mark.parametrize(("method", "path"), [("POST", "/created"), ("DELETE", "/gone"), ("HEAD", "/shape/dict")])
def test_declared_statuses_and_head_answer_alike(method, path, monkeypatch):
    assert answer(path, False, monkeypatch, method) == answer(path, True, monkeypatch, method)


@pytest.mark.parametrize(("path", "body", "kind", "fast"), [
    ("/note", b'{"text": "hi"}', "application/json", True),
    ("/note", b"not json", "application/json", True),  # silent: None
    ("/note", b"[1]", "application/json", True),
    ("/strict", '{"text": "\u00e9t\u00e9"}'.encode(), "application/vnd.api+json", True),
    ("/strict", b'{"text": 1}', "text/plain", False),  # Flask's 415
    ("/strict", b"{oops", "application/json", False),  # Flask's 400
])
def test_json_bodies_answer_alike(path, body, kind, fast, monkeypatch, counted):
    options = {"content": body, "headers": {"Content-Type": kind}}
    assert answer(path, False, monkeypatch, "POST", **options) == answer(path, True, monkeypatch, "POST", **options)
    assert (counted["contexts"] == 2) is fast  # the slow path's two only


def test_a_json_body_over_flasks_limit_is_flasks_413(monkeypatch, counted):
    def sent(slow):
        with monkeypatch.context() as patch:
            if slow:
                patch.setattr(fastpath, "applies", lambda *args: False)
            bridge, app = build()
            app.config["MAX_CONTENT_LENGTH"] = 10
            with TestClient(bridge) as client:
                response = client.post("/strict", json={"text": "longer than ten"})
        return response.status_code, response.content

    fast, slow = sent(False), sent(True)
    assert fast == slow and fast[0] == 413


def test_a_dict_is_flask_json_and_the_fast_path_made_no_context_and_no_thread(counted):
    bridge, app = build()
    with TestClient(bridge) as client:
        response = client.get("/shape/dict")
    assert response.content == b'{"a":"\\u00e9","b":1}\n'
    assert response.headers["content-type"] == "application/json"
    assert counted == {"contexts": 0, "threads": 0}
    assert app._got_first_request  # as Flask's cycle marks it


def test_a_view_touching_flask_gets_its_context_and_flask_answers(counted):
    bridge, _ = build()
    with TestClient(bridge) as client:
        assert client.get("/flask/request?q=x").json() == {"q": "x"}
        assert client.get("/flask/g").json() == {"g": 1}
    # its own context on first touch, then Flask's cycle, in the thread pool
    assert counted == {"contexts": 4, "threads": 2}


def test_flask_context_variables_are_left_as_they_were():
    bridge, _ = build()
    with TestClient(bridge) as client:
        assert client.get("/shape/dict").status_code == 200
        assert client.get("/flask/g").json() == {"g": 1}
        assert client.portal.call(_unset)


async def _unset():
    from flask.globals import _cv_app, _cv_request

    return _cv_app.get(None) is None and _cv_request.get(None) is None


def test_what_the_view_raises_goes_through_flask_handlers(counted):
    bridge, app = build()

    @app.errorhandler(404)
    def not_found(error):
        return {"error": error.description}, 404

    assert fastpath.slow_path_reasons(app, "raises") == []  # error handlers keep no view off it
    with TestClient(bridge) as client:
        assert client.get("/shape/dict").status_code == 200
        response = client.get("/raise/404")
    assert (response.status_code, response.json()) == (404, {"error": "nope"})
    assert counted == {"contexts": 1, "threads": 1}  # only the error went through Flask's cycle


def _register(kind, app):
    def hook(*args):
        return args[0] if args else None

    if kind == "before_request":
        app.before_request(hook)
    elif kind == "after_request":
        app.after_request(hook)
    elif kind == "teardown_request":
        app.teardown_request(hook)
    elif kind == "teardown_appcontext":
        app.teardown_appcontext(hook)
    elif kind == "url_value_preprocessor":
        app.url_value_preprocessor(lambda endpoint, values: None)
    elif kind == "url_defaults":
        app.url_defaults(lambda endpoint, values: None)
    elif kind == "wsgi_middleware":
        inner = app.wsgi_app
        app.wsgi_app = lambda environ, start_response: inner(environ, start_response)
    else:
        raise AssertionError(kind)


KINDS = ["before_request", "after_request", "teardown_request", "teardown_appcontext", "url_value_preprocessor",
         "url_defaults", "wsgi_middleware"]


@pytest.mark.parametrize("kind", KINDS)
def test_each_registration_keeps_the_slow_path(kind, counted):
    bridge, app = build()
    _register(kind, app)
    assert fastpath.slow_path_reasons(app, "shape_dict")
    with TestClient(bridge, raise_server_exceptions=False) as client:
        response = client.get("/shape/dict")
    if kind in ("before_request", "url_value_preprocessor"):  # the slow path refuses these
        assert response.status_code == 500  # Flask answers the refusal: its 500
        assert counted == {"contexts": 1, "threads": 1}
    else:
        assert response.status_code == 200 and counted == {"contexts": 2, "threads": 1}


@pytest.mark.parametrize(("scope", "slow"), [("items", True), ("items.sub", False), ("other", False), (None, True)])
def test_hooks_of_the_app_or_of_the_endpoints_blueprints_keep_it_slow(scope, slow):
    app = Flask(__name__)
    app.after_request_funcs.setdefault(scope, []).append(_hook)
    reasons = fastpath.slow_path_reasons(app, "items.view")
    assert reasons == ([f"after_request_funcs[{scope!r}]: {__name__}._hook"] if slow else [])


def _hook(response):
    return response


def test_a_subclass_overriding_the_cycle_keeps_the_slow_path():
    class Own(Flask):
        def process_response(self, response):
            response.headers["X-Own"] = "1"
            return super().process_response(response)

    assert fastpath.slow_path_reasons(Own(__name__), "view") == ["Own.process_response overrides Flask's"]


def test_a_signal_receiver_connected_later_is_seen(counted):
    bridge, app = build()

    def receiver(sender, **extra):
        pass

    with TestClient(bridge) as client:
        client.get("/shape/dict")
        signals.request_finished.connect(receiver, app)
        try:
            client.get("/shape/dict")
        finally:
            signals.request_finished.disconnect(receiver, app)
        client.get("/shape/dict")
    assert counted == {"contexts": 2, "threads": 1}  # the second request only


def test_a_permanent_session_is_refreshed_as_before(monkeypatch):
    def refreshed(slow):
        with monkeypatch.context() as patch:
            if slow:
                patch.setattr(fastpath, "applies", lambda *args: False)
            bridge, app = build(secret_key="k")

            @app.route("/login")
            def login():
                session.permanent = True
                session["user"] = 1
                return "in"

            with TestClient(bridge) as client:
                client.get("/login")
                response = client.get("/shape/str")
        # the attributes' names (Expires is a time: the two runs may be a second apart)
        attributes = [part.split("=")[0].strip() for part in response.headers.get("set-cookie", "").split(";")[1:]]
        return response.status_code, attributes, response.content

    fast, slow = refreshed(False), refreshed(True)
    assert fast == slow and "Expires" in fast[1]


def test_registrations_before_the_first_request_are_seen_and_later_ones_refused_as_by_flask(counted):
    bridge, app = build()
    with TestClient(bridge) as client:
        client.get("/shape/dict")  # fast: nothing registered
        assert counted["threads"] == 0
        with pytest.raises(AssertionError, match="already handled its first"):
            app.after_request(lambda response: response)


def test_the_decision_is_kept_once_the_app_has_had_its_first_request(counted):
    bridge, app = build()
    app.after_request(lambda response: response)  # before the first request: seen
    with TestClient(bridge) as client:
        client.get("/shape/dict")
        client.get("/shape/dict")  # decided now, after Flask's first request
        app.after_request_funcs[None].clear()  # no registration Flask allows: not looked at again
        client.get("/shape/dict")
    assert counted["threads"] == 3


@pytest.mark.parametrize("path", ["/shape/stream", "/shape/triple", "/raise/404"])
def test_flasks_test_client_gets_the_same_answers(path, monkeypatch):
    def through_flask_client(slow):
        with monkeypatch.context() as patch:
            if slow:
                patch.setattr(fastpath, "applies", lambda *args: False)
            _, app = build()
            response = app.test_client().get(path)
        return response.status_code, sorted(response.headers.items()), response.data

    assert through_flask_client(False) == through_flask_client(True)


def test_a_test_client_that_keeps_the_context_gets_it(counted):
    _, app = build()
    with app.test_client() as client:
        client.get("/shape/dict?x=1")
        assert request.args["x"] == "1"  # Flask's preserved context, as on the slow path
