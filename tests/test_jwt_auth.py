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
# the tokens below are made once, at import: valid (or not yet) for a day, not for as long as a
# run takes to reach this module (a run split across workers may take it up last)
DAY = 24 * 3600


def token(secret: str = SECRET, algorithm: str = "HS256", **claims: object) -> str:
    """A token as Flask-JWT-Extended makes them; ``claim=None`` leaves the claim out."""
    data = {"fresh": False, "iat": NOW, "nbf": NOW, "jti": "jti-1", "type": "access", "sub": "ann", "exp": NOW + DAY}
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
    "not yet valid": bearer(token(nbf=NOW + DAY)),
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
    # the app's hook runs where no route matches (a 401 before the 404), the blueprint's only on its routes
    {"method": "GET", "path": "/account/nothing-here"},
    {"method": "GET", "path": "/account/nothing-here", "headers": ANN},
    {"method": "GET", "path": "/reports/nothing-here"},
    {"method": "HEAD", "path": "/reports/daily", "headers": ROOT},
    {"method": "HEAD", "path": "/account/settings"},
    # OPTIONS is exempt from verification: Flask answers it where only the app's hook verifies, and
    # fails where the blueprint's hook then reads a token no one verified
    {"method": "OPTIONS", "path": "/account/settings", "expect_headers": ["Allow"]},
    {"method": "OPTIONS", "path": "/reports/daily"},
    {"method": "GET", "path": "/admin/users", "headers": bearer(token(role="admin", type="refresh", jti="r-9"))},
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
    assert [a["status"] for a in original] == [200, 200, 401, 200, 401, 200, 200, 401, 200, 401, 200, 404, 404, 401, 404, 404, 200, 401, 200, 500, 422]
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



def test_views_take_their_token_from_a_dependency_and_no_flask_is_left(converted):
    """What the answers above were given by: the views' dependencies (the runtime's JWTAuth),
    not Flask-JWT-Extended; the hooks verify with the runtime as RequestHooks middleware, the
    project's role decorator is a dependency, and Flask leaves the project."""
    code = {name: (converted / "jwtshop" / f"{name}.py").read_text() for name in ("app", "orders", "extensions", "auth", "reports")}
    app, orders, extensions, auth, reports = code.values()
    assert "def me(token: Annotated[JWT, Depends(jwt.required())]):" in app
    assert "def refresh(token: Annotated[JWT, Depends(jwt.required(refresh=True))]):" in app
    assert "def greeting(token: Annotated[JWT, Depends(jwt.required(optional=True))]):" in app
    assert "def cancel(order_id: int, token: Annotated[JWT, Depends(jwt.required(fresh=True))]):" in orders
    assert "jwt_required" not in app + orders and "current_user" not in orders
    assert "jwt = JWTAuth()" in extensions
    # the hooks: middleware verifying with the runtime, answering as jsonify did
    assert "async def account_pages_need_a_token(request: Request):" in app
    assert "        request.state.jwt = await jwt.verify(request)\n" in app
    assert "api.add_middleware(RequestHooks, before=[account_pages_need_a_token], blueprints={\"reports\": BlueprintHooks(before=[reports_need_an_admin])})" in app
    assert "async def reports_need_an_admin(request: Request):\n    request.state.jwt = await jwt.verify(request)\n" in reports
    assert 'return FlaskJSONResponse({"msg": "reports are for admins"}, status_code=403)' in reports
    # the views reading the token a hook verified take it from request.state, through a dependency
    assert "def settings(token: Annotated[JWT, Depends(jwt.current)]):" in app
    assert "def daily(token: Annotated[JWT, Depends(jwt.current)]):" in reports
    # the project's decorator: a dependency factory
    assert '@api.get("/admin/users", dependencies=[Depends(role_required("admin"))])' in app
    assert "    def decorator(token: Annotated[JWT, Depends(jwt.required())]):" in auth
    assert '            raise Refused(FlaskJSONResponse({"msg": f"{role} only"}, status_code=403))' in auth
    assert all("flask" not in text.replace("flask2fastapi", "") for text in code.values())
    script = (
        "from jwtshop.app import api; paths = api.openapi()['paths'];"
        "print(paths['/me']['get'].get('security'), paths['/public']['get'].get('security'))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=converted, capture_output=True, text=True, timeout=120)
    assert done.stdout.split("\n")[0] == "[{'HTTPBearer': []}] None", done.stderr[-2000:]


def test_converting_it_again_changes_nothing(converted):
    from typer.testing import CliRunner

    from codemod.cli import app as cli

    result = CliRunner().invoke(cli, ["convert", str(converted), "--check"])
    assert result.exit_code == 0, result.output
