"""Streaming: a server-sent event stream whose generator reads g (the hook's value, kept on
request.state after conversion) becomes Starlette's StreamingResponse and keeps answering with
the same media type, headers and events; plain Responses of a literal body become Starlette's
Response (transforms/response_objects.py) with the same bytes, status, Content-Type and
Content-Length. Generators that need no Flask context become StreamingResponse too
(transforms/streams.py) and answer with the same bytes, Content-Type (charset included), custom
headers and the after_request hook's header, and no Content-Length. Nothing of Flask is left."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "stream"
SPEC = "streamapp.app:app"
SENT = ["Content-Type", "Content-Length", "X-Stamp"]
REQUESTS = [
    {"method": "GET", "path": "/events?count=2", "headers": {"X-User": "ann"}, "expect_headers": [*SENT, "Cache-Control"]},
    {"method": "GET", "path": "/events", "expect_headers": SENT},
    {"method": "GET", "path": "/events?count=x", "headers": {"X-User": "bob"}, "expect_headers": SENT},
    {"method": "GET", "path": "/plain", "expect_headers": SENT},
    {"method": "HEAD", "path": "/plain", "expect_headers": SENT},
    {"method": "GET", "path": "/html", "expect_headers": SENT},
]
STREAMED = ["Content-Type", "Content-Length", "X-Stamp"]
NATIVE_STREAMS = [
    {"method": "GET", "path": "/countdown/3", "expect_headers": [*STREAMED, "Cache-Control", "X-Accel-Buffering"]},
    {"method": "GET", "path": "/countdown/0", "expect_headers": STREAMED},
    {"method": "HEAD", "path": "/countdown/2", "expect_headers": STREAMED},
    {"method": "GET", "path": "/words?repeat=2", "expect_headers": STREAMED},
    {"method": "GET", "path": "/words?repeat=x", "expect_headers": STREAMED},
    {"method": "GET", "path": "/late", "expect_headers": [*STREAMED, "X-Kind"]},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("stream") / "converted")


def test_streams_and_plain_responses_answer_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert original[0]["headers"]["Content-Type"] == "text/event-stream; charset=utf-8"
    assert original[0]["body"].count("event: tick") == 2 and '"user": "ann"' in original[0]["body"]
    assert original[0]["headers"]["Content-Length"] is None and original[0]["headers"]["X-Stamp"] == "200"
    assert original[2]["body"].count('"user": "bob"') == 5
    assert [a["status"] for a in original] == [200, 200, 200, 418, 418, 200]
    assert original[3]["headers"]["Content-Type"] == "text/plain; charset=utf-8" and original[3]["headers"]["Content-Length"] == "15"
    assert original[4]["body"] == "" and original[4]["headers"]["Content-Length"] == "15"
    assert original[5]["headers"]["Content-Type"] == "text/html; charset=utf-8"
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_context_free_generators_become_streaming_responses(converted):
    app = (converted / "streamapp" / "app.py").read_text()
    assert "StreamingResponse(\n        countdown(start),\n        media_type=\"text/event-stream\"," in app
    assert 'return StreamingResponse(generate(), media_type="text/plain")' in app
    assert 'StreamingResponse(generate(), media_type="text/html", status_code=202, headers={"X-Kind": "late"})' in app
    # the generator reading g reads request.state, which outlives the view as g did in Flask's context
    assert "return StreamingResponse(\n        generate(),\n        media_type=\"text/event-stream\"," in app
    assert 'yield sse("start", {"user": http_request.state.user})' in app
    assert 'return Response("short and stout", status_code=418, media_type="text/plain")' in app
    assert 'return Response("<b>bold</b>", media_type="text/html")' in app
    assert "from flask import" not in app and "stream_with_context(" not in app


def test_streaming_responses_answer_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, NATIVE_STREAMS)
    assert original[0]["headers"]["Content-Type"] == "text/event-stream; charset=utf-8"
    assert original[0]["headers"]["Content-Length"] is None and original[0]["headers"]["X-Stamp"] == "200"
    assert original[0]["body"].count("event: tick") == 3 and "g\\u00e4mma" in original[0]["body"]
    assert original[3]["body"] == "alpha\nbeta\ngämma\n" * 2
    assert original[5]["status"] == 202 and original[5]["headers"]["Content-Type"] == "text/html; charset=utf-8"
    comparison = compare(PROJECT / "input", converted, SPEC, NATIVE_STREAMS)
    assert comparison.same, comparison


def test_converting_it_again_changes_nothing(converted):
    from typer.testing import CliRunner

    from codemod.cli import app as cli

    result = CliRunner().invoke(cli, ["convert", str(converted), "--check"])
    assert result.exit_code == 0, result.output
