"""flashing and redirects: a FastAPI app that flashes and shows messages through the runtime
answers like the Flask original (the page, Vary, the session cookie's content and attributes,
werkzeug's redirect page), the two read each other's cookies, an app without a SECRET_KEY
answers as Flask's null session did, and a FlaskBridge's own Flask templates show the messages
a native route flashed."""

from __future__ import annotations

import flask
import pytest
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from fastapi.testclient import TestClient
from flask.sessions import SecureCookieSessionInterface
from jinja2 import DictLoader, Environment

from flask2fastapi_runtime import FlaskBridge
from flask2fastapi_runtime.flashing import flash, flashes_in_flask_templates
from flask2fastapi_runtime.login import FlaskSessionMiddleware
from flask2fastapi_runtime.redirects import redirect
from flask2fastapi_runtime.templating import flask_template_context

SECRET = "s3cret"
PAGE = (
    "{% for c, m in get_flashed_messages(with_categories=true) %}[{{ c }}:{{ m }}]{% endfor %}"
    "|{{ get_flashed_messages(category_filter=['info']) }}|{{ get_flashed_messages() | length }}"
)
LOCATION = "/?next=a&b='c'"  # as iri_to_uri leaves it (werkzeug writes Location through it)


def flask_app(secret: str | None = SECRET) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = secret

    @app.post("/star")
    def star():
        flask.flash("Starred <3", "info")
        flask.flash("public")
        return flask.redirect(LOCATION)

    @app.get("/")
    def index():
        return flask.render_template_string(PAGE)

    @app.get("/plain")
    def plain():
        return "plain"

    return app


def fastapi_app(secret: str | None = SECRET) -> FastAPI:
    app = FastAPI()
    app.add_middleware(FlaskSessionMiddleware, config={"SECRET_KEY": secret}, login=False)
    templates = Jinja2Templates(env=Environment(loader=DictLoader({"page.html": PAGE}), autoescape=True), context_processors=[flask_template_context])

    @app.post("/star")
    def star(request: Request):
        flash(request, "Starred <3", "info")
        flash(request, "public")
        return redirect(LOCATION)

    @app.get("/")
    def index(request: Request):
        return templates.TemplateResponse(request, "page.html")

    @app.get("/plain")
    def plain():
        return HTMLResponse("plain")

    return app


def cookie_content(set_cookie: str) -> tuple[object, str]:
    """What a session Set-Cookie holds, read by Flask's own serializer, and its attributes."""
    pair, _, attributes = set_cookie.partition(";")
    value = pair.partition("=")[2]
    if not value:
        return None, attributes.strip()
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(value), attributes.strip()


def answers(client, flask_side: bool, steps: list[tuple[str, str]]) -> list[tuple]:
    found = []
    for method, path in steps:
        response = client.open(path, method=method) if flask_side else client.request(method, path)
        headers = response.headers
        cookies = headers.getlist("Set-Cookie") if flask_side else headers.get_list("set-cookie")
        body = response.get_data(as_text=True) if flask_side else response.text
        found.append((
            response.status_code, body, headers.get("Content-Type"), headers.get("Location"), headers.get("Vary"),
            [cookie_content(c) for c in cookies],
        ))
    return found


STEPS = [("GET", "/plain"), ("GET", "/"), ("POST", "/star"), ("GET", "/plain"), ("GET", "/"), ("GET", "/")]


def test_flashes_answer_as_flasks():
    original = answers(flask_app().test_client(), True, STEPS)
    converted = answers(TestClient(fastapi_app(), follow_redirects=False), False, STEPS)
    assert converted == original
    redirected, shown = original[2], original[4]
    assert redirected[3] == LOCATION and redirected[2] == "text/html; charset=utf-8"
    assert "<a href=\"/?next=a&amp;b=&#39;c&#39;\">" in redirected[1]  # MarkupSafe's escapes
    assert redirected[5][0][0] == {"_flashes": [("info", "Starred <3"), ("message", "public")]}
    assert shown[1] == "[info:Starred &lt;3][message:public]|[&#39;Starred &lt;3&#39;]|2" and shown[4] == "Cookie"
    assert original[5][1] == "|[]|0"  # shown once


@pytest.mark.parametrize("writer", ["flask", "fastapi"])
def test_each_app_shows_the_messages_the_other_flashed(writer):
    flask_client = flask_app().test_client()
    fastapi_client = TestClient(fastapi_app(), follow_redirects=False)
    if writer == "flask":
        flask_client.post("/star")
        fastapi_client.cookies.set("session", flask_client.get_cookie("session").value)
        page = fastapi_client.get("/").text
    else:
        fastapi_client.post("/star")
        flask_client.set_cookie("session", fastapi_client.cookies["session"])
        page = flask_client.get("/").get_data(as_text=True)
    assert page.startswith("[info:Starred &lt;3][message:public]|")


def test_without_a_secret_key_the_session_is_flasks_null_session():
    steps = [("GET", "/"), ("GET", "/plain")]
    original = answers(flask_app(None).test_client(), True, steps)
    assert answers(TestClient(fastapi_app(None)), False, steps) == original
    assert original[0][4] is None  # no Vary: Flask saves no null session
    with pytest.raises(RuntimeError, match="no secret key"):
        TestClient(fastapi_app(None)).post("/star")


def _failing_app() -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET

    @app.errorhandler(404)
    def not_found(error):
        return flask.render_template_string(PAGE), 404

    return app


def test_flask_templates_of_a_bridge_show_what_a_native_route_flashed():
    """A native route flashes and fails; Flask's own handler renders the page: it shows the
    message of that same request, and the cookie is written once, as by Flask alone."""
    original = _failing_app()

    @original.post("/fail")
    def fail():
        flask.flash("lost <3", "info")
        flask.abort(404)

    app = _failing_app()
    api = FlaskBridge(app)
    api.add_middleware(FlaskSessionMiddleware, login=False)
    flashes_in_flask_templates(app)

    @api.post("/fail")
    def native_fail(request: Request):
        flash(request, "lost <3", "info")
        raise HTTPException(404)

    expected = answers(original.test_client(), True, [("POST", "/fail")])
    assert expected[0][1] == "[info:lost &lt;3]|[&#39;lost &lt;3&#39;]|1"
    assert answers(TestClient(api), False, [("POST", "/fail")]) == expected


def test_the_redirect_page_is_werkzeugs():
    from werkzeug.utils import redirect as werkzeug_redirect

    for location in ("/", "/a?b=1&c='2'", 'https://example.com/<"x">'):
        assert redirect(location).body == werkzeug_redirect(location).get_data()
