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
