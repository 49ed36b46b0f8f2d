"""What a converted Flask test puts where it swapped a function that the conversion made async.

The Flask tests of a project are kept and run against the converted app. Where one swapped a
function by name, the swap must still fit the converted caller:

- ``awaitable(replacement)``: the caller of a function that became ``async def`` awaits it, so
  ``monkeypatch.setattr(llm, "complete", lambda messages: "ok")`` becomes
  ``monkeypatch.setattr(llm, "complete", awaitable(lambda messages: "ok"))``. A generator a
  replacement returns (the original returned one; its async version returns an async generator,
  consumed with ``async for``) is handed over as an async generator over it.
- ``requests_double(monkeypatch, verb, fake)``: where a test swapped ``requests.post`` for a fake
  and the app's requests calls became awaited calls of the shared aiohttp session
  (``http_client()``, see http), the test keeps its fake. For the test's duration
  ``http_client()`` is a stand-in whose ``.post(...)`` calls the fake as requests would have:
  ``fake(url, json=..., headers=..., timeout=7.5, stream=...)``, and hands the app the
  ``requests.Response`` it returns, seen through aiohttp's interface, or raises, for an exception
  of requests, the aiohttp error the converted ``except`` clauses catch instead (the converter's
  mapping, codemod/http_io.py).

What the double is: the converted app under the double behaves as the original app under the
fake. It is not aiohttp: no connection is made, the fake's body is read in the event loop, and a
timeout the fake raises from the middle of a body stays a timeout (what the original saw from
that fake) where a real stalled body is ``BodyReadTimeout``, a connection error, as it was with
requests against a real server. Verbs the test did not swap go to the real session.

``stream``: aiohttp's call has no ``stream=``; requests' flag is how the app reads the answer.
The converter reads a non-streamed answer whole right after the call (``read_body``), so the
double calls the fake with a placeholder and, at the app's first use of the answer, puts the
value where the fake recorded it: ``False`` when that use reads the whole body, ``True``
otherwise (``iter_lines``, or the status read before the body). A fake that branches on
``stream`` cannot be served (the placeholder refuses ``bool()``); a call that raised leaves the
placeholder.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from . import http
from .http import FakedTimeout, HTTPStatusError, InvalidJSON

if TYPE_CHECKING:
    import requests

__all__ = ["awaitable", "requests_double"]

VERBS = frozenset({"get", "options", "head", "post", "put", "patch", "delete", "request"})


def awaitable(replacement: Callable[..., Any]) -> Callable[..., Any]:
    """``replacement`` as the async function it stands in for: called, its result awaited when it
    is awaitable, a generator handed over as an async generator over it.

    The converted function may take keyword arguments the original did not (the app's settings,
    which the converter hands down where Flask read ``current_app.config``): a replacement
    written for the original's signature is given only the keywords it accepts. An ``async def``
    replacement that accepts them all is returned as it is."""
    accepts = _keywords(replacement)
    if inspect.iscoroutinefunction(replacement) and accepts is None:
        return replacement

    @functools.wraps(replacement)
    async def swapped(*args: Any, **kwargs: Any) -> Any:
        if accepts is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in accepts}
        result = replacement(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        if inspect.isgenerator(result):
            return _async_over(result)
        return result

    return swapped


def _keywords(function: Callable[..., Any]) -> frozenset[str] | None:
    """The keyword arguments ``function`` accepts (None: any, or its signature cannot be read)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin such as list.append
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY))


async def _async_over(generator: Iterator[Any]) -> AsyncIterator[Any]:
    try:
        for item in generator:
            yield item
    finally:
        generator.close()  # type: ignore[attr-defined]  # closed early: the original's finally runs


def requests_double(monkeypatch: Any, verb: str, fake: Callable[..., Any]) -> None:
    """Serve the app's ``http_client().<verb>(...)`` with ``fake``, what the test put in place of
    ``requests.<verb>``, until the test ends (``monkeypatch`` undoes it). Several verbs may be
    swapped; ``request`` is ``fake(method, url, ...)``."""
    if verb not in VERBS:
        raise ValueError(f"requests has no {verb}() to swap")
    current = http.stand_in if isinstance(http.stand_in, _StandIn) else None
    monkeypatch.setattr(http, "stand_in", _StandIn({**(current.fakes if current else {}), verb: fake}))


class _StandIn:
    """What ``http_client()`` gives while a test swaps requests' functions."""

    def __init__(self, fakes: dict[str, Callable[..., Any]]) -> None:
        self.fakes = fakes

    def __getattr__(self, name: str) -> Any:
        if name in self.fakes:
            return functools.partial(_Call, self.fakes[name], name)
        return getattr(_real_session(), name)  # a verb the test did not swap, closed, ...


def _real_session() -> aiohttp.ClientSession:
    return http._client(asyncio.get_running_loop(), http.HttpClientOptions()).session


class _Call:
    """``http_client().post(...)``: awaited (or used with ``async with``) it calls the fake."""

    def __init__(self, fake: Callable[..., Any], verb: str, *args: Any, **kwargs: Any) -> None:
        self.fake, self.verb, self.args, self.kwargs = fake, verb, args, kwargs
        self.response: _Response | None = None

    def __await__(self):  # type: ignore[no-untyped-def]
        return self._send().__await__()

    async def __aenter__(self) -> "_Response":
        self.response = await self._send()
        return self.response

    async def __aexit__(self, *exc: object) -> None:
        if self.response is not None:
            self.response.release()

    async def _send(self) -> "_Response":
        import requests  # the project's test dependency (it swapped requests), not the runtime's

        args = list(self.args)
        method = args.pop(0) if self.verb == "request" else self.verb.upper()
        url = str(args[0] if args else self.kwargs.get("url", ""))
        keywords = _requests_keywords(self.kwargs)
        stream = _Undecided()
        keywords["stream"] = stream
        info = aiohttp.RequestInfo(URL(url), method, CIMultiDictProxy(CIMultiDict(keywords.get("headers") or {})), URL(url))
        try:
            answer = self.fake(*self.args, **keywords) if self.verb == "request" else self.fake(url, **keywords)
        except requests.RequestException as error:
            raise _aiohttp_error(error, info) from error
        return _Response(answer, info, stream)


def _requests_keywords(given: dict[str, Any]) -> dict[str, Any]:
    """aiohttp's keywords as requests took them (``timeout``: the value http_timeout was given)."""
    keywords = {k: v for k, v in given.items() if k != "url"}
    if "timeout" in keywords:
        keywords["timeout"] = getattr(keywords["timeout"], "requested", keywords["timeout"])
    if isinstance(keywords.get("auth"), aiohttp.BasicAuth):
        keywords["auth"] = (keywords["auth"].login, keywords["auth"].password)
    if "ssl" in keywords:
        keywords["verify"] = keywords.pop("ssl") is not False
    return keywords


class _Undecided:
    """requests' ``stream=`` until the app's first use of the answer tells it (module doc)."""

    def decide(self, value: bool) -> None:
        # the fake kept its keywords in containers of its own (a dict per call): put the value
        # there, in place of this placeholder
        for holder in gc.get_referrers(self):
            if isinstance(holder, dict):
                for key in [k for k, v in holder.items() if v is self]:
                    holder[key] = value
            elif isinstance(holder, list):
                for index in [i for i, v in enumerate(holder) if v is self]:
                    holder[index] = value

    def __bool__(self) -> bool:
        raise TypeError("requests_double: stream= is known only once the app reads the answer; the fake cannot test it")

    def __repr__(self) -> str:
        return "<stream: decided at the app's first use of the answer>"


class _Response:
    """A ``requests.Response`` seen as an ``aiohttp.ClientResponse`` by the runtime's readers and
    by what converted code reads of it (status, ok, reason, headers, url, release())."""

    def __init__(self, answer: requests.Response, info: aiohttp.RequestInfo, stream: _Undecided) -> None:
        self._answer, self.request_info, self._stream = answer, info, stream
        self.history: tuple[Any, ...] = ()
        self.content = _Content(self)

    def _used(self, whole: bool) -> None:
        if self._stream is not None:
            self._stream.decide(not whole)
            self._stream = None

    @property
    def status(self) -> int:
        self._used(whole=False)
        return self._answer.status_code

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def reason(self) -> str | None:
        self._used(whole=False)
        return self._answer.reason

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        self._used(whole=False)
        return CIMultiDictProxy(CIMultiDict(self._answer.headers))

    @property
    def url(self) -> URL:
        return URL(self._answer.url) if self._answer.url else self.request_info.url

    async def read(self) -> bytes:
        import requests

        self._used(whole=True)
        try:
            return self._answer.content
        except requests.RequestException as error:
            raise _aiohttp_error(error, self.request_info) from error

    def release(self) -> None:
        self._answer.close()

    close = release

    def raise_for_status(self) -> None:  # aiohttp's own (the runtime's is a function)
        http.raise_for_status(self)  # type: ignore[arg-type]


class _Content:
    """``response.content``: the body as it arrives (what ``iter_lines`` reads)."""

    def __init__(self, response: _Response) -> None:
        self._response = response

    async def iter_any(self) -> AsyncIterator[bytes]:
        import requests

        self._response._used(whole=False)
        chunks = self._response._answer.iter_content(chunk_size=None)
        while True:
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            except requests.RequestException as error:
                raise _aiohttp_error(error, self._response.request_info) from error
            if chunk:
                yield chunk


class _ConnectTimeout(FakedTimeout, aiohttp.ConnectionTimeoutError):
    pass


class _ReadTimeout(FakedTimeout, aiohttp.SocketTimeoutError):
    pass


class _Timeout(FakedTimeout, aiohttp.ServerTimeoutError):
    pass


def _aiohttp_error(error: requests.RequestException, info: aiohttp.RequestInfo) -> BaseException:
    """What the converted code catches where the original caught ``error`` (codemod/http_io.py's
    EXCEPTIONS), the most specific of requests' classes first."""
    import requests

    message = str(error)
    if isinstance(error, requests.ConnectTimeout):
        return _ConnectTimeout(message)
    if isinstance(error, requests.ReadTimeout):
        return _ReadTimeout(message)
    if isinstance(error, requests.Timeout):
        return _Timeout(message)
    if isinstance(error, requests.ConnectionError):
        return aiohttp.ClientOSError(message)  # a connection error and an OSError, as requests'
    if isinstance(error, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return aiohttp.ClientPayloadError(message)
    if isinstance(error, requests.TooManyRedirects):
        return aiohttp.TooManyRedirects(info, (), message=message)
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else 0
        return HTTPStatusError(info, (), status=status, message=message)
    if isinstance(error, requests.JSONDecodeError):
        return InvalidJSON(error.msg, error.doc, error.pos)
    if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
        return aiohttp.InvalidURL(info.url, message)
    return aiohttp.ClientError(message)
