"""Native views' responses written as FastAPI code (transforms responses, aborts, url_for) answer
as the Flask originals did: the fixture project (fixtures/projects/responses) uses each Flask
idiom those transforms rewrite, and the converted app must answer every scripted request with
the same status, JSON body and headers, including those its after_request hook and error
handler make from what the view answered. The test first checks that each rewrite happened,
so that it exercises the converted code and not the Flask code left in place."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, route_table_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "responses" / "input"
SPEC = "replies:app"
SEEN = ["X-Seen"]  # the after_request hook's view of the status and Location
REQUESTS = {
    "jsonify() is null: it stays": ({"method": "GET", "path": "/ping", "expect_headers": SEEN}, 200),
    "jsonify(a, b) -> [a, b]": ({"method": "GET", "path": "/pair/1/2"}, 200),
    "jsonify(items=...) -> dict": ({"method": "GET", "path": "/items"}, 200),
    "url_for of uuid, float and any variables": (
        {"method": "GET", "path": "/keys/12345678-1234-5678-1234-567812345678/2.5/down"}, 200
    ),
    "url_for -> request.url_for().path": ({"method": "GET", "path": "/items/1"}, 200),
    "helper's abort -> HTTPException, detail to the app's 404 handler": ({"method": "GET", "path": "/items/9"}, 404),
    "other status -> JSONResponse": ({"method": "POST", "path": "/items", "json": {"price": 1}, "expect_headers": SEEN}, 400),
    "abort(400) -> werkzeug's page": ({"method": "POST", "path": "/items", "data": "not json"}, 400),
    "a helper's response keeps its status": ({"method": "POST", "path": "/items", "json": {"name": "pen"}}, 409),
    "status_code=201 and response.headers['Location']": (
        {"method": "POST", "path": "/items", "json": {"name": "cap", "price": 3}, "expect_headers": ["Location", *SEEN]},
        201,
    ),
    "the new item's own link": ({"method": "GET", "path": "/items/3"}, 200),
    "abort(401) -> werkzeug's default description": ({"method": "PUT", "path": "/items/0", "expect_headers": SEEN}, 401),
    "201 next to 200 -> JSONResponse(status_code=201)": ({"method": "PUT", "path": "/items/7", "expect_headers": SEEN}, 201),
    "the 200 next to it": ({"method": "PUT", "path": "/items/2"}, 200),
    "JSONResponse with headers": ({"method": "DELETE", "path": "/items/1", "expect_headers": ["X-Reason", *SEEN]}, 409),
    "'', 204 -> Response(status_code=204)": ({"method": "DELETE", "path": "/items/2", "expect_headers": SEEN}, 204),
    "gone": ({"method": "DELETE", "path": "/items/2"}, 404),
    "url_for(.get_item, item_id=source.id) -> int(source.id): an int": ({"method": "POST", "path": "/items/links", "json": {"source": 2}}, 200),
    "... a str of digits": ({"method": "POST", "path": "/items/links", "json": {"source": "3"}}, 200),
    "... a bool and a float, as int() writes them": ({"method": "POST", "path": "/items/links", "json": {"source": True}}, 200),
    "... a float": ({"method": "POST", "path": "/items/links", "json": {"source": 2.7}}, 200),
    "... no number: the same ValueError, a 500": ({"method": "POST", "path": "/items/links", "json": {"source": "x"}}, 500),
    "... no body": ({"method": "POST", "path": "/items/links"}, 200),
    "(body, headers) -> response.headers": ({"method": "GET", "path": "/items/1/price", "expect_headers": ["X-Currency", *SEEN]}, 200),
    "not data.get('name') -> not data.name: an empty name": ({"method": "POST", "path": "/items", "json": {"name": ""}}, 400),
    "... a null one": ({"method": "POST", "path": "/items", "json": {"name": None, "price": 1}}, 400),
    "a JSON array is no object": ({"method": "POST", "path": "/items", "json": [{"name": "x"}]}, 400),
    "malformed JSON, silent: None": (
        {"method": "POST", "path": "/items", "data": "{bad", "headers": {"Content-Type": "application/json"}}, 400
    ),
    "data['name'] once a check proved it sent -> data.name; the price as sent": (
        {"method": "POST", "path": "/items", "json": {"name": "quill", "price": "7"}, "expect_headers": ["Location", *SEEN]}, 201
    ),
    "the quill (after the 7 that PUT made)": ({"method": "GET", "path": "/items/8"}, 200),
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("responses") / "converted")


@pytest.fixture(scope="module")
def original_answers():
    return answers_in(PROJECT, SPEC, [request for request, _ in REQUESTS.values()])


@pytest.fixture(scope="module")
def converted_answers(converted):
    return answers_in(converted, SPEC, [request for request, _ in REQUESTS.values()])


def test_the_rewrites_happened(converted):
    app = (converted / "replies" / "__init__.py").read_text()
    items = (converted / "replies" / "items.py").read_text()
    assert "return jsonify()" in app and "return [a, b]" in app
    assert 'request.url_for("keyed", key=key, scale=scale, way=way).path' in app
    assert 'request.url_for("pair", a=1, b=len(way)).path' in app
    for rewritten in (
        'raise HTTPException(status_code=404, detail=f"no item {item_id}")',  # in the helper
        "raise HTTPException(status_code=400)",
        "raise HTTPException(status_code=401)",
        '@router.post("", name="items.create_item", status_code=201)',
        'response.headers["Location"] = location',
        "return item\n",
        'request.url_for("items.get_item", item_id=item_id).path',
        'JSONResponse({"error": "name is required", "field": "name"}, status_code=400)',
        'JSONResponse({"created": item_id}, status_code=201)',
        'headers={"X-Reason": "kept"})',
        "return Response(status_code=204)",
        'response.headers["X-Currency"] = "EUR"',
        '"link": request.url_for("items.get_item", item_id=int(source.id)).path',
        "data: Annotated[CreateItemBody | None, FlaskJson(silent=True)] = None",  # create_item's body
        "if not data.name:",
        "any(item[\"name\"] == data.name for item in ITEMS.values())",
    ):
        assert rewritten in items, rewritten
    assert "abort" not in items


def test_same_route_table(converted):
    assert route_table_in(converted, SPEC) == route_table_in(PROJECT, SPEC)


@pytest.mark.parametrize("case", list(REQUESTS))
def test_same_answer(case, original_answers, converted_answers):
    index = list(REQUESTS).index(case)
    assert original_answers[index]["status"] == REQUESTS[case][1]
    assert converted_answers[index] == original_answers[index]


TUPLE_HELPER = '''
from flask import Flask, jsonify, request

app = Flask(__name__)


def invalid(message):
    return jsonify(error=message), 400


def read_name():
    data = request.get_json(silent=True) or {}
    name = data.get("name")
    if not isinstance(name, str):
        return None, invalid("name must be a string")
    return name, None


@app.post("/hello")
def hello():
    name, error = read_name()
    if error:
        return error
    return {"hello": name}
'''


def _project(tmp_path, source):
    from codemod.project import Project, gather

    path = tmp_path / "app.py"
    path.write_text(source)
    project = Project()
    project.merge(gather(path, path.read_bytes()))
    return project


def test_a_responder_a_helper_hands_back_in_a_tuple_answers_with_a_starlette_response(tmp_path):
    # every view unpacks the helper's tuple and returns that element whole: it reaches FlaskRoute as it is
    assert _project(tmp_path, TUPLE_HELPER).json_responders == frozenset({"app.invalid"})
    # a view that looks into it (its status) needs Flask's response
    peeks = TUPLE_HELPER.replace("    if error:\n        return error", "    if error:\n        return error.get_json(), error.status_code")
    assert _project(tmp_path, peeks).json_responders == frozenset()
    # the helper called from elsewhere than a view's unpacking
    other = TUPLE_HELPER + "\n\n@app.get('/raw')\ndef raw():\n    return str(read_name())\n"
    assert _project(tmp_path, other).json_responders == frozenset()
