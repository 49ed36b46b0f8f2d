"""The runtime's requests double (flask2fastapi_runtime.doubles), judged on the chatbot's llm.py:
the converted code under the double answers as the original does under the same fake of
``requests.post`` (what the project's tests assert), and, where a local upstream can play the
same part, as the converted code does against that upstream."""

from __future__ import annotations

import io

import pytest
import requests
from flask2fastapi_runtime import requests_double

from example_chatbot.tests.helpers import FakeUpstream, completion, stream_body, upstream_response
from test_http_client_conversion import (  # noqa: F401  (converted, upstream: the module fixtures, shared)
    app_for, async_complete, async_stream, converted, refused_url, sync_complete, sync_stream, upstream,
)


class BrokenRaw(io.BytesIO):
    """A body that fails after its first chunk (as example_chatbot/tests/test_llm.py's)."""

    def __init__(self, first: bytes, error: Exception) -> None:
        super().__init__(first)
        self.error, self.served = error, False

    def read(self, *args):
        if self.served:
            raise self.error
        self.served = True
        return super().read()


def broken(error: Exception):
    def answer():
        response = upstream_response(200)
        response.raw = BrokenRaw(stream_body("echo", done=False), error)
        return response

    return answer


def same_calls(ours: list[dict], theirs: list[dict], raised: bool) -> bool:
    """The fakes were called alike; where the call raised, ``stream`` is the double's placeholder
    (the app never read an answer to tell it)."""
    if raised:
        ours = [{k: v for k, v in call.items() if k != "stream"} for call in ours]
        theirs = [{k: v for k, v in call.items() if k != "stream"} for call in theirs]
    return ours == theirs


def both(monkeypatch, converted, outcome, run_sync, run_async):
    """(the original under the fake, the converted code under the double), and the two fakes' calls."""
    app = app_for("http://llm.test/v1", "test-model")
    theirs, ours = FakeUpstream(), FakeUpstream()
    theirs.outcome = ours.outcome = outcome
    with monkeypatch.context() as patch:
        patch.setattr(requests, "post", theirs)
        original = run_sync(app)
    with monkeypatch.context() as patch:
        requests_double(patch, "post", ours)
        doubled = run_async(app, converted)
    return original, doubled, theirs.calls, ours.calls


COMPLETE = {  # fake outcome, the local upstream's model that plays the same part (None: none can)
    "reply": (lambda: upstream_response(200, completion("echo: hi there")), "ok"),
    "read timeout": (requests.ReadTimeout("slow"), "slow"),
    "connect timeout": (requests.ConnectTimeout("slow"), None),
    "timeout": (requests.Timeout("slow"), None),
    "refused": (requests.ConnectionError("refused"), "refused"),
    "HTTP 500": (lambda: upstream_response(500, b"upstream broke"), "error"),
    "no JSON": (lambda: upstream_response(200, b"<html>busy</html>"), "not json"),
    "empty body": (lambda: upstream_response(200, b""), None),
    "invalid URL": (requests.exceptions.InvalidURL("bad url"), None),
    "TLS": (requests.exceptions.SSLError("bad cert"), None),
}


def real(upstream, model: str) -> str:
    return refused_url() if model == "refused" else upstream.url


@pytest.mark.parametrize("case", COMPLETE)
def test_complete_under_the_double_answers_as_the_original_under_the_fake(monkeypatch, converted, upstream, case):
    outcome, model = COMPLETE[case]
    original, doubled, theirs, ours = both(monkeypatch, converted, outcome, sync_complete, async_complete)
    assert doubled == original
    # the fake was called as requests.post was: url, json, headers, timeout, stream
    assert same_calls(ours, theirs, isinstance(outcome, Exception))
    if model is not None:
        assert async_complete(app_for(real(upstream, model), model), converted)[0] == original[0]


def test_the_fake_gets_requests_keywords(monkeypatch, converted):
    _, _, theirs, ours = both(monkeypatch, converted, COMPLETE["reply"][0], sync_complete, async_complete)
    [call] = ours
    assert call["url"] == "http://llm.test/v1/chat/completions"
    assert call["timeout"] == 0.3 and call["stream"] is False
    assert call["json"] == {"model": "test-model", "messages": [{"role": "user", "content": "hi there"}]}
    assert ours == theirs


STREAM = {
    "fragments": (lambda: upstream_response(200, stream_body("echo", ": ", "hi there")), "ok"),
    "interrupted": (broken(requests.ConnectionError("reset")), "stall"),
    "read timeout before": (requests.ReadTimeout("slow"), "slow"),
    "HTTP 500": (lambda: upstream_response(500, b"oops"), "error"),
    "refused": (requests.ConnectionError("refused"), "refused"),
    # the fake's timeout from the middle of the body: a timeout for the original, so for the
    # converted code under the double too (requests against a real server raised ConnectionError)
    "read timeout mid-body": (broken(requests.ReadTimeout("stalled")), None),
    "truncated": (broken(requests.exceptions.ChunkedEncodingError("cut")), None),
}


@pytest.mark.parametrize("case", STREAM)
def test_stream_under_the_double_answers_as_the_original_under_the_fake(monkeypatch, converted, upstream, case):
    outcome, model = STREAM[case]
    original, doubled, theirs, ours = both(monkeypatch, converted, outcome, sync_stream, async_stream)
    assert doubled == original
    assert same_calls(ours, theirs, isinstance(outcome, Exception))
    if model is not None:
        assert async_stream(app_for(real(upstream, model), model), converted)[0] == original[0]


def test_a_streamed_answer_is_recorded_as_stream_true(monkeypatch, converted):
    _, doubled, _, ours = both(monkeypatch, converted, STREAM["fragments"][0], sync_stream, async_stream)
    assert doubled == ("returned", ["echo", ": ", "hi there"])
    assert ours[0]["stream"] is True and ours[0]["json"]["stream"] is True
