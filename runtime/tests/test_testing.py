"""Flask's test client, CLI runner and contexts work on the converted app and reach native routes."""

from __future__ import annotations

import flask
from flask.testing import FlaskClient

import shop


def test_client_reaches_native_routes_with_flask_api() -> None:
    api = shop.bridged_app()
    client = api.test_client()
    response = client.get("/items/3?q=x")
    assert response.status_code == 200
    assert response.get_json()["trail"] == "app>bp"
    assert response.headers["X-Trail"] == "app>bp"
    with client.session_transaction() as session:
        assert session["seen"] == 3
        session["seen"] = 9
    assert client.post("/items/", json={"name": "x"}).status_code == 201


def test_with_client_keeps_the_request_context() -> None:
    api = shop.bridged_app()
    client = api.flask_app.test_client()  # the Flask app's own client goes through the bridge too
    with client:
        client.get("/items/5")
        assert flask.request.path == "/items/5"
        assert flask.g.trail == "app>bp"
        assert flask.session["seen"] == 5


def test_environ_base_reaches_the_view() -> None:
    api = shop.bridged_app()

    @api.flask_app.route("/ip")
    def ip():
        return {"ip": flask.request.remote_addr, "ua": flask.request.user_agent.string}

    client = api.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert client.get("/ip").get_json() == {"ip": "10.1.2.3", "ua": client.environ_base["HTTP_USER_AGENT"]}


def test_an_apps_own_client_class_is_kept() -> None:
    class TokenClient(FlaskClient):
        def open(self, *args, **kwargs):
            kwargs.setdefault("headers", {"Authorization": "Bearer good"})
            return super().open(*args, **kwargs)

    api = shop.bridged_app()
    api.flask_app.test_client_class = TokenClient  # set after the bridge: still a plain Flask client
    assert api.test_client().get("/items/secret").status_code == 200


def test_cli_runner_and_app_context() -> None:
    api = shop.bridged_app()

    @api.flask_app.cli.command("hello")
    def hello():
        print("hello", flask.current_app.name)

    result = api.test_cli_runner().invoke(args=["hello"])
    assert result.output == f"hello {api.flask_app.name}\n"
    with api.app_context():
        assert flask.current_app._get_current_object() is api.flask_app
    with api.test_request_context("/items/4"):
        assert flask.url_for("items.get_item", item_id=4) == "/items/4"


def test_webtest_style_wsgi_harness() -> None:
    from werkzeug.test import Client

    api = shop.bridged_app()
    response = Client(api.wsgi).get("/items/2")
    assert response.status_code == 200 and response.get_json()["id"] == 2


def test_as_wsgi_for_harnesses() -> None:
    from werkzeug.test import Client

    from flask2fastapi_runtime import as_wsgi

    api = shop.bridged_app()
    for target in (api, api.flask_app):
        response = Client(as_wsgi(target)).get("/items/2")
        assert response.status_code == 200 and response.get_json()["id"] == 2
    plain = shop.flask_app()
    assert as_wsgi(plain) is plain


def test_header_names_as_flask_wrote_them() -> None:
    api = shop.bridged_app()
    for path in ("/items/3", "/items/bridged/x"):  # native, bridged
        names = list(api.test_client().get(path).headers.keys())
        assert "Content-Type" in names and "X-Trail" in names, names
