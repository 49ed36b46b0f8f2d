"""Errors raised the FastAPI way, answered the Flask way: by the app's error handlers and hooks.

A converted view raises ``fastapi.HTTPException(status_code=404, detail="...")`` where the Flask
original called ``abort(404, description="...")``. While the app still has Flask error handlers
and hooks, that exception must be answered as the werkzeug one was, so each is made into the
other (``werkzeug_error``):

- ``detail`` is the description, unless it is the status's bare phrase ("Not Found", what
  Starlette fills in when none is given): then werkzeug's own default description stays, and
  ``raise HTTPException(404)`` answers byte for byte as ``abort(404)`` did;
- ``headers`` are the werkzeug exception's own headers (``get_headers``): werkzeug's default
  page carries them, and so does a handler that returns the error or its ``get_response()``;
  a handler that builds a response of its own decides, as it did for
  ``Unauthorized(www_authenticate=...)`` and as a FastAPI exception handler does.

Where it is raised decides who meets it first:

- Inside Flask's request cycle (a native view, a helper, a bridged view, a before_request
  hook): a Flask error handler for Starlette's HTTPException, registered on the app and on
  every blueprint (``install``, ``cover_blueprints``) so that no catch-all
  ``errorhandler(Exception)`` of a blueprint sees it first, hands the werkzeug exception to
  ``handle_user_exception``. Flask then picks the handler for the code or class as for
  ``abort``, honours TRAP_HTTP_EXCEPTIONS, and runs the after_request hooks.
- In a FastAPI dependency of a native route, before Flask's cycle started (``answer_http_error``):
  Flask answers the request with a view that raises it, so the app's hooks and handlers run as
  they did around the Flask original's ``abort``. A request validation error is answered the
  same way, as the 400 of the view's own ``request.args["x"]`` (``answer_validation_error``),
  and so is any other exception a dependency raises that FastAPI has no handler for
  (``answer_raised``: the app's handler for its class, else Flask's 500 handling).
  On any other route FastAPI's default handlers answer.

A converted exception handler that read werkzeug's ``error.name`` reads
``status_name(exc.status_code)``: werkzeug's name of the status ("I'm a teapot", "Request Entity
Too Large"), which is not always ``HTTPStatus``'s phrase.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any

from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from flask import Flask, current_app
from flask import Response as FlaskResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from werkzeug import exceptions as werkzeug

from . import native, refusals, responses, routing, wsgi
from .hooks import HOOK_RAISED


def werkzeug_error(error: HTTPException) -> werkzeug.HTTPException:
    """The werkzeug exception that ``abort`` would have raised for ``error`` (module doc)."""
    code = error.status_code
    description = None if error.detail == _phrase(code) else error.detail
    cls = werkzeug.default_exceptions.get(code)
    if cls is not None:
        converted = cls(description=description)
    else:  # a code werkzeug has no class for (abort cannot raise it either)
        converted = werkzeug.HTTPException(description=description)
        converted.code = code
    if error.headers:  # this instance's headers: its class (and the handlers found by it) stays
        own = converted.get_headers
        converted.get_headers = functools.partial(_headers, own, dict(error.headers))  # type: ignore[method-assign]
    return converted


from .http_errors import status_name  # noqa: E402,F401  (werkzeug's names, without werkzeug)


def _phrase(code: int) -> str | None:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return None


def _headers(own: Any, extra: dict[str, str], *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
    """werkzeug's headers for the error, those the HTTPException names replacing its own."""
    names = {name.lower() for name in extra}
    return [(k, v) for k, v in own(*args, **kwargs) if k.lower() not in names] + list(extra.items())


def handle_in_flask(error: HTTPException) -> Any:
    """Flask's error handler for Starlette's HTTPException: Flask handles the werkzeug one."""
    try:
        raise werkzeug_error(error) from error
    except werkzeug.HTTPException as converted:
        # handle_user_exception re-raises the exception being handled when it is trapped or
        # has no handler: that must be the werkzeug one, hence the raise.
        return current_app.handle_user_exception(converted)


def install(flask_app: Flask) -> None:
    """Give the Flask app the handler (unless it has one of its own for Starlette's)."""
    if HTTPException not in flask_app.error_handler_spec[None][None]:
        flask_app.register_error_handler(HTTPException, handle_in_flask)
    cover_blueprints(flask_app)


def cover_blueprints(flask_app: Flask) -> int:
    """The handler in the scope of every blueprint registered so far (Flask looks up a
    blueprint's handlers by class before the app's, so its ``errorhandler(Exception)`` would
    get the Starlette exception before the app's handler could convert it); returns how many
    blueprints there are, for the bridge to know when to look again."""
    for name in flask_app.blueprints:
        flask_app.error_handler_spec[name][None].setdefault(HTTPException, handle_in_flask)
    return len(flask_app.blueprints)


async def answer_http_error(request: Request, error: Exception) -> Response:
    """FastAPI's handler for HTTPException: on a native route whose view Flask has not called
    yet (a dependency raised it), Flask answers it (module doc)."""
    current = _native(request)
    if current is None and request.scope.get(HOOK_RAISED):
        # a converted before hook's raise (hooks.RequestHooks), which no handler of the project's
        # takes: Flask answered it with werkzeug's page (or the app's handler for Exception)
        return await native.answer_http_error(request, native.flask_error(request, error))  # type: ignore[arg-type]
    if current is None:
        return await http_exception_handler(request, error)  # type: ignore[arg-type]
    if routing.CALL in current[1]:
        # Flask's cycle let it through (PROPAGATE_EXCEPTIONS, raised by an after_request
        # hook): it goes on as it would have from Flask, not answered a second time.
        raise error
    return await _answer(*current, functools.partial(_raise, error))


async def answer_validation_error(request: Request, error: Exception) -> Response:
    """A native view's parameters did not validate: Flask answers as the view did when its
    ``request.args["x"]`` failed, 400 through the app's error handlers and hooks."""
    current = _native(request)
    if current is None:
        return await request_validation_exception_handler(request, error)  # type: ignore[arg-type]
    # a missing parameter is werkzeug's BadRequestKeyError, as request.args["x"] raised it (a
    # KeyError too, for an app's KeyError handler; its key shown in debug mode)
    missing = [e["loc"][1] for e in getattr(error, "errors", list)() if e.get("type") == "missing" and len(e.get("loc", ())) == 2]
    refusal = werkzeug.BadRequestKeyError(missing[0]) if missing else werkzeug.BadRequest()
    return await _answer(*current, functools.partial(_raise, refusal))


async def answer_guard_refused(request: Request, error: Exception) -> Response:
    """FastAPI's handler for a guard's refusal (``refusals.GuardRefused``): on a native route,
    Flask answers with its response as the view's return value, through the app's after_request
    hooks; on any other route, the response as it is."""
    assert isinstance(error, refusals.GuardRefused)
    current = _native(request)
    if current is None:
        return error.response
    if routing.CALL in current[1]:
        raise error  # raised in Flask's cycle: it goes on, as answer_http_error lets it
    return await _answer(*current, functools.partial(_flask_response, error.response))


def _flask_response(response: Response) -> Any:
    """A Starlette response (its body made already) as a Flask one."""
    return FlaskResponse(bytes(response.body), status=response.status_code, headers=list(response.headers.items()))


def _native(request: Request) -> tuple[Flask, wsgi.Environ] | None:
    """The Flask app and environ of a native route's request; None on any other route."""
    if request.scope.get(routing.ENDPOINT) is None:
        return None
    return routing.CURRENT.get(None)


async def answer_raised(flask_app: Flask, environ: wsgi.Environ, error: Exception) -> Response:
    """Flask's answer to a native route's request whose dependency raised ``error`` (not
    handled on FastAPI's side): as if the view raised it, through the app's handlers and hooks."""
    return await _answer(flask_app, environ, functools.partial(_raise, error))


async def _answer(flask_app: Flask, environ: wsgi.Environ, view: Any) -> Response:
    environ[routing.CALL] = routing.Call(view, {})
    response = (await wsgi.answer(flask_app, environ)).response()
    response.background = environ.get(responses.BACKGROUND)  # an exception handler's, if any
    return response


def _raise(error: Exception) -> Any:
    raise error
