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

A blueprint's hooks (``blueprints={"team": BlueprintHooks(before=[...], after=[...])}``) run,
as Flask ran them, only for a request whose matched endpoint is one of the blueprint's views
(``"team.member"``; a nested blueprint's ``"team.admin.view"`` belongs to both): the app's before
hooks, then the blueprint's (an outer blueprint's before an inner one's); the blueprint's after
and teardown hooks before the app's (the inner blueprint's first). The middleware runs before
the router, so it finds the endpoint as the router will: the first route of the app whose
``matches`` is full, its ``name`` being Flask's endpoint (native routes keep it), or on a
FlaskBridge the endpoint Flask's url_map gives (``FlaskBridge.endpoint_for``); a request
that matches no route in full (a 404, a 405) belongs to no blueprint, as in Flask, where such a
request had no ``url_rule``. HEAD is matched as GET, and OPTIONS as any method of the URL, as
Flask's rules matched them. A blueprint's ``before_app_request`` / ``after_app_request`` hooks
are app-wide: they belong in ``before`` / ``after``, where Flask registered them.

An exception a before hook raises (``raise HTTPException(401)``, Flask's ``abort(401)``) is
answered as Flask answered it: by the matched blueprint's handlers (``BlueprintHooks.handlers``,
by status, then along the exception's classes), else the app's (Starlette's
``exception_handlers``, the same lookup), and the after hooks run on that answer. One no handler
takes goes on to the server's, as before.

It is pure ASGI middleware (no BaseHTTPMiddleware, whose extra task and body copies cost time
on every request), and sits outside the bridge: its hooks see the answers of native routes,
of Flask's bridged views and of FastAPI's own routes alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .native import ENDPOINT, flask_response

# Scope key: set where a before hook raised, for the app's handler (a FlaskBridge's answers an
# HTTPException no handler of the project's takes with werkzeug's page, as Flask did, where one
# of FastAPI's own routes gets FastAPI's JSON)
HOOK_RAISED = "flask2fastapi.hook_raised"

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


@dataclass(frozen=True)
class BlueprintHooks:
    """A blueprint's own hooks (registration order) and the error handlers Flask looked up for
    its views before the app's (status or exception class -> ``handler(request, exc)``)."""

    before: Sequence[Before] = ()
    after: Sequence[After] = ()
    teardown: Sequence[Teardown] = ()
    handlers: Mapping[Any, Callable[..., Any]] = field(default_factory=dict)


class RequestHooks:
    """Pure ASGI middleware running before and after hooks around each HTTP request."""

    def __init__(
        self, app: ASGIApp, before: Sequence[Before] = (), after: Sequence[After] = (), teardown: Sequence[Teardown] = (),
        blueprints: Mapping[str, BlueprintHooks] = {},  # noqa: B006 (never changed)
    ) -> None:
        self.app = app
        self.before = tuple(before)
        self.after = tuple(reversed(after))
        self.teardown = tuple(reversed(teardown))
        self.blueprints = dict(blueprints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = HookRequest(scope)  # no receive: hooks read the request's head, not its body
        # the blueprints of the matched endpoint, innermost first (Flask's request.blueprints)
        names = _blueprints_of(endpoint_of(scope)) if self.blueprints else []
        own = [self.blueprints[n] for n in names if n in self.blueprints]
        before = [*self.before, *(h for bp in reversed(own) for h in bp.before)]
        after = [*(h for bp in own for h in reversed(bp.after)), *self.after]
        teardown = [*(h for bp in own for h in reversed(bp.teardown)), *self.teardown]

        async def send_with_hooks(message: Message) -> None:
            if message["type"] == "http.response.start" and after:
                head = ResponseHead(message)
                for hook in after:
                    returned = await _called(hook, request, head)
                    if returned is not None and returned is not head:
                        raise TypeError(f"{hook.__qualname__}: an after hook changes the response it is given; it returned another")
            await send(message)

        try:
            try:
                answer = None
                for hook in before:
                    answer = await _called(hook, request)
                    if answer is not None:
                        break
            except Exception as exc:
                handler = _handler(exc, [dict(bp.handlers) for bp in own], scope)
                if handler is None:
                    raise
                scope[HOOK_RAISED] = True  # a bridge answers it as Flask did a before hook's (errors)
                answer = await _called(handler, request, exc)
            if answer is not None:
                if not isinstance(answer, Response):
                    answer = flask_response(answer, None, None)
                await answer(scope, receive, send_with_hooks)
                return
            await self.app(scope, receive, send_with_hooks)
        finally:
            for hook in teardown:
                await _called(hook, request)


def endpoint_of(scope: Scope) -> str | None:
    """The name of the route the app's router will send the request to (Flask's endpoint), None
    where no route matches it in full. HEAD matches as GET; OPTIONS as any method of the URL."""
    app = scope.get("app")
    if callable(getattr(type(app), "endpoint_for", None)):  # a FlaskBridge: Flask's url_map decides
        return app.endpoint_for(scope)  # type: ignore[union-attr]
    routes = getattr(getattr(app, "router", None), "routes", None)
    if routes is None:
        return None
    probes = [scope]
    if scope["method"] == "HEAD":
        probes.append({**scope, "method": "GET"})
    elif scope["method"] == "OPTIONS":
        probes += [{**scope, "method": m} for m in ("GET", "POST", "PUT", "PATCH", "DELETE")]
    for probe in probes:
        found = _matched(routes, probe)
        if found is not None:
            return found
    return None


def _matched(routes: Sequence[Any], scope: Scope) -> str | None:
    """The endpoint of the first route matching in full, as the router picks it: the name a
    route of the runtime's marks the probe with (one inside an included router too), else the
    route's own name; a Mount's route inside it."""
    for route in routes:
        probe = {**scope, **({"fastapi": dict(scope["fastapi"])} if isinstance(scope.get("fastapi"), dict) else {})}
        probe.pop(ENDPOINT, None)
        match, child = route.matches(probe)
        if match is not Match.FULL:
            continue
        if ENDPOINT in probe:
            return probe[ENDPOINT]
        inner = getattr(route, "routes", None)  # a Mount: the route inside it
        if inner and "app" in child:
            return _matched(inner, {**probe, **child})
        return getattr(route, "name", None)
    return None


def _blueprints_of(endpoint: str | None) -> list[str]:
    """``"team.admin.view"`` -> ``["team.admin", "team"]``: Flask's request.blueprints."""
    if endpoint is None or "." not in endpoint:
        return []
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _handler(exc: Exception, blueprint_handlers: list[dict[Any, Any]], scope: Scope) -> Callable[..., Any] | None:
    """The handler Flask picked for an exception raised in a before hook: by status code, the
    blueprints' then the app's; then along the exception's classes, likewise."""
    app_handlers = dict(getattr(scope.get("app"), "exception_handlers", {}) or {})
    chain = [*blueprint_handlers, app_handlers]
    if isinstance(exc, HTTPException):
        for handlers in chain:
            if exc.status_code in handlers:
                return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls is Exception or cls is BaseException:
            break  # Flask's last resort, the server's 500: ServerErrorMiddleware has it
        for handlers in chain:
            if cls in handlers:
                return handlers[cls]
    return None


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
