"""Streaming: a server-sent event stream whose generator reads g and the request keeps doing so
after conversion, with the same media type, headers and events; plain Responses keep theirs."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "stream"
SPEC = "streamapp.app:app"
REQUESTS = [
    {"method": "GET", "path": "/events?count=2", "headers": {"X-User": "ann"}, "expect_headers": ["Cache-Control", "Content-Type"]},
    {"method": "GET", "path": "/events", "expect_headers": ["Content-Type"]},
    {"method": "GET", "path": "/plain", "expect_headers": ["Content-Type"]},
    {"method": "GET", "path": "/html", "expect_headers": ["Content-Type"]},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("stream") / "converted")


def test_streams_and_plain_responses_answer_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert original[0]["headers"]["Content-Type"] == "text/event-stream; charset=utf-8"
    assert original[0]["body"].count("event: tick") == 2 and '"user": "ann"' in original[0]["body"]
    assert [a["status"] for a in original] == [200, 200, 418, 200]
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison
