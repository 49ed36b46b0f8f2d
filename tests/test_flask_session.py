"""Flask's session in native views -> Starlette's request.session over Flask's own signed cookie
(codemod/session_facts.py, transforms/flask_session.py), on fixtures/projects/hooks: POST /session
counts visits and keeps a name, GET /session reads them back. The converted app (still a Flask
app on a bridge, for its other routes) answers a browser that keeps its cookies as the original
did, sends one Set-Cookie where Flask sent one, with the same content and attributes and
``Vary: Cookie``; a cookie of either app is read by the other; a tampered one by neither."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from transforms import ORDER

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "hooks" / "input"
SPEC = "hookapp.app:app"
SECRET = "not-for-production"

# Runs in the app's folder (both apps are the package hookapp): each step is sent by one client
# that keeps its cookies, as a browser does; "cookie" first puts that session cookie in its jar.
DRIVER = """
import json, sys
from codemod.routes import load_app
from codemod.verify import is_flask
app = load_app(sys.argv[1])
flask = is_flask(app)
if flask:
    client = app.test_client()
else:
    from fastapi.testclient import TestClient
    client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False, follow_redirects=False)
answers = []
for step in json.loads(sys.argv[2]):
    if "cookie" in step:
        if flask:
            client.set_cookie("session", step["cookie"])
        else:
            client.cookies.clear()
            client.cookies.set("session", step["cookie"])
    response = (client.open if flask else client.request)(step["path"], method=step["method"]) if flask else client.request(step["method"], step["path"])
    headers = response.headers
    answers.append({
        "status": response.status_code,
        "body": response.get_json() if flask else response.json(),
        "vary": headers.get("Vary"),
        "set_cookie": headers.getlist("Set-Cookie") if flask else headers.get_list("set-cookie"),
    })
print(json.dumps(answers))
"""


def run(root: Path, steps: list[dict]) -> list[dict]:
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, SPEC, json.dumps(steps)], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def content(set_cookie: str) -> tuple[dict, str]:
    """What a session Set-Cookie holds (Flask's own serializer reads it) and its attributes."""
    pair, _, attributes = set_cookie.partition(";")
    name, _, value = pair.partition("=")
    assert name == "session"
    app = Flask(__name__)
    app.config["SECRET_KEY"] = SECRET
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(value), attributes.strip()


def seen(answers: list[dict]) -> list[tuple]:
    """An answer as a browser keeps it: the signed value's timestamp aside, the same cookie."""
    return [(a["status"], a["body"], a["vary"], [content(c) for c in a["set_cookie"]]) for a in answers]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("session") / "converted")


def test_the_views_use_request_session_and_the_bridge_the_middleware_once(converted):
    code = (converted / "hookapp" / "app.py").read_text()
    assert code.count("api.add_middleware(FlaskSessionMiddleware, login=False)") == 1
    assert code.count("FlaskSessionMiddleware") == 2  # imported and added once
    assert "from flask2fastapi_runtime.login import FlaskSessionMiddleware" in code
    assert "def remember(name: str = \"nobody\", *, request: Request):" in code
    assert 'request.session["visits"] = request.session.get("visits", 0) + 1' in code
    assert '"known": "name" in request.session}' in code
    assert "session" not in code.partition("\n\n")[0].replace("FlaskSessionMiddleware", "").replace("flask2fastapi_runtime.login", "")


def test_the_session_routes_are_idiomatic():
    results = convert_paths(discover([PROJECT]), ORDER)
    levels = {route["endpoint"]: (route["level"], route["reason"]) for r in results for route in r.routes}
    assert levels["remember"] == levels["recall"] == ("idiomatic", None)


def test_a_browser_gets_the_same_answers_and_cookies(converted):
    steps = [
        {"method": "GET", "path": "/session"},
        {"method": "POST", "path": "/session?name=ann"},
        {"method": "POST", "path": "/session?name=bob"},
        {"method": "GET", "path": "/session"},
        {"method": "GET", "path": "/me"},  # a route that does not touch the session: no cookie, no Vary
    ]
    original = run(PROJECT, steps)
    assert [(a["status"], a["body"]) for a in original[:4]] == [
        (200, {"visits": 0, "name": None, "known": False}),
        (200, {"visits": 1}),
        (200, {"visits": 2}),
        (200, {"visits": 2, "name": "bob", "known": True}),
    ]
    assert [len(a["set_cookie"]) for a in original] == [0, 1, 1, 0, 0]
    assert [a["vary"] for a in original] == ["Cookie"] * 4 + [None]
    assert seen(run(converted, steps)) == seen(original)


def test_a_tampered_cookie_is_an_empty_session_for_both(converted):
    made = run(PROJECT, [{"method": "POST", "path": "/session?name=ann"}])[0]["set_cookie"][0]
    value = made.partition(";")[0].partition("=")[2]
    tampered = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    steps = [{"method": "GET", "path": "/session", "cookie": tampered}, {"method": "POST", "path": "/session", "cookie": tampered}]
    original = run(PROJECT, steps)
    assert [a["body"] for a in original] == [{"visits": 0, "name": None, "known": False}, {"visits": 1}]
    assert seen(run(converted, steps)) == seen(original)


def test_a_cookie_crosses_the_cutover_both_ways(converted):
    """A cookie the original issued counts on in the converted app, and the reverse (a rollback
    loses no visit)."""
    two = [{"method": "POST", "path": "/session?name=ann"}] * 2
    for issuer, reader in ((PROJECT, converted), (converted, PROJECT)):
        cookie = run(issuer, two)[-1]["set_cookie"][0].partition(";")[0].partition("=")[2]
        steps = [{"method": "GET", "path": "/session", "cookie": cookie}, {"method": "POST", "path": "/session?name=cy"}]
        answers = run(reader, steps)
        assert [a["body"] for a in answers] == [{"visits": 2, "name": "ann", "known": True}, {"visits": 3}]
        assert content(answers[1]["set_cookie"][0])[0] == {"visits": 3, "name": "cy"}
        assert seen(answers) == seen(run(issuer, steps))


REFUSED = {
    "permanent": (
        '@app.route("/a", methods=["POST"])\ndef a():\n    session.permanent = True\n    session["n"] = 1\n    return {}\n',
        "session.permanent (Flask's own session interface would refresh a permanent cookie too)",
    ),
    "bridged": (
        '@app.route("/a")\ndef a():\n    return {"n": session.get("n")}\n\n\n'
        '@app.route("/b", defaults={"x": 1})\ndef b(x):\n    session["n"] = x\n    return {}\n',
        "b uses session and is no native view",
    ),
    # a flash in a view converts with the session (the runtime's flash); elsewhere it keeps it
    "flash": (
        'def warn():\n    flash("hi", "warning")\n\n\n@app.route("/a")\ndef a():\n    warn()\n    return {"n": session.get("n")}\n',
        "warn uses flash and is no native view",
    ),
    "flashes read": (
        '@app.route("/a")\ndef a():\n    return {"n": session.get("n"), "shown": get_flashed_messages()}\n',
        "get_flashed_messages()",
    ),
    "hook": (
        '@app.before_request\ndef seen():\n    session["seen"] = True\n\n\n@app.route("/a")\ndef a():\n    return {"n": session.get("n")}\n',
        "seen uses session and is no native view",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_what_keeps_flasks_session_keeps_every_use_and_says_why(tmp_path, case):
    """All or nothing: one use the plan cannot convert keeps every view on Flask's session, and
    the report gives the reason on each route that reads it."""
    body, reason = REFUSED[case]
    (tmp_path / "app.py").write_text(
        "from flask import Flask, flash, get_flashed_messages, make_response, session\n\napp = Flask(__name__)\n"
        'app.config["SECRET_KEY"] = "k"\n\n\n' + body
    )
    results = convert_paths(discover([tmp_path]), ORDER)
    code = results[0].new.decode()
    assert "request.session" not in code and "FlaskSessionMiddleware" not in code
    route = next(route for r in results for route in r.routes if route["endpoint"] == "a")
    assert route["level"] == "native"
    assert "Flask's session stays: " in route["reason"] and reason in route["reason"], route["reason"]
