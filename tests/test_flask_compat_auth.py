"""flask_compat's Flask-HTTPAuth and Flask-Login counterparts answer as the extensions do: the same
app written once for Flask (with the real extensions) and once for FastAPI (with flask_compat's),
asked the same requests in this process."""

import flask
import flask_httpauth
import flask_login
import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from codemod.support import flask_compat as compat

USERS = {"1": "ann"}


def login_apps(**config):
    """A Flask app on Flask-Login and a FastAPI app on flask_compat, otherwise the same."""
    flask_app = flask.Flask(__name__)
    fastapi_app = compat.add_flask_attributes(
        FastAPI(exception_handlers=compat.FLASK_ERRORS, middleware=compat.FLASK_MIDDLEWARE), __name__
    )
    for app, login, manager in ((flask_app, flask_login, flask_login.LoginManager()), (fastapi_app, compat, compat.LoginManager())):
        app.config.update(SECRET_KEY="s3cret", **config)
        manager.init_app(app)

        class User(login.UserMixin):
            def __init__(self, id):
                self.id = id

        manager.user_loader(lambda user_id, User=User: User(user_id) if user_id in USERS else None)
        yield app, login, User


def make_login_apps(**config):
    (flask_app, fl, FlaskUser), (fastapi_app, co, CompatUser) = login_apps(**config)

    @flask_app.post("/login")
    def flask_login_view():
        fl.login_user(FlaskUser("1"), remember=flask.request.args.get("remember") == "1")
        return "in"

    @flask_app.post("/logout")
    def flask_logout_view():
        fl.logout_user()
        return "out"

    @flask_app.get("/me")
    @fl.login_required
    def flask_me():
        return {"id": fl.current_user.get_id(), "fresh": fl.login_fresh()}

    @flask_app.get("/sensitive")
    @fl.fresh_login_required
    def flask_sensitive():
        return "fresh"

    @fastapi_app.post("/login")
    def compat_login_view(remember: str = ""):
        co.login_user(CompatUser("1"), remember=remember == "1")
        return compat.HTMLResponse("in")

    @fastapi_app.post("/logout")
    def compat_logout_view():
        co.logout_user()
        return compat.HTMLResponse("out")

    @fastapi_app.get("/me", dependencies=[Depends(co.login_required.dependency)])
    def compat_me():
        return {"id": co.current_user.get_id(), "fresh": co.login_fresh()}

    @fastapi_app.get("/sensitive", dependencies=[Depends(co.fresh_login_required.dependency)])
    def compat_sensitive():
        return compat.HTMLResponse("fresh")

    return flask_app.test_client(), TestClient(fastapi_app, base_url="http://localhost")


def answer(response):
    body = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return response.status_code, body.strip()


def remember_cookie(set_cookies):
    """(value, attribute names) of the remember_token cookie among Set-Cookie headers."""
    header = next(h for h in set_cookies if h.startswith("remember_token="))
    value, *attributes = header.split(";")
    return value.split("=", 1)[1], sorted(a.strip().split("=")[0].lower() for a in attributes)


def test_remember_cookie_logs_the_user_in_again_and_the_login_is_not_fresh():
    flask_client, compat_client = make_login_apps()
    flask_cookie = remember_cookie(flask_client.post("/login?remember=1").headers.get_all("Set-Cookie"))
    compat_cookie = remember_cookie(compat_client.post("/login?remember=1").headers.get_list("set-cookie"))
    # the same HMAC under SECRET_KEY and the same attributes: Flask-Login's remember cookies keep
    # working after conversion
    assert compat_cookie == flask_cookie
    assert flask_cookie[1] == ["expires", "httponly", "path"]

    # a new browser session: the session cookie is gone, the remember cookie is not
    flask_again = flask_client.application.test_client()
    flask_again.set_cookie("remember_token", flask_cookie[0])
    compat_again = TestClient(compat_client.app, base_url="http://localhost", cookies={"remember_token": compat_cookie[0]})
    assert answer(flask_again.get("/me")) == (200, '{"fresh":false,"id":"1"}')
    assert compat_again.get("/me").json() == {"fresh": False, "id": "1"}
    # not fresh, and no refresh view: abort(401) in both
    assert flask_again.get("/sensitive").status_code == compat_again.get("/sensitive").status_code == 401


def test_logout_refuses_again():
    for client in make_login_apps():
        assert client.get("/me").status_code == 401
        client.post("/login")
        assert answer(client.get("/sensitive")) == (200, "fresh")
        client.post("/logout")
        assert client.get("/me").status_code == 401


def test_login_disabled_lets_everyone_in():
    for client in make_login_apps(LOGIN_DISABLED=True):
        assert client.get("/sensitive").status_code == 200


def httpauth_apps():
    """Token auth on a custom header, checked by a decorator on an async view (FastAPI) and by an
    async verify callback."""
    flask_app = flask.Flask(__name__)
    flask_auth = flask_httpauth.HTTPTokenAuth(scheme="ApiKey", header="X-API-Key")
    flask_auth.verify_token(lambda token: {"k1": "ann"}.get(token))

    @flask_app.get("/data")
    @flask_auth.login_required
    def flask_data():
        return {"user": flask_auth.current_user()}

    fastapi_app = FastAPI(exception_handlers=compat.FLASK_ERRORS, middleware=compat.FLASK_MIDDLEWARE)
    auth = compat.HTTPTokenAuth(scheme="ApiKey", header="X-API-Key")

    @auth.verify_token
    async def verify(token):
        return {"k1": "ann"}.get(token)

    @fastapi_app.get("/data")
    @auth.login_required
    async def compat_data():
        return {"user": auth.current_user()}

    @fastapi_app.get("/dep", dependencies=[Depends(auth.dependency())])
    def compat_dep():
        return {"user": auth.current_user()}

    return flask_app.test_client(), TestClient(fastapi_app), fastapi_app


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "nope"}, {"X-API-Key": "k1"}, {"Authorization": "ApiKey k1"}])
def test_token_in_a_custom_header(headers):
    flask_client, compat_client, _ = httpauth_apps()
    expected = flask_client.get("/data", headers=headers)
    for path in ("/data", "/dep"):
        got = compat_client.get(path, headers=headers)
        assert (got.status_code, got.headers.get("WWW-Authenticate")) == (expected.status_code, expected.headers.get("WWW-Authenticate"))
        assert got.content.replace(b" ", b"") == expected.data.strip().replace(b" ", b"")


def test_the_scheme_is_documented_in_openapi():
    *_, app = httpauth_apps()
    schema = app.openapi()
    assert schema["components"]["securitySchemes"] == {"APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    assert schema["paths"]["/dep"]["get"]["security"] == [{"APIKeyHeader": []}]
