"""An error handler that reads ``flask.request`` (its path, its method) becomes a FastAPI exception
handler reading its Request, and answers every error as the Flask original did: a 404 of routing
(no rule, a URL without its rule's trailing slash for another method, odd paths the handler
echoes), ``abort(404, description=...)``, werkzeug's ``NotFound("...")``, next to what it does
not handle (a 308 slash redirect, a 405, an exception's 500, malformed JSON), under the bridge
and once the project left Flask (NativeApp). The responses fixture project's routes stop being
held at native by its handler."""

from pathlib import Path

import pytest

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in
from transforms import ORDER

RESPONSES = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "responses" / "input"

HANDLER = '''from flask import Flask, abort, jsonify, request
IMPORTS
app = Flask(__name__)


@app.errorhandler(404)
def not_found(error):
    return jsonify(error=error.description, path=request.path, method=request.method), 404


@app.get("/missing/<int:item_id>")
def missing(item_id):
    abort(404, description=f"no item {item_id}")


@app.get("/dir/")
def directory():
    return {"dir": True}


@app.post("/only-post")
def only_post():
    return {"posted": True}


@app.get("/boom")
def boom():
    raise ValueError("boom")


@app.post("/echo")
def echo():
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        abort(400, description="a JSON object, please")
    return {"echo": data.get("text", "")}
ROUTES'''
# werkzeug's NotFound raised by a view keeps the project on the bridge (the view uses werkzeug)
BRIDGED = HANDLER.replace("IMPORTS", "from werkzeug.exceptions import NotFound\n").replace(
    "ROUTES", '\n\n@app.get("/gone")\ndef gone():\n    raise NotFound("it went away")\n'
)
NATIVE = HANDLER.replace("IMPORTS", "").replace("ROUTES", "")

HEADERS = ["Location", "Allow", "Content-Type", "X-Seen"]
ERRORS = [
    ("GET", "/nope"),  # no rule
    ("GET", "/nope%3Fx"),  # the path the handler echoes, decoded as werkzeug did
    ("GET", "/a%23b%5Cc"),
    ("GET", "/r%C3%A9sum%C3%A9"),
    ("GET", "/missing/3"),  # abort(404, description=...)
    ("GET", "/gone"),  # werkzeug's NotFound("it went away"); a 404 of routing where there is no such view
    ("GET", "/dir"),  # Flask's 308 to the rule's slash
    ("GET", "/dir?x=1"),
    ("POST", "/dir"),  # no redirect for a method the rule lacks: the handler's 404
    ("GET", "/only-post"),  # 405 with Allow, no handler for it
    ("GET", "/only-post/"),  # a trailing slash the rule has not
    ("PUT", "/dir/"),
    ("HEAD", "/nope"),
    ("OPTIONS", "/dir/"),
    ("GET", "/boom"),  # an exception: werkzeug's 500 page
]
REQUESTS = [{"method": method, "path": path, "expect_headers": HEADERS} for method, path in ERRORS] + [
    {"method": "POST", "path": "/echo", "data": "{bad", "headers": {"Content-Type": "application/json"}, "expect_headers": HEADERS},
    {"method": "POST", "path": "/echo", "json": {"text": "hi"}, "expect_headers": HEADERS},
    {"method": "POST", "path": "/echo", "json": [1], "expect_headers": HEADERS},
]


def _project(root: Path, source: str) -> Path:
    (root / "mini").mkdir(parents=True)
    (root / "mini" / "__init__.py").write_text(source)
    return root


@pytest.mark.parametrize("source, leaves_flask", [(BRIDGED, False), (NATIVE, True)], ids=["bridged", "native-app"])
def test_a_handler_reading_the_request_answers_as_before(tmp_path, source, leaves_flask):
    original = _project(tmp_path / "original", source)
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "mini" / "__init__.py").read_text()
    assert "@api.exception_handler(404)\ndef not_found(request: Request, error: StarletteHTTPException):" in code
    assert '"path": request_path(request), "method": request.method' in code
    assert ("app = NativeApp(__name__)" in code) is leaves_flask
    before = answers_in(original, "mini:app", REQUESTS)
    after = answers_in(converted, "mini:app", REQUESTS)
    statuses = [answer["status"] for answer in before]
    assert statuses[:15] == [404, 404, 404, 404, 404, 404, 308, 308, 404, 405, 404, 405, 404, 200, 500]
    assert before[3]["body"]["path"] == "/résumé" and before[1]["body"]["path"] == "/nope?x"
    for request, old, new in zip(REQUESTS, before, after):
        assert new == old, request


RESPONSES_REQUESTS = [
    {"method": method, "path": path, "expect_headers": HEADERS}
    for method, path in [
        ("GET", "/nope"), ("GET", "/nope%3Fx"), ("GET", "/items/9"), ("GET", "/items/"), ("GET", "/ping/"),
        ("DELETE", "/ping"), ("GET", "/items/1/"), ("GET", "/pair/1/x"), ("POST", "/items/9/price"),
    ]
] + [
    {"method": "POST", "path": "/items", "data": "{bad", "headers": {"Content-Type": "application/json"}, "expect_headers": HEADERS},
    {"method": "POST", "path": "/items/links", "json": {"source": "x"}, "expect_headers": HEADERS},  # a ValueError: 500
]


def test_the_responses_project_handler_converts_and_answers_as_before(tmp_path):
    converted = convert_copy(RESPONSES, tmp_path / "converted")
    code = (converted / "replies" / "__init__.py").read_text()
    assert '@api.exception_handler(404)\ndef not_found(request: Request, error: StarletteHTTPException):' in code
    assert 'JSONResponse({"error": error.detail, "path": request_path(request)}, status_code=404)' in code
    before = answers_in(RESPONSES, "replies:app", RESPONSES_REQUESTS)
    after = answers_in(converted, "replies:app", RESPONSES_REQUESTS)
    assert [a["status"] for a in before] == [404, 404, 404, 404, 404, 405, 404, 404, 405, 400, 500]
    for request, old, new in zip(RESPONSES_REQUESTS, before, after):
        assert new == old, request


def test_the_handler_no_longer_holds_the_responses_routes_at_native():
    routes = [route for result in convert_paths(discover([RESPONSES]), ORDER) for route in result.routes]
    assert len(routes) == 10
    assert not [route for route in routes if "not_found" in str(route.get("reason"))]
    held = sorted(route["view"] for route in routes if route["level"] not in ("idiomatic", "async"))
    assert held == ["replies.ping"], held  # jsonify() of no value, null
