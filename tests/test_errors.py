"""Error handlers: a Flask app whose JSON error handlers live in a function that takes the app,
converted with --out, answers every kind of error as the original did. The handlers whose body
has a FastAPI form become the bridge's exception handlers (transforms/error_handlers.py); one
of them calls a helper that keeps the error codes on flask.g, which an after_request hook reads:
it still runs inside Flask's request cycle."""

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
    {"method": "DELETE", "path": "/items/1", "expect_headers": ["Allow", "X-Error-Codes"]},  # the 405 handler
    {"method": "POST", "path": "/conflict"},  # the app's own exception class
    {"method": "GET", "path": "/boom"},  # an unhandled exception -> the 500 handler
    {"method": "POST", "path": "/echo", "json": {"short": True}},
    {"method": "POST", "path": "/echo", "json": {"long": "x" * 100}, "expect_headers": ["X-Error-Codes"]},  # 413
    {"method": "POST", "path": "/echo", "data": "x", "headers": {"Content-Type": "text/plain"}},  # 415, the loop's
    {"method": "GET", "path": "/ready"},  # the app's NotReady: an HTML page
    {"method": "GET", "path": "/need/"},  # a trailing slash the rule has not: the NotFound handler
    {"method": "POST", "path": "/echo", "data": "{bad", "headers": {"Content-Type": "application/json"}},  # malformed JSON: 400
    {"method": "HEAD", "path": "/items/2"},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("errors") / "converted")


def test_every_error_is_answered_by_the_same_handler(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 404, 404, 404, 400, 418, 405, 409, 500, 200, 413, 415, 503, 404, 400, 404]
    assert original[1]["body"] == {"error": {"code": "not_found", "message": "item 2 does not exist"}}
    assert original[5]["body"]["error"]["code"] == "i'm_a_teapot"
    assert original[6]["headers"] == {"Allow": "GET, HEAD, OPTIONS", "X-Error-Codes": "405"}
    assert original[10]["headers"] == {"X-Error-Codes": "413"}
    assert (original[12]["media_type"], original[12]["body"]) == ("text/html", "<p>not ready: warming up</p>")
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_the_factorys_views_are_native(converted):
    """The views the factory declares are the bridge's path operations, as module-level ones."""
    app = (converted / "errapp" / "app.py").read_text()
    for native in (
        '    @api.get("/items/{item_id}", response_model=ItemResponse)\n    def item(item_id: int):',
        '            raise HTTPException(status_code=404, detail=f"item {item_id} does not exist")',
        '    @api.get("/need", response_model=NeedResponse)\n    def need(q: str):',
        '    @api.post("/conflict")',
        "\n\nclass ItemResponse(BaseModel):",
    ):
        assert native in app, native
    assert "@app.route" not in app


def test_the_handlers_with_a_fastapi_form_are_the_bridges(converted):
    errors = (converted / "errapp" / "errors.py").read_text()
    for fastapi in (
        "@bridge_of(app).exception_handler(400)\n    def bad_request(request: Request, error: StarletteHTTPException):",
        "@bridge_of(app).exception_handler(405)\n    def method_not_allowed(request: Request, error: StarletteHTTPException):",
        "response = JSONResponse({\"error\": {\"code\": \"method_not_allowed\", \"message\": error.detail}})",
        "for name, value in (error.headers or {}).items():",
        "return JSONResponse({\"error\": {\"code\": \"refused\", \"message\": error.detail}}, status_code=error.status_code)",
        "bridge_of(app).add_exception_handler(status, too_large)",
        "@bridge_of(app).exception_handler(NotReady)\n    def not_ready(request: Request, error: NotReady):",
        "return HTMLResponse(f\"<p>not ready: {error.args[0]}</p>\", status_code=503)",
    ):
        assert fastapi in errors, fastapi
    # the handlers that return error_body()'s Flask tuple are FastAPI's too: error_body answers
    # the runtime's FlaskJSONResponse (jsonify's bytes), which they return as it is
    for fastapi in (
        "def error_body(code, message, status):\n"
        "    return FlaskJSONResponse({\"error\": {\"code\": code, \"message\": message}}, status_code=status)",
        "@bridge_of(app).exception_handler(404)\n    def not_found(request: Request, error: StarletteHTTPException):\n"
        "        return error_body(\"not_found\", error.detail, 404)",
        "@bridge_of(app).exception_handler(StarletteHTTPException)\n    def http_error(request: Request, error: StarletteHTTPException):\n"
        "        return error_body(status_name(error.status_code).lower().replace(\" \", \"_\"), error.detail, error.status_code)",
        "@bridge_of(app).exception_handler(APIError)\n    def api_error(request: Request, error: APIError):",
        "bridge_of(app).add_exception_handler(500, internal_error)",
    ):
        assert fastapi in errors, fastapi
    assert "jsonify" not in errors and "errorhandler" not in errors and "register_error_handler(" not in errors

