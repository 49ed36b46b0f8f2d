"""The app's shared HTTP client, where the Flask code called ``requests``; and what keeps
requests' behaviour on it.

A blocking ``requests.post`` in an ``async def`` view would stall the event loop, so converted
code awaits ``http_client().post(...)``: the one ``aiohttp.ClientSession`` of the running app.
One session per app, not one per request: a session owns the connection pool, and a new one per
call costs a TCP (and TLS) handshake and a few hundred microseconds of CPU. aiohttp and not
httpx: on the chatbot's load (a 200 ms upstream), a shared aiohttp session held >= 800 users
where httpx.AsyncClient collapsed at 70-100, at a fifth of the CPU per request (bench/README.md,
"HTTP client choice").

- ``http_client()``: the session of the running event loop. ``FlaskBridge`` opens it in the app's
  lifespan (before the app's own lifespan or startup handlers run, so they may use it) and closes
  it at shutdown (after theirs). An app driven without its lifespan (a test client not used as a
  context manager, ``httpx.ASGITransport``) gets one on first use, closed when its event loop
  shuts down (``asyncio.run`` and anyio close the loop's async generators then), so no
  "Unclosed client session" warning. ``with_http_client(lifespan)`` does the same for a FastAPI
  app without the bridge: ``FastAPI(lifespan=with_http_client(my_lifespan))``.
- ``HttpClientOptions``: the pool. ``limit=512`` connections in all: requests opened a connection
  per call, without any cap, so a cap of the pool is new behaviour, and it must sit above the
  upstream calls the app has in flight at its capacity, or requests queue for a connection
  (aiohttp's default of 100 caps a 200 ms upstream at 500 calls/s, fewer than the users an async
  app serves on two cores). It stays below the file descriptors a process gets by default (1024
  on many systems) with the app's own clients' sockets added. No limit per host
  (``limit_per_host=0``): a converted app mostly calls one upstream, and the total is the bound.
- requests' defaults, kept: no timeout unless the call gives one (requests waited forever), no
  cookies kept from one call to the next (``requests.post`` used a new session each call; a
  shared cookie jar would hand one user's upstream cookies to the next), proxies and .netrc from
  the environment. Those are looked at once, when the session opens: with a proxy variable set or
  a .netrc file present the session trusts the environment (aiohttp's ``trust_env``), otherwise
  it does not. requests looked at both on every call; aiohttp's ``trust_env`` does too, with two
  hops to a worker thread per call (the .netrc read and the proxy lookup), a few per cent of an
  async chat request's CPU with nothing to find (bench/README.md, issue 11). A proxy or .netrc
  that appears while the app runs is seen after a restart.
- ``http_params(params)``: requests' ``params=`` (None values left out, lists repeated, any value
  as ``str()``), where aiohttp refuses a None, a bool or a list.
- ``http_timeout(timeout)``: requests' ``timeout=`` (seconds, or a (connect, read) pair, or None)
  as an ``aiohttp.ClientTimeout``: the connect timeout for opening the connection, the read
  timeout between two reads of the socket, as requests meant them (not a total).
  ``http_timeout`` returns a ``RequestsTimeout``, an ``aiohttp.ClientTimeout`` that keeps the
  value requests was given (``.requested``): a test's fake of requests gets it back (doubles).
- ``stand_in``: while a converted test swaps requests (doubles.requests_double), what
  ``http_client()`` returns; the readers leave a ``FakedTimeout`` (the fake raised requests'
  Timeout) a timeout wherever it is raised.
- ``read_body``, ``read_text``, ``read_json``, ``iter_lines``: ``response.content``,
  ``.text``, ``.json()`` and ``.iter_lines()``. ``.text`` decodes as requests did (the charset of
  Content-Type; ISO-8859-1 for text/* without one; never an error for a bad byte), ``.json()``
  refuses an empty body (aiohttp's ``json()`` gives None) and raises ``InvalidJSON``, a
  ``ValueError`` and an ``aiohttp.ClientError`` as requests' was both a ValueError and a
  RequestException. A read that times out in the middle of a body raises ``BodyReadTimeout``,
  a connection error and not a timeout, as requests raised ConnectionError there (its Timeout
  is for the wait for the answer's head): each error still reaches the ``except`` that caught it.

The converter maps requests' exceptions in ``except`` clauses to aiohttp's:
``Timeout`` -> ``asyncio.TimeoutError`` (aiohttp's connect and read timeouts subclass it),
``ConnectionError`` -> ``aiohttp.ClientConnectionError``, ``HTTPError`` ->
``HTTPStatusError`` (what ``raise_for_status(response)`` raises), ``RequestException`` -> ``(aiohttp.ClientError,
asyncio.TimeoutError)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

__all__ = [
    "BodyReadTimeout", "FakedTimeout", "HTTPStatusError", "HttpClientOptions", "InvalidJSON", "RequestsTimeout", "http_client", "http_params", "http_timeout",
    "iter_lines", "raise_for_status", "read_body", "read_json", "read_text", "with_http_client",
]


@dataclass(frozen=True)
class HttpClientOptions:
    """The shared session's connection pool (module doc: why these defaults)."""

    limit: int = 512  # connections in all; 0: no limit
    limit_per_host: int = 0  # connections to one host; 0: no limit but ``limit``


class BodyReadTimeout(aiohttp.ClientOSError):
    """The body stopped arriving for longer than the read timeout. requests raised its
    ConnectionError there (not Timeout): ``except requests.ConnectionError`` ->
    ``except aiohttp.ClientConnectionError`` catches this, ``except asyncio.TimeoutError`` does not."""


class HTTPStatusError(aiohttp.ClientResponseError):
    """``raise_for_status(response)``'s error, what requests' HTTPError was: ``except
    requests.HTTPError`` -> ``except HTTPStatusError`` catches it and not aiohttp's other
    ClientResponseErrors (TooManyRedirects is one; requests' was no HTTPError)."""


class FakedTimeout(asyncio.TimeoutError):
    """A timeout a test's fake of requests raised (doubles.requests_double), wherever the fake
    raised it: the readers leave it a timeout, as the original code under that fake saw one (a
    real stalled body is ``BodyReadTimeout``)."""


class RequestsTimeout(aiohttp.ClientTimeout):
    """``http_timeout(t)``: an ``aiohttp.ClientTimeout`` (and equal to one with the same values)
    that keeps ``t``, requests' value, as ``requested``: what a requests double hands its fake."""

    requested: Any

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, aiohttp.ClientTimeout):
            return NotImplemented
        fields = ("total", "connect", "sock_read", "sock_connect", "ceil_threshold")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    __hash__ = aiohttp.ClientTimeout.__hash__


class InvalidJSON(json.JSONDecodeError, aiohttp.ClientError):
    """The body is not JSON: a ValueError, and a ClientError as requests' JSONDecodeError was a
    RequestException."""


@dataclass
class _Client:
    session: aiohttp.ClientSession
    owners: set[object]  # the lifespans that opened or adopted it; it closes with the last
    closer: Any  # the async generator that closes it when the loop shuts down


_CLIENTS: dict[asyncio.AbstractEventLoop, _Client] = {}


# what http_client() gives instead of the session while a test swaps it (doubles.requests_double)
stand_in: Any = None


def http_client() -> aiohttp.ClientSession:
    """The running app's shared ``aiohttp.ClientSession`` (one per event loop)."""
    loop = asyncio.get_running_loop()
    if stand_in is not None:
        return stand_in
    return _client(loop, HttpClientOptions()).session


def _client(loop: asyncio.AbstractEventLoop, options: HttpClientOptions) -> _Client:
    client = _CLIENTS.get(loop)
    if client is None or client.session.closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=options.limit, limit_per_host=options.limit_per_host),
            timeout=aiohttp.ClientTimeout(),  # none, as requests had none unless given
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=_environment_has_settings(),
        )
        client = _CLIENTS[loop] = _Client(session, set(), _closed_at_shutdown(loop, session))
        _start(client.closer)
    return client


def _environment_has_settings() -> bool:
    """Whether requests would have found a proxy or a .netrc file here (module doc)."""
    if urllib.request.getproxies():
        return True
    netrc = os.environ.get("NETRC")
    if netrc is not None:
        return Path(netrc).exists()
    try:
        home = Path.home()
    except RuntimeError:
        return False
    return (home / ".netrc").exists() or (home / "_netrc").exists()


async def _closed_at_shutdown(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession) -> AsyncIterator[None]:
    """Suspended at its ``yield`` until the loop's ``shutdown_asyncgens`` closes it (what
    ``asyncio.run`` and anyio do before closing a loop): then it closes the session."""
    try:
        yield
    finally:
        if _CLIENTS.get(loop) is not None and _CLIENTS[loop].session is session:
            del _CLIENTS[loop]
        if not session.closed:
            await session.close()


def _start(generator: Any) -> None:
    """Run an async generator to its first ``yield`` without awaiting: starting it registers it
    with the running loop (its asyncgen hooks), which closes it at shutdown."""
    step = generator.asend(None)
    try:
        step.send(None)
    except StopIteration:
        return
    raise RuntimeError("the generator awaited before its first yield")  # pragma: no cover


def with_http_client(
    lifespan: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] | None = None,
    options: HttpClientOptions = HttpClientOptions(),
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]:
    """A lifespan that opens the shared session, runs ``lifespan`` (the app's own, if any) and
    closes the session after it: ``FastAPI(lifespan=with_http_client(my_lifespan))``."""

    @contextlib.asynccontextmanager
    async def opened(app: Any) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        owner = object()
        client = _client(loop, options)
        client.owners.add(owner)
        try:
            if lifespan is None:
                yield None
            else:
                async with lifespan(app) as state:
                    yield state
        finally:
            client.owners.discard(owner)
            if not client.owners:
                if _CLIENTS.get(loop) is client:
                    del _CLIENTS[loop]
                await client.session.close()

    return opened


def http_timeout(timeout: float | tuple[float | None, float | None] | None) -> aiohttp.ClientTimeout:
    """requests' ``timeout=``: seconds for connecting and for each read, a (connect, read) pair,
    or None (no timeout). Refuses what requests refused (a value <= 0, a pair of another size)
    with its ValueError."""
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise ValueError(f"Invalid timeout {timeout}. Pass a (connect, read) timeout tuple, or a single float to set both timeouts to the same value.")
        connect, read = timeout
    else:
        connect = read = timeout
    for name, value in (("connect", connect), ("read", read)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"Timeout value {name} was {value}, but it must be an int, float or None.")
        if value <= 0:
            raise ValueError(f"Attempted to set {name} timeout to {value}, but the timeout cannot be set to a value less than or equal to 0.")
    chosen = RequestsTimeout(sock_connect=connect, sock_read=read)
    object.__setattr__(chosen, "requested", timeout)  # frozen (attrs): set once, here
    return chosen


def http_params(params: Any) -> Any:
    """requests' ``params=`` as aiohttp takes it: a key's list or tuple of values repeats the
    key, a None value leaves the key out, any other value is ``str(value)`` (``True`` is
    "True"); a string or bytes is the query string itself."""
    if params is None or isinstance(params, str):
        return params
    if isinstance(params, bytes):
        return params.decode()
    pairs = []
    for key, values in params.items() if hasattr(params, "items") else params:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        for value in values:
            if value is not None:
                pairs.append((_text(key), _text(value)))
    return pairs


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def raise_for_status(response: aiohttp.ClientResponse) -> None:
    """``response.raise_for_status()``: ``HTTPStatusError`` for a status of 400 or more. The
    response stays open, as requests' did (aiohttp's own releases it): the handler may still
    read its body."""
    if response.status >= 400:
        raise HTTPStatusError(
            response.request_info, response.history, status=response.status, message=response.reason or "",
            headers=response.headers,
        )


async def read_body(response: aiohttp.ClientResponse) -> bytes:
    """``response.content``: the whole body (read once, then kept by aiohttp)."""
    try:
        return await response.read()
    except FakedTimeout:
        raise
    except asyncio.TimeoutError as error:
        raise BodyReadTimeout(f"Read timed out: {error}") from error


async def read_text(response: aiohttp.ClientResponse) -> str:
    """``response.text``: the body decoded as requests decoded it (``_encoding``), a bad byte
    replaced; where requests guessed the encoding of a body with no charset (not text/*, not
    JSON), UTF-8."""
    body = await read_body(response)
    encoding = _encoding(response) or "utf-8"
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know: requests fell back the same way
        return body.decode("utf-8", errors="replace")


async def read_json(response: aiohttp.ClientResponse, **loads: Any) -> Any:
    """``response.json()``: the body as JSON whatever its Content-Type; an empty or malformed
    body raises ``InvalidJSON``. Without a charset, the encoding is found from the bytes (UTF-8,
    -16 or -32), as requests' ``guess_json_utf`` did."""
    body = await read_body(response)
    try:
        if _encoding(response) is None and len(body) > 3:
            try:
                return json.loads(body, **loads)  # json detects UTF-8/16/32 in bytes
            except UnicodeDecodeError:
                pass
        return json.loads(await read_text(response), **loads)
    except json.JSONDecodeError as error:
        raise InvalidJSON(error.msg, error.doc, error.pos) from error


async def iter_lines(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """``response.iter_lines()``: the body's lines as they arrive, without their ending
    (``\\n``, ``\\r\\n`` or ``\\r``), what ``body.splitlines()`` gives; a ``\\r\\n`` cut in two by
    the network is one ending (requests gave an empty line more there)."""
    buffer = b""
    try:
        async for chunk in response.content.iter_any():
            buffer += chunk
            if b"\n" not in chunk and b"\r" not in chunk:
                continue
            lines = buffer.splitlines(keepends=True)
            last = lines[-1]
            # an unfinished line, or one ending in "\r" that a "\n" may follow, waits for more
            buffer = lines.pop() if last.endswith(b"\r") or not last.endswith(b"\n") else b""
            for line in lines:
                yield _without_ending(line)
    except FakedTimeout:
        raise
    except asyncio.TimeoutError as error:
        raise BodyReadTimeout(f"Read timed out: {error}") from error
    for line in buffer.splitlines():  # what is left: lines with no ending after them
        yield line


def _without_ending(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return line[:-2]
    if line.endswith((b"\n", b"\r")):
        return line[:-1]
    return line


def _encoding(response: aiohttp.ClientResponse) -> str | None:
    """The encoding requests' ``get_encoding_from_headers`` gave: the charset of Content-Type,
    ISO-8859-1 for text/* (RFC 2616), UTF-8 for JSON, else None."""
    content_type = response.headers.get("Content-Type")
    if not content_type:
        return None
    mimetype, *params = content_type.split(";")
    for param in params:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset" and value:
            return value.strip(" '\"")
    if "text" in mimetype:
        return "ISO-8859-1"
    if "application/json" in mimetype:
        return "utf-8"
    return None
