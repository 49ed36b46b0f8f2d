"""Exception handlers written the FastAPI way, answering the errors raised in Flask's request cycle too.

``@api.exception_handler(404)`` (or ``api.add_exception_handler(key, handler)``) on a FlaskBridge
registers ``handler`` with FastAPI as usual. In a bridged app most errors are raised inside
Flask's request cycle, though (native and bridged views, hooks, a native route's dependencies,
which Flask answers as if the view raised them, see ``bridge``), and Flask looks those up among
its own handlers. So the handler is registered with the Flask app as well, under the key Flask
finds errors by:

====================================  ======================================
FastAPI key                           Flask key
====================================  ======================================
an int status (``404``)               that code (werkzeug's ``NotFound``)
Starlette's or FastAPI's              werkzeug's ``HTTPException``
``HTTPException``
any other exception class             the class itself (``Exception`` too)
====================================  ======================================

Flask's lookup (by code first, then along the exception's MRO, a blueprint's handlers before
the app's) then picks it wherever it picked a Flask handler registered under that key, and the
after_request hooks run on its answer. Flask calls it (``answer_in_flask``) with:

- Starlette's ``Request`` of the request being answered (``request.app`` is the bridge; no body
  to read: Flask has read it) and
- the exception the FastAPI way: a werkzeug HTTPException becomes Starlette's HTTPException with
  ``status_code`` its code, ``detail`` its description and ``headers`` what werkzeug sends with
  it (``Allow`` of a 405, ``WWW-Authenticate``) but its HTML page's Content-Type (None when
  nothing is left), unless the key is a werkzeug class; a 500 handler (or an ``Exception``
  one) gets the exception that went unhandled, as FastAPI's ServerErrorMiddleware gives it;
  any other exception is given as raised.

The Starlette response it returns becomes Flask's response (``responses.from_starlette``). A
``def`` handler runs in Flask's thread and context (a helper it calls may read ``flask.g``); an
``async def`` one runs to the end on an event loop of its own, in Flask's context too, as Flask
runs async views.

On FastAPI's side (``fastapi_side``) the handler answers what FastAPI meets alone: the errors of
a plain FastAPI route (one of an ``APIRouter`` without ``FlaskRoute``). An error of a native
route is Flask's to answer (a dependency's included), and one that Flask let through to the
server (``PROPAGATE_EXCEPTIONS``, ``TRAP_HTTP_EXCEPTIONS``) goes on as Flask meant: so for every
request the Flask app served before the conversion, the handler runs inside Flask's request
cycle, exactly where the Flask handler ran. There, too, an HTTP error is given as Flask's side
gives it, so one handler answers one error alike on both sides: ``HTTPException(404)`` (detail
the bare phrase "Not Found", as ``raise HTTPException(status_code=404)`` and Starlette's own
routing make it) has werkzeug's description of a 404 as its ``detail``, as ``abort(404)`` had
(``errors.werkzeug_error``); a 405's ``Allow`` stays in its headers.

A status werkzeug has no exception class for (``599``) has no Flask key: Flask could not have
raised it (``abort(599)`` is a LookupError), and the handler is FastAPI's alone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
from http import HTTPStatus
from collections.abc import Mapping
from typing import Any, Callable

from a2wsgi.asgi import build_scope
from fastapi import HTTPException as FastAPIHTTPException
from flask import Flask, request as flask_request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from werkzeug import exceptions as werkzeug

from . import errors, responses, routing

Handler = Callable[[Request, Any], Any]
# Scope key: set on the scope of every request the Flask app answers (FlaskDispatch)
FLASK_ANSWERS = "flask2fastapi.flask_answers"
# keys that FastAPI gives to its ServerErrorMiddleware, for what nothing else handled
SERVER_ERROR_KEYS = (500, Exception)
# HTTP errors that carry nothing but status, detail and headers (a subclass may carry more)
PLAIN_HTTP = (HTTPException, FastAPIHTTPException)


def flask_key(key: int | type[BaseException]) -> int | type[BaseException] | None:
    """The key Flask looks ``key``'s errors up by (module doc); None when Flask has none."""
    if isinstance(key, int):
        return key if key in werkzeug.default_exceptions else None
    if key in (HTTPException, FastAPIHTTPException):
        return werkzeug.HTTPException
    return key


def register(flask_app: Flask, key: int | type[BaseException], handler: Handler) -> None:
    """Register ``handler`` with the Flask app under the Flask key for ``key``."""
    found = flask_key(key)
    if found is not None:
        flask_app.register_error_handler(found, functools.partial(answer_in_flask, handler, key))


def blueprint_handlers(blueprint: Any, handlers: Mapping[int | type[BaseException], Handler]) -> dict[Any, Handler]:
    """A blueprint's exception handlers written the FastAPI way, where Flask looked them up
    before the app's for the blueprint's requests only. Each is registered with the Flask
    blueprint under the Flask key for its key (call it before the app registers the blueprint),
    so Flask's lookup picks it for the errors of the blueprint's views; what is returned, each
    as FastAPI's side of it (``fastapi_side``), is for ``hooks.BlueprintHooks(handlers=...)``,
    which answers the errors of the blueprint's before hooks with it. FastAPI itself has no
    handlers per router: no app-wide registration is made."""
    for key, handler in handlers.items():
        register(blueprint, key, handler)
    return {key: fastapi_side(key, handler) for key, handler in handlers.items()}


def answer_in_flask(handler: Handler, key: int | type[BaseException], error: BaseException) -> Any:
    """Flask's handler for the error: ``handler``'s answer, as Flask's response (module doc)."""
    answered = handler(current_request(), as_fastapi(error, key))
    if inspect.isawaitable(answered):
        answered = _run(answered)
    if not isinstance(answered, Response):
        raise TypeError(
            f"exception handler {getattr(handler, '__qualname__', handler)!r} returned"
            f" {type(answered).__name__}: return a Starlette response (JSONResponse, HTMLResponse...)"
        )
    return responses.from_starlette(answered)


def as_fastapi(error: BaseException, key: int | type[BaseException]) -> BaseException:
    """The exception a FastAPI handler for ``key`` is given for Flask's ``error`` (module doc)."""
    if not isinstance(error, werkzeug.HTTPException):
        return error
    if key in SERVER_ERROR_KEYS and isinstance(error, werkzeug.InternalServerError):
        if error.original_exception is not None:  # unhandled: what ServerErrorMiddleware gives
            return error.original_exception
    if isinstance(key, type) and issubclass(key, werkzeug.HTTPException):
        return error  # registered for a werkzeug class: its own kind of exception
    if isinstance(key, type) and not issubclass(key, HTTPException) and key not in SERVER_ERROR_KEYS:
        return error  # another class werkzeug's exception is (BadRequestKeyError is a KeyError)
    code = error.code or 500
    headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
    detail = error.description if error.description is not None else _phrase(code)
    cls = key if isinstance(key, type) and issubclass(key, HTTPException) else HTTPException
    return cls(status_code=code, detail=detail, headers=headers or None)


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:  # a code Python does not know: Starlette would refuse to make the phrase
        return ""


def current_request() -> Request:
    """Starlette's Request of the request Flask is answering."""
    environ = flask_request.environ
    scope = environ.get("asgi.scope")
    if scope is None:  # the Flask app served as WSGI, without the bridge
        scope = build_scope(environ)
    return Request({**scope, "path_params": dict(flask_request.view_args or {})})


def _run(awaitable: Any) -> Any:
    """An async handler's answer: run to the end on an event loop of its own, in this context
    (Flask's), in this thread; in another one when this thread runs an event loop already (a test
    client's request, which Flask answers on the loop's thread)."""

    async def answer() -> Any:
        return await awaitable

    context = contextvars.copy_context()
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return context.run(asyncio.run, answer())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, asyncio.run, answer()).result()


def fastapi_side(key: int | type[BaseException], handler: Handler) -> Handler:
    """What FastAPI is given for ``handler``: it answers the errors of plain FastAPI routes and
    lets Flask's errors go on to Flask (module doc)."""
    if key in SERVER_ERROR_KEYS:

        @functools.wraps(handler)
        async def answer(request: Request, exc: Exception) -> Response:
            # ServerErrorMiddleware: what Flask let through (PROPAGATE_EXCEPTIONS) is answered
            # as without a handler, as the Flask original did not call its 500 handler either
            if request.scope.get(FLASK_ANSWERS):
                return PlainTextResponse("Internal Server Error", status_code=500)
            return await _answer(handler, request, exc)

    else:

        @functools.wraps(handler)
        async def answer(request: Request, exc: Exception) -> Response:
            if request.scope.get(routing.ENDPOINT) is not None:
                raise exc  # a native route's: the bridge has Flask answer it (bridge.FlaskDispatch)
            if type(exc) in PLAIN_HTTP and (isinstance(key, int) or key in PLAIN_HTTP):
                exc = as_fastapi(errors.werkzeug_error(exc), key)  # as Flask's side gives it
            return await _answer(handler, request, exc)

    return answer


async def _answer(handler: Handler, request: Request, exc: Exception) -> Response:
    """``handler``'s answer, called as Starlette calls exception handlers."""
    if inspect.iscoroutinefunction(handler):
        return await handler(request, exc)
    answered = await run_in_threadpool(handler, request, exc)
    return await answered if inspect.isawaitable(answered) else answered
