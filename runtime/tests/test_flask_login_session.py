"""login: Flask's session cookie and Flask-Login's login state without Flask. A FastAPI app
written as the converter writes Flask-Login views (the user through Depends, login_user on the
request, refusals raised as LoginRefused) answers like the Flask-Login original, and the two read
each other's cookies: a cookie issued before the cutover still logs in after it, and back."""


from datetime import timedelta
from typing import Annotated, Any

import flask
import flask_login
import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.security import APIKeyCookie
from fastapi.testclient import TestClient

from flask2fastapi_runtime import NativeApp, login

SECRET = "s3cret"
AGENT, ADDRESS = "testclient", "10.1.2.3"  # the agent Starlette's TestClient always sends


class FlaskUser(flask_login.UserMixin):
    def __init__(self, id: str, name: str, active: bool = True) -> None:
        self.id, self.name, self.active = id, name, active

    @property
    def is_active(self) -> bool:
        return self.active


class User(login.UserMixin):
    def __init__(self, id: str, name: str, active: bool = True) -> None:
        self.id, self.name, self.active = id, name, active

    @property
    def is_active(self) -> bool:
        return self.active


def flask_app(users: dict[str, Any], login_view: str | None) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    manager = flask_login.LoginManager(app)
    manager.login_view = login_view
    manager.user_loader(users.get)

    @app.post("/login/<user_id>")
    def do_login(user_id):
        remember = flask.request.args.get("remember") == "1"
        return {"ok": flask_login.login_user(users[user_id], remember=remember)}

    @app.get("/login")
    def login_page():
        return "the login page"

    @app.post("/logout")
    @flask_login.login_required
    def do_logout():
        flask_login.logout_user()
        return {"ok": True}

    @app.get("/me")
    @flask_login.login_required
    def me():
        return {"name": flask_login.current_user.name, "id": flask_login.current_user.get_id()}

    @app.get("/hello")
    def hello():
        user = flask_login.current_user
        return {"authenticated": user.is_authenticated, "anonymous": user.is_anonymous, "id": user.get_id()}

    @app.get("/fresh")
    def fresh():
        return {"fresh": flask_login.login_fresh()}

    return app


def fastapi_app(users: dict[str, Any], login_view: str | None) -> FastAPI:
    """The converter's target shape for the Flask app above."""
    app = NativeApp(__name__, static_folder=None)  # werkzeug's error pages, as Flask answered
    app.config["SECRET_KEY"] = SECRET  # the middleware and session_user read the app's settings
    app.add_middleware(login.FlaskSessionMiddleware)
    app.add_exception_handler(login.LoginRefused, login.answer_login_refused)
    session_cookie = APIKeyCookie(name="session", auto_error=False)

    def load_user(user_id):
        return users.get(user_id)

    def current_user(request: Request, cookie: Annotated[str | None, Depends(session_cookie)]) -> Any:
        return login.session_user(request, load_user)

    def login_required_user(request: Request, user: Annotated[Any, Depends(current_user)]) -> Any:
        if not user.is_authenticated:
            if login_view is None:
                raise HTTPException(status_code=401)
            url = login_view if login_view.startswith(("/", "http")) else request.url_for(login_view).path
            raise login.LoginRefused(login.login_redirect(request, url))
        return user

    @app.post("/login/{user_id}")
    def do_login(request: Request, user_id: str, remember: str | None = None):
        return {"ok": login.login_user(request, users[user_id], remember=remember == "1")}

    @app.get("/login", name="login_page", response_class=HTMLResponse)
    def login_page():
        return "the login page"

    @app.post("/logout", dependencies=[Depends(login_required_user)])
    def do_logout(request: Request):
        login.logout_user(request)
        return {"ok": True}

    @app.get("/me")
    def me(user: Annotated[Any, Depends(login_required_user)]):
        return {"name": user.name, "id": user.get_id()}

    @app.get("/hello")
    def hello(user: Annotated[Any, Depends(current_user)]):
        return {"authenticated": user.is_authenticated, "anonymous": user.is_anonymous, "id": user.get_id()}

    @app.get("/fresh")
    def fresh(request: Request, user: Annotated[Any, Depends(current_user)]):
        return {"fresh": bool(request.session.get("_fresh", False))}

    return app


def clients(login_view="login_page"):
    original = flask_app({"1": FlaskUser("1", "ann"), "2": FlaskUser("2", "bob", active=False)}, login_view)
    converted = fastapi_app({"1": User("1", "ann"), "2": User("2", "bob", active=False)}, login_view)
    client = original.test_client()
    client.environ_base.update(HTTP_USER_AGENT=AGENT, HTTP_X_FORWARDED_FOR=ADDRESS)
    # the same browser and address, so that Flask-Login's session identifier is the same
    headers = {"X-Forwarded-For": ADDRESS}
    return client, TestClient(converted, base_url="http://localhost", follow_redirects=False, headers=headers)


def flask_answer(response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "body": response.get_json() if response.is_json else response.get_data(as_text=True),
        "location": response.headers.get("Location"),
        "vary": response.headers.get("Vary"),
    }


def fastapi_answer(response) -> dict[str, Any]:
    json = "json" in response.headers.get("content-type", "")
    return {
        "status": response.status_code,
        "body": response.json() if json else response.text,
        "location": response.headers.get("location"),
        "vary": response.headers.get("vary"),
    }


def session_data(cookie: str) -> dict[str, Any]:
    return flask.sessions.SecureCookieSessionInterface().get_signing_serializer(flask_app({}, None)).loads(cookie)


def set_cookies(headers: list[str]) -> dict[str, str]:
    """name -> the Set-Cookie value without its value and dates (those differ by design: time)."""
    out = {}
    for header in headers:
        name, _, rest = header.partition("=")
        attributes = [a for a in rest.split("; ")[1:] if not a.startswith(("Expires=", "Max-Age="))]
        lifetime = "deleted" if "Max-Age=0" in rest else "dated" if "Expires=" in rest else "session-long"
        out[name] = "; ".join([*attributes, lifetime])
    return out


SCRIPT = [
    ("GET", "/me"),
    ("GET", "/me?tab=1&x=a b"),
    ("POST", "/logout"),
    ("GET", "/hello"),
    ("POST", "/login/2"),  # inactive: not logged in
    ("GET", "/me"),
    ("POST", "/login/1"),
    ("GET", "/me"),
    ("GET", "/hello"),
    ("GET", "/fresh"),
    ("POST", "/logout"),
    ("GET", "/me"),
    ("GET", "/hello"),
    ("POST", "/login/1?remember=1"),
    ("GET", "/me"),
    ("POST", "/logout"),
    ("GET", "/me"),
]


@pytest.mark.parametrize("login_view", ["login_page", None])
def test_a_scripted_session_answers_as_flask_login_did(login_view):
    original, converted = clients(login_view)
    for method, path in SCRIPT:
        before = original.open(path, method=method)
        after = converted.request(method, path)
        assert fastapi_answer(after) == flask_answer(before), (method, path)
        assert set_cookies(after.headers.get_list("set-cookie")) == set_cookies(before.headers.getlist("Set-Cookie")), (method, path)
    first = flask_answer(clients(login_view)[0].get("/me"))
    if login_view:
        assert first["status"] == 302 and first["location"] == "/login?next=%2Fme"
    else:
        assert first["status"] == 401


def test_the_session_cookie_has_flasks_content():
    original, converted = clients()
    original.post("/login/1")
    converted.post("/login/1")
    flask_cookie = original.get_cookie("session").value
    ours = converted.cookies["session"]
    assert session_data(ours) == session_data(flask_cookie)
    assert set(session_data(ours)) == {"_user_id", "_fresh", "_id"}
    # the same signed payload (only the timestamp and the signature over it differ)
    assert ours.split(".")[0] == flask_cookie.split(".")[0]


def test_cookies_cross_the_cutover_both_ways():
    original, converted = clients()
    original.post("/login/1")
    converted.cookies.set("session", original.get_cookie("session").value)
    assert converted.get("/me").json() == {"name": "ann", "id": "1"}

    original, converted = clients()
    converted.post("/login/1")
    original.set_cookie("session", converted.cookies["session"])
    assert original.get("/me").get_json() == {"name": "ann", "id": "1"}


def test_a_remember_cookie_crosses_the_cutover():
    original, converted = clients()
    original.post("/login/1?remember=1")
    remember = original.get_cookie("remember_token").value
    converted.cookies.set("remember_token", remember)
    assert converted.get("/me").json() == {"name": "ann", "id": "1"}
    restored = session_data(converted.cookies["session"])
    fresh_original = clients()[0]
    fresh_original.set_cookie("remember_token", remember)
    assert fresh_original.get("/me").status_code == 200
    assert restored == session_data(fresh_original.get_cookie("session").value) == {"_user_id": "1", "_fresh": False}

    original, converted = clients()
    converted.post("/login/1?remember=1")
    original.set_cookie("remember_token", converted.cookies["remember_token"])
    assert original.get("/me").get_json() == {"name": "ann", "id": "1"}


def test_a_forged_or_foreign_cookie_logs_nobody_in():
    for cookie in ("eyJfdXNlcl9pZCI6IjEifQ.forged.signature", "garbage"):
        original, converted = clients(None)
        original.set_cookie("session", cookie)
        converted.cookies.set("session", cookie)
        assert converted.get("/me").status_code == original.get("/me").status_code == 401
    other = flask.Flask(__name__)
    other.config["SECRET_KEY"] = "another key"
    foreign = flask.sessions.SecureCookieSessionInterface().get_signing_serializer(other).dumps({"_user_id": "1"})
    converted = clients(None)[1]
    converted.cookies.set("session", foreign)
    assert converted.get("/me").status_code == 401


def test_the_login_redirect_flashes_as_flask_login_did():
    original, converted = clients()
    original.get("/me")
    converted.get("/me")
    flashed = session_data(converted.cookies["session"])["_flashes"]
    assert flashed == session_data(original.get_cookie("session").value)["_flashes"] == [("message", login.LOGIN_MESSAGE)]


def test_tagged_json_is_flasks_byte_for_byte():
    import uuid
    from datetime import datetime, timezone

    value = {
        "t": (1, "a", [("x", b"\x00y")]),
        "b": b"\x00x",
        "u": uuid.UUID(int=5),
        "d": datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        "nested": {" t": 1},  # a dict whose one key looks like a tag
        "é": "ünïcode",
    }
    flasks = flask.json.tag.TaggedJSONSerializer()
    with flask_app({}, None).app_context():  # Flask writes the session in the app's context (sorted keys)
        expected = flasks.dumps(value)
    assert login._TaggedJSON.dumps(value) == expected
    assert login._TaggedJSON.loads(expected) == flasks.loads(expected) == value


def test_a_remember_cookie_of_a_removed_user_is_taken_as_flask_login_took_it():
    original, converted = clients(None)
    with original.application.test_request_context():
        cookie = flask_login.utils.encode_cookie("9")  # signed, but user 9 is no more
    original.set_cookie("remember_token", cookie)
    converted.cookies.set("remember_token", cookie)
    before, after = original.get("/me"), converted.get("/me")
    assert fastapi_answer(after) == flask_answer(before)
    assert before.status_code == 401
    kept = session_data(converted.cookies["session"])
    assert kept == session_data(original.get_cookie("session").value) == {"_user_id": "9", "_fresh": False}


@pytest.mark.parametrize("login_view", ["/sign-in?next=old&lang=en", "https://accounts.example/login", "/sign-in?a=1&a=2"])
def test_a_login_url_given_as_a_url_gets_next_as_flask_login_wrote_it(login_view):
    original, converted = clients(login_view)
    for path in ("/me?x=1", "/me"):
        assert fastapi_answer(converted.get(path)) == flask_answer(original.get(path))


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.pop("missing", None),
        lambda s: s.pop("a"),
        lambda s: s.setdefault("a", 9),
        lambda s: s.setdefault("new", 9),
        lambda s: s.__setitem__("a", 1),
        lambda s: s.__delitem__("a"),
        lambda s: s.clear(),
        lambda s: s.get("a"),
        lambda s: "a" in s,
    ],
)
def test_the_session_knows_a_change_as_flasks_does(change):
    """A pop of a missing key or a setdefault of a present one changes nothing for Flask's
    session (werkzeug's CallbackDict), so its cookie is not written again: nor is ours."""
    from flask.sessions import SecureCookieSession

    theirs, ours = SecureCookieSession({"a": 1}), login.FlaskSession({"a": 1})
    assert change(theirs) == change(ours)
    assert (dict(theirs), theirs.modified) == (dict(ours), ours.modified)
    assert ours.accessed
