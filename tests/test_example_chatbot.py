"""End to end on the bundled chatbot: convert example_chatbot with --out, then check that the
converted package serves the same routes, answers the same requests and passes its own
(converted) test suite. Checks that wait on a later capability are strict expected failures
naming it, so they turn red the day they start passing."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from typer.testing import CliRunner

from codemod.cli import app
from codemod.verify import answers_in, route_table_in

ROOT = Path(__file__).resolve().parent.parent
ORIGINAL = ROOT / "example_chatbot"
SPEC = "example_chatbot:create_app()"
HEADERS = {"X-Request-ID": "e2e-1"}
REQUESTS = [
    {"method": "GET", "path": "/health/live", "headers": HEADERS},
    {"method": "GET", "path": "/health/ready", "headers": HEADERS},
    {"method": "GET", "path": "/auth/me", "headers": HEADERS, "expect_headers": ["WWW-Authenticate"]},
    {"method": "GET", "path": "/conversations", "headers": {**HEADERS, "Authorization": "Bearer nope"}},
    {"method": "POST", "path": "/auth/register", "headers": HEADERS, "json": {"username": ""}},
    {"method": "POST", "path": "/auth/login", "headers": HEADERS, "data": "not json"},
    {"method": "DELETE", "path": "/health/live", "headers": HEADERS, "expect_headers": ["Allow"]},
    {"method": "GET", "path": "/nowhere", "headers": HEADERS},
    {"method": "GET", "path": "/conversations/1", "headers": {**HEADERS, "Authorization": "Basic x"}},
    {"method": "POST", "path": "/auth/register", "data": "x" * (1024 * 1024 + 1),  # 413, a new request id
     "headers": {"X-Request-ID": "e2e-2", "Content-Type": "application/json"}},
]
for request in REQUESTS:  # the request id comes back on every answer, error bodies included
    request["expect_headers"] = ["X-Request-ID", *request.get("expect_headers", [])]


@pytest.fixture(scope="module")
def converted(converted_chatbot):
    """The session's conversion (tests/conftest.py): ``convert example_chatbot --out --report``."""
    return converted_chatbot


def env(tmp_path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}"}


def route_table(cwd, tmp_path):
    return route_table_in(cwd, SPEC, env(tmp_path))


def answers(cwd, tmp_path):
    return answers_in(cwd, SPEC, REQUESTS, env(tmp_path))


def test_conversion_parses_and_is_stable(converted):
    files = sorted((converted / "example_chatbot").rglob("*.py"))
    assert len(files) == len(sorted(ORIGINAL.rglob("*.py")))
    requirement = converted / "example_chatbot" / "requirements-fastapi.txt"
    # its async routes' sessions need the runtime's db extra (SQLAlchemy asyncio, aiosqlite)
    assert requirement.read_text() == "flask2fastapi-runtime[db]>=0.1,<0.2\n"
    for path in files:
        cst.parse_module(path.read_bytes())
        compile(path.read_bytes(), str(path), "exec")
    check = CliRunner().invoke(app, ["convert", "--check", str(converted / "example_chatbot")])
    assert check.exit_code == 0, check.output


def test_the_original_serves_its_routes(tmp_path):
    table = route_table(ROOT, tmp_path)
    assert ["POST", "/conversations/{conversation_id}/messages"] in table
    assert len(table) == 12


def test_the_original_answers_the_script(tmp_path):
    answered = answers(ROOT, tmp_path)
    assert [a["status"] for a in answered] == [200, 200, 401, 401, 400, 400, 405, 404, 401, 413]
    assert answered[2]["headers"] == {"X-Request-ID": "e2e-1", "WWW-Authenticate": "Bearer"}
    assert answered[7]["body"]["error"] == {
        "code": "not_found", "message": answered[7]["body"]["error"]["message"], "request_id": "e2e-1",
    }
    assert answered[9]["body"]["error"]["request_id"] == "e2e-2"


def test_error_handlers_and_hooks_are_fastapis(converted):
    """The three error handlers are FastAPI exception handlers, the request-id hooks RequestHooks
    middleware: error_body() reads the id from request.state, handed to it by views and handlers."""
    report = converted / "report.json"
    handlers = {h["handler"].rpartition(".")[2]: (h["fastapi"], h["reason"]) for h in json.loads(report.read_text())["error_handlers"]}
    assert handlers == {name: (True, None) for name in ("handle_api_error", "handle_http_exception", "handle_internal_error")}
    package = converted / "example_chatbot"
    factory = (package / "__init__.py").read_text()
    assert "app.add_middleware(RequestHooks, before=[start_request], after=[finish_request])" in factory
    assert "@app.before_request" not in factory and "@app.after_request" not in factory
    errors = (package / "errors.py").read_text()
    assert 'request_id = getattr(http_request.state, "request_id", None)' in errors
    assert "flask.g" not in errors and "current_app" not in errors
    for module in ("chat.py", "health.py", "llm.py", "errors.py"):
        assert "current_app.logger" not in (package / module).read_text(), module


# Flask, werkzeug and Flask-CORS cannot be imported in a process that loads this first
NO_FLASK = """
import importlib.abc, sys
class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "werkzeug", "flask_cors", "a2wsgi"):
            raise ImportError(name + " is blocked: the converted chatbot must not need it")
sys.meta_path.insert(0, NoFlask())
"""


def test_no_flask_is_left(converted, tmp_path):
    """Issue 10's bar: no module imports flask, werkzeug or a stand-in of Flask's globals, the
    report says Flask left, flask is no requirement, and the converted suite passes in a process
    where Flask cannot be imported at all."""
    package = converted / "example_chatbot"
    for path in package.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(from|import) (flask|werkzeug|flask_\w+)\b", text, re.M), path
        assert "FlaskBridge" not in text and "bridge_of" not in text, path
    assert "flask" not in (package / "requirements-fastapi.txt").read_text().replace("flask2fastapi", "")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(NO_FLASK)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "example_chatbot/tests"],
        cwd=converted, capture_output=True, text=True, timeout=300,
        env={**os.environ, **env(tmp_path), "PYTHONPATH": f"{site}:{converted}"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "154 passed" in done.stdout


def test_every_json_body_and_protected_route_is_in_openapi(converted, tmp_path):
    script = (
        "import json; from example_chatbot import create_app; spec = create_app().openapi(); "
        "print(json.dumps({f'{m.upper()} {p}': [bool(o.get('requestBody')), o.get('security')] "
        "for p, ops in spec['paths'].items() for m, o in ops.items()}))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=converted, capture_output=True, text=True, timeout=120, env={**os.environ, **env(tmp_path)})
    assert done.returncode == 0, done.stderr
    operations = json.loads(done.stdout)
    bodies = {op for op, (body, _) in operations.items() if body}
    assert bodies == {
        "POST /auth/register", "POST /auth/login", "POST /conversations",
        "POST /conversations/{conversation_id}/messages", "POST /conversations/{conversation_id}/messages/stream",
    }
    protected = {op for op, (_, security) in operations.items() if security}
    assert protected == {op for op in operations if not op.startswith(("POST /auth/register", "POST /auth/login", "GET /health"))}
    assert all(security == [{"HTTPBearer": []}] for op, (_, security) in operations.items() if op in protected)


def test_converted_serves_the_same_routes(converted, tmp_path):
    assert route_table(converted, tmp_path) == route_table(ROOT, tmp_path)


def test_converted_answers_like_the_original(converted, tmp_path):
    assert answers(converted, tmp_path) == answers(ROOT, tmp_path)


def test_converted_suite_passes(converted, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "example_chatbot/tests"],
        cwd=converted, capture_output=True, text=True, timeout=300, env={**os.environ, **env(tmp_path)},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "154 passed" in done.stdout, done.stdout[-3000:]


def test_every_protected_route_still_refuses(converted, tmp_path):
    """The security bar, route by route: every route of the app, asked without a token and with
    a bad one, refuses in the converted app exactly when and how the original refused."""
    routes = route_table(ROOT, tmp_path)
    requests = [
        {
            "method": method,
            "path": "/".join("1" if part.startswith("{") else part for part in path.split("/")),
            "headers": {**HEADERS, **auth},
            **({"json": {}} if method in ("POST", "PUT", "PATCH") else {}),
            "expect_headers": ["WWW-Authenticate"],
        }
        for method, path in routes
        for auth in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"})
    ]
    original = answers_in(ROOT, SPEC, requests, env(tmp_path))
    refused = {(r["method"], r["path"]) for r, a in zip(requests, original) if a["status"] == 401}
    assert len(refused) == 8  # the eight @login_required routes
    assert answers_in(converted, SPEC, requests, env(tmp_path)) == original


def test_passwords_survive_the_cutover_both_ways(converted, tmp_path):
    """werkzeug.security became the runtime's passwords module: the converted code imports no
    werkzeug for it, a user the original registered (its scrypt hash in the database) logs in
    to the converted app, and one the converted app registered logs in to the original (a
    rollback logs no one out either)."""
    auth = (converted / "example_chatbot" / "auth.py").read_text()
    assert "werkzeug" not in auth
    imported = re.search(r"^from flask2fastapi_runtime import (.*)$", auth, re.M)
    assert imported is not None and {"check_password_hash", "generate_password_hash"} <= set(imported[1].split(", "))
    database = env(tmp_path)  # one database file for both apps, as at a cutover

    def user(name):
        return {"username": name, "password": "s3cret-pass"}

    def login(name, password="s3cret-pass"):
        return {"method": "POST", "path": "/auth/login", "json": {"username": name, "password": password}}

    register = {"method": "POST", "path": "/auth/register"}
    before = answers_in(ROOT, SPEC, [{**register, "json": user("ann")}], database)
    assert before[0]["status"] == 201
    after = answers_in(
        converted, SPEC, [login("ann"), login("ann", "wrong-pass"), {**register, "json": user("bob")}, login("bob")], database
    )
    assert [a["status"] for a in after] == [200, 401, 201, 200]
    assert after[0]["body"]["token_type"] == "Bearer"
    back = answers_in(ROOT, SPEC, [login("bob"), login("bob", "wrong-pass"), login("ann")], database)
    assert [a["status"] for a in back] == [200, 401, 200]


def test_create_conversations_location_is_starlettes_url_for(converted, tmp_path):
    """create_conversation's ``url_for(".get_conversation", conversation_id=conversation.id)``
    (a view whose body read converts, under the login_required guard) is Starlette's url_for of
    the native route, the id through int() as werkzeug's converter wrote it; the Location is the
    original's."""
    view = (converted / "example_chatbot" / "conversations.py").read_text()
    assert (
        'request.url_for("conversations.get_conversation", conversation_id=int(conversation.id)).path' in view
    )
    assert "url_for(" not in view.replace("request.url_for(", "")
    register = {"method": "POST", "path": "/auth/register", "json": {"username": "ann", "password": "s3cret-pass"}}
    login = {"method": "POST", "path": "/auth/login", "json": {"username": "ann", "password": "s3cret-pass"}}
    answers = []
    for cwd, folder in ((ROOT, tmp_path / "original"), (converted, tmp_path / "converted")):
        folder.mkdir()
        database = {"DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"}
        token = answers_in(cwd, SPEC, [register, login], database)[1]["body"]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        create = {"method": "POST", "path": "/conversations", "headers": auth, "expect_headers": ["Location"]}
        answers.append(answers_in(cwd, SPEC, [{**create, "json": {"title": f"t{n}"}} for n in range(2)], database))
    assert [a["headers"]["Location"] for a in answers[0]] == ["/conversations/1", "/conversations/2"]
    for answer in (*answers[0], *answers[1]):
        answer["body"].pop("created_at"), answer["body"].pop("updated_at")
    assert answers[1] == answers[0]
