"""Flask-JWT-Extended: every protected route of a Flask app refuses after conversion exactly what
it refused before, with the same status and body, and tokens carry over between the two apps.

The tokens are signed here with PyJWT under the fixture's secret (its config.py), so that both
apps get the very same tokens: those the apps issue themselves differ (iat, jti) and are
compared by what they carry, not byte for byte.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "jwt"
SPEC = "jwtshop.app:app"
SECRET = "jwtshop-fixture-secret-not-for-production"
NOW = int(datetime.datetime.now(datetime.timezone.utc).timestamp())


def token(secret: str = SECRET, algorithm: str = "HS256", **claims: object) -> str:
    """A token as Flask-JWT-Extended makes them; ``claim=None`` leaves the claim out."""
    data = {"fresh": False, "iat": NOW, "nbf": NOW, "jti": "jti-1", "type": "access", "sub": "ann", "exp": NOW + 600}
    data.update(claims)
    return jwt.encode({k: v for k, v in data.items() if v is not None}, secret, algorithm)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


ANN = bearer(token(role="user", jti="ann-1"))
ROOT = bearer(token(sub="root", role="admin", jti="root-1"))
ROOT_FRESH = bearer(token(sub="root", role="admin", fresh=True, jti="root-2"))
ANN_FRESH_UNTIL_PAST = bearer(token(role="user", fresh=NOW - 60, jti="ann-2"))
ANN_REFRESH = bearer(token(type="refresh", jti="ann-3"))
# what every protected route is asked with: the refusals of Flask-JWT-Extended, one by one
BAD = {
    "no token": {},
    "empty header": {"Authorization": ""},
    "another scheme": {"Authorization": "Basic YW5uOnB3"},
    "no token after the type": {"Authorization": "Bearer"},
    "too many parts": {"Authorization": f"Bearer {token()} extra"},
    "malformed": bearer("not-a-jwt"),
    "bad base64": bearer("a.b.c"),
    "bad signature": bearer(token(secret="someone-elses-secret-of-32-bytes-or-more")),
    "expired": bearer(token(exp=NOW - 60, jti="old-1")),
    "not yet valid": bearer(token(nbf=NOW + 600)),
    "unsigned": bearer(token(secret=None, algorithm="none")),
    "no subject": bearer(token(sub=None)),
    "subject not a string": bearer(token(sub=7)),
    "unknown user": bearer(token(sub="ghost")),
    "refresh for access": ANN_REFRESH,
    "access for refresh": ANN,
    "no type claim": bearer(token(type=None, role="user")),
    "among other credentials": {"Authorization": f"Basic YW5uOnB3, {ANN['Authorization']}"},
    "small role": ANN,
    "good": ROOT,
    "fresh": ROOT_FRESH,
    "freshness over": ANN_FRESH_UNTIL_PAST,
}
PROTECTED = [
    ("GET", "/me"),
    ("GET", "/greeting"),
    ("GET", "/admin/stats"),
    ("GET", "/admin/users"),
    ("GET", "/orders/"),
    ("DELETE", "/orders/1"),
    ("POST", "/refresh"),
    ("GET", "/account/settings"),  # by a before_request hook
    ("GET", "/reports/daily"),  # by a blueprint's before_request hook
]
ROUTE_BY_ROUTE = [
    {"method": method, "path": path, "headers": headers, "case": case}
    for method, path in PROTECTED
    for case, headers in BAD.items()
]
SEQUENCE = [
    {"method": "GET", "path": "/public"},
    {"method": "OPTIONS", "path": "/me", "expect_headers": ["Allow"]},  # Flask answers OPTIONS itself
    {"method": "HEAD", "path": "/me"},
    {"method": "HEAD", "path": "/me", "headers": ANN},
    {"method": "POST", "path": "/login", "json": {"username": "ann", "password": "nope"}},
    {"method": "GET", "path": "/me", "headers": bearer(token(jti="to-revoke", role="user"))},
    {"method": "DELETE", "path": "/logout", "headers": bearer(token(jti="to-revoke", role="user"))},
    {"method": "GET", "path": "/me", "headers": bearer(token(jti="to-revoke", role="user"))},  # revoked now
    {"method": "DELETE", "path": "/logout", "headers": bearer(token(type="refresh", jti="refresh-to-revoke"))},
    {"method": "POST", "path": "/refresh", "headers": bearer(token(type="refresh", jti="refresh-to-revoke"))},
    {"method": "GET", "path": "/admin/stats", "headers": ROOT},
    {"method": "DELETE", "path": "/orders/abc"},  # Flask matched the URL first: a 404, not a 401
    {"method": "DELETE", "path": "/orders/-1", "headers": bearer("bad")},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("jwt") / "converted")


def _without_tokens(answers: list[dict]) -> list[dict]:
    """The answers with the tokens an app issued itself replaced by what they claim."""
    for answer in answers:
        body = answer["body"]
        if isinstance(body, dict):
            for key in ("access_token", "refresh_token"):
                if key in body:
                    claims = jwt.decode(body[key], SECRET, algorithms=["HS256"])
                    body[key] = {k: v for k, v in claims.items() if k not in ("iat", "nbf", "exp", "jti", "csrf")}
    return answers


def test_every_protected_route_refuses_what_it_refused(converted):
    original = _without_tokens(answers_in(PROJECT / "input", SPEC, ROUTE_BY_ROUTE))
    by_case = {(r["path"], r["case"]): a for r, a in zip(ROUTE_BY_ROUTE, original)}
    # the original's refusals, so that the comparison cannot pass on two broken apps
    assert by_case["/me", "no token"]["status"] == 401
    assert by_case["/me", "no token"]["body"] == {"error": "authorization_required", "msg": "Missing Authorization Header"}
    assert by_case["/me", "malformed"]["body"] == {"msg": "Not enough segments"}
    assert by_case["/me", "bad signature"] == {**by_case["/me", "bad signature"], "status": 422, "body": {"msg": "Signature verification failed"}}
    assert by_case["/me", "too many parts"]["body"] == {"msg": "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'"}
    assert by_case["/me", "expired"]["status"] == 401
    assert by_case["/me", "expired"]["body"] == {"error": "token_expired", "msg": "The access token has expired"}
    assert by_case["/me", "refresh for access"]["body"] == {"msg": "Only non-refresh tokens are allowed"}
    assert by_case["/refresh", "access for refresh"]["body"] == {"msg": "Only refresh tokens are allowed"}
    assert by_case["/me", "unknown user"]["body"] == {"msg": "Error loading the user ghost"}
    assert by_case["/admin/stats", "small role"]["status"] == 403
    assert by_case["/admin/users", "small role"]["body"] == {"msg": "admin only"}
    assert by_case["/orders/1", "good"]["body"] == {"msg": "Fresh token required"}
    assert by_case["/orders/1", "fresh"]["body"] == {"cancelled": 1, "by": "Root"}
    assert by_case["/greeting", "no token"]["body"] == {"greeting": "hello stranger"}
    assert by_case["/admin/stats", "good"]["status"] == 200
    assert by_case["/account/settings", "no token"]["status"] == 401
    assert by_case["/account/settings", "bad signature"]["status"] == 422
    assert by_case["/account/settings", "small role"]["body"] == {"user": "ann", "theme": "dark"}
    assert by_case["/reports/daily", "expired"]["status"] == 401
    assert by_case["/reports/daily", "small role"] == {**by_case["/reports/daily", "small role"], "status": 403}
    assert by_case["/reports/daily", "good"]["body"] == {"report": "daily", "for_": "root"}
    statuses = {a["status"] for a in original}
    assert {200, 401, 403, 422} <= statuses

    answers = _without_tokens(answers_in(converted, SPEC, ROUTE_BY_ROUTE))
    differences = [(r["case"], a, b) for r, a, b in zip(ROUTE_BY_ROUTE, original, answers) if a != b]
    assert differences == []


def test_tokens_revocation_and_the_rest_of_the_app_answer_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, SEQUENCE)
    assert [a["status"] for a in original] == [200, 200, 401, 200, 401, 200, 200, 401, 200, 401, 200, 404, 404]
    assert original[7]["body"] == {"msg": "Token has been revoked"}
    comparison = compare(PROJECT / "input", converted, SPEC, SEQUENCE)
    assert comparison.same, comparison


def test_tokens_issued_by_one_app_open_the_other(converted):
    """A user logged in on the Flask app stays logged in on the converted one, and back."""
    login = [{"method": "POST", "path": "/login", "json": {"username": "root", "password": "root-pw"}}]
    issued = {"flask": answers_in(PROJECT / "input", SPEC, login)[0], "fastapi": answers_in(converted, SPEC, login)[0]}
    flask_login, fastapi_login = _without_tokens(json.loads(json.dumps(list(issued.values()))))
    assert flask_login == fastapi_login
    assert flask_login["body"]["access_token"] == {"fresh": True, "type": "access", "sub": "root", "role": "admin"}
    for made_by, elsewhere in (("flask", converted), ("fastapi", PROJECT / "input")):
        tokens = issued[made_by]["body"]
        use = [
            {"method": "GET", "path": "/me", "headers": bearer(tokens["access_token"])},
            {"method": "DELETE", "path": "/orders/1", "headers": bearer(tokens["access_token"])},  # login tokens are fresh
            {"method": "POST", "path": "/refresh", "headers": bearer(tokens["refresh_token"])},
            {"method": "GET", "path": "/me", "headers": bearer(tokens["refresh_token"])},
        ]
        answers = _without_tokens(answers_in(elsewhere, SPEC, use))
        assert [a["status"] for a in answers] == [200, 200, 200, 422], made_by
        assert answers[0]["body"] == {"id": "root", "name": "Root", "role": "admin", "fresh": True}
        assert answers[2]["body"]["access_token"] == {"fresh": False, "type": "access", "sub": "root", "role": "admin"}


def test_the_converted_routes_keep_their_check(converted):
    """Every route that refused a request without a token carries the check as a dependency
    (seen in the OpenAPI schema as the JWT security scheme) or as a decorator that makes it, so
    a transform that drops it fails here and not only in the route by route comparison."""
    script = (
        "import json\nfrom jwtshop.app import app\n"
        "print(json.dumps({f'{m.upper()} {p}': 'security' in o for p, ops in app.openapi()['paths'].items() for m, o in ops.items()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=converted, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == {
        "POST /login": False,
        "POST /refresh": True,
        "GET /me": True,
        "GET /greeting": True,
        "GET /admin/stats": True,
        "GET /admin/users": False,  # role_required calls verify_jwt_in_request itself
        "DELETE /logout": True,
        "GET /public": False,
        "GET /account/settings": False,  # protected by a before_request hook
        "GET /reports/daily": False,  # protected by the blueprint's before_request hook
        "GET /orders/": True,
        "DELETE /orders/{order_id}": True,
    }
    assert "verify_jwt_in_request()" in (converted / "jwtshop" / "auth.py").read_text()


# -- flask_compat's JWT support next to the real extension, in one process ----------------------

SETTINGS = {
    "every location": {
        "JWT_SECRET_KEY": SECRET,
        "JWT_TOKEN_LOCATION": ["headers", "cookies", "query_string", "json"],
        "JWT_ENCODE_AUDIENCE": "shop",
        "JWT_DECODE_AUDIENCE": "shop",
    },
    "own header and names": {
        "SECRET_KEY": SECRET,  # JWT_SECRET_KEY falls back to it
        "JWT_HEADER_NAME": "X-Token",
        "JWT_HEADER_TYPE": "",
        "JWT_IDENTITY_CLAIM": "identity",
        "JWT_ERROR_MESSAGE_KEY": "error",
        "JWT_ACCESS_TOKEN_EXPIRES": 300,
        "JWT_ENCODE_ISSUER": "me",
        "JWT_DECODE_ISSUER": "me",
    },
}


def _routes(app, extension):
    """The same views on a Flask app (Flask-JWT-Extended) and on a FastAPI app (flask_compat)."""
    manager = extension.JWTManager(app)

    @manager.additional_claims_loader
    def claims(identity):
        return {"shop": identity.upper()}

    def issue():
        return {
            "access": extension.create_access_token("ann", fresh=True, additional_claims={"extra": 1}),
            "refresh": extension.create_refresh_token("ann"),
        }

    def who():
        return {"who": extension.get_jwt_identity(), "claims": sorted(extension.get_jwt()), "at": extension.get_jwt_request_location()}

    def cookies(response):
        access, refresh = extension.create_access_token("ann"), extension.create_refresh_token("ann")
        extension.set_access_cookies(response, access)
        extension.set_refresh_cookies(response, refresh, max_age=60)
        return response

    def no_cookies(response):
        extension.unset_jwt_cookies(response)
        return response

    return manager, issue, who, cookies, no_cookies


def flask_jwt_app(settings):
    import flask
    import flask_jwt_extended as extension
    from flask import Flask

    app = Flask(__name__)
    app.config.update(settings)
    _manager, issue, who, cookies, no_cookies = _routes(app, extension)
    app.post("/cookies", endpoint="cookies")(lambda: cookies(flask.jsonify(ok=True)))
    app.post("/no-cookies", endpoint="no_cookies")(lambda: no_cookies(flask.jsonify(ok=True)))
    app.post("/issue")(issue)
    app.route("/who", methods=["GET", "POST"], endpoint="who")(extension.jwt_required()(who))
    app.post("/refresh", endpoint="refresh")(extension.jwt_required(refresh=True)(who))
    app.get("/maybe", endpoint="maybe")(extension.jwt_required(optional=True)(who))
    return app


def compat_jwt_app(settings):
    from fastapi import Depends, FastAPI
    from fastapi.responses import JSONResponse

    from codemod.support import flask_compat as extension

    app = FastAPI(exception_handlers=extension.FLASK_ERRORS, middleware=extension.FLASK_MIDDLEWARE)
    extension.add_flask_attributes(app, __name__)
    app.config.update(settings)
    _manager, issue, who, cookies, no_cookies = _routes(app, extension)
    app.post("/cookies", name="cookies")(lambda: cookies(JSONResponse({"ok": True})))
    app.post("/no-cookies", name="no_cookies")(lambda: no_cookies(JSONResponse({"ok": True})))
    app.post("/issue")(issue)
    app.api_route("/who", methods=["GET", "POST"], name="who", dependencies=[Depends(extension.JWTRequired())])(who)
    app.post("/refresh", name="refresh", dependencies=[Depends(extension.JWTRequired(refresh=True))])(who)
    app.get("/maybe", name="maybe")(extension.jwt_required(optional=True)(who))  # the decorator form
    return app


def _ask(app, method, path, headers=None, cookies=None, json_body=None):
    if hasattr(app, "test_client"):
        client = app.test_client()
        for name, value in (cookies or {}).items():
            client.set_cookie(name, value)
        response = client.open(path, method=method, headers=headers, json=json_body)
        return response.status_code, response.get_json()
    from fastapi.testclient import TestClient

    response = TestClient(app, cookies=cookies).request(method, path, headers=headers, json=json_body)
    return response.status_code, response.json()


@pytest.mark.parametrize("name", SETTINGS)
def test_compat_answers_as_flask_jwt_extended_and_shares_its_tokens(name):
    settings = SETTINGS[name]
    apps = {"flask": flask_jwt_app(settings), "compat": compat_jwt_app(settings)}
    issued = {side: _ask(app, "POST", "/issue")[1] for side, app in apps.items()}
    header, kind = settings.get("JWT_HEADER_NAME", "Authorization"), settings.get("JWT_HEADER_TYPE", "Bearer")

    def carry(value):
        return {header: f"{kind} {value}".strip()}

    for made_by in ("flask", "compat"):
        access, refresh = issued[made_by]["access"], issued[made_by]["refresh"]
        csrf = jwt.decode(access, options={"verify_signature": False})["csrf"]
        refresh_csrf = jwt.decode(refresh, options={"verify_signature": False})["csrf"]
        asks = [
            ("GET", "/who", {}, None, None),
            ("GET", "/who", carry(access), None, None),
            ("GET", "/who", carry(refresh), None, None),
            ("POST", "/refresh", carry(refresh), None, None),
            ("POST", "/refresh", carry(access), None, None),
            ("GET", "/maybe", {}, None, None),
            ("GET", "/maybe", carry(access), None, None),
            ("GET", "/maybe", carry("x.y.z"), None, None),
            ("GET", "/who", carry(token()), None, None),  # no audience / issuer, or another claim name
            ("GET", "/who", {header: f"{kind} {access} more".strip()}, None, None),
            ("GET", f"/who?jwt={access}", {}, None, None),
            ("GET", "/who?jwt=", {}, None, None),
            ("POST", "/who", {}, None, {"access_token": access}),
            ("POST", "/who", {}, None, {"other": 1}),
            ("GET", "/who", {}, {"access_token_cookie": access}, None),
            ("POST", "/who", {}, {"access_token_cookie": access}, None),  # no CSRF header
            ("POST", "/who", {"X-CSRF-TOKEN": "wrong"}, {"access_token_cookie": access}, None),
            ("POST", "/who", {"X-CSRF-TOKEN": csrf}, {"access_token_cookie": access}, None),
            ("POST", "/refresh", {"X-CSRF-TOKEN": refresh_csrf}, {"refresh_token_cookie": refresh}, None),
        ]
        for ask in asks:
            answers = {side: _ask(app, *ask) for side, app in apps.items()}
            assert answers["flask"] == answers["compat"], (made_by, ask)
        if name == "every location":
            assert _ask(apps["flask"], *asks[0]) == (
                401,
                {"msg": 'Missing JWT in headers, cookies, query_string or json (Missing Authorization Header; '
                        'Missing cookie "access_token_cookie"; Missing \'jwt\' query paramater; '
                        'Invalid content-type. Must be application/json.)'},
            )
            assert _ask(apps["flask"], *asks[17])[0] == 200
            assert _ask(apps["flask"], *asks[16]) == (401, {"msg": "CSRF double submit tokens do not match"})
        else:
            assert _ask(apps["flask"], *asks[0]) == (401, {"error": "Missing X-Token Header"})
            assert _ask(apps["flask"], *asks[8]) == (422, {"error": 'Token is missing the "iss" claim'})


def test_what_the_converted_modules_import_they_use(converted):
    """A jwt_required that became a dependency leaves no import of it behind."""
    import ast

    for path in (converted / "jwtshop").glob("*.py"):
        if path.name == "flask_compat.py":
            continue
        tree = ast.parse(path.read_text())
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
            n.value.id for n in ast.walk(tree) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
        }
        assert imported - used == set(), path.name


def test_a_before_hook_that_refuses_is_answered_as_flask_answers_it():
    """Exceptions raised in a before hook (abort, a refused token) reach the app's handlers, as
    Flask's errorhandlers got them, instead of becoming a 500."""
    import flask
    import flask_jwt_extended
    from fastapi import FastAPI, HTTPException
    from fastapi.testclient import TestClient

    from codemod.support import flask_compat

    original = flask.Flask(__name__)
    original.config["JWT_SECRET_KEY"] = SECRET
    flask_jwt_extended.JWTManager(original)

    @original.before_request
    def guard():
        if flask.request.path == "/stop":
            flask.abort(403)
        flask_jwt_extended.verify_jwt_in_request()

    original.get("/stop")(lambda: {"stopped": True})
    original.get("/in", endpoint="in")(lambda: {"in": flask_jwt_extended.get_jwt_identity()})

    converted = FastAPI(exception_handlers=flask_compat.FLASK_ERRORS, middleware=flask_compat.FLASK_MIDDLEWARE)
    flask_compat.add_flask_attributes(converted, __name__)
    converted.config["JWT_SECRET_KEY"] = SECRET
    flask_compat.JWTManager(converted)

    @flask_compat.before_request(converted)
    def converted_guard():
        if flask_compat.request.path == "/stop":
            raise HTTPException(status_code=403)
        flask_compat.verify_jwt_in_request()

    converted.get("/stop")(lambda: {"stopped": True})
    converted.get("/in")(lambda: {"in": flask_compat.get_jwt_identity()})

    flask_client, fastapi_client = original.test_client(), TestClient(converted)
    for path, headers in (("/stop", {}), ("/in", {}), ("/in", bearer("nope")), ("/in", ANN)):
        before, after = flask_client.get(path, headers=headers), fastapi_client.get(path, headers=headers)
        assert (after.status_code, after.text.strip()) == (before.status_code, before.text.strip()), path
    assert flask_client.get("/in").status_code == 401
    assert flask_client.get("/stop").status_code == 403


def _set_cookies(app, path):
    """The cookies a response sets: name -> (whether it has a value, its attributes); the
    expiry as a date to the minute."""
    from email.utils import parsedate_to_datetime

    if hasattr(app, "test_client"):
        headers = app.test_client().post(path).headers.getlist("Set-Cookie")
    else:
        from fastapi.testclient import TestClient

        headers = TestClient(app).post(path).headers.get_list("set-cookie")
    cookies = {}
    for header in headers:
        pair, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = pair.partition("=")
        found = {}
        for attribute in attributes:
            key, _, text = attribute.partition("=")
            key = key.lower()
            found[key] = parsedate_to_datetime(text).strftime("%Y-%m-%d %H:%M") if key == "expires" else text.lower()
        cookies[name] = (value not in ("", '""'), found)
    return cookies


@pytest.mark.parametrize("session_cookie", [True, False])
def test_compat_sets_and_unsets_the_cookies_flask_jwt_extended_sets(session_cookie):
    settings = {**SETTINGS["every location"], "JWT_SESSION_COOKIE": session_cookie, "JWT_COOKIE_SAMESITE": "Strict"}
    apps = {"flask": flask_jwt_app(settings), "compat": compat_jwt_app(settings)}
    for path in ("/cookies", "/no-cookies"):
        made = {side: _set_cookies(app, path) for side, app in apps.items()}
        assert made["flask"] == made["compat"], path
    assert set(made["flask"]) == {"access_token_cookie", "csrf_access_token", "refresh_token_cookie", "csrf_refresh_token"}
    assert made["flask"]["access_token_cookie"] == (False, {"expires": "1970-01-01 00:00", "httponly": "", "path": "/", "samesite": "strict"})


def _with_loaders(app, extension):
    """The app's own answers for every kind of refusal, returning what a Flask view may."""
    manager = extension.JWTManager(app)
    manager.invalid_token_loader(lambda reason: ({"why": "invalid", "reason": reason}, 400))
    manager.needs_fresh_token_loader(lambda header, data: ({"why": "stale", "sub": data["sub"]}, 409))
    manager.revoked_token_loader(lambda header, data: ({"why": "revoked", "jti": data["jti"]}, 410))
    manager.token_in_blocklist_loader(lambda header, data: data["jti"] == "revoked")
    manager.user_lookup_loader(lambda header, data: {"name": data["sub"]} if data["sub"] != "ghost" else None)
    manager.user_lookup_error_loader(lambda header, data: ({"why": "who", "sub": data["sub"]}, 404))
    manager.token_verification_loader(lambda header, data: data.get("tier") != "banned")
    manager.token_verification_failed_loader(lambda header, data: ({"why": "banned"}, 451))
    manager.user_identity_loader(lambda user: user["name"])
    manager.additional_headers_loader(lambda user: {"kid": "k1"})

    def me():
        user = extension.get_current_user()
        return {"user": user["name"], "kid": extension.get_jwt_header().get("kid"), "sub": extension.get_jwt_identity()}

    def issue():
        access = extension.create_access_token({"name": "ann"}, fresh=datetime.timedelta(minutes=5))
        return {"access": access}

    return me, issue


def test_the_apps_own_loaders_answer_in_both():
    import flask
    import flask_jwt_extended
    from fastapi import Depends, FastAPI
    from fastapi.testclient import TestClient

    from codemod.support import flask_compat

    original = flask.Flask(__name__)
    original.config["JWT_SECRET_KEY"] = SECRET
    me, issue = _with_loaders(original, flask_jwt_extended)
    original.get("/me", endpoint="me")(flask_jwt_extended.jwt_required(fresh=True)(me))
    original.post("/issue", endpoint="issue")(issue)

    converted = FastAPI(exception_handlers=flask_compat.FLASK_ERRORS, middleware=flask_compat.FLASK_MIDDLEWARE)
    flask_compat.add_flask_attributes(converted, __name__)
    converted.config["JWT_SECRET_KEY"] = SECRET
    me, issue = _with_loaders(converted, flask_compat)
    converted.get("/me", dependencies=[Depends(flask_compat.JWTRequired(fresh=True))])(me)
    converted.post("/issue")(issue)

    flask_client, fastapi_client = original.test_client(), TestClient(converted)
    issued = flask_client.post("/issue").get_json()["access"]
    for headers in (
        bearer(issued),
        bearer(fastapi_client.post("/issue").json()["access"]),
        bearer("x.y"),
        bearer(token(fresh=False)),
        bearer(token(fresh=True, jti="revoked")),
        bearer(token(fresh=True, sub="ghost")),
        bearer(token(fresh=True, tier="banned")),
        bearer(token(fresh=True, sub=None)),
    ):
        before, after = flask_client.get("/me", headers=headers), fastapi_client.get("/me", headers=headers)
        assert (after.status_code, after.json()) == (before.status_code, before.get_json()), headers
    assert flask_client.get("/me", headers=bearer(issued)).get_json() == {"user": "ann", "kid": "k1", "sub": "ann"}
    assert flask_client.get("/me", headers=bearer(token(fresh=True, tier="banned"))).status_code == 451
