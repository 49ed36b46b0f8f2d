"""The request-id pattern, end to end on fixtures/projects/tracing: a before_request hook keeps a
trace id on flask.g, an after_request hook sends it back and logs through app.logger, and the
app's JSON error bodies come from a helper that reads the id from g. Converted, the hooks are
RequestHooks, the id lives on request.state and reaches the helper as a parameter (from views
and from exception handlers), the handlers answer with FlaskJSONResponse, one of them through a
helper it hands its exception to, and every logger call is the module logger of the app's name.
Each request gets the same answer, byte for byte, and leaves the same log records."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "tracing" / "input"
SPEC = "traceapp:create_app()"
TRACE = ["X-Trace-ID", "Allow"]
REQUESTS = [
    {"method": "GET", "path": "/items/1", "headers": {"X-Trace-ID": "t-1"}},
    {"method": "GET", "path": "/items/7", "headers": {"X-Trace-ID": "t-2"}},  # abort(404, description=...): non-ASCII
    {"method": "GET", "path": "/nowhere", "headers": {"X-Trace-ID": "t-3"}},  # werkzeug's routing 404
    {"method": "DELETE", "path": "/items/1", "headers": {"X-Trace-ID": "t-4"}},  # 405 with Allow
    {"method": "POST", "path": "/items/1/lock", "headers": {"X-Trace-ID": "t-5"}},  # the app's exception class
    {"method": "POST", "path": "/items/2/lock", "headers": {"X-Trace-ID": "t-6"}},  # ... a 503 it logs
    {"method": "POST", "path": "/items/3/lock", "headers": {"X-Trace-ID": "t-7"}},  # abort(418): werkzeug's name
    {"method": "GET", "path": "/items/crash", "headers": {"X-Trace-ID": "t-8"}},  # unhandled: the 500 handler
    {"method": "GET", "path": "/items/500/check", "headers": {"X-Trace-ID": "t-9"}},  # a view's helper-built 422
    {"method": "GET", "path": "/items/0/check", "headers": {"X-Trace-ID": "t-10"}},  # the body helper in a view
    {"method": "GET", "path": "/items/2", "headers": {"X-Trace-ID": "bad id!"}},  # a new id: not compared
]
for request in REQUESTS:
    request["expect_headers"] = TRACE

# each request's status, headers and raw body, and the records the app's logger got
SCRIPT = """
import json, logging, sys
from codemod.routes import load_app
from codemod.verify import is_flask
sys.path.insert(0, ".")
records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append([record.name, record.levelname, record.getMessage()])
logging.getLogger("traceapp").addHandler(Keep())
app = load_app("traceapp:create_app()")
if is_flask(app):
    client = app.test_client()
    send = lambda r: client.open(r["path"], method=r["method"], headers=r["headers"])
    body = lambda response: response.get_data()
else:
    from fastapi.testclient import TestClient
    client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False)
    send = lambda r: client.request(r["method"], r["path"], headers=r["headers"])
    body = lambda response: response.content
answers = []
for request in json.loads(sys.argv[1])[:-1]:
    response = send(request)
    answers.append([response.status_code, response.headers.get("content-type"), body(response).decode("latin-1")])
print(json.dumps({"answers": answers, "records": records}))
"""


def raw(root: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(REQUESTS)], cwd=root, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("tracing") / "converted")


def test_the_pattern_is_fastapis(converted):
    app = (converted / "traceapp" / "__init__.py").read_text()
    # nothing of Flask is left in it, so the app is the runtime's NativeApp (leave_flask)
    assert "app = NativeApp(__name__)" in app and "FlaskBridge" not in app
    assert "app.add_middleware(RequestHooks, before=[start_trace], after=[finish_trace])" in app
    assert 'request.state.trace_id = incoming if' in app and "@app.before_request" not in app
    assert 'logger = logging.getLogger("traceapp")' in app and "    app.logger.setLevel(\"INFO\")" in app
    assert 'logger.info("%s %s -> %s [%s]"' in app
    errors = (converted / "traceapp" / "errors.py").read_text()
    for fastapi in (
        "def error_body(code, message, request, **extra):",
        'trace_id = getattr(request.state, "trace_id", None)',
        "def _error_code(exc: StarletteHTTPException):",
        're.sub(r"[^a-z0-9]+", "_", status_name(exc.status_code).lower())',
        "response = FlaskJSONResponse(error_body(_error_code(exc), exc.detail or status_name(exc.status_code), request=request))",
        'logger.warning("app error %s: %s", exc.code, exc.message)',
        "return FlaskJSONResponse(error_body(exc.code, exc.message, detail=exc.detail, request=request), status_code=exc.status_code)",
        'return FlaskJSONResponse(error_body("internal", "something broke", request=request), status_code=500)',
        "app.add_exception_handler(StarletteHTTPException, handle_http_error)",
    ):
        assert fastapi in errors, fastapi
    # invalid(), whose every call a native view returns, answers with jsonify's bytes too
    assert 'return FlaskJSONResponse(error_body("invalid", message, field=field, request=request), status_code=422)' in errors
    assert "jsonify" not in errors
    items = (converted / "traceapp" / "items.py").read_text()
    assert 'logger.info("item %s read", item_id)' in items and "current_app" not in items
    assert "def check_item(item_id: int, request: Request):" in items


def test_the_same_answers(converted):
    original = answers_in(PROJECT, SPEC, REQUESTS)
    assert [a["status"] for a in original] == [200, 404, 404, 405, 409, 503, 418, 500, 422, 503, 200]
    assert original[1]["body"] == {"error": {"code": "missing", "message": "no item 7 — none at all", "trace_id": "t-2"}}
    assert original[3]["headers"] == {"X-Trace-ID": "t-4", "Allow": "GET, HEAD, OPTIONS"}
    assert original[6]["body"]["error"]["code"] == "i_m_a_teapot"  # werkzeug's name, not HTTPStatus's phrase
    assert original[8]["body"]["error"] == {"code": "invalid", "field": "item_id", "message": "item ids stop at 100", "trace_id": "t-9"}
    converted_answers = answers_in(converted, SPEC, REQUESTS)
    assert converted_answers[:-1] == original[:-1]
    fresh = converted_answers[-1]  # a trace id of its own, as the original made one
    assert fresh["status"] == 200 and len(fresh["headers"]["X-Trace-ID"]) == 32


def test_the_same_bytes_and_log_records(converted):
    original, after = raw(PROJECT), raw(converted)
    assert original["answers"][1][2] == '{"error":{"code":"missing","message":"no item 7 \\u2014 none at all","trace_id":"t-2"}}\n'
    assert after["answers"] == original["answers"]
    assert ["traceapp", "WARNING", "app error conflict: the kitchen is closed"] in original["records"]
    assert ["traceapp", "INFO", "item 1 read"] in original["records"]
    assert after["records"] == original["records"]
