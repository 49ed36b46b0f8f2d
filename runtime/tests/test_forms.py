"""Form fields and uploaded files of native routes answer as the Flask view's reads did."""

from __future__ import annotations

from typing import Annotated

import pytest
from a2wsgi import WSGIMiddleware
from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.testclient import TestClient
from flask import Flask, g, request

from flask2fastapi_runtime import FlaskBridge, FlaskRoute
from flask2fastapi_runtime.params import OrDefault


def _app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(config)

    @app.errorhandler(400)
    def bad_request(error):
        return {"error": "bad request", "key_error": isinstance(error, KeyError), "key": error.args[0] if error.args else None}, 400

    @app.errorhandler(413)
    def too_large(error):
        return {"error": "too large", "description": error.description, "hooked": g.get("hooked", False)}, 413

    @app.before_request
    def hook():
        g.hooked = True

    return app


def flask_app(**config) -> Flask:
    app = _app(**config)

    @app.post("/upload")
    def upload():
        title = request.form["title"]
        note = request.form.get("note", "-")
        size = request.form.get("size", 0, type=int)
        tags = request.form.getlist("tag")
        doc = request.files["doc"]
        extra = request.files.get("extra")
        more = request.files.getlist("more")
        return {
            "title": title,
            "note": note,
            "size": size,
            "tags": tags,
            "doc": [doc.filename, doc.content_type, doc.read().decode(), bool(doc.filename)],
            "extra": [extra.filename, extra.stream.read().decode()] if extra else None,
            "more": [[f.filename, f.read().decode()] for f in more],
            "seen_by_flask": request.form.get("title"),  # Flask code in the cycle still reads it
        }

    @app.post("/optional")
    def optional():
        return {"note": request.form.get("note"), "extra": request.files.get("extra") is not None}

    return app


router = APIRouter(route_class=FlaskRoute)


@router.post("/upload", name="upload")
def upload(
    title: Annotated[str, Form()],
    doc: UploadFile,
    note: Annotated[str, Form()] = "-",
    size: Annotated[int, Form(), OrDefault] = 0,
    tag: Annotated[list[str], Form()] = [],
    extra: UploadFile | None = None,
    more: list[UploadFile] = [],
):
    return {
        "title": title,
        "note": note,
        "size": size,
        "tags": tag,
        "doc": [doc.filename, doc.content_type, doc.file.read().decode(), bool(doc.filename)],
        "extra": [extra.filename, extra.file.read().decode()] if extra and extra.filename else None,
        "more": [[f.filename, f.file.read().decode()] for f in more],
        "seen_by_flask": request.form.get("title"),
    }


def note_field(note: Annotated[str | None, Form()] = None) -> str | None:
    return note


@router.post("/optional", name="optional")
def optional(note: Annotated[str | None, Depends(note_field)], extra: Annotated[UploadFile | None, File()] = None):
    return {"note": note, "extra": extra is not None}


def bridged_app(**config) -> FlaskBridge:
    api = FlaskBridge(_app(**config))
    api.include_router(router)
    return api


DOC = {"doc": ("a.txt", b"hello\nworld", "text/plain")}
EXTRA = {"extra": ("e.txt", b"e")}
# what a browser sends for file inputs left empty: a part with filename="" and no bytes
EMPTY_INPUTS = b"".join(
    b'--X\r\nContent-Disposition: form-data; name="%s"; filename=""\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n\r\n" % name for name in (b"doc", b"extra")
) + b'--X\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--X--\r\n'
REQUESTS = [
    ("/upload", {"data": {"title": "t", "note": "n", "size": "3", "tag": ["a", "b"]}, "files": DOC}),
    ("/upload", {"data": {"title": "t"}, "files": {**DOC, "extra": ("b.bin", b"y"), "more": ("m1", b"1")}}),
    ("/upload", {"data": {"title": "t"}, "files": [("doc", ("a", b"1")), ("doc", ("b", b"2")), ("more", ("m1", b"1")), ("more", ("m2", b"2"))]}),
    ("/upload", {"data": {"title": ["first", "second"], "note": ["x", "y"], "size": "many"}, "files": DOC}),  # the first value
    ("/upload", {"data": {"title": "", "note": "", "size": ""}, "files": DOC}),  # empty values are values
    ("/upload", {"content": EMPTY_INPUTS, "headers": {"Content-Type": "multipart/form-data; boundary=X"}}),
    ("/upload", {"data": {"title": "t", "extra": "text, not a file"}, "files": DOC}),  # no file named extra
    ("/upload", {"data": {"title": "t", "doc": "text, not a file"}}),  # no file named doc: 400
    ("/upload", {"files": DOC}),  # no title: Flask's 400, a BadRequestKeyError
    ("/upload", {"data": {"title": "t"}}),  # no doc
    ("/upload", {"json": {"title": "t"}}),  # not a form: no fields
    ("/upload", {"content": b"--x\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=x"}}),
    ("/upload", {}),
    ("/optional", {}),
    ("/optional", {"data": {"note": "n"}, "files": {"extra": ("e", b"e")}}),
    ("/optional", {"content": b"note=a&note=b&extra=c", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
]


def answer(client: TestClient, path: str, options: dict) -> tuple:
    response = client.post(path, **options)
    return response.status_code, response.headers.get("content-type"), response.json()


@pytest.mark.parametrize(("path", "options"), REQUESTS, ids=[f"{p} {o}" for p, o in REQUESTS])
def test_same_answer_as_flask(path: str, options: dict) -> None:
    original = TestClient(WSGIMiddleware(flask_app()))
    converted = TestClient(bridged_app())
    assert answer(converted, path, options) == answer(original, path, options)


def test_the_answers_are_what_flask_read() -> None:
    """Not only equal: the cases above show what they are meant to."""
    original = TestClient(WSGIMiddleware(flask_app()))
    first = answer(original, *REQUESTS[3])[2]
    assert (first["title"], first["note"], first["size"]) == ("first", "x", 0)
    empty = answer(original, *REQUESTS[4])[2]
    assert (empty["title"], empty["note"], empty["size"]) == ("", "", 0)
    assert answer(original, *REQUESTS[5])[2]["doc"] == ["", "application/octet-stream", "", False]
    assert answer(original, *REQUESTS[7])[:1] == (400,)
    assert answer(original, *REQUESTS[8])[2] == {"error": "bad request", "key_error": True, "key": "title"}


LIMITED = [
    ({"MAX_CONTENT_LENGTH": 100}, {"data": {"note": "t" * 200}}, 413),
    ({"MAX_CONTENT_LENGTH": 1000}, {"data": {"note": "t"}}, 200),
    # a text part of a multipart body (werkzeug does not apply it to a urlencoded one)
    ({"MAX_FORM_MEMORY_SIZE": 10}, {"data": {"note": "t" * 20}, "files": EXTRA}, 413),
    ({"MAX_FORM_MEMORY_SIZE": 10}, {"data": {"note": "t" * 20}}, 200),
    ({"MAX_FORM_MEMORY_SIZE": None}, {"data": {"note": "t" * 600_000}, "files": EXTRA}, 200),  # no limit
    ({}, {"data": {"note": "t" * 600_000}, "files": EXTRA}, 413),  # Flask 3.1's default limit
    ({"MAX_FORM_PARTS": 2}, {"data": {"note": "n", "tag": "a"}, "files": EXTRA}, 413),
]


@pytest.mark.parametrize(("config", "options", "status"), LIMITED, ids=[str(c) for c, _, _ in LIMITED])
@pytest.mark.parametrize("path", ["/upload", "/optional"])
def test_limits_answer_413_as_flask(path: str, config: dict, options: dict, status: int) -> None:
    original = TestClient(WSGIMiddleware(flask_app(**config)))
    converted = TestClient(bridged_app(**config))
    if path == "/upload":  # the upload makes every body a multipart one
        options = {"data": {**options["data"], "title": "t"}, "files": {**DOC, **options.get("files", {})}}
        status = 413 if config.get("MAX_FORM_MEMORY_SIZE") == 10 else status
    expected = answer(original, path, options)
    assert answer(converted, path, options) == expected
    if "MAX_CONTENT_LENGTH" not in config and "MAX_FORM_MEMORY_SIZE" not in Flask.default_config:
        return  # Flask 3.0 has no form limits of its own
    assert expected[0] == status
    if status == 413:
        assert expected[2]["hooked"] is True  # answered after the app's hooks, as before


def test_openapi_documents_a_multipart_body() -> None:
    body = bridged_app().openapi()["paths"]["/upload"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]


def test_native_validation_answers_422() -> None:
    api = FlaskBridge(Flask(__name__), flask_errors=False)
    api.include_router(router)
    client = TestClient(api)
    response = client.post("/upload", files=DOC)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "title"]
