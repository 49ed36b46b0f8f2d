"""json_bodies where no model is proven: the view takes the body as the value ``get_json`` gave
(``data: Annotated[Any, FlaskJson(...)] = None``), or, where Flask could answer before the read
(a 404 first, a read that may not happen), reads it where Flask did (``body.read()``,
``FlaskJson(deferred=True)``). A key read with no check of the view's own
(Flask's KeyError, TypeError: the app's 500), the body used whole, ``silent``/``or {}``,
``force``, ``request.json`` and a read inline answer every request as the Flask app did, on the
runtime alone (Flask leaves the project) and on the bridge (a route keeps Flask's request)."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

SPEC = "rawapi:app"
APP = '''from flask import Flask, abort, request

app = Flask(__name__)


@app.errorhandler(500)
def internal(error):
    return {"error": "internal"}, 500


@app.post("/echo")
def echo():
    return {"echo": request.get_json()}


@app.post("/authors")
def create_author():
    data = request.get_json()
    return {"id": 1, "name": data["name"]}, 201


@app.post("/quiet")
def quiet():
    data = request.get_json(silent=True) or {}
    return {"keys": sorted(data), "a": data.get("a")}


@app.post("/forced")
def forced():
    return {"stars": int(request.get_json(force=True)["stars"])}


@app.put("/whole")
def whole():
    payload = request.json
    return {"whole": payload, "type": type(payload).__name__}


@app.post("/late/<int:n>")
def late(n):
    if n > 3:
        abort(404)
    data = request.get_json()
    return {"a": data["a"]}, 201


@app.post("/maybe")
def maybe():
    if request.args.get("read"):
        return {"got": request.get_json(silent=True) or {}}
    return {"got": None}
'''
KEPT = '''

@app.post("/kept")
def kept():
    return {"echo": request.get_json(), "again": request.json}
'''
JSON = {"Content-Type": "application/json"}
BODIES = {
    "object": {"json": {"name": "Ann", "stars": "4", "a": 1.5, "u": "é"}},
    "missing key": {"json": {"other": 1}},
    "wrong type": {"json": {"name": ["x"], "stars": "many"}},
    "list": {"json": [1, "two"]},
    "string": {"json": "text"},
    "number": {"data": "12.50", "headers": JSON},
    "null": {"data": "null", "headers": JSON},
    "empty object": {"json": {}},
    "malformed": {"data": "{broken", "headers": JSON},
    "empty body": {"data": "", "headers": JSON},
    "no body": {},
    "text": {"data": '{"name": "t"}', "headers": {"Content-Type": "text/plain"}},
    "no content type": {"data": '{"name": "t", "stars": 2}'},
    "json suffix": {"data": '{"name": "t"}', "headers": {"Content-Type": "application/merge-patch+json"}},
}
PATHS = [("POST", "/echo"), ("POST", "/authors"), ("POST", "/quiet"), ("POST", "/forced"), ("PUT", "/whole"), ("POST", "/late/1"), ("POST", "/late/9"), ("POST", "/maybe?read=1"), ("POST", "/maybe")]
REQUESTS = [{"method": method, "path": path, **body} for method, path in PATHS for body in BODIES.values()]


def _project(root: Path, extra: str = "") -> Path:
    root.mkdir(parents=True)
    (root / "rawapi.py").write_text(APP + extra)
    return root


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    original = _project(tmp_path_factory.mktemp("raw") / "original")
    return original, convert_copy(original, original.parent / "converted")


@pytest.fixture(scope="module")
def bridged(tmp_path_factory):
    original = _project(tmp_path_factory.mktemp("raw_kept") / "original", KEPT)
    return original, convert_copy(original, original.parent / "converted")


def test_the_views_take_the_value(native):
    code = (native[1] / "rawapi.py").read_text()
    assert "from flask import" not in code and "get_json" not in code and "request.json" not in code  # Flask left the project
    for fastapi in (
        'def echo(data: Annotated[Any, FlaskJson()] = None):\n    return {"echo": data}',
        'def create_author(data: Annotated[Any, FlaskJson()] = None):\n    return {"id": 1, "name": data["name"]}',
        "def quiet(data: Annotated[Any, FlaskJson(silent=True, or_empty=True)] = None):\n    return {",
        'def forced(data: Annotated[Any, FlaskJson(force=True)] = None):\n    return {"stars": int(data["stars"])}',
        "def whole(payload: Annotated[Any, FlaskJson()] = None):\n    return {",
        "def late(n: int, body: Annotated[Any, FlaskJson(deferred=True)] = None):\n"
        "    if n > 3:\n        raise HTTPException(status_code=404)\n    data = body.read()\n",
        'body: Annotated[Any, FlaskJson(silent=True, or_empty=True, deferred=True)] = None,\n):\n'
        '    if read:\n        return {"got": body.read()}',
    ):
        assert fastapi in code, fastapi


def test_the_originals_answer_what_the_cases_say(native):
    answers = answers_in(native[0], SPEC, REQUESTS)
    status = {(r["method"], r["path"], case): a["status"] for r, a, case in zip(REQUESTS, answers, list(BODIES) * len(PATHS))}
    assert status["POST", "/authors", "missing key"] == 500 and status["POST", "/authors", "list"] == 500  # KeyError, TypeError
    assert status["POST", "/authors", "object"] == 201 and status["POST", "/echo", "null"] == 200
    assert status["POST", "/echo", "text"] == 415 and status["POST", "/echo", "malformed"] == 400
    assert status["POST", "/quiet", "text"] == 200 and status["POST", "/forced", "no content type"] == 200
    assert status["POST", "/forced", "wrong type"] == 500  # int("many"): ValueError
    assert status["POST", "/late/9", "text"] == 404 and status["POST", "/late/1", "text"] == 415  # the 404 first
    assert status["POST", "/maybe", "malformed"] == 200


@pytest.mark.parametrize("project", ["native", "bridged"])
def test_same_answers(project, request):
    original, converted = request.getfixturevalue(project)
    comparison = compare(original, converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_the_bridged_app_keeps_the_read_it_cannot_prove(bridged):
    code = (bridged[1] / "rawapi.py").read_text()
    assert 'def echo(data: Annotated[Any, FlaskJson()] = None):' in code
    assert 'def kept():\n    return {"echo": request.get_json(), "again": request.json}' in code


@pytest.mark.parametrize("project", ["native", "bridged"])
def test_openapi_documents_a_json_body(project, request):
    _, converted = request.getfixturevalue(project)
    (answer,) = answers_in(converted, SPEC, [{"method": "GET", "path": "/openapi.json"}])
    paths = answer["body"]["paths"]
    for method, path in PATHS:
        operation = paths[path.replace("/1", "/{n}").replace("/9", "/{n}").partition("?")[0]][method.lower()]
        body = operation["requestBody"]
        assert body.get("required", False) is False
        schema = body["content"]["application/json"]["schema"]
        assert "$ref" not in schema and "type" not in schema and "anyOf" not in schema  # any JSON value
        assert not [p for p in operation.get("parameters", ()) if p["name"] in ("data", "body", "payload")]  # no query parameter
