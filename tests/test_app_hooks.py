"""An app's request hooks, converted whole, on fixtures/projects/apphooks: before hooks that keep
state on g and one that answers in the view's place, after hooks that stamp headers from g, a
teardown hook that counts requests, helpers that read g (``g.user``, ``"user" in g``). Converted,
they are RequestHooks middleware in Flask's order, the state lives on request.state, and every
route is idiomatic; each request gets the answer the original gave, errors included."""

from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "apphooks" / "input"
SPEC = "apphooks.app:app"
HEADERS = ["X-User", "X-Order", "X-Powered-By"]
ANN = {"X-User": "ann"}
REQUESTS = [
    {"method": "GET", "path": "/me"},  # no user: "user" in g is false
    {"method": "GET", "path": "/me", "headers": ANN},  # the teardown of the first request counted
    {"method": "GET", "path": "/whoami", "headers": ANN},
    {"method": "GET", "path": "/whoami"},  # g.user never set: AttributeError, a 500 the after hooks see
    {"method": "GET", "path": "/forbidden", "headers": ANN},  # abort(403)
    {"method": "GET", "path": "/admin"},  # a guard reading g.get("user"): now a dependency on request.state
    {"method": "GET", "path": "/admin", "headers": ANN},
    {"method": "GET", "path": "/admin", "headers": {"X-User": "admin"}},
    {"method": "GET", "path": "/nowhere"},  # the hooks run on a 404 too
    {"method": "GET", "path": "/boom"},  # and on an unhandled exception's 500
    {"method": "DELETE", "path": "/me"},  # and on a 405
    {"method": "POST", "path": "/close"},
    {"method": "GET", "path": "/me", "headers": ANN},  # a before hook answers: 503, after hooks still run
    {"method": "GET", "path": "/boom"},  # ... in the view's place
    {"method": "POST", "path": "/close"},
    {"method": "GET", "path": "/me", "headers": ANN},  # every request above was torn down once
]
for request in REQUESTS:
    request["expect_headers"] = HEADERS


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("apphooks") / "converted")


def test_the_hooks_became_request_hooks_middleware(converted):
    code = (converted / "apphooks" / "app.py").read_text()
    assert "flask" not in code.replace("flask2fastapi_runtime", "")
    assert "api.add_middleware(RequestHooks, before=[load_user, closed], after=[stamp, powered], teardown=[count])" in code
    assert "def count(request: Request):" in code  # the exception it did not read is gone
    assert 'if hasattr(request.state, "user") and request.state.user != "anonymous":' in code
    assert 'return {"error": "closed", "user": getattr(request.state, "user", None)}, 503' in code
    # the guard that read what a hook keeps is a dependency, its local import of wraps gone with the wrapper
    assert 'def require_admin(request: Request):\n    if getattr(request.state, "user", None) != "admin":' in code
    assert '@api.get("/admin", dependencies=[Depends(require_admin)], response_model=AdminResponse)' in code


def test_the_converted_app_answers_like_the_original(converted):
    original = answers_in(PROJECT, SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 200, 200, 500, 403, 403, 403, 200, 404, 500, 405, 200, 503, 503, 200, 200]
    assert original[0]["body"] == {"user": None, "teardowns": 0}
    assert original[0]["headers"] == {"X-User": "nobody", "X-Order": "load_user,closed,powered,stamp", "X-Powered-By": "hooks"}
    assert original[1]["body"] == {"user": "ann", "teardowns": 1}
    assert original[7]["body"] == {"admin": "admin"}
    assert original[12]["body"] == {"error": "closed", "user": "ann"}
    assert original[12]["headers"]["X-Order"] == "load_user,closed,powered,stamp"
    assert original[15]["body"] == {"user": "ann", "teardowns": 15}
    comparison = compare(PROJECT, converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_every_route_is_idiomatic():
    results = convert_paths(discover([PROJECT]), ORDER)
    levels = {route["rule"]: (route["level"], route.get("reason")) for r in results for route in r.routes}
    assert levels == {path: ("idiomatic", None) for path in ("/me", "/whoami", "/admin", "/close", "/forbidden", "/boom")}


KEPT_TEARDOWN = """\
from flask import Flask, g

app = Flask(__name__)
{first}

@app.before_request
def start():
    g.step = "started"


@app.teardown_request
def count(error):
    STATS["requests"] += 1
{last}

@app.route("/step")
def step():
    return {{"step": g.step}}
"""
CLOSE = """
@app.teardown_request
def close(error):
    if error is not None:
        STATS["errors"] += 1
"""


def _levels(tmp_path, first: str, last: str) -> tuple[str, list[tuple[str, str | None]]]:
    module = tmp_path / "app.py"
    module.write_text("STATS = {}\n" + KEPT_TEARDOWN.format(first=first, last=last))
    (result,) = convert_paths([module], ORDER)
    return result.new.decode(), [(route["level"], route.get("reason")) for route in result.routes]


def test_a_teardown_hook_that_reads_the_exception_stays_flasks_after_the_others(tmp_path):
    # registered last, Flask ran it first: inside the app, before RequestHooks' teardown
    code, levels = _levels(tmp_path, "", CLOSE)
    assert "api.add_middleware(RequestHooks, before=[start], teardown=[count])" in code
    assert "@app.teardown_request\ndef close(error):" in code
    assert levels == [("native", "Flask left on its code path: app.close uses teardown_request")]


def test_the_report_says_why_the_hooks_stay_flasks(tmp_path):
    # registered first, Flask ran it last: RequestHooks would run it first, so none converts
    code, levels = _levels(tmp_path, CLOSE, "")
    assert "RequestHooks" not in code
    ((level, reason),) = levels
    assert level == "native"
    assert reason.endswith("(the app's hooks stay Flask's: close: it reads the exception Flask hands it)")


def test_a_blueprints_aborting_hook_converts_with_the_blueprints_handlers():
    # a blueprint's hooks are followed (tests/test_blueprint_hooks_converted.py); this one aborts
    # with 401, which the blueprint's own 401 handler answers: it converts with them
    # (tests/test_hook_aborts.py, tests/test_request_context.py for the answers)
    results = convert_paths(discover([PROJECT.parent.parent / "hooks" / "input"]), ORDER)
    reasons = {route["reason"] for r in results for route in r.routes if route["level"] == "native"}
    assert reasons and not any("the app's hooks stay Flask's" in r for r in reasons)
    team = next(r.new.decode() for r in results if r.path.endswith("team.py"))
    assert "        raise HTTPException(status_code=401)\n" in team
    assert "bp_handlers = blueprint_handlers(bp, {404: member_missing, 401: team_unauthorized})" in team


def test_a_hook_answering_with_json_stays_flasks_where_the_app_writes_json_its_own_way(tmp_path):
    module = tmp_path / "app.py"
    module.write_text(
        "from flask import Flask, request\n\napp = Flask(__name__)\napp.json.sort_keys = False\n\n\n"
        "@app.before_request\ndef closed():\n    if request.headers.get(\"X-Closed\"):\n        return {\"z\": 1, \"a\": 2}, 503\n\n\n"
        "@app.route(\"/me\")\ndef me():\n    return {}\n"
    )
    (result,) = convert_paths([module], ORDER)
    assert "RequestHooks" not in result.new.decode()
    ((level, reason),) = [(route["level"], route["reason"]) for route in result.routes]
    assert level == "native"
    assert reason.endswith("(the app's hooks stay Flask's: closed: it answers with JSON the app writes its own way)")


def test_a_bridged_view_reading_what_the_hooks_keep_keeps_them_flasks(tmp_path):
    module = tmp_path / "app.py"
    module.write_text(
        "from flask import Flask, g\nfrom mylib import cached\n\napp = Flask(__name__)\n\n\n"
        "@app.before_request\ndef load():\n    g.user = \"ann\"\n\n\n"
        "@app.route(\"/me\")\ndef me():\n    return {\"user\": g.user}\n\n\n"
        "@app.route(\"/cached\")\n@cached\ndef cached_view():\n    return {\"user\": g.user}\n"
    )
    (result,) = convert_paths([module], ORDER)
    assert "RequestHooks" not in result.new.decode()
    levels = {route["rule"]: (route["level"], route["reason"]) for route in result.routes}
    assert levels["/cached"] == ("bridged", "decorator cached not known to keep the signature")
    assert levels["/me"][1].endswith("(the app's hooks stay Flask's: cached_view reads g.user and cannot be given the request)")
