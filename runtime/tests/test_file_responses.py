"""``file_response`` and ``safe_path`` on a plain FastAPI app (no Flask in it) answer as Flask's
``send_file`` and ``send_from_directory`` did: the same request to each app, the same status,
body and headers (Date and Expires are the time of the answer)."""

import io

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from flask import Flask, send_file, send_from_directory

from flask2fastapi_runtime.files import file_response, safe_path

HEADERS = ("content-type", "content-length", "content-disposition", "content-encoding", "content-range",
           "cache-control", "last-modified", "etag", "accept-ranges")
FUTURE, EPOCH = "Fri, 01 Jan 2100 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "files" / "deep").mkdir(parents=True)
    (root / "files" / "notes.txt").write_bytes(b"0123456789abcdefghij")
    (root / "files" / "deep" / "a b.tar.bz2").write_bytes(b"\x1f\x8b packed")
    (root / "files" / "empty.txt").write_bytes(b"")
    (root / "secret.txt").write_bytes(b"secret")
    flask = Flask("site", root_path=str(root))

    @flask.get("/path/<path:name>")
    def flask_path(name):
        return send_file(f"files/{name}", max_age=30 if name == "notes.txt" else None)

    @flask.get("/memory")
    def flask_memory():
        return send_file(io.BytesIO(b"in memory"), download_name="naïve “quoted”.csv", as_attachment=True)

    @flask.get("/dir/<path:name>")
    def flask_dir(name):
        return send_from_directory("files", name, etag="fixed", mimetype="text/x-mine")

    api = FastAPI()

    @api.api_route("/path/{name:path}", methods=["GET", "HEAD"])  # FastAPI answers HEAD where asked to
    def path(name: str, request: Request):
        return file_response(request, f"files/{name}", root=root, max_age=30 if name == "notes.txt" else None)

    @api.get("/memory")
    def memory(request: Request):
        return file_response(request, io.BytesIO(b"in memory"), download_name="naïve “quoted”.csv", as_attachment=True)

    @api.get("/dir/{name:path}")
    def directory(name: str, request: Request):
        return file_response(request, safe_path("files", name, root=root), etag="fixed", media_type="text/x-mine")

    return flask.test_client(), TestClient(api), root


REQUESTS = [
    ("GET", "/path/notes.txt", {}), ("HEAD", "/path/notes.txt", {}), ("GET", "/path/deep/a b.tar.bz2", {}),
    ("GET", "/path/empty.txt", {"Range": "bytes=0-1"}), ("GET", "/memory", {}), ("GET", "/memory", {"Range": "bytes=2-"}),
    ("GET", "/dir/notes.txt", {}), ("GET", "/dir/deep/../notes.txt", {}),
    ("GET", "/dir/notes.txt", {"If-None-Match": '"fixed"'}), ("GET", "/dir/notes.txt", {"If-None-Match": 'W/"fixed", "x"'}),
    ("GET", "/dir/notes.txt", {"If-Match": '"fixed"'}), ("GET", "/dir/notes.txt", {"If-Match": "*"}),
    ("GET", "/dir/notes.txt", {"If-Match": '"other"'}), ("GET", "/path/notes.txt", {"If-Modified-Since": FUTURE}),
    ("GET", "/path/notes.txt", {"If-Modified-Since": "not a date"}),
    ("GET", "/path/notes.txt", {"Range": "bytes=5-9"}), ("GET", "/path/notes.txt", {"Range": "bytes=-3"}),
    ("GET", "/path/notes.txt", {"Range": "bytes = 1-2"}), ("HEAD", "/path/notes.txt", {"Range": "bytes=1-2"}),
    ("GET", "/path/notes.txt", {"Range": "bytes=3-", "If-Range": FUTURE}),
    ("GET", "/path/notes.txt", {"Range": "bytes=3-", "If-Range": EPOCH}),
    ("GET", "/dir/notes.txt", {"Range": "bytes=3-4", "If-Range": '"fixed"'}),
    ("GET", "/dir/notes.txt", {"Range": "bytes=3-4", "If-Range": '"stale"'}),
]
# what the app's error handlers answer: the status and werkzeug's Content-Range (the body is
# the app's error page, Flask's HTML or FastAPI's JSON)
REFUSED = [
    ("GET", "/path/notes.txt", {"Range": "bytes=20-"}), ("GET", "/path/notes.txt", {"Range": "bytes=0-1,3-4"}),
    ("GET", "/path/notes.txt", {"Range": "lines=0-1"}), ("GET", "/path/notes.txt", {"Range": "bytes=4-2"}),
    ("GET", "/path/notes.txt", {"Range": "bytes=-0"}), ("GET", "/dir/../secret.txt", {}),
    ("GET", "/dir/%2e%2e/secret.txt", {}), ("GET", "/dir/deep", {}), ("GET", "/dir/nope", {}),
    ("GET", "/dir/deep\\..\\notes.txt", {}),
]


def _seen(response, flask: bool):
    body = response.data if flask else response.content
    return response.status_code, body, {h: response.headers.get(h) for h in HEADERS}


@pytest.mark.parametrize("method, path, headers", REQUESTS)
def test_the_answer_flask_gave(apps, method, path, headers):
    flask, fastapi, _ = apps
    expected = _seen(flask.open(path, method=method, headers=headers), True)
    assert _seen(fastapi.request(method, path, headers=headers), False) == expected


@pytest.mark.parametrize("method, path, headers", REFUSED)
def test_refused_as_flask_refused(apps, method, path, headers):
    flask, fastapi, _ = apps
    expected = flask.open(path, method=method, headers=headers)
    answered = fastapi.request(method, path, headers=headers)
    assert expected.status_code in (404, 416)
    assert (answered.status_code, answered.headers.get("content-range")) == (expected.status_code, expected.headers.get("content-range"))


def test_the_answers_are_what_werkzeug_writes(apps):
    """The comparison above is of something: the headers it compares are there."""
    _, fastapi, root = apps
    answered = fastapi.get("/memory")
    assert answered.headers["content-disposition"] == (
        "attachment; filename=\"naive quoted.csv\"; filename*=UTF-8''na%C3%AFve%20%E2%80%9Cquoted%E2%80%9D.csv"
    )
    assert answered.headers["content-type"] == "text/csv; charset=utf-8" and answered.content == b"in memory"
    answered = fastapi.get("/path/notes.txt", headers={"Range": "bytes=-3"})
    assert (answered.status_code, answered.content, answered.headers["content-range"]) == (206, b"hij", "bytes 17-19/20")
    assert answered.headers["cache-control"] == "public, max-age=30" and "expires" in answered.headers
    assert fastapi.get("/path/deep/a b.tar.bz2").headers["content-encoding"] == "bzip2"
    assert fastapi.get("/dir/notes.txt", headers={"If-None-Match": '"fixed"'}).status_code == 304
    assert str(root / "files" / "notes.txt") not in fastapi.get("/path/notes.txt").headers["etag"]


def test_max_age_may_be_a_function_of_the_path(apps, tmp_path):
    """As Flask's send_file: ``max_age`` called with the file's path."""
    _, _, root = apps
    seen = []
    api = FastAPI()

    @api.get("/f")
    def sent(request: Request):
        return file_response(request, "files/notes.txt", root=root, max_age=lambda path: seen.append(path) or 9)

    answered = TestClient(api).get("/f")
    assert answered.headers["cache-control"] == "public, max-age=9" and seen == [str(root / "files" / "notes.txt")]
