"""A native view's StreamingResponse (what the converter makes of ``Response(gen(), mimetype=...)``)
goes through Flask's request cycle (the after_request hooks see its status and headers) and
streams: each chunk reaches the server before the next one is made, for a sync iterator (run in
the thread pool, as Starlette runs it) and an async one, with the headers Starlette gives it
and no Content-Length."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from flask import Flask

from flask2fastapi_runtime import FlaskBridge, FlaskRoute

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Server:
    """The ASGI server's side of one request: what was sent, and an event per body chunk."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.received = False
        self.first_chunk = threading.Event()  # set from the event loop, waited for in a thread

    async def receive(self) -> dict[str, Any]:
        if self.received:  # the whole request was read: the client stays until the answer is done
            await anyio.sleep_forever()
        self.received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first_chunk.set()


def bridged(server: Server) -> FlaskBridge:
    app = Flask(__name__)

    @app.after_request
    def stamp(response):
        response.headers["X-Stamp"] = f"{response.status_code} {response.mimetype}"
        return response

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/sync", name="sync")
    def sync_stream():
        def generate() -> Iterator[str]:
            yield "event: one\n\n"
            # not made until the server has the first chunk: nothing buffers the body
            assert server.first_chunk.wait(5), "the first chunk was not sent before the second was asked for"
            yield "event: twö\n\n"

        return StreamingResponse(generate(), media_type="text/event-stream", headers=HEADERS)

    @router.get("/async", name="async")
    def async_stream():
        async def generate() -> AsyncIterator[bytes]:
            yield b"event: one\n\n"
            with anyio.fail_after(5):
                while not server.first_chunk.is_set():
                    await anyio.sleep(0.01)
            yield "event: twö\n\n".encode()

        return StreamingResponse(generate(), status_code=202, media_type="text/event-stream", headers=HEADERS)

    api = FlaskBridge(app)
    api.include_router(router)
    return api


@pytest.mark.parametrize("path, status", [("/sync", 200), ("/async", 202)])
def test_streamed_chunk_by_chunk_through_flasks_cycle(path: str, status: int) -> None:
    server = Server()
    api = bridged(server)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"", "headers": [(b"host", b"test")],
        "server": ("test", 80), "client": ("127.0.0.1", 1234),
    }

    async def serve() -> None:
        with anyio.fail_after(10):
            await api(scope, server.receive, server.send)

    anyio.run(serve)
    start = server.messages[0]
    assert start["type"] == "http.response.start" and start["status"] == status
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    assert headers["content-type"] == "text/event-stream; charset=utf-8"
    assert headers["cache-control"] == "no-cache" and headers["x-accel-buffering"] == "no"
    assert headers["x-stamp"] == f"{status} text/event-stream"  # the after_request hook saw it
    assert "content-length" not in headers
    chunks = [m["body"] for m in server.messages[1:] if m.get("body")]
    assert chunks == [b"event: one\n\n", "event: twö\n\n".encode()]  # two sends: not joined
    assert server.messages[-1].get("more_body", False) is False


@pytest.mark.parametrize("path", ["/sync", "/async"])
def test_flasks_test_client_reads_the_whole_stream(path: str) -> None:
    server = Server()
    server.first_chunk.set()  # the test client reads the body in one go
    response = bridged(server).test_client().get(path)
    assert response.get_data() == "event: one\n\nevent: twö\n\n".encode()
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert "Content-Length" not in response.headers
