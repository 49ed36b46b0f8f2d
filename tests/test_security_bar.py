"""The security bar of issue 5, kept: every fixture app that refuses requests (401, 403, an auth
extension) has a test that asks each of its protected routes without and with bad credentials
and finds the converted app refusing exactly what the original refused. A new fixture app with
auth and no such test fails here."""

import importlib
import re
from pathlib import Path

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
AUTH = re.compile(r"\b40[13]\b|login_required|jwt_required|HTTP\w*Auth\(|LoginManager\(")
ROUTE_BY_ROUTE = {
    "apphooks": "test_app_hooks.test_the_converted_app_answers_like_the_original",  # /admin without, with another, with the admin user
    "hooks": "test_request_context.test_auth_is_still_enforced_route_by_route",
    "httpauth": "test_auth_extensions.test_httpauth_protected_routes_refuse_what_they_refused",
    "login": "test_auth_extensions.test_login_view_redirects_and_sessions_answer_the_same",
    "jwt": "test_jwt_auth.test_every_protected_route_refuses_what_it_refused",
    "jwtalone": "test_jwt_leaves_flask.test_every_route_answers_as_before",  # each route with each bad token
    "teamnotes": "test_teamnotes.test_every_protected_route_refuses_what_it_refused",
    "silent": "test_silent_changes.test_same_answer",  # its "no token" and "token" cases
    "bodies": "test_request_bodies.test_same_answer",  # "no token, bad body", "bad token", "note"
    "state": "test_request_state.test_the_converted_app_answers_like_the_original",  # each guarded route without, with bad tokens
    "responses": "test_responses.test_same_answer",  # its one refusal, abort(401) on PUT /items/0
    "recorded": "test_verify_recorded.test_the_tally_refuses_what_it_refused",
}


def test_every_fixture_app_with_auth_has_a_route_by_route_test():
    with_auth = {
        project.name
        for project in PROJECTS.iterdir()
        if any(AUTH.search(path.read_text()) for path in (project / "input").rglob("*.py"))
    }
    assert with_auth == set(ROUTE_BY_ROUTE)
    for test in ROUTE_BY_ROUTE.values():
        module, _, name = test.partition(".")
        assert callable(getattr(importlib.import_module(module), name)), test
