"""Error handlers: a Flask app whose JSON error handlers live in a function that takes the app,
converted with --out, answers every kind of error as the original did (status, body, headers):
werkzeug's 404 and 405 from routing, abort(...), the app's own exception classes, an unhandled
500, the 413/415 of a body read. Every handler becomes a FastAPI exception handler
(transforms/error_handlers.py), those returning error_body()'s ``jsonify(...), status`` too (it
answers the runtime's FlaskJSONResponse); the helper that kept the error codes on flask.g keeps
them on the handler's request.state, which the after_request hook, registered on the same
function's app and now RequestHooks middleware, reads. All seven routes are idiomatic (echo's
whole body is the value get_json gave, ``Annotated[Any, FlaskJson()]``), so Flask leaves the
project; with an echo that keeps Flask's request (``bridged``), the handlers are the bridge's."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "errors"
SPEC = "errapp.app:app"
HEADERS = ["X-Error-Codes"]  # the after hook's trail, on every answer
# error_body()'s answers are jsonify's bytes (FlaskJSONResponse): their length too. (The handlers
# whose dict became Starlette's JSONResponse send the same JSON without jsonify's final newline.)
BYTES = [*HEADERS, "Content-Length"]
REQUESTS = [
    {"method": "GET", "path": "/items/1"},
    {"method": "GET", "path": "/items/2", "expect_headers": BYTES},  # abort(404, description=...) -> the NotFound handler
    {"method": "GET", "path": "/items/abc", "expect_headers": BYTES},  # converter mismatch -> the NotFound handler
    {"method": "GET", "path": "/nowhere", "expect_headers": BYTES},  # unknown URL -> the NotFound handler
    {"method": "GET", "path": "/need"},  # missing args["q"] -> the 400 handler
    {"method": "GET", "path": "/teapot", "expect_headers": BYTES},  # abort(418) -> the HTTPException handler
    {"method": "DELETE", "path": "/items/1", "expect_headers": ["Allow", *HEADERS]},  # the 405 handler
    {"method": "POST", "path": "/conflict", "expect_headers": BYTES},  # the app's own exception class
    {"method": "GET", "path": "/boom", "expect_headers": BYTES},  # an unhandled exception -> the 500 handler
    {"method": "POST", "path": "/echo", "json": {"short": True}},
    {"method": "POST", "path": "/echo", "json": {"long": "x" * 100}},  # 413
    {"method": "POST", "path": "/echo", "data": "x", "headers": {"Content-Type": "text/plain"}},  # 415, the loop's
    {"method": "GET", "path": "/ready"},  # the app's NotReady: an HTML page
    {"method": "GET", "path": "/need/", "expect_headers": BYTES},  # a trailing slash the rule has not: the NotFound handler
    {"method": "POST", "path": "/echo", "data": "{bad", "headers": {"Content-Type": "application/json"}},  # malformed JSON: 400
    {"method": "HEAD", "path": "/items/2", "expect_headers": BYTES},
    {"method": "DELETE", "path": "/echo", "expect_headers": ["Allow", *HEADERS]},  # a second 405, its own trail
]
REQUESTS = [{"expect_headers": HEADERS, **r} for r in REQUESTS]


ECHO = '''    def echo():
        return {"echo": request.get_json()}
'''
# a read after request.get_data(), which stays Flask's: the route keeps Flask's request
ECHO_KEPT = '''    def echo():
        request.get_data()
        return {"echo": request.get_json()}
'''


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("errors") / "converted")


@pytest.fixture(scope="module")
def bridged_original(tmp_path_factory):
    import shutil

    original = tmp_path_factory.mktemp("errors_kept") / "original"
    shutil.copytree(PROJECT / "input", original)
    app = original / "errapp" / "app.py"
    assert ECHO in app.read_text()
    app.write_text(app.read_text().replace(ECHO, ECHO_KEPT))
    return original


@pytest.fixture(scope="module")
def bridged(bridged_original, tmp_path_factory):
    return convert_copy(bridged_original, tmp_path_factory.mktemp("errors_kept") / "converted")


def test_every_error_is_answered_by_the_same_handler(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 404, 404, 404, 400, 418, 405, 409, 500, 200, 413, 415, 503, 404, 400, 404, 405]
    assert original[1]["body"] == {"error": {"code": "not_found", "message": "item 2 does not exist"}}
    assert original[5]["body"]["error"]["code"] == "i'm_a_teapot"
    assert original[6]["headers"] == {"Allow": "GET, HEAD, OPTIONS", "X-Error-Codes": "405"}
    assert original[10]["headers"]["X-Error-Codes"] == "413" and original[11]["headers"]["X-Error-Codes"] == "415"
    assert original[16]["headers"]["X-Error-Codes"] == "405"  # g is the request's: no trail of the first 405
    assert {a["headers"]["X-Error-Codes"] for i, a in enumerate(original) if i not in (6, 10, 11, 16)} == {""}
    assert original[1]["headers"]["Content-Length"] == "65"  # jsonify's compact JSON and its newline
    assert (original[12]["media_type"], original[12]["body"]) == ("text/html", "<p>not ready: warming up</p>")
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_the_factorys_views_are_native(bridged):
    """The views the factory declares are the bridge's path operations, as module-level ones."""
    app = (bridged / "errapp" / "app.py").read_text()
    for native in (
        '    @api.get("/items/{item_id}", response_model=ItemResponse)\n    def item(item_id: int):',
        '            raise HTTPException(status_code=404, detail=f"item {item_id} does not exist")',
        '    @api.get("/need", response_model=NeedResponse)\n    def need(q: str):',
        '    @api.post("/conflict")',
        "\n\nclass ItemResponse(BaseModel):",
    ):
        assert native in app, native
    assert "@app.route" not in app


def test_the_handlers_with_a_fastapi_form_are_the_bridges(bridged):
    errors = (bridged / "errapp" / "errors.py").read_text()
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



def test_the_state_the_handlers_keep_is_the_requests(bridged):
    """note_error's g.error_codes, read by an after_request hook registered on the function's app
    parameter, is request.state's: the handlers give their request, the hook is RequestHooks'."""
    errors = (bridged / "errapp" / "errors.py").read_text()
    for fastapi in (
        "def note_error(code, request):\n"
        "    request.state.error_codes = [*getattr(request.state, \"error_codes\", []), code]",
        "        note_error(error.status_code, request=request)\n        response = JSONResponse(",
        "    async def error_trail(request: Request, response: ResponseHead):\n"
        "        response.headers[\"X-Error-Codes\"] = \",\".join(str(code) for code in getattr(request.state, \"error_codes\", []))",
        "    bridge_of(app).add_middleware(RequestHooks, after=[error_trail])",
    ):
        assert fastapi in errors, fastapi
    assert "from flask import Flask\n" in errors and "g." not in errors and "after_request" not in errors


def test_every_route_is_idiomatic_and_a_kept_read_says_why(bridged_original):
    from codemod.engine import convert_paths, discover
    from transforms import ORDER

    routes = {r["view"]: r for result in convert_paths(discover([PROJECT / "input"]), ORDER) for r in result.routes}
    assert {view: r["level"] for view, r in routes.items()} == {
        f"errapp.app.{v}": "idiomatic" for v in ("item", "need", "teapot", "conflict", "boom", "ready", "echo")
    }
    kept = {r["view"]: r for result in convert_paths(discover([bridged_original]), ORDER) for r in result.routes}
    assert kept["errapp.app.echo"]["level"] == "native"
    assert kept["errapp.app.echo"]["reason"] == "Flask left on its code path: app.echo uses request"


def test_without_flask_every_error_is_answered_alike(converted):
    """echo takes its body as the value get_json gave: Flask leaves the project (NativeApp,
    whose exception handlers and RequestHooks answer alone), and every error, its trail and
    error_body()'s bytes are still the original's (compared in the first test)."""
    app = (converted / "errapp" / "app.py").read_text()
    errors = (converted / "errapp" / "errors.py").read_text()
    assert "from flask import" not in errors + app
    assert "    def echo(data: Annotated[Any, FlaskJson()] = None):\n        return {\"echo\": data}" in app
    assert "    app.add_middleware(RequestHooks, after=[error_trail])" in errors
    assert "    @app.exception_handler(StarletteHTTPException)\n    def http_error(" in errors


def test_the_bridged_app_answers_alike(bridged_original, bridged):
    comparison = compare(bridged_original, bridged, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_a_module_level_handlers_helper_keeps_the_hooks_state_alike(tmp_path):
    """fixtures/error_handlers/helper_reading_g, as a project: the helper's g.error_codes, now the
    handler's request.state, is what the converted after hook reads, request by request."""
    import shutil

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "error_handlers" / "helper_reading_g"
    original = tmp_path / "original"
    original.mkdir()
    shutil.copy(fixture / "input.py", original / "gapp.py")
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "gapp.py").read_text()  # (with no route left to Flask, a NativeApp's)
    assert "    request.state.error_codes = [*getattr(request.state, \"error_codes\", []), code]" in code
    assert "remember(error.status_code, request=request)" in code and "add_middleware(RequestHooks, after=[trail])" in code
    requests = [{"method": m, "path": p, "expect_headers": ["X-Errors"]} for m, p in [("GET", "/a"), ("GET", "/b"), ("POST", "/c")]]
    assert [a["headers"]["X-Errors"] for a in answers_in(original, "gapp:app", requests)] == ["404", "404", "404"]
    comparison = compare(original, converted, "gapp:app", requests)
    assert comparison.same, comparison
