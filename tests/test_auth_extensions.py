"""Flask-HTTPAuth and Flask-Login: every protected route of the fixture apps, asked without
credentials, with bad ones, with too small a role and with good ones, answers after conversion
exactly as before (status, body, WWW-Authenticate / Location). An auth check lost in conversion
is the worst bug this tool can have, so the routes are asked one by one."""

import json
from base64 import b64encode
from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
HTTPAUTH = FIXTURES / "httpauth" / "input"
CHALLENGE = ["WWW-Authenticate"]


def basic(username, password):
    return {"Authorization": "Basic " + b64encode(f"{username}:{password}".encode()).decode()}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


NO_CREDENTIALS = {}
# a Basic user sent under another scheme passes Flask-HTTPAuth's own Basic parser, not a token check
ODD = {"Authorization": "Token " + b64encode(b"ann:ann-pw").decode()}
BAD_CREDENTIALS = [basic("ann", "wrong"), bearer("t-nobody"), {"Authorization": "Basic not-base64!"}, {"Authorization": "Bearer"}, ODD]
USER = [basic("ann", "ann-pw"), bearer("t-ann")]
ADMIN = [basic("root", "root-pw"), bearer("t-root")]
# (method, path): the routes the original protects
PROTECTED = [
    ("GET", "/me"),
    ("GET", "/tokens/me"),
    ("GET", "/reports"),
    ("POST", "/reports"),
    ("GET", "/either"),
    ("GET", "/either/admin"),
    ("GET", "/audited"),
    ("GET", "/admin/stats"),
    ("GET", "/admin/removed"),
    ("DELETE", "/admin/users/bob"),
    ("GET", "/ops/status"),  # a blueprint's before_request hook is the check
]


def asked(method, path):
    """The route asked with no, bad, user and admin credentials of every kind."""
    credentials = [NO_CREDENTIALS, *BAD_CREDENTIALS, *USER, *ADMIN]
    return [{"method": method, "path": path, "headers": h, "expect_headers": CHALLENGE} for h in credentials]


@pytest.fixture(scope="module")
def httpauth_report(tmp_path_factory):
    """The converted httpauth project, and the convert command's report on it."""
    root = tmp_path_factory.mktemp("httpauth")
    converted = convert_copy(HTTPAUTH, root / "converted", "--report", str(root / "report.json"))
    return converted, json.loads((root / "report.json").read_text())


@pytest.fixture(scope="module")
def httpauth(httpauth_report):
    return httpauth_report[0]


def test_httpauth_protected_routes_refuse_what_they_refused(httpauth):
    requests = [request for route in PROTECTED for request in asked(*route)]
    requests += [{"method": "GET", "path": "/audit-log"}, {"method": "GET", "path": "/admin/removed", **_root()}]
    original = answers_in(HTTPAUTH, "authapi.app:app", requests)
    by_route = {route: original[i * 10 : i * 10 + 10] for i, route in enumerate(PROTECTED)}
    # the original's answers, so that the comparison cannot pass vacuously
    me = by_route[("GET", "/me")]
    # none, 4 bad, ODD, basic ann, bearer ann, basic root, bearer root
    assert [a["status"] for a in me] == [401, 401, 401, 401, 401, 200, 200, 401, 200, 401]
    assert me[0]["body"] == "Unauthorized Access"
    assert me[0]["headers"]["WWW-Authenticate"] == 'Basic realm="Authentication Required"'
    assert me[5]["body"] == {"user": "ann", "method": "basic"}
    reports = by_route[("GET", "/reports")]
    assert [a["status"] for a in reports] == [401, 401, 401, 401, 401, 401, 401, 403, 401, 200]
    assert reports[7]["body"] == {"error": "token refused", "status": 403}  # the custom error_handler
    assert reports[7]["headers"]["WWW-Authenticate"] == 'Bearer realm="Authentication Required"'
    assert [a["status"] for a in by_route[("GET", "/either/admin")]] == [401, 401, 401, 401, 401, 401, 403, 403, 200, 200]
    assert [a["status"] for a in by_route[("DELETE", "/admin/users/bob")]] == [401, 401, 401, 401, 401, 403, 403, 401, 204, 401]
    assert [a["status"] for a in by_route[("GET", "/ops/status")]] == [401, 401, 401, 401, 401, 401, 401, 403, 401, 200]
    assert original[-2]["body"] == {"audit": ["audited_view"] * 10}  # the decorator above the check ran first
    assert original[-1]["body"] == {"removed": ["bob"]}

    comparison = compare(HTTPAUTH, httpauth, "authapi.app:app", requests)
    assert comparison.same, comparison


def _root():
    return {"headers": basic("root", "root-pw")}


def test_httpauth_optional_and_public_routes_answer_the_same(httpauth):
    requests = [
        {"method": "GET", "path": "/greeting"},
        {"method": "GET", "path": "/greeting", "headers": bearer("t-ann")},
        {"method": "GET", "path": "/greeting", "headers": bearer("t-nobody")},
        {"method": "GET", "path": "/health"},
        {"method": "OPTIONS", "path": "/me"},
    ]
    original = answers_in(HTTPAUTH, "authapi.app:app", requests)
    assert [a["body"] for a in original[:3]] == [{"hello": "anonymous"}, {"hello": "t-ann"[2:]}, {"hello": "anonymous"}]
    assert answers_in(httpauth, "authapi.app:app", requests) == original


LOGIN = FIXTURES / "login" / "input"
FORGED = {"session": "eyJfdXNlcl9pZCI6IjEifQ.forged.signature"}  # a session cookie not signed by the app
LOCATION = ["Location"]


@pytest.fixture(scope="module")
def login(tmp_path_factory):
    return convert_copy(LOGIN, tmp_path_factory.mktemp("login") / "converted")


def web_requests():
    """The client keeps its cookies from one request to the next, as a browser does."""
    protected = [("GET", "/profile"), ("GET", "/admin/3"), ("POST", "/logout")]
    refused = [{"method": m, "path": p, "expect_headers": LOCATION} for m, p in protected]
    forged = [{"method": m, "path": p, "cookies": FORGED, "expect_headers": LOCATION} for m, p in protected]
    ann = {"name": "ann", "password": "ann-pw"}
    return [
        *refused,  # not logged in: redirected to the login view with ?next=
        {"method": "GET", "path": "/admin/abc"},  # <int:page> does not match: 404 before any check
        {"method": "GET", "path": "/admin/-1"},
        *forged,
        {"method": "GET", "path": "/profile?tab=1", "expect_headers": LOCATION},
        {"method": "POST", "path": "/login", "form": {"name": "ann", "password": "nope"}},
        *refused,  # a failed login logs nobody in
        {"method": "POST", "path": "/login?next=/profile", "form": ann, "expect_headers": LOCATION},
        {"method": "GET", "path": "/profile"},
        {"method": "GET", "path": "/admin/3"},  # logged in, but not an admin: the view's own 403
        {"method": "GET", "path": "/"},
        {"method": "POST", "path": "/logout", "expect_headers": LOCATION},
        *refused,  # logged out
        {"method": "POST", "path": "/login", "form": {"name": "root", "password": "root-pw"}, "expect_headers": LOCATION},
        {"method": "GET", "path": "/admin/3"},
        {"method": "GET", "path": "/"},
    ]


def test_login_view_redirects_and_sessions_answer_the_same(login):
    requests = web_requests()
    original = answers_in(LOGIN, "loginapp.web:app", requests)
    statuses = [a["status"] for a in original]
    assert statuses == [
        302, 302, 302, 404, 404, 302, 302, 302, 302, 401, 302, 302, 302, 302, 200, 403, 200, 302, 302, 302, 302, 302, 200, 200
    ]
    assert original[0]["headers"]["Location"] == "/login?next=%2Fprofile"
    assert original[8]["headers"]["Location"] == "/login?next=%2Fprofile%3Ftab%3D1"
    assert original[14]["body"] == {"name": "ann", "id": "1"}
    assert original[22]["body"] == {"page": 3, "admin": "root"}
    comparison = compare(LOGIN, login, "loginapp.web:app", requests)
    assert comparison.same, comparison


def test_unauthorized_handler_and_json_login_answer_the_same(login):
    protected = [("DELETE", "/api/session"), ("GET", "/api/notes")]
    refused = [{"method": m, "path": p} for m, p in protected]
    requests = [
        *refused,
        *({**r, "cookies": FORGED} for r in refused),
        {"method": "POST", "path": "/api/session", "json": {"name": "ann", "password": "bad"}},
        *refused,
        {"method": "POST", "path": "/api/session", "json": {"name": "ann", "password": "ann-pw"}},
        {"method": "GET", "path": "/api/notes"},
        {"method": "DELETE", "path": "/api/session"},
        *refused,
    ]
    original = answers_in(LOGIN, "loginapp.api:app", requests)
    assert [a["status"] for a in original] == [401, 401, 401, 401, 403, 401, 401, 200, 200, 200, 401, 401]
    assert original[0]["body"] == {"error": "login required"}
    assert original[8]["body"] == {"owner": "ann", "notes": ["a", "b"]}
    comparison = compare(LOGIN, login, "loginapp.api:app", requests)
    assert comparison.same, comparison


def test_without_login_view_the_401_page_answers(login):
    requests = [{"method": "GET", "path": "/private"}, {"method": "GET", "path": "/private", "cookies": FORGED}]
    original = answers_in(LOGIN, "loginapp.plain:app", requests)
    assert [a["status"] for a in original] == [401, 401]
    assert "<title>401 Unauthorized</title>" in original[0]["body"]
    assert answers_in(login, "loginapp.plain:app", requests) == original


def _cookie(answer):
    """The value of the session cookie an answer sets."""
    name, _, rest = answer["headers"]["Set-Cookie"].partition("=")
    assert name == "session"
    return rest.partition(";")[0]


def _session(cookie, secret):
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie)


ANN = {"name": "ann", "password": "ann-pw"}
SET_COOKIE = ["Set-Cookie"]


def test_a_session_cookie_crosses_the_cutover_both_ways(login):
    """Flask-Login left the converted app (the user comes from a dependency over the runtime's
    session middleware): a cookie the original issued still logs in after the cutover, one the
    converted app issued logs in on the original (a rollback logs no one out), and both hold
    Flask-Login's keys, signed the same way."""
    log_in = [{"method": "POST", "path": "/api/session", "json": ANN, "expect_headers": SET_COOKIE}]
    issued_before = _cookie(answers_in(LOGIN, "loginapp.api:app", log_in)[0])
    issued_after = _cookie(answers_in(login, "loginapp.api:app", log_in)[0])
    before, after = _session(issued_before, "api-secret"), _session(issued_after, "api-secret")
    assert set(before) == set(after) == {"_user_id", "_fresh", "_id"}
    assert (before["_user_id"], before["_fresh"]) == (after["_user_id"], after["_fresh"]) == ("1", True)

    notes = [{"method": "GET", "path": "/api/notes", "cookies": {"session": c}} for c in (issued_before, issued_after)]
    for app in (LOGIN, login):
        assert [(a["status"], a["body"]) for a in answers_in(app, "loginapp.api:app", notes)] == [
            (200, {"owner": "ann", "notes": ["a", "b"]})
        ] * 2
    foreign = {"method": "GET", "path": "/api/notes", "cookies": {"session": _cookie(answers_in(login, "loginapp.web:app", [
        {"method": "POST", "path": "/login", "form": ANN, "expect_headers": SET_COOKIE}
    ])[0])}}
    # signed with another app's key: nobody, as before
    assert answers_in(login, "loginapp.api:app", [foreign]) == answers_in(LOGIN, "loginapp.api:app", [foreign])
    assert answers_in(login, "loginapp.api:app", [foreign])[0]["status"] == 401


def _files(root):
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_the_converted_login_project_is_the_expected_one(login):
    """The converted views' shape, byte for byte: fixtures/projects/login/expected."""
    assert _files(login) == _files(LOGIN.parent / "expected")


def test_converting_the_login_project_again_changes_nothing():
    from typer.testing import CliRunner

    from codemod.cli import app as cli

    result = CliRunner().invoke(cli, ["convert", str(LOGIN.parent / "expected"), "--check"])
    assert result.exit_code == 0, result.output


def test_flask_login_left_the_converted_views(login):
    """No Flask-Login in the converted project: the views take the user through Depends, and
    the dependency declares the session cookie for OpenAPI."""
    import subprocess
    import sys

    for module in ("web", "api", "plain", "models"):
        assert "flask_login" not in (login / "loginapp" / f"{module}.py").read_text()
    script = "import json; from loginapp.web import api; print(json.dumps(api.openapi()))"
    shown = subprocess.run([sys.executable, "-c", script], cwd=login, capture_output=True, text=True, check=True)
    import json

    schema = json.loads(shown.stdout)
    assert schema["components"]["securitySchemes"] == {"APIKeyCookie": {"type": "apiKey", "in": "cookie", "name": "session"}}
    assert schema["paths"]["/profile"]["get"]["security"] == [{"APIKeyCookie": []}]


AUTH_DECORATOR = ("login_required", "fresh_login_required", ".guard")
# Flask-Login converted: the dependency that refuses (transforms/flask_login.py)
AUTH_DEPENDENCY = "Depends(login_required_user)"
ROUTE_METHODS = {"route", "get", "post", "put", "patch", "delete", "api_route"}


def _protection(path):
    """{view name: [(route decorator, protected?)]} of a module: a route is protected when an
    auth decorator is still on the view, its decorator has an auth dependency, a parameter of
    the view depends on a check (``user: Annotated[Any, Depends(auth.login_required())]``, or
    Flask-Login's converted ``Depends(login_required_user)``, which the module must then define)
    or a before_request hook of the module is a check (a blueprint protected as a whole)."""
    import libcst as cst

    def code(node):
        return cst.Module([]).code_for_node(node)

    functions = [n for n in cst.parse_module(path.read_bytes()).body if isinstance(n, cst.FunctionDef)]
    hooked = any(
        any(code(d.decorator).endswith(".before_request") for d in f.decorators)
        and any(code(d.decorator).split("(")[0].endswith(AUTH_DECORATOR) for d in f.decorators)
        for f in functions
    )
    views, depends = {}, False
    for node in functions:
        decorators = [code(d.decorator) for d in node.decorators]
        routes = [c for c in decorators if c.split("(")[0].rpartition(".")[2] in ROUTE_METHODS]
        parameters = [*node.params.params, *node.params.kwonly_params]
        annotations = [code(p.annotation.annotation) for p in parameters if p.annotation is not None]
        takes_user = any(AUTH_DEPENDENCY in a for a in annotations)
        guarded = hooked or takes_user or any(c.split("(")[0].endswith(AUTH_DECORATOR) for c in decorators)
        guarded = guarded or any("Depends(" in a and ".login_required(" in a for a in annotations)
        if routes:
            dependencies = [r.partition("dependencies=")[2] for r in routes]
            depends |= takes_user or any(AUTH_DEPENDENCY in d for d in dependencies)
            views[node.name.value] = [
                (r, guarded or ".dependency" in d or ".login_required(" in d or AUTH_DEPENDENCY in d)
                for r, d in zip(routes, dependencies)
            ]
    if depends:
        assert any(f.name.value == "login_required_user" for f in functions)
    return views


@pytest.mark.parametrize(
    ("original", "module"),
    [
        (HTTPAUTH, "authapi/app.py"),
        (HTTPAUTH, "authapi/admin.py"),
        (HTTPAUTH, "authapi/ops.py"),
        (LOGIN, "loginapp/web.py"),
        (LOGIN, "loginapp/api.py"),
        (LOGIN, "loginapp/plain.py"),
    ],
)
def test_no_protected_route_loses_its_check(original, module, httpauth, login):
    converted = httpauth if original == HTTPAUTH else login
    before, after = _protection(original / module), _protection(converted / module)
    protected = {view for view, routes in before.items() if all(p for _, p in routes)}
    assert protected, "the fixture protects no route"
    for view in protected:
        assert after[view] and all(p for _, p in after[view]), (view, after[view])
    assert any(".route(" not in r for routes in after.values() for r, _ in routes)  # converted, not just kept


def test_httpauth_checks_are_dependencies_and_flask_leaves(httpauth_report):
    """Every route of the project reaches the idiomatic level: the checks are dependencies on
    the runtime's objects, which declare their schemes for OpenAPI, and no Flask is left."""
    converted, report = httpauth_report
    assert {r["rule"]: r["level"] for r in report["routes"]} == {
        rule: "idiomatic" for rule in (
            "/admin/stats", "/admin/users/<name>", "/admin/removed", "/ops/status", "/health", "/me", "/tokens/me",
            "/reports", "/greeting", "/either", "/either/admin", "/audited", "/audit-log",
        )
    }
    code = {p.name: p.read_text() for p in (converted / "authapi").glob("*.py")}
    assert not any("flask_httpauth" in text or "from flask import" in text for text in code.values())
    assert "def only_admins" not in code["ops.py"]  # the blueprint's hook is each view's dependency
    assert 'def me(request: Request, user: Annotated[Any, Depends(basic_auth.login_required())]):' in code["app.py"]
    assert "@basic_auth.guard()" in code["app.py"]  # below @audited, which sees the refusals
    assert "request.state.auth_method = " in code["auth.py"]

    schema = answers_in(converted, "authapi.app:app", [{"method": "GET", "path": "/openapi.json"}])[0]["body"]
    assert schema["components"]["securitySchemes"] == {
        "HTTPBasic": {"type": "http", "scheme": "basic"}, "HTTPBearer": {"type": "http", "scheme": "bearer"},
    }
    security = {(path, method): op.get("security") for path, ops in schema["paths"].items() for method, op in ops.items()}
    assert security[("/me", "get")] == [{"HTTPBasic": []}]
    assert security[("/reports", "post")] == [{"HTTPBearer": []}]
    assert security[("/ops/status", "get")] == [{"HTTPBearer": []}]
    assert security[("/either/admin", "get")] == [{"HTTPBearer": []}, {"HTTPBasic": []}]
    assert security[("/audited", "get")] == [{"HTTPBasic": []}]  # the guard declares it too
    assert security[("/health", "get")] is None


def test_httpauth_on_the_bridge_refuses_what_it_refused(tmp_path):
    """Where Flask stays (here: leave_flask skipped), the dependencies run on FlaskBridge's routes."""
    converted = convert_copy(HTTPAUTH, tmp_path / "converted", "--ignore", "leave_flask")
    assert "FlaskBridge(app)" in (converted / "authapi" / "app.py").read_text()
    requests = [request for route in PROTECTED for request in asked(*route)]
    requests += [{"method": "GET", "path": "/audit-log"}, {"method": "OPTIONS", "path": "/either/admin"}]
    comparison = compare(HTTPAUTH, converted, "authapi.app:app", requests)
    assert comparison.same, comparison


SMALL_AUTH = '''\
from flask import Flask, jsonify
from flask_httpauth import HTTPTokenAuth

app = Flask(__name__)
auth = HTTPTokenAuth(scheme="Token", realm="api")


@auth.verify_token
def verify_token(token):
    return {"k1": "ann"}.get(token)


@auth.error_handler
def refused():
    return jsonify(error="refused")


@app.route("/data", methods=["PUT"])
@auth.login_required
def data():
    return jsonify(owner=auth.current_user())
'''


def test_an_error_handler_answering_a_response_keeps_its_status(tmp_path):
    """``return jsonify(...)`` alone is a response: Flask-HTTPAuth left its 200 (a body alone
    would have become a 401), so the converted handler returns one too."""
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "small.py").write_text(SMALL_AUTH)
    converted = convert_copy(tmp_path / "small", tmp_path / "converted")
    code = (converted / "small.py").read_text()
    assert 'return FlaskJSONResponse({"error": "refused"})' in code and "flask" not in code.replace("flask2fastapi", "")
    token = [{}, {"Authorization": "Token k1"}, {"Authorization": "token k1"}, {"Authorization": "Bearer k1"}, {"Authorization": "Token k2"}]
    requests = [{"method": "PUT", "path": "/data", "headers": h, "expect_headers": CHALLENGE} for h in token]
    original = answers_in(tmp_path / "small", "small:app", requests)
    assert [a["status"] for a in original] == [200, 200, 200, 200, 200]
    assert original[0]["body"] == {"error": "refused"} and original[0]["headers"]["WWW-Authenticate"] == 'Token realm="api"'
    assert original[1]["body"] == {"owner": "ann"}
    comparison = compare(tmp_path / "small", converted, "small:app", requests)
    assert comparison.same, comparison


HOOKED_AUTH = '''\
from flask_httpauth import HTTPTokenAuth

auth = HTTPTokenAuth(header="X-Key")


@auth.verify_token
def verify(token):
    return {"k": "ann"}.get(token)
'''
HOOKED_OPS = '''\
from flask import Blueprint, Flask

from bpapp.auth import auth

ops = Blueprint("ops", __name__)


@ops.before_request
@auth.login_required
def checked():
    """Every ops route needs a key."""


@ops.route("/ping")
def ping():
    return "pong"


app = Flask(__name__)
app.register_blueprint(ops, url_prefix="/ops")
'''


def test_a_blueprint_checked_by_its_hook_takes_the_dependency_on_each_route(tmp_path):
    """The hook (a docstring only) goes; the view, which reads no user, gets the dependency,
    and the module keeps its import of the object, which only the hook used before."""
    (tmp_path / "in" / "bpapp").mkdir(parents=True)
    (tmp_path / "in" / "bpapp" / "__init__.py").write_text("")
    (tmp_path / "in" / "bpapp" / "auth.py").write_text(HOOKED_AUTH)
    (tmp_path / "in" / "bpapp" / "ops.py").write_text(HOOKED_OPS)
    converted = convert_copy(tmp_path / "in", tmp_path / "out")
    code = (converted / "bpapp" / "ops.py").read_text()
    assert "def checked" not in code and "from bpapp.auth import auth" in code
    assert '@router.get("/ping", name="ops.ping", dependencies=[Depends(auth.login_required())])' in code
    keys = [{}, {"X-Key": "k"}, {"X-Key": "no"}, {"Authorization": "Bearer k"}]
    requests = [{"method": "GET", "path": "/ops/ping", "headers": h, "expect_headers": CHALLENGE} for h in keys]
    requests += [{"method": "OPTIONS", "path": "/ops/ping"}, {"method": "GET", "path": "/openapi.json"}]
    original = answers_in(tmp_path / "in", "bpapp.ops:app", requests[:-1])
    assert [a["status"] for a in original] == [401, 200, 401, 401, 200]
    assert original[0]["headers"]["WWW-Authenticate"] == 'Bearer realm="Authentication Required"'
    comparison = compare(tmp_path / "in", converted, "bpapp.ops:app", requests[:-1])
    assert comparison.same, comparison
    schema = answers_in(converted, "bpapp.ops:app", requests[-1:])[0]["body"]
    assert schema["components"]["securitySchemes"] == {"APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Key"}}
