"""The shared aiohttp session (flask2fastapi_runtime.http): one per app, opened and closed by the
lifespan, made on first use without it; and requests' behaviour kept on it, compared with
requests itself against the same local server."""

from __future__ import annotations

import asyncio
import gc
import socket
import threading
import warnings
from contextlib import asynccontextmanager

import aiohttp
import httpx
import pytest
import requests
from aiohttp import web
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from flask import Flask

from flask2fastapi_runtime import (
    BodyReadTimeout, FlaskBridge, HttpClientOptions, InvalidJSON, http_client, http_timeout, iter_lines, read_body,
    read_json, read_text, with_http_client,
)


class Upstream:
    """An aiohttp server on a thread and event loop of its own, called by requests and aiohttp."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.bodies: dict[str, tuple[str, list[bytes]]] = {}  # name -> (Content-Type, chunks)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/peer", self.peer)
        app.router.add_get("/slow", self.slow)
        app.router.add_get("/stall", self.stall)
        app.router.add_get("/body/{name}", self.body)
        app.router.add_get("/status/{code}", self.status)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()

    async def peer(self, request: web.Request) -> web.Response:
        return web.Response(text=str(request.transport.get_extra_info("peername")[1]))

    async def slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query["delay"]))
        return web.Response(text="late")

    async def stall(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.content_length = 8
        await response.prepare(request)
        await response.write(b"part")
        await asyncio.sleep(1.0)
        await response.write(b"rest")
        return response

    async def body(self, request: web.Request) -> web.StreamResponse:
        content_type, chunks = self.bodies[request.match_info["name"]]
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for chunk in chunks:  # each a chunk of its own on the wire
            await response.write(chunk)
            await asyncio.sleep(0.01)
        await response.write_eof()
        return response

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="boom")


@pytest.fixture(scope="module")
def upstream():
    server = Upstream()
    server.start()
    yield server
    server.stop()


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d/" % sock.getsockname()[1]  # nothing listens once closed


def run(coroutine):
    return asyncio.run(coroutine)


# -- one session per app, through the lifespan or without it ----------------------------------


def bridged_app(upstream: Upstream, seen: list, lifespan=None) -> FlaskBridge:
    api = FlaskBridge(Flask(__name__), lifespan=lifespan)
    router = APIRouter()  # plain FastAPI routes: what an async route runs like, Flask aside

    @router.get("/via")
    async def via() -> dict:
        session = http_client()
        seen.append(session)
        async with session.get(upstream.url + "/peer") as response:
            return {"session": id(session), "port": await response.text()}

    api.include_router(router)
    return api


def test_requests_share_one_session_and_its_connections(upstream):
    seen: list = []
    with TestClient(bridged_app(upstream, seen)) as client:
        first, second = client.get("/via").json(), client.get("/via").json()
        assert first["session"] == second["session"]
        assert first["port"] == second["port"]  # the same pooled connection, kept alive
        assert not seen[0].closed
        assert seen[0].connector.limit == 512 and seen[0].connector.limit_per_host == 0
    assert seen[0].closed  # closed at shutdown


@pytest.mark.parametrize(
    ("variables", "netrc", "trusted"),
    [
        ({}, False, False),  # nothing to find: no look at the environment on every call
        ({"HTTPS_PROXY": "http://proxy.internal:3128"}, False, True),
        ({"no_proxy": "internal"}, False, True),
        ({}, True, True),  # a .netrc in the home folder
        ({"NETRC": "{tmp}/netrc"}, True, True),
        ({"NETRC": "{tmp}/missing"}, True, False),  # NETRC names the only file looked at
    ],
)
def test_the_environment_is_trusted_where_requests_would_find_something(monkeypatch, tmp_path, variables, netrc, trusted):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    if netrc:
        (tmp_path / ".netrc").write_text("machine upstream.internal login bot password secret\n")
        (tmp_path / "netrc").write_text("machine upstream.internal login bot password secret\n")

    async def opened() -> bool:
        return http_client().trust_env

    assert asyncio.run(opened()) is trusted


def test_the_pool_is_sized_by_the_bridge():
    api = FlaskBridge(Flask(__name__), http_client_options=HttpClientOptions(limit=0, limit_per_host=50))
    router = APIRouter()

    @router.get("/pool")
    async def pool() -> list:
        return [http_client().connector.limit, http_client().connector.limit_per_host]

    api.include_router(router)
    with TestClient(api) as client:
        assert client.get("/pool").json() == [0, 50]


def test_opened_before_the_apps_own_lifespan_and_closed_after_it(upstream):
    events: list = []

    @asynccontextmanager
    async def lifespan(app):
        async with http_client().get(upstream.url + "/peer") as response:
            events.append(("startup", response.status))
        yield
        async with http_client().get(upstream.url + "/peer") as response:
            events.append(("shutdown", response.status, http_client().closed))

    api = bridged_app(upstream, [], lifespan=lifespan)
    with TestClient(api):
        pass
    assert events == [("startup", 200), ("shutdown", 200, False)]


def test_startup_handlers_keep_running():
    api = FlaskBridge(Flask(__name__))
    events: list = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # on_event is deprecated, still used

        @api.on_event("startup")
        async def started() -> None:
            events.append(("startup", http_client().closed))

    with TestClient(api):
        pass
    assert events == [("startup", False)]


def test_without_the_lifespan_a_session_per_loop_closed_with_it(upstream):
    seen: list = []
    api = bridged_app(upstream, seen)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = TestClient(api)  # not a context manager: no lifespan, a new loop per request
        assert client.get("/via").status_code == 200
        assert client.get("/via").status_code == 200
        assert seen[0] is not seen[1] and seen[0].closed and seen[1].closed
        del seen[:]
        gc.collect()
    assert [str(w.message) for w in caught if "Unclosed" in str(w.message)] == []


def test_an_asgi_transport_in_the_callers_loop(upstream):
    seen: list = []
    api = bridged_app(upstream, seen)

    async def main() -> list:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            answers = [(await client.get("/via")).json() for _ in range(2)]
        assert not seen[0].closed  # the loop runs on: the session stays for its next requests
        return answers

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = run(main())
        assert first == second
        assert seen[0].closed  # asyncio.run closed it with the loop
        del seen[:]
        gc.collect()
    assert [str(w.message) for w in caught if "Unclosed" in str(w.message)] == []


def test_with_http_client_for_an_app_without_the_bridge(upstream):
    seen: list = []
    app = FastAPI(lifespan=with_http_client())

    @app.get("/via")
    async def via() -> int:
        seen.append(http_client())
        return id(seen[-1])

    with TestClient(app) as client:
        assert client.get("/via").json() == client.get("/via").json()
    assert seen[0].closed


# -- requests' behaviour on aiohttp, against the same server ------------------------------------


def requests_error(call) -> type[BaseException]:
    with pytest.raises(requests.RequestException) as caught:
        call()
    return caught.type


async def aiohttp_error(coroutine) -> type[BaseException]:
    with pytest.raises(Exception) as caught:
        await coroutine
    return caught.type


def test_a_slow_answer_is_a_timeout_in_both(upstream):
    url = upstream.url + "/slow?delay=0.5"
    assert issubclass(requests_error(lambda: requests.get(url, timeout=0.2)), requests.Timeout)

    async def main():
        return await aiohttp_error(http_client().get(url, timeout=http_timeout(0.2)))

    error = run(main())
    assert issubclass(error, asyncio.TimeoutError) and issubclass(error, aiohttp.ClientError)


def test_a_stalled_body_is_a_connection_error_in_both_not_a_timeout(upstream):
    url = upstream.url + "/stall"
    error = requests_error(lambda: requests.get(url, timeout=0.3))
    assert issubclass(error, requests.ConnectionError) and not issubclass(error, requests.Timeout)

    async def main():
        response = await http_client().get(url, timeout=http_timeout(0.3))
        return await aiohttp_error(read_body(response))

    error = run(main())
    assert error is BodyReadTimeout
    assert issubclass(error, aiohttp.ClientConnectionError) and not issubclass(error, asyncio.TimeoutError)


def test_a_refused_connection_is_a_connection_error_in_both():
    url = refused_url()
    assert issubclass(requests_error(lambda: requests.get(url, timeout=1)), requests.ConnectionError)

    async def main():
        return await aiohttp_error(http_client().get(url, timeout=http_timeout(1)))

    error = run(main())
    assert issubclass(error, aiohttp.ClientConnectionError) and not issubclass(error, asyncio.TimeoutError)


@pytest.mark.parametrize("timeout", [0, -1, (1, 2, 3), "5", True])
def test_a_timeout_requests_refuses_is_refused(upstream, timeout):
    with pytest.raises(ValueError):
        requests.get(upstream.url + "/peer", timeout=timeout)
    with pytest.raises(ValueError):
        http_timeout(timeout)


def test_timeouts_as_requests_meant_them():
    assert http_timeout(5) == aiohttp.ClientTimeout(sock_connect=5, sock_read=5)
    assert http_timeout((1.5, 30)) == aiohttp.ClientTimeout(sock_connect=1.5, sock_read=30)
    assert http_timeout((None, 30)) == aiohttp.ClientTimeout(sock_read=30)
    assert http_timeout(None) == aiohttp.ClientTimeout()  # no total either: requests had none


def served(upstream: Upstream, name: str, content_type: str, chunks: list[bytes]) -> str:
    upstream.bodies[name] = (content_type, chunks)
    return f"{upstream.url}/body/{name}"


async def fetched(url: str, read):
    response = await http_client().get(url)
    try:
        return await read(response)
    finally:
        response.release()


async def lines_of(response) -> list[bytes]:
    return [line async for line in iter_lines(response)]


LINES = {
    "newlines": [b"a\nb\n"],
    "crlf": [b"data: 1\r\n\r\ndata: 2\r\n", b"\r\n"],
    "cr": [b"a\rb\r", b"c"],
    "no final newline": [b"first\nlast"],
    "empty lines": [b"\n\n\nx\n\n"],
    "a line in pieces": [b"da", b"ta: {\"x\"", b": 1}\n", b"data: [DONE]\n"],
    "empty body": [],
    "a long line": [b"x" * 70000, b"y" * 70000 + b"\nz"],
}


@pytest.mark.parametrize("name", list(LINES))
def test_iter_lines_as_requests(upstream, name):
    url = served(upstream, name.replace(" ", "-"), "text/event-stream", LINES[name])
    with requests.get(url, stream=True) as response:
        expected = list(response.iter_lines())
    assert run(fetched(url, lines_of)) == expected == b"".join(LINES[name]).splitlines()


def test_iter_lines_keeps_a_crlf_cut_by_the_network_one_ending(upstream):
    url = served(upstream, "cut", "text/plain", [b"a\r", b"\nb\r\n"])
    assert run(fetched(url, lines_of)) == [b"a", b"b"]
    with requests.get(url, stream=True) as response:
        assert list(response.iter_lines()) == [b"a", b"", b"b"]  # requests' extra empty line


def test_iter_lines_of_a_stalled_stream(upstream):
    async def main():
        response = await http_client().get(upstream.url + "/stall", timeout=http_timeout(0.3))
        return await aiohttp_error(lines_of(response))

    assert run(main()) is BodyReadTimeout


TEXTS = {
    "latin1 text without a charset": ("text/plain", [b"caf\xe9"]),
    "a charset": ("text/html; charset=utf-8", ["café".encode()]),
    "a quoted charset": ('text/plain; Charset="UTF-16"', ["hé".encode("utf-16")]),
    "json": ("application/json", ['{"a": "é"}'.encode()]),
    "a bad byte": ("text/plain; charset=utf-8", [b"ok \xff"]),
    "an unknown charset": ("text/plain; charset=no-such", [b"plain"]),
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_text_as_requests(upstream, name):
    url = served(upstream, "text-" + name.replace(" ", "-"), *TEXTS[name])
    assert run(fetched(url, read_text)) == requests.get(url).text


JSONS = {
    "an object": ("application/json", [b'{"choices": [{"message": {"content": "hi"}}]}']),
    "any content type": ("text/html", [b"[1, 2]"]),
    "utf-16 without a charset": ("application/octet-stream", ['{"a": "é"}'.encode("utf-16-le")]),
}


@pytest.mark.parametrize("name", list(JSONS))
def test_json_as_requests(upstream, name):
    url = served(upstream, "json-" + name.replace(" ", "-"), *JSONS[name])
    assert run(fetched(url, read_json)) == requests.get(url).json()


@pytest.mark.parametrize("body", [[], [b"<html>"]], ids=["empty", "html"])
def test_a_body_that_is_no_json_raises_as_requests(upstream, body):
    url = served(upstream, f"nojson-{len(body)}", "application/json", body)
    with pytest.raises(requests.JSONDecodeError):
        requests.get(url).json()

    error = run(aiohttp_error(fetched(url, read_json)))
    assert error is InvalidJSON
    assert issubclass(error, ValueError) and issubclass(error, aiohttp.ClientError)


def test_an_error_status_raises_for_status_as_requests(upstream):
    url = upstream.url + "/status/500"
    response = requests.get(url)
    assert (response.ok, response.status_code, response.text) == (False, 500, "boom")
    with pytest.raises(requests.HTTPError):
        response.raise_for_status()

    async def main():
        response = await http_client().get(url)
        await read_body(response)  # as the converter has a non-streamed answer read at once
        status = (response.ok, response.status, await read_text(response))
        return status, await aiohttp_error(raised(response))

    async def raised(response):
        response.raise_for_status()

    status, error = run(main())
    assert status == (False, 500, "boom")
    assert issubclass(error, aiohttp.ClientResponseError)


@pytest.mark.parametrize(
    "params",
    [{"q": "a b", "page": None}, {"tags": ["x", "y"], "on": True, "n": 2}, [("k", "1"), ("k", "2")]],
    ids=["a None left out", "lists and bools", "pairs"],
)
def test_params_as_requests(params):
    from flask2fastapi_runtime import http_params
    from yarl import URL

    theirs = requests.Request("GET", "http://h/p", params=params).prepare().url
    ours = URL("http://h/p").with_query(http_params(params))
    assert list(URL(theirs).query.items()) == list(ours.query.items())


def test_raise_for_status_raises_what_except_http_error_becomes(upstream):
    from flask2fastapi_runtime import HTTPStatusError, raise_for_status

    async def main():
        response = await http_client().get(upstream.url + "/status/503")
        with pytest.raises(HTTPStatusError) as caught:
            raise_for_status(response)
        body = await read_text(response)  # still open, as requests' response was
        ok = await http_client().get(upstream.url + "/peer")
        raise_for_status(ok)
        ok.release()
        return caught.value.status, body

    assert run(main()) == (503, "boom")
    assert not issubclass(aiohttp.TooManyRedirects, HTTPStatusError)  # requests' was no HTTPError either
