"""Flask-JWT-Extended taken over whole: a project whose only Flask is its app and its tokens
(fixtures/projects/jwtalone) leaves Flask and Flask-JWT-Extended, every route idiomatic, and
answers every request as before: tokens in headers, cookies and the query string, the app's own
refusal loaders, revocation, freshness, and tokens either app issued."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, route_table_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "jwtalone"
SPEC = "tokens.app:app"
SECRET = "jwtalone-fixture-secret-not-for-production"
NOW = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
# Flask and its extensions cannot be imported in the process this starts
NO_FLASK = """
import importlib.abc, sys
class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "werkzeug", "flask_jwt_extended"):
            raise ImportError(f"{name} is blocked")
sys.meta_path.insert(0, NoFlask())
"""


# the tokens below are made once, at import: valid for a day, not for as long as a run takes to
# reach this module (a run split across workers may take it up last)
DAY = 24 * 3600


def token(**claims: object) -> str:
    data = {"fresh": False, "iat": NOW, "nbf": NOW, "jti": "j-1", "type": "access", "sub": "ann", "exp": NOW + DAY}
    data.update(claims)
    return jwt.encode({k: v for k, v in data.items() if v is not None}, SECRET, "HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


CASES = {
    "nothing": {},
    "bad header": {"headers": {"Authorization": "Bearer a b"}},
    "malformed": {"headers": bearer("x.y")},
    "expired": {"headers": bearer(token(exp=NOW - 5))},
    "refresh token": {"headers": bearer(token(type="refresh", jti="r-1"))},
    "unknown user": {"headers": bearer(token(sub="eve"))},
    "access": {"headers": bearer(token())},
    "fresh": {"headers": bearer(token(fresh=True, sub="bob"))},
    "cookie": {"cookies": {"access_token_cookie": token()}},
    "cookie without csrf": {"cookies": {"access_token_cookie": token(csrf="c")}},
    "cookie with csrf": {"cookies": {"access_token_cookie": token(csrf="c", fresh=True)}, "headers": {"X-CSRF-TOKEN": "c"}},
    "wrong csrf": {"cookies": {"access_token_cookie": token(csrf="c", fresh=True)}, "headers": {"X-CSRF-TOKEN": "d"}},
    "refresh cookie": {"cookies": {"refresh_token_cookie": token(type="refresh", jti="r-2")}},
    "query": {"query": f"jwt={token()}"},
}
ROUTES = [("GET", "/me"), ("POST", "/refresh"), ("GET", "/hello"), ("PUT", "/password")]
REQUESTS = [
    {"method": method, "path": path + (f"?{case['query']}" if "query" in case else ""), "headers": case.get("headers", {})}
    | ({"cookies": case["cookies"]} if "cookies" in case else {})
    for method, path in ROUTES
    for case in CASES.values()
] + [
    {"method": "POST", "path": "/login?name=eve"},
    {"method": "GET", "path": "/me", "headers": bearer(token(jti="gone"))},
    {"method": "DELETE", "path": "/logout", "headers": bearer(token(jti="gone"))},
    {"method": "GET", "path": "/me", "headers": bearer(token(jti="gone"))},  # revoked now
    {"method": "OPTIONS", "path": "/me", "expect_headers": ["Allow"]},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("jwtalone") / "converted")


def test_flask_and_flask_jwt_extended_left(converted):
    app = (converted / "tokens" / "app.py").read_text()
    assert "flask_jwt_extended" not in app and "from flask " not in app and "NativeApp(__name__)" in app
    assert "def me(token: Annotated[JWT, Depends(jwt.required())]):" in app
    assert "def change_password(token: Annotated[JWT, Depends(jwt.required(fresh=True))]):" in app
    assert (converted / "requirements.txt").read_text().split() == ["flask2fastapi-runtime[jwt]>=0.1,<0.2"]
    site = converted.parent / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(NO_FLASK)
    script = "from tokens.app import app; print(sorted(app.openapi()['components']['securitySchemes']))"
    env = {"PYTHONPATH": f"{site}:{converted}", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script], cwd=converted, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["['HTTPBearer']"], done.stderr[-2000:]


def test_every_route_answers_as_before(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    statuses = [a["status"] for a in original]
    assert {200, 401, 422} <= set(statuses)
    assert original[0]["body"] == {"error": "Missing JWT in headers, cookies or query_string (Missing Authorization Header; Missing cookie \"access_token_cookie\"; Missing 'jwt' query paramater)"}
    assert original[2]["body"]["error"] == "invalid_token"  # the app's own loader
    assert [a["status"] for a in original[-4:-1]] == [200, 200, 401]
    by_case = dict(zip([f"{m} {p} {c}" for m, p in ROUTES for c in CASES], original))
    assert by_case["PUT /password access"]["body"] == {"error": "fresh_token_required", "user": "ann"}
    assert by_case["PUT /password cookie with csrf"]["body"] == {"changed_for": "Ann"}
    assert by_case["PUT /password cookie without csrf"]["body"] == {"error": "Missing CSRF token"}
    assert by_case["PUT /password wrong csrf"]["body"] == {"error": "CSRF double submit tokens do not match"}
    assert by_case["GET /me cookie"]["status"] == 200 and by_case["GET /hello query"]["body"] == {"hello": "ann"}
    assert route_table_in(converted, SPEC) == route_table_in(PROJECT / "input", SPEC)
    answers = answers_in(converted, SPEC, REQUESTS)
    assert [(r, a) for r, a, b in zip(REQUESTS, _claimed(original), _claimed(answers)) if a != b] == []


def _claimed(answers: list[dict]) -> list[dict]:
    """The answers with each token an app issued itself as what it claims (iat, jti... differ)."""
    for answer in answers:
        body = answer["body"]
        if isinstance(body, dict) and "access_token" in body:
            claims = jwt.decode(body["access_token"], SECRET, algorithms=["HS256"])
            body["access_token"] = {k: v for k, v in claims.items() if k not in ("iat", "nbf", "exp", "jti", "csrf")}
    return answers


def test_a_login_on_either_app_opens_the_other(converted):
    login = [{"method": "POST", "path": "/login?name=bob"}]
    for issuer, other in ((PROJECT / "input", converted), (converted, PROJECT / "input")):
        tokens = answers_in(issuer, SPEC, login)[0]["body"]
        claims = jwt.decode(tokens["access_token"], SECRET, algorithms=["HS256"])
        assert set(claims) == {"fresh", "iat", "nbf", "jti", "type", "sub", "exp", "csrf"} and claims["exp"] - claims["iat"] == 600
        use = [
            {"method": "PUT", "path": "/password", "headers": bearer(tokens["access_token"])},
            {"method": "POST", "path": "/refresh", "headers": bearer(tokens["refresh_token"])},
        ]
        answers = answers_in(other, SPEC, use)
        assert [a["status"] for a in answers] == [200, 200], (issuer, answers)
        assert answers[0]["body"] == {"changed_for": "Bob"}


def test_converting_it_again_changes_nothing(converted):
    from typer.testing import CliRunner

    from codemod.cli import app as cli

    result = CliRunner().invoke(cli, ["convert", str(converted), "--check"])
    assert result.exit_code == 0, result.output
