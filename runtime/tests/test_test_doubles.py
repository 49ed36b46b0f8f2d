"""flask2fastapi_runtime.doubles: ``awaitable`` for a swapped function that became async, and the
requests double's own contract (keywords back in requests' shape, errors as aiohttp's, the
stand-in gone after the test). The chatbot's code path through the double is compared with the
original under the same fake and with a real upstream in tests/test_doubles_chatbot.py."""

from __future__ import annotations

import asyncio
import inspect
import io

import aiohttp
import pytest
import requests

from flask2fastapi_runtime import (
    BodyReadTimeout, awaitable, http_client, http_timeout, iter_lines, read_body, read_json, read_text, requests_double,
)
from flask2fastapi_runtime import http


def test_a_sync_replacement_is_awaited_with_its_name_and_signature():
    def complete(messages, *, model="m"):
        return f"{model}: {messages[-1]}"

    swapped = awaitable(complete)
    assert inspect.iscoroutinefunction(swapped)
    assert swapped.__name__ == "complete" and str(inspect.signature(swapped)) == "(messages, *, model='m')"
    assert asyncio.run(swapped(["hi"], model="x")) == "x: hi"


def test_an_async_replacement_is_kept_and_an_awaitable_result_awaited():
    async def complete(messages, **options):
        return "ok"

    assert awaitable(complete) is complete

    async def narrow(messages):
        return "narrow"

    # an async replacement of the original's signature is wrapped only to drop new keywords
    assert asyncio.run(awaitable(narrow)(["hi"], settings={})) == "narrow"

    async def later():
        return "later"

    assert asyncio.run(awaitable(lambda: later())()) == "later"


def test_a_generator_becomes_an_async_generator_closed_with_it():
    closed = []

    def fragments(messages):
        try:
            yield "a"
            yield "b"
        finally:
            closed.append(True)

    async def main():
        stream = await awaitable(fragments)([])
        assert inspect.isasyncgen(stream)
        async for first in stream:
            break
        await stream.aclose()
        return first

    assert asyncio.run(main()) == "a" and closed == [True]


def test_a_builtin_replacement_is_called():
    sleeps: list[float] = []
    assert asyncio.run(awaitable(sleeps.append)(0.25)) is None and sleeps == [0.25]


def answer(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code, response.raw, response.url = status, io.BytesIO(body), "http://up.test/x"
    response.headers["Content-Type"] = content_type
    return response


def test_the_fake_gets_requests_keywords_and_the_app_reads_its_answer(monkeypatch):
    calls = []

    def fake(url, **kwargs):
        calls.append({"url": url, **kwargs})
        return answer(200, b'{"a": 1}\n{"b": 2}')

    requests_double(monkeypatch, "post", fake)

    async def main():
        response = await http_client().post(
            "http://up.test/x", json={"q": 1}, headers={"X": "1"}, timeout=http_timeout((2, 7.5)),
            auth=aiohttp.BasicAuth("bot", "pw"),
        )
        await read_body(response)
        return response.status, response.ok, response.headers["content-type"], await read_text(response)

    assert asyncio.run(main()) == (200, True, "application/json", '{"a": 1}\n{"b": 2}')
    assert calls == [{"url": "http://up.test/x", "json": {"q": 1}, "headers": {"X": "1"}, "timeout": (2, 7.5),
                      "auth": ("bot", "pw"), "stream": False}]


def test_lines_read_as_they_arrive_record_stream_true(monkeypatch):
    calls = []
    requests_double(monkeypatch, "get", lambda url, **kw: calls.append(kw) or answer(200, b"one\r\ntwo\nthree"))

    async def main():
        response = await http_client().get("http://up.test/x")
        return [line async for line in iter_lines(response)]

    assert asyncio.run(main()) == [b"one", b"two", b"three"]
    assert calls == [{"stream": True}]


@pytest.mark.parametrize("error, caught", [
    (requests.ConnectTimeout("c"), aiohttp.ConnectionTimeoutError),
    (requests.ReadTimeout("r"), aiohttp.SocketTimeoutError),
    (requests.Timeout("t"), asyncio.TimeoutError),
    (requests.ConnectionError("refused"), aiohttp.ClientConnectionError),
    (requests.exceptions.ChunkedEncodingError("cut"), aiohttp.ClientPayloadError),
    (requests.TooManyRedirects("loop"), aiohttp.TooManyRedirects),
    (requests.exceptions.InvalidURL("bad"), aiohttp.InvalidURL),
    (requests.RequestException("other"), aiohttp.ClientError),
])
def test_requests_errors_are_what_the_converted_except_clauses_catch(monkeypatch, error, caught):
    def fake(url, **kwargs):
        raise error

    requests_double(monkeypatch, "post", fake)

    async def main():
        await http_client().post("http://up.test/x")

    with pytest.raises(caught) as raised:
        asyncio.run(main())
    assert raised.value.__cause__ is error
    # each is still an error of aiohttp's (or a timeout): ``except RequestException``'s tuple catches it
    assert isinstance(raised.value, (aiohttp.ClientError, asyncio.TimeoutError))


def test_a_body_read_error_is_aiohttps_and_a_faked_timeout_stays_a_timeout(monkeypatch):
    class Broken(io.BytesIO):
        def read(self, *args):
            raise self.error

    def fake(url, **kwargs):
        response = answer(200, b"")
        response.raw = Broken()
        response.raw.error = fake.error
        return response

    requests_double(monkeypatch, "get", fake)

    async def read():
        response = await http_client().get("http://up.test/x")
        await read_json(response)

    fake.error = requests.ConnectionError("reset")
    with pytest.raises(aiohttp.ClientConnectionError) as raised:
        asyncio.run(read())
    assert not isinstance(raised.value, BodyReadTimeout)
    fake.error = requests.ReadTimeout("stalled")  # the original saw a timeout from this fake
    with pytest.raises(aiohttp.SocketTimeoutError):
        asyncio.run(read())


def test_http_timeout_keeps_requests_value_and_equals_aiohttps():
    assert http_timeout(7.5).requested == 7.5
    assert http_timeout((1, None)).requested == (1, None)
    assert http_timeout(7.5) == aiohttp.ClientTimeout(sock_connect=7.5, sock_read=7.5)
    assert hash(http_timeout(7.5)) == hash(aiohttp.ClientTimeout(sock_connect=7.5, sock_read=7.5))


def test_the_stand_in_is_gone_after_the_test_and_other_verbs_are_the_sessions(monkeypatch):
    with monkeypatch.context() as patch:
        requests_double(patch, "post", lambda url, **kw: answer(204, b""))
        requests_double(patch, "get", lambda url, **kw: answer(200, b"got"))

        async def main():
            client = http_client()
            return (await client.post("http://up.test/x")).status, await read_body(await client.get("http://up.test/y")), client.closed

        assert asyncio.run(main()) == (204, b"got", False)  # ``closed``: the real session's attribute
    assert http.stand_in is None
    with pytest.raises(ValueError):
        requests_double(monkeypatch, "fetch", lambda url: None)


def test_a_fake_that_tests_stream_is_refused(monkeypatch):
    requests_double(monkeypatch, "get", lambda url, stream: answer(200, b"") if stream else answer(200, b"x"))

    async def main():
        await http_client().get("http://up.test/x")

    with pytest.raises(TypeError, match="stream"):
        asyncio.run(main())


def test_awaitable_gives_a_stand_in_only_the_keywords_it_accepts():
    import asyncio

    from flask2fastapi_runtime import awaitable

    seen = []
    swapped = awaitable(lambda messages: seen.append(messages) or "ok")
    # the converted function now takes the app's settings too: the test's lambda never did
    assert asyncio.run(swapped(["hi"], config={"X": 1})) == "ok"
    assert seen == [["hi"]]

    async def takes_all(messages, **extra):
        return extra

    assert awaitable(takes_all) is takes_all
    assert asyncio.run(awaitable(takes_all)(["hi"], config=1)) == {"config": 1}
