"""Views written as FastAPI code answer as their Flask originals did, inside Flask's request cycle:
the app's hooks and error handlers apply to them (issue 10, "idiomatic routes")."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from a2wsgi import WSGIMiddleware
from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from fastapi.testclient import TestClient
from flask import Flask, abort

from flask2fastapi_runtime import FlaskBridge, FlaskRoute

import notes

ANN = {"Authorization": "Bearer ann-token"}
BYTES, JSON, NO_BODY = "bytes", "json", "no body"  # how a body is compared

REQUESTS: list[tuple[str, str, dict[str, Any], str]] = [
    ("GET", "/notes/", {}, BYTES),  # the dependency's 401, rendered by the app's handler
    ("GET", "/notes/", {"headers": ANN}, BYTES),
    ("GET", "/notes/me", {"headers": {"Authorization": "Bearer nobody"}}, BYTES),
    ("GET", "/notes/me", {"headers": ANN}, BYTES),
    ("GET", "/notes/me", {"headers": {"X-Maintenance": "1"}}, BYTES),  # the hook answers first
    ("GET", "/notes/me", {"headers": {"X-Maintenance": "1", **ANN}}, BYTES),
    ("GET", "/notes/1", {"headers": {"X-Banned": "1", **ANN}}, BYTES),  # HTTPException in a hook
    ("GET", "/notes/1", {"headers": {"X-Banned": "1"}}, BYTES),  # ... before the dependency's 401
    ("GET", "/notes/1", {"headers": ANN}, BYTES),
    ("GET", "/notes/2", {"headers": ANN}, BYTES),  # 403, no detail: werkzeug's page, byte for byte
    ("GET", "/notes/99", {"headers": ANN}, BYTES),  # 404 with a detail, the app's JSON handler
    ("GET", "/notes/-1", {"headers": ANN}, BYTES),  # werkzeug's routing 404
    ("HEAD", "/notes/1", {"headers": ANN}, BYTES),
    ("POST", "/notes/", {"json": {"text": "new"}, "headers": ANN}, BYTES),  # status_code=201
    ("POST", "/notes/", {"json": {"text": "draft", "draft": True}, "headers": ANN}, BYTES),  # response.status_code
    ("POST", "/notes/", {"json": {}, "headers": ANN}, BYTES),  # 400 with a detail
    ("POST", "/notes/", {"json": {"text": "hello"}, "headers": ANN}, BYTES),  # 409, the blueprint's catch-all
    ("POST", "/notes/", {"json": {"text": "x"}}, BYTES),
    ("GET", "/notes/3", {"headers": ANN}, BYTES),
    ("DELETE", "/notes/3", {"headers": ANN}, BYTES),  # status_code=204, no return
    ("DELETE", "/notes/3", {"headers": ANN}, BYTES),
    ("DELETE", "/notes/2", {"headers": ANN}, BYTES),
    ("GET", "/notes/1/text", {"headers": ANN}, BYTES),  # headers and two cookies on response: Response
    ("GET", "/notes/1/plain", {"headers": ANN}, BYTES),  # PlainTextResponse
    ("GET", "/notes/2/plain", {"headers": ANN}, BYTES),
    ("GET", "/notes/1/go", {"headers": ANN}, NO_BODY),  # RedirectResponse: Flask's redirect has an HTML body
    ("GET", "/notes/export", {"headers": ANN}, BYTES),  # StreamingResponse of an iterator
    ("GET", "/notes/export-async", {"headers": ANN}, BYTES),  # ... of an async generator
    ("HEAD", "/notes/export", {"headers": ANN}, BYTES),
    ("GET", "/notes/export", {}, BYTES),
    ("GET", "/notes/count", {"headers": ANN}, JSON),  # JSONResponse: Starlette's encoder, not jsonify's
    ("GET", "/notes/1/public", {}, BYTES),  # a bridged Flask view calling the helper that raises
    ("GET", "/notes/99/public", {}, BYTES),
]
HEADERS = (
    "content-type", "content-length", "x-trail", "location", "cache-control", "x-count",
    "content-disposition", "www-authenticate",
)


def _ids(requests: list[tuple[str, str, dict[str, Any], str]]) -> list[str]:
    return [
        f"{method} {path} {options.get('headers', {})} {options.get('json', '')}"
        for method, path, options, _ in requests
    ]


def asgi_answers(client: TestClient) -> list[tuple[Any, ...]]:
    answers = []
    for method, path, options, compare in REQUESTS:
        response = client.request(method, path, follow_redirects=False, **options)
        headers = {name: response.headers.get(name) for name in HEADERS}
        if compare == NO_BODY:
            del headers["content-type"]
        if compare != BYTES:
            del headers["content-length"]
        cookies = response.headers.get_list("set-cookie")
        answers.append((response.status_code, headers, cookies, _body(response.content, compare)))
    return answers


def flask_client_answers(app: Flask) -> list[tuple[Any, ...]]:
    client = app.test_client()
    answers = []
    for method, path, options, compare in REQUESTS:
        response = client.open(path, method=method, headers=options.get("headers"), json=options.get("json"))
        headers = {name: response.headers.get(name) for name in HEADERS}
        if compare == NO_BODY:
            del headers["content-type"]
        if compare != BYTES:
            del headers["content-length"]
        cookies = response.headers.getlist("Set-Cookie")
        answers.append((response.status_code, headers, cookies, _body(response.get_data(), compare)))
    return answers


def _body(content: bytes, compare: str) -> Any:
    import json

    return json.loads(content) if compare == JSON else None if compare == NO_BODY else content


def test_same_answers_as_flask() -> None:
    """Served over ASGI: the idiomatic views answer each request as the Flask originals did."""
    original = asgi_answers(TestClient(WSGIMiddleware(notes.flask_app())))
    converted = asgi_answers(TestClient(notes.bridged_app()))
    for name, expected, got in zip(_ids(REQUESTS), original, converted):
        assert got == expected, name


def test_same_answers_through_flasks_test_client() -> None:
    """The same through Flask's test client (each request in the test's thread)."""
    original = flask_client_answers(notes.flask_app())
    converted = flask_client_answers(notes.bridged_app().flask_app)
    for name, expected, got in zip(_ids(REQUESTS), original, converted):
        assert got == expected, name


def test_the_answers_are_the_ones_meant() -> None:
    """What the differential tests compare is what each case is there for."""
    client = TestClient(notes.bridged_app())
    refused = client.get("/notes/")
    assert (refused.status_code, refused.json(), refused.headers["x-trail"]) == (
        401, {"error": "unauthorized", "description": "a token is required"}, "app>bp"
    )
    assert client.get("/notes/me", headers={"X-Maintenance": "1"}).status_code == 503
    assert client.get("/notes/1", headers={"X-Banned": "1"}).status_code == 403
    forbidden = client.get("/notes/2", headers=ANN)
    assert forbidden.status_code == 403 and "have the permission" in forbidden.text  # werkzeug's own words
    assert client.get("/notes/99", headers=ANN).json()["description"] == "no note 99"
    created = client.post("/notes/", json={"text": "new"}, headers=ANN)
    assert (created.status_code, created.headers["location"]) == (201, "/notes/3")
    assert client.post("/notes/", json={"text": "new"}, headers=ANN).status_code == 409
    deleted = client.delete("/notes/3", headers=ANN)
    assert (deleted.status_code, deleted.content) == (204, b"")
    text = client.get("/notes/1/text", headers=ANN)
    assert text.headers.get_list("set-cookie") == ["last_note=1; Path=/", "last_user=ann; Path=/"]
    assert text.headers["cache-control"] == "no-store" and text.headers["x-trail"] == "app>bp"
    assert client.get("/notes/export-async", headers=ANN).text == "1,hello\n"
    assert client.get("/notes/99/public").json()["description"] == "no note 99"


def _app(*views: tuple[str, Any], **route_options: Any) -> tuple[Flask, FlaskBridge]:
    """A Flask app with an after_request hook, serving ``views`` as native GET routes."""
    app = Flask(__name__)
    app.after_request(_mark)
    router = APIRouter(route_class=FlaskRoute)
    for path, view in views:
        # a name no other test's route has: a bridge takes every live native route whose name
        # and path it serves as its own, whatever its methods
        router.get(path, name=f"idioms.{next(_NAMES)}", **route_options)(view)
    api = FlaskBridge(app)
    api.include_router(router)
    return app, api


_NAMES = itertools.count()


def _mark(response: Any) -> Any:
    response.headers["X-After"] = "yes"
    return response


# -- HTTPException, answered by the app's error handlers (errors) ----------------------------------


def test_no_detail_answers_as_abort_did() -> None:
    """``raise HTTPException(404)`` and ``abort(404)``: the same bytes, werkzeug's page."""

    def idiomatic():
        raise HTTPException(status_code=404)

    def original():
        abort(404)

    app, api = _app(("/idiomatic", idiomatic))
    app.add_url_rule("/original", "original", original)
    client = TestClient(api)
    expected, got = client.get("/original"), client.get("/idiomatic")
    assert (got.status_code, got.headers["content-type"], got.content) == (
        expected.status_code, expected.headers["content-type"], expected.content
    )
    assert got.headers["x-after"] == "yes"


def test_headers_and_codes_werkzeug_has_no_class_for() -> None:
    """The HTTPException's headers are the werkzeug error's (its page carries them); a code
    werkzeug has no class for answers with its own status, through a handler for
    werkzeug's HTTPException."""
    from werkzeug.exceptions import HTTPException as WerkzeugHTTPException

    def unauthorized():
        raise HTTPException(status_code=401, detail="no token", headers={"WWW-Authenticate": 'Bearer realm="api"'})

    def payment():
        raise HTTPException(status_code=402, detail="pay first")

    views = ("/unauthorized", unauthorized), ("/payment", payment)
    _, api = _app(*views)
    client = TestClient(api)
    response = client.get("/unauthorized")
    assert response.status_code == 401 and "no token" in response.text
    assert response.headers["www-authenticate"] == 'Bearer realm="api"' and response.headers["x-after"] == "yes"
    assert "402 Payment Required" in client.get("/payment").text

    app, api = _app(*views)
    app.register_error_handler(
        WerkzeugHTTPException, lambda e: ({"code": e.code, "description": e.description}, e.code)
    )
    client = TestClient(api)
    assert client.get("/payment").json() == {"code": 402, "description": "pay first"}
    assert client.get("/unauthorized").headers.get("www-authenticate") is None  # the handler's own response


def test_trapped_http_errors_propagate_as_werkzeugs() -> None:
    """TRAP_HTTP_EXCEPTIONS: the test sees werkzeug's NotFound, as it did from ``abort(404)``."""
    from werkzeug.exceptions import NotFound

    def missing():
        raise HTTPException(status_code=404, detail="gone")

    app, api = _app(("/missing", missing))
    app.config.update(TESTING=True, TRAP_HTTP_EXCEPTIONS=True)
    with pytest.raises(NotFound, match="gone"):
        api.test_client().get("/missing")


def test_a_late_blueprints_catch_all_gets_werkzeugs_error() -> None:
    """A blueprint registered after the bridge was made: its ``errorhandler(Exception)`` gets
    the werkzeug exception, as it did from ``abort``."""
    from flask import Blueprint
    from werkzeug.exceptions import HTTPException as WerkzeugHTTPException

    app, api = _app()
    bp = Blueprint("late", __name__)
    bp.register_error_handler(Exception, lambda e: ({"werkzeug": isinstance(e, WerkzeugHTTPException)}, 418))
    router = APIRouter(route_class=FlaskRoute)

    @router.get("/late/conflict", name="late.conflict")
    def conflict():
        raise HTTPException(status_code=409)

    app.register_blueprint(bp, url_prefix="/late")
    api.include_router(router)
    assert TestClient(api).get("/late/conflict").json() == {"werkzeug": True}


def test_plain_fastapi_routes_keep_fastapis_answers() -> None:
    """A route of a plain APIRouter (no FlaskRoute): FastAPI's own 401 and 422."""
    plain = APIRouter()

    @plain.get("/plain/{n}")
    def view(n: int):
        if n == 0:
            raise HTTPException(status_code=401, detail="no", headers={"WWW-Authenticate": "Bearer"})
        return {"n": n}

    api = FlaskBridge(Flask(__name__))
    api.include_router(plain)
    client = TestClient(api)
    refused = client.get("/plain/0")
    assert (refused.status_code, refused.json(), refused.headers["www-authenticate"]) == (
        401, {"detail": "no"}, "Bearer"
    )
    assert client.get("/plain/x").status_code == 422


def test_an_after_request_hooks_http_error_is_flasks_500() -> None:
    """Raised by an after_request hook, an HTTPException is Flask's 500, as ``abort`` there was;
    when Flask lets it through to the test (TESTING), FastAPI does not answer it a second time."""

    app, api = _app(("/view", lambda: {"a": 1}))

    @app.after_request
    def refuse(response):
        raise HTTPException(status_code=403)

    assert TestClient(api).get("/view").status_code == 500
    app.testing = True
    with pytest.raises(HTTPException):
        TestClient(api).get("/view")


# -- what a native view returns (responses) --------------------------------------------------------


def test_sub_response_of_a_dependency_and_a_returned_response() -> None:
    """A cookie a dependency sets on the sub-response reaches Flask's response; as under FastAPI,
    not when the view returns a response of its own."""

    def remember(response: Response) -> None:
        response.set_cookie("seen", "1", samesite=None)

    def plain(_: None = Depends(remember)):
        return {"plain": True}

    def own(_: None = Depends(remember)):
        return JSONResponse({"own": True}, status_code=200)

    app, api = _app(("/plain", plain), ("/own", own), status_code=201)
    client = TestClient(api)
    answered = client.get("/plain")
    assert (answered.status_code, answered.headers["set-cookie"], answered.headers["x-after"]) == (
        201, "seen=1; Path=/", "yes"
    )
    answered = client.get("/own")
    assert (answered.status_code, answered.json(), answered.headers.get("set-cookie")) == (200, {"own": True}, None)


def test_declared_status_only_for_plain_bodies() -> None:
    """``status_code=201`` applies to a dict, list or str; a tuple or a response keeps its own."""
    from flask import jsonify

    app, api = _app(
        ("/dict", lambda: {"a": 1}),
        ("/list", lambda: [1]),
        ("/str", lambda: "s"),
        ("/tuple", lambda: ({"a": 1}, 200)),
        ("/jsonify", lambda: jsonify(a=1)),
        status_code=201,
    )
    client = TestClient(api)
    assert [client.get(path).status_code for path in ("/dict", "/list", "/str", "/tuple", "/jsonify")] == [
        201, 201, 201, 200, 200
    ]
    _, default = _app(("/dict", lambda: {"a": 1}))
    assert TestClient(default).get("/dict").status_code == 200


def test_a_response_model_documents_and_changes_no_byte() -> None:
    """``response_model=`` puts the model in OpenAPI; the answer stays what Flask made of the
    view's return: keys sorted as jsonify sorts them, a key the model lacks and a value of
    another type than the field's left as they are (no validation, no filtering)."""
    from pydantic import BaseModel

    class Shape(BaseModel):
        name: str
        size: int

    app, api = _app(("/shape", lambda: {"size": "big", "name": "s", "extra": [1]}), response_model=Shape)
    answer = TestClient(api).get("/shape")
    assert answer.status_code == 200
    assert answer.content == b'{"extra":[1],"name":"s","size":"big"}\n'
    assert answer.headers["X-After"] == "yes"
    schema = api.openapi()
    (path,) = schema["paths"].values()
    documented = path["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert documented == {"$ref": "#/components/schemas/Shape"}
    assert set(schema["components"]["schemas"]["Shape"]["properties"]) == {"name", "size"}
    _, plain = _app(("/shape", lambda: {"a": 1}))
    (path,) = plain.openapi()["paths"].values()
    assert path["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {}


def test_starlette_responses_keep_what_they_say() -> None:
    """Status, body, every header (repeated Set-Cookie, no Content-Type where none was given),
    and after_request hooks see the response."""

    def cookies():
        response = Response(b"raw", status_code=202, headers={"X-Own": "1"})
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    def empty():
        return Response(status_code=204)

    app, api = _app(("/cookies", cookies), ("/empty", empty))
    client = TestClient(api)
    answered = client.get("/cookies")
    assert (answered.status_code, answered.content, answered.headers["x-own"]) == (202, b"raw", "1")
    assert answered.headers.get_list("set-cookie") == ["a=1; Path=/; SameSite=lax", "b=2; Path=/; SameSite=lax"]
    assert "content-type" not in answered.headers and answered.headers["x-after"] == "yes"
    answered = client.get("/empty")
    assert (answered.status_code, answered.content, answered.headers.get("content-type")) == (204, b"", None)


def test_background_tasks_run_after_the_response() -> None:
    from starlette.background import BackgroundTask

    done: list[str] = []

    def returned():
        return JSONResponse({"ok": True}, background=BackgroundTask(done.append, "returned"))

    def injected(tasks: BackgroundTasks):
        tasks.add_task(done.append, "injected")
        return {"ok": True}

    _, api = _app(("/returned", returned), ("/injected", injected))
    client = TestClient(api)
    assert client.get("/returned").json() == client.get("/injected").json() == {"ok": True}
    assert done == ["returned", "injected"]


def test_a_file_response_is_a_clear_error(tmp_path: Any) -> None:
    path = tmp_path / "a.txt"
    path.write_text("a")
    app, api = _app(("/file", lambda: FileResponse(path)))
    app.testing = True  # Flask lets the view's error through to the test
    with pytest.raises(TypeError, match="send_file"):
        TestClient(api).get("/file")


def test_a_bridged_view_returning_a_starlette_response_is_flasks_type_error() -> None:
    """Documented: bridged views are Flask code; Flask's make_response refuses the response."""
    app, api = _app()
    app.add_url_rule("/bridged", "bridged", lambda: JSONResponse({"a": 1}))
    app.testing = True
    with pytest.raises(TypeError, match="did not return a valid response"):
        TestClient(api).get("/bridged")


# -- dependencies and the Starlette request of a native view ---------------------------------------


def test_yield_dependency_open_during_the_view_and_shared() -> None:
    """A DB session of a yield dependency: one per request, the same in the view and in another
    dependency, open while Flask's cycle runs the view, closed once the response is sent."""

    class Session:
        def __init__(self) -> None:
            self.open = True

    sessions: list[Session] = []

    def get_db():
        session = Session()
        sessions.append(session)
        try:
            yield session
        finally:
            session.open = False

    def repository(db: Session = Depends(get_db)) -> Session:
        return db

    def view(db: Session = Depends(get_db), repo: Session = Depends(repository)):
        from flask import g

        g.seen = True  # inside Flask's request context
        return {"same": db is repo, "open": db.open}

    _, api = _app(("/db", view))
    client = TestClient(api)
    assert client.get("/db").json() == {"same": True, "open": True}
    assert api.test_client().get("/db").get_json() == {"same": True, "open": True}
    assert len(sessions) == 2 and not any(session.open for session in sessions)


def test_the_starlette_request_of_a_native_view() -> None:
    """``request.state`` set by a dependency, ``request.app`` the bridge (Flask's config through
    it), ``url_path_for`` a native route's path as Flask's ``url_for`` builds it."""
    from flask import url_for

    def tag(request: Request) -> None:
        request.state.tag = "from the dependency"

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/items/{item_id}", name="items.get_item")
    def get_item(item_id: int, request: Request, _: None = Depends(tag)):
        return {
            "tag": request.state.tag,
            "bridge": request.app is api,
            "config": request.app.config["NAME"],
            "path": str(request.app.url_path_for("items.get_item", item_id=1)),
            "url_for": url_for("items.get_item", item_id=1),
        }

    app = Flask(__name__)
    app.config["NAME"] = "notes"
    api = FlaskBridge(app)
    api.include_router(router, prefix="/v1")
    assert TestClient(api).get("/v1/items/7").json() == {
        "tag": "from the dependency", "bridge": True, "config": "notes", "path": "/v1/items/1", "url_for": "/v1/items/1"
    }
