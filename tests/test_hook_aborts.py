"""``abort(code[, description])`` in a before hook: converted, it is ``raise HTTPException(...)``
in a RequestHooks hook, answered as Flask answered the abort: by the app's handler for the code
(a FastAPI exception handler now), else Flask's own error page; on a 404 too, where the hook ran
before any route matched. Where a Flask handler that stays Flask's could answer the code (a
blueprint's), or an abort cannot be a plain raise (under a ``try``), every hook stays Flask's
and the report says why."""

from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

APP = '''\
from flask import Flask, abort, g, jsonify, request

app = Flask(__name__)


@app.before_request
def require_key():
    g.key = request.headers.get("X-Key")
    if g.key is None:
        abort(401)
    if g.key == "banned":
        abort(403, description="banned key")
    if g.key == "old":
        abort(code=410)


@app.errorhandler(403)
def forbidden(error):
    return jsonify(error="forbidden", why=error.description), 403


@app.route("/me")
def me():
    return {"key": g.key}
'''
SPEC = "abapp.app:app"
HEADERS = ["Content-Type", "WWW-Authenticate"]
REQUESTS = [
    {"method": "GET", "path": "/me"},  # abort(401), no handler: werkzeug's page
    {"method": "GET", "path": "/me", "headers": {"X-Key": "banned"}},  # the app's 403 handler, with the description
    {"method": "GET", "path": "/me", "headers": {"X-Key": "old"}},
    {"method": "GET", "path": "/me", "headers": {"X-Key": "k"}},
    {"method": "GET", "path": "/nowhere"},  # the hook runs before the 404: its 401 answers
    {"method": "POST", "path": "/me", "headers": {"X-Key": "banned"}},  # and before the 405
]
for request in REQUESTS:
    request["expect_headers"] = HEADERS


def _project(root: Path, app: str) -> Path:
    (root / "abapp").mkdir(parents=True)
    (root / "abapp" / "__init__.py").write_text("")
    (root / "abapp" / "app.py").write_text(app)
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return _project(tmp_path_factory.mktemp("hookaborts") / "input", APP)


@pytest.fixture(scope="module")
def converted(project, tmp_path_factory) -> Path:
    return convert_copy(project, tmp_path_factory.mktemp("hookaborts") / "converted")


def test_an_abort_in_a_before_hook_is_a_raise(converted):
    code = (converted / "abapp" / "app.py").read_text()
    assert "flask" not in code.replace("flask2fastapi_runtime", "")
    assert "def require_key(request: Request):" in code
    assert "        raise HTTPException(status_code=401)\n" in code
    assert '        raise HTTPException(status_code=403, detail="banned key")\n' in code
    assert "        raise HTTPException(status_code=410)\n" in code
    assert "api.add_middleware(RequestHooks, before=[require_key])" in code


def test_the_converted_app_answers_like_the_original(project, converted):
    original = answers_in(project, SPEC, REQUESTS)
    assert [a["status"] for a in original] == [401, 403, 410, 200, 401, 403]
    assert original[0]["media_type"] == "text/html" and "Unauthorized" in original[0]["body"]
    assert original[1]["body"] == {"error": "forbidden", "why": "banned key"}
    comparison = compare(project, converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_every_route_is_idiomatic(project):
    results = convert_paths(discover([project]), ORDER)
    assert [(route["rule"], route["level"]) for r in results for route in r.routes] == [("/me", "idiomatic")]


KEPT = {
    "a try around it": (
        APP.replace("    if g.key is None:\n        abort(401)\n", "    try:\n        abort(401)\n    except Exception:\n        pass\n"),
        "require_key: it uses flask.abort",
    ),
    "a response given": (APP.replace("abort(401)", "abort(jsonify(error='no key'))"), "require_key: it uses flask.abort"),
    "a Flask handler for the code": (
        APP + '\n\n@app.errorhandler(401)\ndef unauthorized(error):\n    return jsonify(error="key", type=error.response), 401\n',
        "require_key: it aborts with 401, which unauthorized, an error handler that stays Flask's, may answer",
    ),
}


@pytest.mark.parametrize("case", sorted(KEPT))
def test_an_abort_that_cannot_be_a_raise_keeps_the_hooks_flasks(case, tmp_path):
    app, why = KEPT[case]
    project = _project(tmp_path / "input", app)
    results = convert_paths(discover([project]), ORDER)
    code = next(r.new.decode() for r in results if r.path.endswith("app.py"))
    assert "RequestHooks" not in code and "@app.before_request\ndef require_key():" in code
    reasons = [route["reason"] for r in results for route in r.routes]
    assert reasons and all(r.endswith(f"(the app's hooks stay Flask's: {why})") for r in reasons), reasons
