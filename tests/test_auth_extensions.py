"""Flask-HTTPAuth and Flask-Login: every protected route of the fixture apps, asked without
credentials, with bad ones, with too small a role and with good ones, answers after conversion
exactly as before (status, body, WWW-Authenticate / Location). An auth check lost in conversion
is the worst bug this tool can have, so the routes are asked one by one."""

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
def httpauth(tmp_path_factory):
    return convert_copy(HTTPAUTH, tmp_path_factory.mktemp("httpauth") / "converted")


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


AUTH_DECORATOR = ("login_required", "fresh_login_required")
# Flask-Login converted: the dependency that refuses (transforms/flask_login.py)
AUTH_DEPENDENCY = "Depends(login_required_user)"
ROUTE_METHODS = {"route", "get", "post", "put", "patch", "delete", "api_route"}


def _protection(path):
    """{view name: [(route decorator, protected?)]} of a module: a route is protected when an
    auth decorator is still on the view, its decorator has an auth dependency, or the view takes
    the user from Flask-Login's converted dependency (which the module must define)."""
    import libcst as cst

    views, depends = {}, False
    module = cst.parse_module(path.read_bytes())
    for node in module.body:
        if not isinstance(node, cst.FunctionDef):
            continue
        code = [module.code_for_node(d.decorator) for d in node.decorators]
        routes = [c for c in code if c.split("(")[0].rpartition(".")[2] in ROUTE_METHODS]
        params = [*node.params.params, *node.params.kwonly_params]
        annotations = [module.code_for_node(p.annotation.annotation) for p in params if p.annotation]
        takes_user = any(AUTH_DEPENDENCY in a for a in annotations)
        guarded = takes_user or any(c.split("(")[0].endswith(AUTH_DECORATOR) for c in code)
        if routes:
            options = [r.partition("dependencies=")[2] for r in routes]
            depends |= takes_user or any(AUTH_DEPENDENCY in o for o in options)
            views[node.name.value] = [(r, guarded or ".dependency" in o or AUTH_DEPENDENCY in o) for r, o in zip(routes, options)]
    if depends:
        assert any(isinstance(n, cst.FunctionDef) and n.name.value == "login_required_user" for n in module.body)
    return views


@pytest.mark.parametrize(
    ("original", "module"),
    [
        (HTTPAUTH, "authapi/app.py"),
        (HTTPAUTH, "authapi/admin.py"),
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
