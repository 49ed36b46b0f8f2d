"""Request hooks as pure ASGI middleware: what Flask's before_request, after_request and
teardown_request were.

A converted app's hooks are plain functions of Starlette objects::

    def start_request(request: Request) -> None:
        request.state.started = time.perf_counter()

    def finish_request(request: Request, response: ResponseHead) -> None:
        response.headers["X-Time"] = f"{time.perf_counter() - request.state.started:.3f}"

    def count(request: Request) -> None:
        STATS["requests"] += 1

    api.add_middleware(RequestHooks, before=[start_request], after=[finish_request], teardown=[count])

``RequestHooks`` runs them around every request the app answers, in Flask's order: the before
hooks in the order given, then the app, then the after hooks in the reverse order (Flask runs
after_request functions last registered, first called), then the teardown hooks, also in the
reverse order, whatever happened (an exception, an early answer). A before hook that returns a
value answers the request in the app's place, and the after hooks still see it, as in Flask: a
Starlette response as it is, anything else made a response as Flask's ``make_response`` made it
(``{"error": "maintenance"}, 503`` is that JSON with 503; ``native.flask_response``). Middleware
is the form that keeps Flask's order and reach: FastAPI's app dependencies run only for a route
that matched (Flask's hooks ran on its 404s and 405s too), and the code after a dependency's
``yield`` runs once the response has gone, too late to set its headers.

A teardown hook is given the request alone: Flask handed it the unhandled exception, which the
app's handlers answer inside this middleware (a 500 answered there is no exception here), so a
converted teardown hook is one that does not read it. It runs once the response is sent, where
Flask ran it just before the server sent the body. An after
hook reads and changes the status and headers of the response about to be sent
(``ResponseHead``); it does not see or replace the body, which may not be made yet (a streamed
body). That is why a converted after hook is one that only touches those.

It is pure ASGI middleware (no BaseHTTPMiddleware, whose extra task and body copies cost time
on every request), and sits outside the bridge: its hooks see the answers of native routes,
of Flask's bridged views and of FastAPI's own routes alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .native import flask_response

Before = Callable[[Request], Any]
After = Callable[[Request, "ResponseHead"], Any]
Teardown = Callable[[Request], Any]


class ResponseHead:
    """The status and headers of the response being sent, as an after hook may change them."""

    def __init__(self, message: Message) -> None:
        self._message = message
        self.headers = MutableHeaders(scope=message)

    @property
    def status_code(self) -> int:
        return self._message["status"]

    @status_code.setter
    def status_code(self, value: int) -> None:
        self._message["status"] = value


class RequestHooks:
    """Pure ASGI middleware running before and after hooks around each HTTP request."""

    def __init__(
        self, app: ASGIApp, before: Sequence[Before] = (), after: Sequence[After] = (), teardown: Sequence[Teardown] = (),
    ) -> None:
        self.app = app
        self.before = tuple(before)
        self.after = tuple(reversed(after))
        self.teardown = tuple(reversed(teardown))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = HookRequest(scope)  # no receive: hooks read the request's head, not its body

        async def send_with_hooks(message: Message) -> None:
            if message["type"] == "http.response.start" and self.after:
                head = ResponseHead(message)
                for hook in self.after:
                    returned = await _called(hook, request, head)
                    if returned is not None and returned is not head:
                        raise TypeError(f"{hook.__qualname__}: an after hook changes the response it is given; it returned another")
            await send(message)

        try:
            for hook in self.before:
                answer = await _called(hook, request)
                if answer is not None:
                    if not isinstance(answer, Response):
                        answer = flask_response(answer, None, None)
                    await answer(scope, receive, send_with_hooks)
                    return
            await self.app(scope, receive, send_with_hooks)
        finally:
            for hook in self.teardown:
                await _called(hook, request)


class HookRequest(Request):
    """The request hooks are given: Starlette's, whose ``headers`` give a repeated header's values
    joined by commas, as the WSGI environ holds them and Flask's ``request.headers.get`` gave
    them (Starlette's own give the first): a converted hook reads what the Flask hook read."""

    @property
    def headers(self) -> Headers:  # type: ignore[override]
        if not hasattr(self, "_joined_headers"):
            joined: dict[bytes, bytes] = {}
            for name, value in self.scope["headers"]:
                joined[name] = joined[name] + b"," + value if name in joined else value
            self._joined_headers = Headers(raw=list(joined.items()))
        return self._joined_headers


async def _called(hook: Callable[..., Any], *args: Any) -> Any:
    """A hook's result. As FastAPI does for path operations and dependencies, an ``async def``
    hook runs on the event loop and a ``def`` one in the thread pool, where blocking is safe."""
    if inspect.iscoroutinefunction(hook):
        return await hook(*args)
    return await run_in_threadpool(hook, *args)
