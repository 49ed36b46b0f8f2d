"""The bridged app answers every request exactly as the Flask app did."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from flask2fastapi_runtime import FlaskBridge, bridge_of

import shop

REQUESTS = [
    ("GET", "/items/3?q=x", {}),
    ("GET", "/items/-1", {}),  # werkzeug's int converter refuses a sign: 404
    ("GET", "/items/0", {}),  # abort(404) in the view, answered by the app's handler
    ("GET", "/items/3/", {}),  # no slash redirect: the rule has none
    ("GET", "/items/bridged/zz", {}),
    ("GET", "/nope", {}),
    ("HEAD", "/items/3", {}),
    ("OPTIONS", "/items/3", {}),
    ("DELETE", "/items/3", {}),  # 405 with Allow
    ("POST", "/items/", {"json": {"name": "pen"}}),
    ("POST", "/items/", {"json": ["not", "an", "object"]}),
    ("POST", "/items/", {"content": b"{bad json", "headers": {"Content-Type": "application/json"}}),
    ("POST", "/items/", {"content": b'{"name": "x"}', "headers": {"Content-Type": "text/plain"}}),
    ("GET", "/items/secret", {}),
    ("GET", "/items/secret", {"headers": {"Authorization": "Bearer bad"}}),
    ("GET", "/items/secret", {"headers": {"Authorization": "Bearer good"}}),
    ("GET", "/items/files/a/b/c.txt", {}),
    ("GET", "/items/files/", {}),
    ("GET", "/items/kind/a", {}),
    ("GET", "/items/kind/c", {}),
    ("GET", "/items/text", {}),
]
HEADERS = ("content-type", "content-length", "x-trail", "allow", "location", "set-cookie")


def answer(client: TestClient, method: str, path: str, options: dict) -> tuple:
    response = client.request(method, path, **options)
    headers = {name: response.headers.get(name) for name in HEADERS}
    if "set-cookie" in response.headers:  # the signature embeds a timestamp
        headers["set-cookie"] = response.headers["set-cookie"].split(".")[0]
    return response.status_code, headers, response.content


@pytest.mark.parametrize(("method", "path", "options"), REQUESTS, ids=[f"{m} {p}" for m, p, _ in REQUESTS])
def test_same_answer_as_flask(method: str, path: str, options: dict) -> None:
    from a2wsgi import WSGIMiddleware

    original = TestClient(WSGIMiddleware(shop.flask_app()))
    converted = TestClient(shop.bridged_app())
    assert answer(converted, method, path, options) == answer(original, method, path, options)


def test_the_native_routes_are_fastapi_routes() -> None:
    api = shop.bridged_app()
    paths = api.openapi()["paths"]
    assert set(paths) == {
        "/items/{item_id}", "/items/", "/items/secret", "/items/files/{name}", "/items/kind/{kind}", "/items/text"
    }
    assert paths["/items/{item_id}"]["get"]["parameters"][0]["schema"]["type"] == "integer"
    rules = {str(rule): rule.endpoint for rule in api.flask_app.url_map.iter_rules()}
    assert rules["/items/<int:item_id>"] == "items.get_item"
    assert rules["/items/files/<path:name>"] == "items.files"
    assert rules['/items/kind/<any("a", "b"):kind>'] == "items.kind"
    assert TestClient(api).get("/docs").status_code == 200


def test_flask_attributes_through_the_bridge() -> None:
    api = shop.bridged_app()
    assert api.config is api.flask_app.config
    assert bridge_of(api.flask_app) is api
    api.testing = True
    assert api.flask_app.testing is True
    assert isinstance(api, FlaskBridge)

    @api.route("/late")
    def late():
        return "late"

    @api.get("/late/<int:n>")
    def late_n(n):
        return {"n": n}

    client = TestClient(api)
    assert client.get("/late").text == "late"
    assert client.get("/late/4").json() == {"n": 4}
    with api.test_request_context():
        from flask import url_for

        assert url_for("items.get_item", item_id=7) == "/items/7"


def test_validation_error_is_flask_400() -> None:
    from fastapi import APIRouter
    from flask import Flask

    from flask2fastapi_runtime import FlaskRoute

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/search", name="search")
    def search(q: str):
        return {"q": q}

    app = Flask(__name__)
    seen = []
    app.after_request(lambda r: seen.append(r.status_code) or r)
    api = FlaskBridge(app)
    api.include_router(router)
    client = TestClient(api)
    assert client.get("/search?q=a").json() == {"q": "a"}
    response = client.get("/search")
    assert response.status_code == 400 and "Bad Request" in response.text
    assert seen == [200, 400]  # the after hook saw the refusal too

    strict = FlaskBridge(Flask(__name__), flask_errors=False)
    strict.include_router(router)
    assert TestClient(strict).get("/search").status_code == 422


def test_hosts_each_get_flasks_answer() -> None:
    """The dispatch keeps one URL adapter per host: a host TRUSTED_HOSTS refuses still gets
    Flask's 400 after a trusted one was served (and before: it was a 500), on native and bridged
    routes alike."""
    from a2wsgi import WSGIMiddleware

    original, converted = shop.flask_app(), shop.bridged_app()
    for app in (original, converted.flask_app):
        app.config["TRUSTED_HOSTS"] = ["shop.test", ".shop.test"]
    clients = [TestClient(WSGIMiddleware(original)), TestClient(converted)]
    for host in ("shop.test", "evil.test", "a.shop.test", "evil.test", "shop.test"):
        for path in ("/items/3?q=x", "/items/bridged/zz", "/items/-1"):
            original_answer, converted_answer = (
                answer(client, "GET", path, {"headers": {"Host": host}}) for client in clients
            )
            assert converted_answer == original_answer, (host, path)
            assert converted_answer[0] == (400 if host == "evil.test" else 404 if path == "/items/-1" else 200)


def test_streamed_answers_keep_flasks_context() -> None:
    """A ``stream_with_context`` generator reads ``g`` and the request at every step, in a
    native route and a bridged one, served as over a real ASGI server (each step in the thread
    pool) and through Flask's test client."""
    from fastapi import APIRouter
    from flask import Flask, Response, g, request, stream_with_context

    from flask2fastapi_runtime import FlaskRoute

    app = Flask(__name__)

    @app.before_request
    def who():
        g.user = request.headers.get("X-User", "anonymous")

    def events(count: int) -> Response:
        def generate():
            for number in range(count):
                yield f"{number}:{g.user}:{request.path}\n"

        return Response(stream_with_context(generate()), mimetype="text/event-stream")

    app.add_url_rule("/bridged/<int:count>", "bridged", events)
    router = APIRouter(route_class=FlaskRoute)
    router.get("/native/{count}", name="native")(events)
    api = FlaskBridge(app)
    api.include_router(router)
    for path in ("/bridged/3", "/native/3"):
        expected = "".join(f"{n}:ann:{path}\n" for n in range(3))
        assert TestClient(api).get(path, headers={"X-User": "ann"}).text == expected
        assert api.test_client().get(path, headers={"X-User": "ann"}).get_data(as_text=True) == expected


def test_a_view_with_two_rules() -> None:
    from fastapi import APIRouter
    from flask import Flask

    from flask2fastapi_runtime import FlaskRoute

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/", name="main.index")
    @router.get("/index", name="main.index")
    def index():
        return {"index": True}

    api = FlaskBridge(Flask(__name__))
    api.include_router(router, prefix="/main")
    rules = sorted(str(rule) for rule in api.url_map.iter_rules() if rule.endpoint == "main.index")
    assert rules == ["/main/", "/main/index"]
    client = TestClient(api)
    assert client.get("/main/").json() == client.get("/main/index").json() == {"index": True}


def test_the_apps_log_reaches_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """Flask's default log handler writes to the request's wsgi.errors: stderr, as under gunicorn."""
    from fastapi import APIRouter
    from flask import Flask, current_app
    from flask.logging import default_handler

    from flask2fastapi_runtime import FlaskRoute

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/native", name="log.native")
    def native():
        current_app.logger.warning("from the native view")
        return "n"

    flask_app = Flask(__name__)
    # pytest's log capture on the root logger keeps Flask from adding it itself
    flask_app.logger.addHandler(default_handler)

    @flask_app.route("/bridged/<int:n>")
    def bridged(n):
        current_app.logger.warning("from the bridged view")
        return "b"

    api = FlaskBridge(flask_app)
    api.include_router(router)
    client = TestClient(api)
    assert client.get("/native").text == "n"
    assert client.get("/bridged/1").text == "b"
    err = capsys.readouterr().err
    assert "from the native view" in err and "from the bridged view" in err


def test_any_code_reads_the_body() -> None:
    """A helper reads the body Flask's way (get_json(force=True), get_data()) on a native route
    whose JSON body FastAPI has parsed already, and on a non-JSON request."""
    from fastapi import APIRouter, Body
    from flask import Flask, request

    from flask2fastapi_runtime import FlaskRoute

    def raw() -> dict:
        return {"forced": request.get_json(force=True, silent=True), "data": request.get_data(as_text=True)}

    router = APIRouter(route_class=FlaskRoute)

    @router.post("/parsed", name="parsed")
    def parsed(payload: dict = Body(...)):
        return {"payload": payload, **raw()}

    @router.post("/plain", name="plain")
    def plain():
        return raw()

    api = FlaskBridge(Flask(__name__))
    api.include_router(router)
    client = TestClient(api)
    assert client.post("/parsed", json={"a": 1}).json() == {"payload": {"a": 1}, "forced": {"a": 1}, "data": '{"a":1}'}
    response = client.post("/plain", content=b'{"b": 2}', headers={"Content-Type": "text/plain"})
    assert response.json() == {"forced": {"b": 2}, "data": '{"b": 2}'}


def test_wsgi_app_wrappers_apply_to_every_route() -> None:
    """``app.wsgi_app = ProxyFix(app.wsgi_app)`` keeps applying, on native and bridged routes."""
    from fastapi import APIRouter
    from flask import Flask, request
    from werkzeug.middleware.proxy_fix import ProxyFix

    from flask2fastapi_runtime import FlaskRoute

    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # type: ignore[method-assign]
    app.add_url_rule("/bridged", "bridged", lambda: {"ip": request.remote_addr})
    router = APIRouter(route_class=FlaskRoute)
    router.get("/native", name="native")(lambda: {"ip": request.remote_addr})
    api = FlaskBridge(app)
    api.include_router(router)
    client = TestClient(api)
    for path in ("/bridged", "/native"):
        assert client.get(path, headers={"X-Forwarded-For": "203.0.113.9"}).json() == {"ip": "203.0.113.9"}
