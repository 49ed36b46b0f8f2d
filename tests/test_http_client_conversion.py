"""The http_client transform, judged by behaviour: the example chatbot's llm.py (its functions made
``async def``, as the whole-program plan hands them over) converted to the shared aiohttp client
answers as the original does with requests against the same local upstream: the same replies and
stream fragments, the same exceptions with the same messages for a timeout, a refused connection,
an HTTP 500, a body that is no JSON and a stream that stalls."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import types
from pathlib import Path

import pytest
from aiohttp import web
from flask import Flask

from codemod.testing import FIXTURES, convert_one
from example_chatbot import llm as original
from transforms import ORDER

INPUT = FIXTURES / "http_client" / "chatbot_llm" / "input.py"


def converted_module() -> types.ModuleType:
    result = convert_one(INPUT.read_bytes(), str(INPUT), ORDER)
    assert result.status == "changed" and result.findings == []
    module = types.ModuleType("example_chatbot.llm_converted")
    module.__package__ = "example_chatbot"  # its ``from .errors import ...``
    sys.modules[module.__name__] = module  # @dataclass looks its module up there
    try:
        exec(compile(result.new, str(INPUT), "exec"), module.__dict__)
    finally:
        del sys.modules[module.__name__]
    return module


class Upstream:
    """An OpenAI-like chat completions stub on a thread of its own; the model name picks how it
    answers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d/v1" % self.sock.getsockname()[1]

    def __enter__(self) -> "Upstream":
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result()
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.complete)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.SockSite(self.runner, self.sock).start()

    async def complete(self, request: web.Request) -> web.StreamResponse:
        payload = await request.json()
        model, last = payload["model"], payload["messages"][-1]["content"]
        if model == "slow":
            await asyncio.sleep(1.0)
        if model == "error":
            return web.Response(status=500, text="upstream broke")
        if model == "not json":
            return web.Response(text="<html>busy</html>", content_type="text/html")
        if not payload.get("stream"):
            return web.json_response({"choices": [{"message": {"role": "assistant", "content": f"echo: {last}"}}]})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for word in ["echo", ": ", last]:
            chunk = {"choices": [{"delta": {"content": word}}]}
            await response.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
            await asyncio.sleep(0.01)
            if model == "stall":
                await asyncio.sleep(1.0)
        await response.write(b"data: [DONE]\r\n\r\n")
        return response


@pytest.fixture(scope="module")
def upstream():
    with Upstream() as server:
        yield server


@pytest.fixture(scope="module")
def converted():
    return converted_module()


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return "http://127.0.0.1:%d/v1" % sock.getsockname()[1]


def app_for(url: str, model: str) -> Flask:
    app = Flask("chatbot")
    app.config.update(LLM_BASE_URL=url, LLM_MODEL=model, LLM_TIMEOUT=0.3)
    return app


MESSAGES = [{"role": "user", "content": "hi there"}]


def outcome(run):
    try:
        return ("returned", run())
    except Exception as error:  # the chatbot's UpstreamTimeout / UpstreamError, with its message
        return (type(error).__name__, str(error))


def sync_complete(app):
    with app.app_context():
        return outcome(lambda: original.complete(MESSAGES))


def async_complete(app, module):
    async def main():
        return await module.complete(MESSAGES)

    with app.app_context():
        return outcome(lambda: asyncio.run(main()))


def sync_stream(app):
    with app.app_context():
        return outcome(lambda: list(original.stream(MESSAGES)))


def async_stream(app, module):
    async def main():
        return [fragment async for fragment in await module.stream(MESSAGES)]

    with app.app_context():
        return outcome(lambda: asyncio.run(main()))


@pytest.mark.parametrize(
    "model, expected",
    [
        ("ok", ("returned", "echo: hi there")),
        ("slow", ("UpstreamTimeout", "the language model did not answer in time")),
        ("error", ("UpstreamError", "the language model answered with HTTP 500")),
        ("not json", ("UpstreamError", "the language model returned an invalid response")),
    ],
)
def test_complete_answers_as_with_requests(upstream, converted, model, expected):
    app = app_for(upstream.url, model)
    assert sync_complete(app) == expected
    assert async_complete(app, converted) == expected


def test_a_refused_connection_fails_as_with_requests(converted):
    app = app_for(refused_url(), "ok")
    theirs = sync_complete(app)
    assert theirs == ("UpstreamError", "could not reach the language model")
    assert async_complete(app, converted) == theirs
    assert async_stream(app, converted) == sync_stream(app) == theirs


@pytest.mark.parametrize(
    "model, expected",
    [
        ("ok", ("returned", ["echo", ": ", "hi there"])),
        ("stall", ("UpstreamError", "the language model stream was interrupted")),  # requests: ConnectionError
        ("slow", ("UpstreamTimeout", "the language model did not answer in time")),
        ("error", ("UpstreamError", "the language model answered with HTTP 500")),
    ],
)
def test_stream_answers_as_with_requests(upstream, converted, model, expected):
    app = app_for(upstream.url, model)
    assert sync_stream(app) == expected
    assert async_stream(app, converted) == expected
