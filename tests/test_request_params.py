"""Issue 4's contract on a Flask API that reads query strings, headers, cookies and JSON bodies:
converted with --out, the FastAPI app documents what it reads and answers a scripted sequence,
malformed requests included, as the original did."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "params"
SPEC = "catalog.app:app"
JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}
KEY = {"X-Api-Key": "k1"}
# Answered by the views themselves: statuses and bodies must be identical.
REQUESTS = [
    {"method": "GET", "path": "/search"},
    {"method": "GET", "path": "/search?page=3&per_page=5&min_price=2.5&tag=a&tag=b&in-stock=yes&q=tea"},
    {"method": "GET", "path": "/search?page=abc&per_page=&min_price=cheap"},
    {"method": "GET", "path": "/need?q=x"},
    {"method": "POST", "path": "/items", "data": '{"name": "mate", "price": 4}', "headers": JSON},
    {"method": "POST", "path": "/items", "data": '{"price": 4}', "headers": JSON},
    {"method": "POST", "path": "/items", "data": '{"name": "mate", "price": "4"}', "headers": JSON},
    {"method": "POST", "path": "/items", "data": "[1, 2]", "headers": JSON},
    {"method": "POST", "path": "/echo", "data": '{"a": [1, {"b": null}]}', "headers": JSON},
    {"method": "POST", "path": "/echo", "data": "{broken", "headers": JSON},
    {"method": "POST", "path": "/echo", "data": '{"a": 1}', "headers": TEXT},
    {"method": "POST", "path": "/echo"},
    {"method": "GET", "path": "/whoami", "headers": {**KEY, "X-User": "ann"}, "cookies": {"session": "s1"}},
    {"method": "GET", "path": "/whoami", "headers": {"x-api-key": "k2"}},
    {"method": "GET", "path": "/items/1"},
    {"method": "GET", "path": "/items/9"},
    {"method": "GET", "path": "/files/a/b/c.txt"},
    {"method": "GET", "path": "/tokens/12345678-1234-5678-1234-567812345678"},
    {"method": "POST", "path": "/upload", "form": {"title": "t", "tag": "a"}, "files": {"doc": ["a.txt", "hello\nworld"]}},
    {"method": "POST", "path": "/upload", "form": {"title": "t", "note": "n"}, "files": {"doc": ["a.txt", "x"], "extra": ["b.bin", "y"]}},
    # the first of a repeated field, every tag in order; empty values are values
    {"method": "POST", "path": "/upload", "form": {"title": ["a", "b"], "tag": ["x", "y", "x"]}, "files": {"doc": ["a.txt", "x"]}},
    {"method": "POST", "path": "/upload", "form": {"title": "", "note": ""}, "files": {"doc": ["a.txt", "x"]}},
    {"method": "POST", "path": "/upload", "form": {"title": "t", "extra": "text, not a file"}, "files": {"doc": ["a.txt", "x"]}},
    {"method": "POST", "path": "/raw/data", "data": "héllo", "headers": TEXT},
    {"method": "POST", "path": "/raw/data", "form": {"a": "1"}},
    {"method": "POST", "path": "/raw/text", "data": "héllo", "headers": TEXT},
    {"method": "POST", "path": "/raw/text", "form": {"a": "1"}},
]
# Answered by Flask itself (400 missing value or malformed body, 415 not JSON, 404 converter
# mismatch, 500 for a missing request.headers[...]): Flask's HTML error pages.
FLASK_ERROR_REQUESTS = [
    {"method": "GET", "path": "/need"},
    {"method": "GET", "path": "/whoami"},
    {"method": "POST", "path": "/items", "data": "{broken", "headers": JSON},
    {"method": "POST", "path": "/items", "data": "", "headers": JSON},
    {"method": "POST", "path": "/items", "data": '{"name": "mate"}', "headers": TEXT},
    {"method": "POST", "path": "/items"},
    {"method": "GET", "path": "/items/abc"},
    {"method": "GET", "path": "/items/1.5"},
    {"method": "GET", "path": "/tokens/not-a-uuid"},
    {"method": "POST", "path": "/upload", "files": {"doc": ["a.txt", "x"]}},
    {"method": "POST", "path": "/upload", "form": {"title": "t"}},
    {"method": "POST", "path": "/upload", "json": {"title": "t"}},
    {"method": "POST", "path": "/upload", "data": "title=t", "headers": TEXT},
    {"method": "POST", "path": "/upload", "form": {"doc": "text, not a file", "title": "t"}},
    # a text field over Flask's MAX_FORM_MEMORY_SIZE (500 kB by default): 413
    {"method": "POST", "path": "/upload", "form": {"title": "t" * 600_000}, "files": {"doc": ["a.txt", "x"]}},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = convert_copy(PROJECT / "input", tmp_path_factory.mktemp("params") / "converted")
    return out


def test_same_routes_and_answers(converted):
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison
    statuses = [a["status"] for a in answers_in(PROJECT / "input", SPEC, REQUESTS)]
    assert statuses == [200, 200, 200, 200, 201, 400, 400, 400, 200, 200, 200, 200, 200, 200, 200, 404, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]


def test_flask_errors_keep_their_status_and_page(converted):
    original = answers_in(PROJECT / "input", SPEC, FLASK_ERROR_REQUESTS)
    assert [a["status"] for a in original] == [400, 500, 400, 400, 415, 415, 404, 404, 404, 400, 400, 400, 400, 400, 413]
    assert all(a["media_type"] == "text/html" for a in original)
    assert answers_in(converted, SPEC, FLASK_ERROR_REQUESTS) == original


def test_repeated_query_keys(converted):
    """Flask reads the first of repeated keys; getlist keys keep every value, in order."""
    requests = [{"method": "GET", "path": "/search?page=1&page=2&q=a&q=b&tag=x&tag=y&tag=x"}]
    assert answers_in(converted, SPEC, requests) == answers_in(PROJECT / "input", SPEC, requests)


def test_converter_edges(converted):
    """What werkzeug's converters refuse is a 404 after conversion too."""
    requests = [
        {"method": "GET", "path": "/items/-1"},
        {"method": "GET", "path": "/items/+1"},
        {"method": "GET", "path": "/files/"},
        {"method": "GET", "path": "/tokens/12345678123456781234567812345678"},
    ]
    original = answers_in(PROJECT / "input", SPEC, requests)
    assert [a["status"] for a in original] == [404, 404, 404, 404]
    assert answers_in(converted, SPEC, requests) == original


def test_form_reads_convert(converted):
    """The upload view declares its form fields and files; nothing of Flask is left in it."""
    source = (converted / "catalog" / "app.py").read_text()
    view = source[source.index("def upload(") : source.index('@api.post("/raw/data"')]
    assert "title: Annotated[str, Form()]" in view and "extra: UploadFile | None = None" in view
    assert "request." not in view and "document.file.read()" in view


def test_native_validation_answers_missing_form_fields_with_422(tmp_path):
    native = convert_copy(PROJECT / "input", tmp_path / "native", "--native-validation")
    requests = [
        {"method": "POST", "path": "/upload", "files": {"doc": ["a.txt", "x"]}},
        {"method": "POST", "path": "/upload", "form": {"title": "t"}},
        {"method": "POST", "path": "/upload", "form": {"title": "t", "tag": ["a", "b"]}, "files": {"doc": ["a.txt", "x"]}},
    ]
    answers = answers_in(native, SPEC, requests)
    assert [a["status"] for a in answers] == [422, 422, 200]
    assert [a["body"]["detail"][0]["loc"] for a in answers[:2]] == [["body", "title"], ["body", "doc"]]
    assert answers[2]["body"]["tags"] == ["a", "b"]
