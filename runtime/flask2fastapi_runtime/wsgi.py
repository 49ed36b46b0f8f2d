"""One request through the Flask app's WSGI callable, and its answer as an ASGI response.

Both kinds of route end here: a bridged route is Flask's from the URL match to the last byte,
and a native route's view is called by Flask too (see ``routing``), so Flask's request context,
its hooks, error handlers, session and response making surround every view. Everything Flask
does for one request runs in one call, so that a request crosses the thread pool once: a
request that held a pooled resource (a DB connection) while it waited for a second thread token
could deadlock the server (MEASURED.md, "The converted chatbot under load").
"""

from __future__ import annotations

import io
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from a2wsgi.wsgi import build_environ
import contextvars

import anyio.to_thread
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

Environ = dict[str, Any]
# Scope key set by the test client (testing.InlineASGI): run Flask in the caller's thread.
INLINE = "flask2fastapi.inline"
# Scope key: {lower-case name: the name as Flask wrote it}, for a test client's request.
HEADER_NAMES = "flask2fastapi.header_names"
RawHeaders = list[tuple[bytes, bytes]]

# Set by a2wsgi when a request came in through WSGI (a Flask test client driving the ASGI app):
# the original environ, with what Flask's test client put there (preserve_context, environ_base).
ORIGINAL_ENVIRON = "wsgi_environ"


async def read_body(receive: Receive) -> bytes:
    """The whole request body. Flask code may read it from anywhere (a helper calling
    ``request.get_data()`` after FastAPI parsed a form), so it is read once and kept."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` again, for the FastAPI side of a native route; then the
    server's own messages (a StreamingResponse listens there for the client leaving)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def environ_for(scope: Scope, body: bytes) -> Environ:
    """The WSGI environ of an ASGI request, its body readable as ``wsgi.input``."""
    original = scope.get(ORIGINAL_ENVIRON)
    if original is not None:
        environ = dict(original)
        environ["wsgi.input"] = io.BytesIO(body)
    else:
        environ = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type]
        # Flask's default log handler writes to wsgi.errors: the process's stderr, as under
        # gunicorn or Flask's own server (a StringIO here lost every app.logger line)
        environ["wsgi.errors"] = sys.stderr
    if body:  # a chunked request has no Content-Length; the body is whole now
        environ["CONTENT_LENGTH"] = str(len(body))
    environ["asgi.scope"] = scope
    return environ


class AsyncBody:
    """A body an async iterator gives (the StreamingResponse of a native view, see
    ``responses``): werkzeug passes it through Flask's WSGI callable untouched
    (``direct_passthrough``) and it streams on the event loop, as under FastAPI."""

    def __init__(self, iterator: AsyncIterator[Any]) -> None:
        self.iterator = iterator

    def __iter__(self) -> Iterator[bytes]:
        raise TypeError("a StreamingResponse's body streams on the event loop: no WSGI middleware can read it")


class Answer:
    """What a WSGI app answered: status, raw headers and the body iterable."""

    def __init__(self, status: int, headers: RawHeaders, body: Iterable[bytes], complete: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.complete = complete  # the body is all in memory; else it streams

    def response(self) -> Response:
        """A Starlette response with exactly these headers (repeated ones such as Set-Cookie
        included, nothing added)."""
        if self.complete:
            response: Response = Response(b"".join(self.body), status_code=self.status)
        else:
            response = StreamingResponse(self._chunks(), status_code=self.status)
        response.raw_headers = list(self.headers)
        return response

    async def send(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        if self.complete:
            await send({"type": "http.response.body", "body": b"".join(self.body)})
            return
        async for chunk in self._chunks():
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    def _chunks(self) -> AsyncIterator[Any]:
        if isinstance(self.body, AsyncBody):
            return self.body.iterator
        return _in_one_context(self.body)


def call(wsgi_app: Callable[..., Iterable[bytes]], environ: Environ, whole: bool = False) -> Answer:
    """Run ``wsgi_app`` for ``environ``. A body of known length is read here, in the same call
    (thread hop) as the view; a streamed one (no Content-Length) is read as it is sent, unless
    ``whole`` (a test client's request, answered in one go)."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return _no_write

    iterable = wsgi_app(environ, start_response)
    if isinstance(iterable, AsyncBody):
        return Answer(*_started(started, environ), iterable, False)
    chunks: Iterator[bytes] = iter(iterable)
    first: list[bytes] = []
    if not started:  # a WSGI app may call start_response when its body is first read
        first = [next(chunks, b"")]
    status, raw = _started(started, environ)
    complete = whole or any(name == b"content-length" for name, _ in raw)
    if complete:
        try:
            return Answer(status, raw, [*first, *chunks], True)
        finally:
            _close(iterable)
    return Answer(status, raw, _closing([*first], chunks, iterable), False)


def _started(started: list[Any], environ: Environ) -> tuple[int, RawHeaders]:
    """The status and raw headers the WSGI app started its response with."""
    status, headers = started
    # ASGI wants lower-case names; a test client gets Flask's own back (testing.InlineASGI)
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    scope = environ.get("asgi.scope")
    if scope is not None and scope.get(INLINE):
        scope.setdefault(HEADER_NAMES, {}).update({name.lower(): name for name, _ in headers})
    return int(status[:3]), raw


async def answer(wsgi_app: Callable[..., Iterable[bytes]], environ: Environ) -> Answer:
    """``call`` in the thread pool (one hop per request), or in place for a test client."""
    if environ["asgi.scope"].get(INLINE):
        return call(wsgi_app, environ, whole=True)
    return await run_in_threadpool(call, wsgi_app, environ)


_DONE = object()


async def _in_one_context(body: Iterable[bytes]) -> AsyncIterator[bytes]:
    """The chunks of a streamed body, each read in the thread pool, all in one context: a
    ``stream_with_context`` generator pushes Flask's contexts on its first step and pops them on
    its last, and that needs the same context variables (Starlette's iterate_in_threadpool
    gives each step a fresh copy)."""
    iterator = iter(body)
    context = contextvars.copy_context()
    while True:
        chunk = await anyio.to_thread.run_sync(context.run, next, iterator, _DONE)
        if chunk is _DONE:
            return
        yield chunk


def _closing(first: list[bytes], rest: Iterator[bytes], iterable: Iterable[bytes]) -> Iterator[bytes]:
    try:
        yield from first
        yield from rest
    finally:
        _close(iterable)


def _close(iterable: Iterable[bytes]) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


def _no_write(data: bytes) -> None:
    raise NotImplementedError("the WSGI write() callable is not supported; return the body instead")
