"""Error handlers: a Flask app whose JSON error handlers live in a function that takes the app,
converted with --out, answers every kind of error as the original did."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "errors"
SPEC = "errapp.app:app"
REQUESTS = [
    {"method": "GET", "path": "/items/1"},
    {"method": "GET", "path": "/items/2"},  # abort(404, description=...) -> the NotFound handler
    {"method": "GET", "path": "/items/abc"},  # converter mismatch -> the NotFound handler
    {"method": "GET", "path": "/nowhere"},  # unknown URL -> the NotFound handler
    {"method": "GET", "path": "/need"},  # missing args["q"] -> the 400 handler
    {"method": "GET", "path": "/teapot"},  # abort(418) -> the HTTPException handler
    {"method": "DELETE", "path": "/items/1"},  # 405 -> the HTTPException handler
    {"method": "POST", "path": "/conflict"},  # the app's own exception class
    {"method": "GET", "path": "/boom"},  # an unhandled exception -> the 500 handler
    {"method": "POST", "path": "/echo", "json": {"short": True}},
    {"method": "POST", "path": "/echo", "json": {"long": "x" * 100}},  # MAX_CONTENT_LENGTH -> 413
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("errors") / "converted")


def test_every_error_is_answered_by_the_same_handler(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 404, 404, 404, 400, 418, 405, 409, 500, 200, 413]
    assert original[1]["body"] == {"error": {"code": "not_found", "message": "item 2 does not exist"}}
    assert original[5]["body"]["error"]["code"] == "i'm_a_teapot"
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison

