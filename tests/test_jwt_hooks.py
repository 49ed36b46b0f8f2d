"""Flask-JWT-Extended in before_request hooks and in the project's own decorator
(transforms/jwt_hooks.py), on an app that keeps Flask (a bridge) and on one whose hook cannot be
converted: the converted app refuses what the original refused, with the same status, body and
headers, and in the same order relative to the app's other hooks.

The tokens are signed here with PyJWT under the apps' secret, so that both apps get the very
same tokens.
"""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from codemod.cli import app as cli
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

SECRET = "jwt-hooks-test-secret-of-32-bytes-or-more"
NOW = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
DAY = 24 * 3600

BRIDGED = f'''
from functools import wraps

from flask import Flask, jsonify, render_template_string, request
from flask_jwt_extended import JWTManager, get_jwt, get_jwt_identity, verify_jwt_in_request

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = "{SECRET}"
jwt = JWTManager(app)


@jwt.invalid_token_loader
def invalid(reason):
    return jsonify(error="invalid", why=reason), 422


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        verify_jwt_in_request(fresh=True)
        if get_jwt().get("role") != "admin":
            return jsonify(msg="admins only", who=get_jwt_identity()), 403
        return view(*args, **kwargs)

    return wrapped


@app.before_request
def closed_for_now():
    if request.path == "/api/closed":
        return {{"closed": True}}, 503


@app.before_request
def api_needs_a_token():
    if request.path.startswith("/api/"):
        verify_jwt_in_request()
        if get_jwt_identity() == "banned":
            return jsonify(msg="banned"), 403


@app.route("/api/me")
def me():
    return jsonify(user=get_jwt_identity(), role=get_jwt().get("role"))


@app.route("/api/closed")
def closed():
    return jsonify(open=True)


@app.route("/admin")
@admin_required
def admin():
    return jsonify(admin=get_jwt_identity())


@app.route("/page")
def page():
    return render_template_string("<p>{{{{ 1 + 1 }}}}{{{{ g.nothing }}}}</p>")  # Flask's g: the template stays Flask's
'''

# the same hook with options the converter does not read (a variable): it stays Flask's
KEPT = f'''
from flask import Flask, jsonify, request
from flask_jwt_extended import JWTManager, get_jwt_identity, verify_jwt_in_request

app = Flask(__name__)
app.config["JWT_SECRET_KEY"] = "{SECRET}"
jwt = JWTManager(app)
PLACES = ["headers"]


@app.before_request
def api_needs_a_token():
    if request.path.startswith("/api/"):
        verify_jwt_in_request(locations=PLACES)


@app.route("/api/me")
def me():
    return jsonify(user=get_jwt_identity())
'''


def token(**claims: object) -> str:
    data = {"fresh": False, "iat": NOW, "nbf": NOW, "jti": "j-1", "type": "access", "sub": "ann", "exp": NOW + DAY}
    data.update(claims)
    return jwt.encode({k: v for k, v in data.items() if v is not None}, SECRET, "HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


TOKENS = {
    "none": {},
    "malformed": bearer("x.y"),
    "expired": bearer(token(exp=NOW - 60)),
    "refresh": bearer(token(type="refresh")),
    "user": bearer(token(role="user")),
    "banned": bearer(token(sub="banned", role="admin", fresh=True)),
    "admin": bearer(token(sub="root", role="admin")),
    "fresh admin": bearer(token(sub="root", role="admin", fresh=True)),
    "fresh user": bearer(token(role="user", fresh=True)),
}
REQUESTS = [
    {"method": "GET", "path": path, "headers": headers}
    for path in ("/api/me", "/api/closed", "/api/nothing-here", "/admin")
    for headers in TOKENS.values()
] + [{"method": "GET", "path": "/page"}, {"method": "OPTIONS", "path": "/admin", "expect_headers": ["Allow"]}]


def project(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / name / "input"
    folder.mkdir(parents=True)
    (folder / "hooked.py").write_text(textwrap.dedent(source).lstrip())
    return folder


@pytest.fixture(scope="module")
def bridged(tmp_path_factory):
    original = project(tmp_path_factory.mktemp("bridged"), "bridged", BRIDGED)
    return original, convert_copy(original, original.parent / "converted")


def test_hooks_and_the_decorator_refuse_as_before_where_flask_stays(bridged):
    original, converted = bridged
    answers = answers_in(original, "hooked:app", REQUESTS)
    statuses = {(r["path"], case): a["status"] for r, a, case in zip(REQUESTS, answers, [*TOKENS] * 4)}
    # the original's answers, so that the comparison cannot pass on two broken apps
    assert [statuses["/api/me", case] for case in TOKENS] == [401, 422, 401, 422, 200, 403, 200, 200, 200]
    assert {statuses["/api/closed", case] for case in TOKENS} == {503}  # the first hook answers before the token's
    assert [statuses["/api/nothing-here", case] for case in TOKENS] == [401, 422, 401, 422, 404, 403, 404, 404, 404]
    assert [statuses["/admin", case] for case in TOKENS] == [401, 422, 401, 422, 401, 200, 401, 200, 403]
    assert answers[1]["body"] == {"error": "invalid", "why": "Not enough segments"}
    assert answers[-3]["body"] == {"msg": "admins only", "who": "ann"}  # /admin, fresh user
    comparison = compare(original, converted, "hooked:app", REQUESTS)
    assert comparison.same, comparison


def test_the_hook_verifies_with_the_runtime_and_the_decorator_is_a_dependency(bridged):
    _, converted = bridged
    code = (converted / "hooked.py").read_text()
    assert "api = FlaskBridge(app)" in code  # a template reading Flask's g keeps Flask
    assert "async def api_needs_a_token(request: Request):" in code
    assert "        request.state.jwt = await jwt.verify(request)\n" in code
    assert 'return FlaskJSONResponse({"msg": "banned"}, status_code=403)' in code
    assert "api.add_middleware(RequestHooks, before=[closed_for_now, api_needs_a_token])" in code
    assert "def me(token: Annotated[JWT, Depends(jwt.current)]):" in code
    assert "def admin_required(token: Annotated[JWT, Depends(jwt.required(fresh=True))]):" in code
    assert "def admin(token: Annotated[JWT, Depends(admin_required)]):" in code
    assert 'raise Refused(FlaskJSONResponse({"msg": "admins only", "who": token.identity}, status_code=403))' in code
    assert "flask_jwt_extended" not in code
    result = CliRunner().invoke(cli, ["convert", str(converted), "--check"])
    assert result.exit_code == 0, result.output


def test_a_hook_the_converter_cannot_read_stays_flask_s_and_answers_as_before(tmp_path):
    original = project(tmp_path, "kept", KEPT)
    converted = convert_copy(original, tmp_path / "kept" / "converted")
    code = (converted / "hooked.py").read_text()
    assert "@app.before_request" in code and "verify_jwt_in_request(locations=PLACES)" in code
    assert 'return {"user": get_jwt_identity()}' in code
    requests = [{"method": "GET", "path": "/api/me", "headers": headers} for headers in TOKENS.values()]
    assert [a["status"] for a in answers_in(original, "hooked:app", requests)] == [401, 422, 401, 422, 200, 200, 200, 200, 200]
    comparison = compare(original, converted, "hooked:app", requests)
    assert comparison.same, comparison
