"""g and the request hooks: a Flask app that keeps state on g (in views, helpers and an auth
decorator) and stamps headers in before/after/teardown hooks answers the same after conversion."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "hooks"
SPEC = "hookapp.app:app"
HEADERS = ["X-User", "X-Order", "X-Powered-By"]
REQUESTS = [
    {"method": "GET", "path": "/me", "expect_headers": HEADERS},
    {"method": "GET", "path": "/me", "expect_headers": HEADERS},  # teardown ran after the first
    {"method": "GET", "path": "/settings"},  # app.config and current_app, in a view and a helper
    {"method": "GET", "path": "/links"},  # url_for: paths, query values, an external URL
    {"method": "GET", "path": "/old-me", "expect_headers": ["Location"]},  # redirect
    {"method": "GET", "path": "/made", "expect_headers": ["X-Made"]},  # make_response
    {"method": "GET", "path": "/session"},  # the session cookie, kept by the client between requests
    {"method": "POST", "path": "/session?name=ann"},
    {"method": "POST", "path": "/session?name=bob"},
    {"method": "GET", "path": "/session"},
    {"method": "GET", "path": "/admin", "expect_headers": HEADERS},  # the decorator reads g: 403
    {"method": "GET", "path": "/nowhere", "expect_headers": HEADERS},  # hooks run on a 404 too
    {"method": "GET", "path": "/boom", "expect_headers": HEADERS},  # and on a 500
    {"method": "POST", "path": "/maintenance", "expect_headers": HEADERS},
    {"method": "GET", "path": "/me", "expect_headers": HEADERS},  # a before hook answers: 503
    {"method": "POST", "path": "/maintenance", "expect_headers": HEADERS},
]


# Every protected route, asked without a token, with a bad one, with too small a role and with
# the right one: the converted app must refuse exactly what the original refused.
ANN = {"Authorization": "Bearer t-ann", "X-Request-ID": "r1"}
ROOT = {"Authorization": "Bearer t-root"}
AUTH_REQUESTS = [
    {"method": "GET", "path": "/account", "expect_headers": ["X-Request-ID"]},
    {"method": "GET", "path": "/account", "headers": {"Authorization": "Bearer nope"}},
    {"method": "GET", "path": "/account", "headers": {"Authorization": "t-ann"}},
    {"method": "GET", "path": "/account", "headers": ANN, "expect_headers": ["X-Request-ID"]},
    {"method": "DELETE", "path": "/accounts/7"},
    {"method": "DELETE", "path": "/accounts/7", "headers": ANN},
    {"method": "DELETE", "path": "/accounts/7", "headers": ROOT},
]


# A blueprint's own hooks and error handlers apply to its routes only; its before_app_request and
# app_errorhandler to every request; a URL whose converter does not match is the app's 404.
KEY = {"X-Team-Key": "k-1"}
TEAM_HEADERS = ["X-Order", "X-Team"]
TEAM_REQUESTS = [
    {"method": "GET", "path": "/team/members/1", "expect_headers": TEAM_HEADERS},  # abort(401) in its before hook
    {"method": "GET", "path": "/team/members/1", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "GET", "path": "/team/members/2", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "GET", "path": "/team/members/x", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "GET", "path": "/team/brew", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "GET", "path": "/teapot", "expect_headers": TEAM_HEADERS},
    {"method": "GET", "path": "/team/nothing", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "POST", "path": "/team/members/1", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "HEAD", "path": "/team/members/1", "headers": KEY, "expect_headers": TEAM_HEADERS},
    {"method": "GET", "path": "/me", "expect_headers": TEAM_HEADERS},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("hooks") / "converted")


def test_hooks_and_g_answer_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 200, 200, 200, 301, 201, 200, 200, 200, 200, 403, 404, 500, 200, 503, 503]
    assert original[9]["body"] == {"visits": 2, "name": "bob", "known": True}
    assert original[3]["body"] == {"me": "/me", "delete": "/accounts/7?force=1", "external": "http://localhost/me"}
    assert original[0]["headers"]["X-Order"] == "load_user,maintenance,everywhere,powered,stamp"
    assert original[1]["body"] == {"user": "ann", "teardowns": 1}
    assert original[2]["body"] == {"greeting": "hello", "limit": 5, "lowercase": False, "testing": False}
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_auth_is_still_enforced_route_by_route(converted):
    original = answers_in(PROJECT / "input", SPEC, AUTH_REQUESTS)
    assert [a["status"] for a in original] == [401, 401, 401, 200, 401, 403, 204]
    assert original[3]["body"] == {"account": "ann", "request_id": "r1"}
    assert answers_in(converted, SPEC, AUTH_REQUESTS) == original


def test_blueprint_hooks_and_handlers_apply_to_its_routes(converted):
    original = answers_in(PROJECT / "input", SPEC, TEAM_REQUESTS)
    assert [a["status"] for a in original] == [401, 200, 404, 404, 418, 418, 404, 405, 200, 200]
    assert original[0]["body"] == {"error": "team key required"}
    assert original[2]["body"] == {"description": "member 2 is not in the team", "error": "no such member"}
    assert original[1]["headers"] == {"X-Order": "load_user,maintenance,everywhere,team_key,team_mark,powered,stamp", "X-Team": "yes"}
    assert original[3]["headers"] == {"X-Order": "load_user,maintenance,everywhere,powered,stamp", "X-Team": None}
    assert original[5]["body"] == {"error": "short and stout"}
    comparison = compare(PROJECT / "input", converted, SPEC, TEAM_REQUESTS)
    assert comparison.same, comparison


def test_the_routes_whose_path_left_flask_are_idiomatic():
    # the hooks (abort in the blueprint's included), g on request.state, the blueprint's handlers
    # and its app-wide one converted; the rest keep Flask in their own code, named in the reason
    from codemod.engine import convert_paths, discover
    from transforms import ORDER

    results = convert_paths(discover([PROJECT / "input"]), ORDER)
    levels = {(route["rule"], tuple(route["methods"])): route["level"] for r in results for route in r.routes}
    idiomatic = sorted(rule for (rule, _), level in levels.items() if level == "idiomatic")
    # /settings reads the one app's app.config: the settings dependency gives that config object;
    # the session routes: request.session (tests/test_flask_session.py)
    assert idiomatic == [
        "/admin", "/boom", "/maintenance", "/me", "/session", "/session", "/settings", "/team/brew",
        "/team/members/<int:member_id>", "/teapot",
    ]
    reasons = [route["reason"] for r in results for route in r.routes if route["level"] == "native"]
    assert len(reasons) == 5 and not any("hooks stay Flask's" in r or "teapot" in r for r in reasons)
