"""request_params and json_bodies on a whole project (fixtures/projects/bodies), converted by the
command line: the views read declared parameters and Pydantic models, and every request below is
answered exactly as the original answered it, malformed ones included. OpenAPI documents the
parameters and the bodies; with --native-validation, FastAPI answers what does not validate."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, route_table_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "bodies" / "input"
SPEC = "bodies:app"
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}
TOKEN = {"Authorization": "Bearer s3cret"}
NOTE = {"title": " hi ", "tags": ["a"], "pinned": True}


def _note(status, **request):
    return ({"method": "POST", "path": "/notes", **request, "headers": {**TOKEN, **request.get("headers", {})}}, status)


def _patch(status, **request):
    return ({"method": "PATCH", "path": "/notes/1", **request}, status)


REQUESTS = {
    # query strings, a header, a cookie
    "no query": ({"method": "GET", "path": "/search"}, 200),
    "every value": (
        {"method": "GET", "path": "/search?page=3&per-page=5&min=2.5&tag=a&tag=b&sort=date&q=tea", "headers": {"X-Client": "cli"}, "cookies": {"theme": "dark"}},
        200,
    ),
    "values that do not convert": ({"method": "GET", "path": "/search?page=abc&per-page=x&min=cheap"}, 200),
    "empty values": ({"method": "GET", "path": "/search?page=&per-page=&min=&q="}, 200),
    "repeated keys": ({"method": "GET", "path": "/search?page=1&page=2&q=a&q=b&tag=x&tag=y&tag=x&sort=s1&sort=s2"}, 200),
    # (a repeated cookie and header: runtime/tests/test_params.py; Flask's test client here drops
    # a Cookie header given by hand)
    "required": ({"method": "GET", "path": "/lookup?code=ab"}, 200),
    "required, missing": ({"method": "GET", "path": "/lookup"}, 400),
    "required, repeated": ({"method": "GET", "path": "/lookup?code=a&code=b"}, 200),
    "method GET": ({"method": "GET", "path": "/ping"}, 200),
    "method POST": ({"method": "POST", "path": "/ping"}, 201),
    "method HEAD": ({"method": "HEAD", "path": "/ping"}, 200),
    # a silent read behind a decorator: the view's own checks answer
    "no token, bad body": ({"method": "POST", "path": "/notes", "data": "[1]", "headers": JSON}, 401),
    "bad token": ({"method": "POST", "path": "/notes", "json": NOTE, "headers": {"Authorization": "Bearer nope"}}, 401),
    "note": _note(201, json=NOTE),
    "note, missing key": _note(400, json={"tags": []}),
    "note, wrong type": _note(400, json={"title": 5}),
    "note, wrong list": _note(400, json={"title": "t", "tags": "a"}),
    "note, wrong bool": _note(400, json={"title": "t", "pinned": "yes"}),
    "note, explicit null": _note(400, json={"title": "t", "tags": None}),
    "note, no object": _note(400, json=[1, 2]),
    "note, empty list": _note(400, json=[]),
    "note, null": _note(400, data="null", headers=JSON),
    "note, malformed": _note(400, data="{broken", headers=JSON),
    "note, empty body": _note(400, data="", headers=JSON),
    "note, no content type": _note(400, data='{"title": "t"}'),
    "note, text": _note(400, data='{"title": "t"}', headers=TEXT),
    "note, form": _note(400, form={"title": "t"}),
    # the same read in a helper of the module, its object check now in the view
    "tag": _note(200, path="/notes/1/tags", json={"tag": "t"}),
    "tag, unknown note first": _note(404, path="/notes/9/tags", json=[1]),
    "tag, wrong type": _note(400, path="/notes/1/tags", json={"tag": 1}),
    "tag, no object": _note(400, path="/notes/1/tags", json=[1]),
    "tag, malformed": _note(400, path="/notes/1/tags", data="{broken", headers=JSON),
    "tag, no token": ({"method": "POST", "path": "/notes/1/tags", "json": {"tag": "t"}}, 401),
    # a read that is not silent: Flask's own 415 and 400
    "patch": _patch(200, json={"title": "new", "priority": 2}),
    "patch, no priority": _patch(200, json={"title": "new"}),
    "patch, missing key": _patch(400, json={"priority": 2}),
    "patch, wrong type": _patch(400, json={"title": 5}),
    "patch, no object": _patch(400, json=["title"]),
    "patch, null": _patch(400, data="null", headers=JSON),
    "patch, malformed": _patch(400, data="{broken", headers=JSON),
    "patch, empty body": _patch(400, data="", headers=JSON),
    "patch, text": _patch(415, data='{"title": "t"}', headers=TEXT),
    "patch, nothing": _patch(415),
    "patch, unknown note": ({"method": "PATCH", "path": "/notes/9", "json": {"title": "t"}}, 404),
    # force=True: any content type is read as JSON
    "import": ({"method": "POST", "path": "/notes/import", "json": {"source": "x"}}, 200),
    "import, text": ({"method": "POST", "path": "/notes/import", "data": '{"source": "y", "count": 3}', "headers": TEXT}, 200),
    "import, not JSON": ({"method": "POST", "path": "/notes/import", "data": "not json", "headers": TEXT}, 400),
    "import, no object": ({"method": "POST", "path": "/notes/import", "json": [1]}, 422),
    "import, empty": ({"method": "POST", "path": "/notes/import"}, 400),
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("bodies") / "converted")


@pytest.fixture(scope="module")
def original_answers():
    return answers_in(PROJECT, SPEC, [request for request, _ in REQUESTS.values()])


@pytest.fixture(scope="module")
def converted_answers(converted):
    return answers_in(converted, SPEC, [request for request, _ in REQUESTS.values()])


def test_the_views_read_parameters_and_models(converted):
    notes = (converted / "bodies" / "notes.py").read_text()
    search = (converted / "bodies" / "search.py").read_text()
    assert notes.count("request.get_json") == 1 and "class CreateNoteBody(BaseModel)" in notes  # the helper's
    assert "FlaskJson(silent=True, or_empty=True)" in notes and "FlaskJson(force=True)" in notes
    assert "data = json_object()" not in notes and "class TagNoteBody(BaseModel)" in notes
    assert "request.args" not in search and "request.headers" not in search and "request.cookies" not in search
    assert "Annotated[int, OrDefault] = 1" in search and "def lookup(code: str)" in search
    assert "def ping(request: Request)" in search
    # the guard that only checks (it keeps nothing on g) is a dependency of the routes it guarded
    assert "def token_required(request: Request):" in notes and "@token_required" not in notes
    assert notes.count("dependencies=[Depends(token_required)]") == 2


def test_same_route_table(converted):
    assert route_table_in(converted, SPEC) == route_table_in(PROJECT, SPEC)


@pytest.mark.parametrize("case", list(REQUESTS))
def test_same_answer(case, original_answers, converted_answers):
    index = list(REQUESTS).index(case)
    assert original_answers[index]["status"] == REQUESTS[case][1]
    assert converted_answers[index] == original_answers[index]


def test_openapi_documents_parameters_and_bodies(converted):
    (answer,) = answers_in(converted, SPEC, [{"method": "GET", "path": "/openapi.json"}])
    schema = answer["body"]
    parameters = {p["name"]: p for p in schema["paths"]["/search"]["get"]["parameters"]}
    assert parameters["page"]["schema"] == {"type": "integer", "default": 1, "title": "Page"}
    assert parameters["per-page"]["in"] == "query" and {"type": "integer"} in parameters["per-page"]["schema"]["anyOf"]
    assert parameters["tag"]["schema"]["type"] == "array"
    assert parameters["X-Client"]["in"] == "header" and parameters["theme"]["in"] == "cookie"
    body = schema["paths"]["/notes"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/CreateNoteBody"}
    fields = schema["components"]["schemas"]["CreateNoteBody"]["properties"]
    assert set(fields) == {"title", "tags", "pinned"}
    assert fields["pinned"] == {"type": "boolean", "default": False, "title": "Pinned"}
    assert schema["components"]["schemas"]["UpdateNoteBody"]["properties"]["priority"]["type"] == "integer"


def test_openapi_documents_one_answer_shape(converted):
    """A view whose 200 answers all have the same keys documents them (response_model=); the
    answers themselves are the ones compared above, byte for byte."""
    (answer,) = answers_in(converted, SPEC, [{"method": "GET", "path": "/openapi.json"}])
    schema = answer["body"]

    def documented(path, method):
        content = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        name = content["$ref"].rsplit("/", 1)[1]
        return {key: field.get("type", field.get("anyOf")) for key, field in schema["components"]["schemas"][name]["properties"].items()}

    assert documented("/search", "get") == {
        "page": "integer", "per_page": None, "min": [{"type": "number"}, {"type": "null"}], "tags": "array",
        "sort": "string", "q": [{"type": "string"}, {"type": "null"}], "client": "string",
        "theme": [{"type": "string"}, {"type": "null"}],
    }
    assert documented("/ping", "get") == {"pong": "string"}  # its 201 answer is another status
    assert documented("/notes/{note_id}/tags", "post") == {"id": "integer", "tags": "array"}
    # create_note answers jsonify(note), a dict whose keys the code does not show
    assert schema["paths"]["/notes"]["post"]["responses"].get("201", {}).get("content", {}).get("application/json", {}).get("schema", {}) == {}


NATIVE = {
    "patch": (_patch(200, json={"title": "new"})[0], 200),
    "patch, missing key": (_patch(0, json={"priority": 2})[0], 422),
    "patch, wrong type": (_patch(0, json={"title": 5})[0], 422),
    "patch, no object": (_patch(0, json=["title"])[0], 422),
    "patch, malformed": (_patch(0, data="{broken", headers=JSON)[0], 422),
    "query that does not convert": ({"method": "GET", "path": "/search?page=abc"}, 422),
    "required, missing": ({"method": "GET", "path": "/lookup"}, 422),
}


def test_native_validation_answers_422(tmp_path):
    converted = convert_copy(PROJECT, tmp_path / "native", "--native-validation")
    notes = (converted / "bodies" / "notes.py").read_text()
    assert "model_config = ConfigDict(strict=True)" in notes and "data: UpdateNoteBody" in notes
    answers = answers_in(converted, SPEC, [request for request, _ in NATIVE.values()])
    assert [a["status"] for a in answers] == [status for _, status in NATIVE.values()]
