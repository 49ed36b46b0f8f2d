"""Flask behaviours that flask2fastapi keeps, so the converted app answers as the original did.

Written by flask2fastapi. It is yours: edit it, or delete it once no module imports it.

- ``FLASK_ERRORS``: Flask's answers to errors, for ``FastAPI(exception_handlers=FLASK_ERRORS)``:
  its HTML error pages (``abort(404)``, an unknown URL, a wrong method with its Allow header, an
  unhandled exception), 400 for a missing required query or form value and 404 for a URL whose
  converter does not match, where FastAPI answers 422 with ``{"detail": ...}``. The app's own
  error handlers, once converted, take precedence for what they handle.
- ``FLASK_MIDDLEWARE``: ``FastAPI(middleware=FLASK_MIDDLEWARE)`` keeps Flask's ``session`` cookie,
  gives every request its own ``g`` and runs the hooks registered with ``before_request(app)``,
  ``after_request(app)``, ``teardown_request(app)`` and ``teardown_appcontext(app)`` as Flask runs
  them (see "the request context" below); a blueprint's (``before_request(bp)``) for that router's
  routes only, and ``before_request(bp, app_wide=True)`` for every request. It also tries routes
  that can match the same URL in werkzeug's order, and reads the first of repeated query keys, as
  Flask does (``getlist`` keys keep all their values).
- ``FlaskResponse``: the default response class ``add_flask_attributes`` gives the app: what a
  view returns is JSON, except a str, which is an HTML page as in Flask (``return page()``).
- ``blueprint_errorhandler``: ``@bp.errorhandler(...)``, laid over the app's handlers for that
  router's routes (``app_wide=True``: ``@bp.app_errorhandler``, every request).
- ``IntRule``, ``FloatRule``, ``PathRule``, ``UuidRule``: what werkzeug's URL converters match,
  for path parameters (``item_id: Annotated[int, IntRule]``): ``/items/-1`` stays a 404.
- ``Lenient``: ``request.args.get("page", 1, type=int)`` gives the default when the value does
  not convert; ``page: Annotated[int, Lenient] = 1`` does the same.
- ``get_json`` / ``get_json_silent`` / ``get_json_force``: ``request.get_json()`` and its
  variants as dependencies: 415 for a body that is not JSON, 400 for malformed JSON (None
  instead with ``silent``; ``force`` ignores the content type).
- ``FileStorage``: an uploaded file with Flask's synchronous API (read, save, stream, filename).
- ``g`` and ``request``: Flask's per-request state and request API for hooks, helpers and
  decorators (views declare parameters instead); see "the request context" below.
- ``FlaskCORS`` and ``flask_cors_options``: Flask-CORS's ``CORS(app, ...)`` as Starlette's
  CORSMiddleware with Flask-CORS's options and answers; ``cross_origin``: its per-view decorator.
- ``Database``, ``FlaskQuery``, ``Pagination``, ``ModelRepr``: Flask-SQLAlchemy's ``db`` over plain
  SQLAlchemy: the engine made from ``app.config`` at ``init_app``, ``db.session`` with one session
  per request, ``create_all``, the 404 helpers (``get_or_404``, ``first_or_404``, ``one_or_404``,
  ``paginate``, also on queries) and its ``<User 1>`` repr of models.
- ``FlaskTestClient``: ``app.test_client()`` for tests written against Flask.
- ``redirect`` and ``make_response``: Flask's, returning Starlette responses.
- ``url_for``: Flask's url_for (relative paths, query values, ``_external``) over FastAPI's routes.
- ``HTTPBasicAuth``, ``HTTPTokenAuth``, ``MultiAuth`` (Flask-HTTPAuth) and ``LoginManager``,
  ``login_user``, ``logout_user``, ``current_user``, ``login_required`` (Flask-Login): the same
  objects and callbacks, checking a route as a dependency (``auth.dependency(role=...)``,
  ``login_required.dependency``) and refusing with the extension's own response.
- ``add_flask_attributes`` and ``current_app``: ``app.config`` (Flask's Config: a dict with
  from_object, from_mapping, from_pyfile...), ``app.logger``, ``app.instance_path`` and
  ``app.extensions`` on the FastAPI app, and the app of the current request.
- ``flask_error_handler`` / ``flask_exception_handler``: a Flask error handler, unchanged, as a
  Starlette exception handler (``HTTPError`` gives it werkzeug's code/name/description;
  ``to_response`` makes a Response of what it returns, as Flask does).
- ``JWTManager``, ``JWTRequired``, ``jwt_required``, ``create_access_token``, ``get_jwt`` & co.:
  Flask-JWT-Extended on PyJWT, with its token format, ``JWT_*`` settings and error answers;
  ``JWTRequired(...)`` is ``@jwt_required(...)`` as a route dependency (see "Flask-JWT-Extended").
- ``send_file`` / ``send_from_directory``, ``render_template`` / ``render_template_string``,
  ``app_context`` and ``app.cli``: Flask's file answers (headers, 304, path safety), templates
  rendered from the same folder, current_app outside requests, and the app's commands, run with
  ``python -m <package>.flask_compat --app <module>:app COMMAND``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import html
import importlib
import inspect
import json
import logging
import os
import re
import shutil
import sys
import typing
from base64 import b64decode
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from hashlib import sha512
from http import HTTPStatus
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

import anyio.from_thread
from fastapi import Depends, HTTPException, Request, Security, UploadFile
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.utils import request_params_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBearer
from fastapi.security.http import HTTPBase
from pydantic import BaseModel, BeforeValidator, ValidationError, WrapValidator
from pydantic_core import PydanticUseDefault
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import FileResponse
from starlette.routing import Router


def _or_default(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticUseDefault() from None


Lenient = WrapValidator(_or_default)


def _rule(pattern: str) -> BeforeValidator:
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str) and not compiled.fullmatch(value):
            raise ValueError(f"does not match {pattern}")
        return value

    return BeforeValidator(check)


# What werkzeug's URL converters match. A path parameter that does not match is a URL that does
# not match: 404, as in Flask (FastAPI's int would take "-1", its float "3", its path "").
IntRule = _rule(r"\d+")
FloatRule = _rule(r"\d+\.\d+")
PathRule = _rule(r"[^/].*")
UuidRule = _rule(r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}")


# Flask's (werkzeug's) error pages: the names and default descriptions it shows.
_ERROR_PAGES = {
    400: ('Bad Request', 'The browser (or proxy) sent a request that this server could not understand.'),
    401: (
        'Unauthorized',
        'The server could not verify that you are authorized to access the URL requested. You either '
        "supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how"
        ' to supply the credentials required.',
    ),
    403: (
        'Forbidden',
        "You don't have the permission to access the requested resource. It is either read-protected "
        'or not readable by the server.',
    ),
    404: (
        'Not Found',
        'The requested URL was not found on the server. If you entered the URL manually please check '
        'your spelling and try again.',
    ),
    405: ('Method Not Allowed', 'The method is not allowed for the requested URL.'),
    406: (
        'Not Acceptable',
        'The resource identified by the request is only capable of generating response entities which'
        ' have content characteristics not acceptable according to the accept headers sent in the '
        'request.',
    ),
    408: (
        'Request Timeout',
        "The server closed the network connection because the browser didn't finish the request "
        'within the specified time.',
    ),
    409: (
        'Conflict',
        'A conflict happened while processing the request. The resource might have been modified '
        'while the request was being processed.',
    ),
    410: (
        'Gone',
        'The requested URL is no longer available on this server and there is no forwarding address. '
        'If you followed a link from a foreign page, please contact the author of this page.',
    ),
    411: ('Length Required', 'A request with this method requires a valid <code>Content-Length</code> header.'),
    412: ('Precondition Failed', 'The precondition on the request for the URL failed positive evaluation.'),
    413: ('Request Entity Too Large', 'The data value transmitted exceeds the capacity limit.'),
    414: (
        'Request URI Too Long',
        'The length of the requested URL exceeds the capacity limit for this server. The request '
        'cannot be processed.',
    ),
    415: ('Unsupported Media Type', 'The server does not support the media type transmitted in the request.'),
    416: ('Requested Range Not Satisfiable', 'The server cannot provide the requested range.'),
    417: ('Expectation Failed', 'The server could not meet the requirements of the Expect header'),
    418: ("I'm a teapot", 'This server is a teapot, not a coffee machine'),
    421: ('Misdirected Request', 'The server is not able to produce a response.'),
    422: ('Unprocessable Entity', 'The request was well-formed but was unable to be followed due to semantic errors.'),
    423: ('Locked', 'The resource that is being accessed is locked.'),
    424: (
        'Failed Dependency',
        'The method could not be performed on the resource because the requested action depended on '
        'another action and that action failed.',
    ),
    428: (
        'Precondition Required',
        'This request is required to be conditional; try using "If-Match" or "If-Unmodified-Since".',
    ),
    429: ('Too Many Requests', 'This user has exceeded an allotted request count. Try again later.'),
    431: ('Request Header Fields Too Large', 'One or more header fields exceeds the maximum size.'),
    451: ('Unavailable For Legal Reasons', 'Unavailable for legal reasons.'),
    500: (
        'Internal Server Error',
        'The server encountered an internal error and was unable to complete your request. Either the'
        ' server is overloaded or there is an error in the application.',
    ),
    501: ('Not Implemented', 'The server does not support the action requested by the browser.'),
    502: ('Bad Gateway', 'The proxy server received an invalid response from an upstream server.'),
    503: (
        'Service Unavailable',
        'The server is temporarily unable to service your request due to maintenance downtime or '
        'capacity problems. Please try again later.',
    ),
    504: ('Gateway Timeout', 'The connection to an upstream server timed out.'),
    505: ('HTTP Version Not Supported', 'The server does not support the HTTP protocol version used in the request.'),
}


def _phrase(status: int) -> str | None:
    """Starlette's default detail for a status (its HTTPStatus phrase)."""
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else None


def _escape(text: str) -> str:
    """HTML-escape as Flask's pages do (MarkupSafe: &#34; and &#39; for the quotes)."""
    return html.escape(text, quote=False).replace('"', "&#34;").replace("'", "&#39;")


def error_page(status: int, description: str | None = None, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The HTML page Flask sends for an HTTP error (``abort(404)``, an unknown URL, ...)."""
    name, default = _ERROR_PAGES.get(status, (_phrase(status) or "Unknown Error", ""))
    text = _escape(default if description is None else description).replace("\n", "<br>")
    title = f"{status} {_escape(name)}"
    body = f"<!doctype html>\n<html lang=en>\n<title>{title}</title>\n<h1>{_escape(name)}</h1>\n<p>{text}</p>\n"
    return HTMLResponse(body, status_code=status, headers=headers)


async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
    handler = _layered(_router_layers(request), error)  # a blueprint's app_errorhandler(404)
    if handler is not None:
        return await handler(request, error)
    if not isinstance(error.detail, str):
        return JSONResponse({"detail": error.detail}, status_code=error.status_code, headers=error.headers)
    description = None if error.detail == _phrase(error.status_code) else error.detail
    return error_page(error.status_code, description, headers=error.headers)


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    # A path parameter that does not convert is a URL that does not match: Flask's 404.
    status = 404 if any(e.get("loc", ("",))[0] == "path" for e in error.errors()) else 400
    return await _answer_error(request, StarletteHTTPException(status))


async def _answer_error(request: Request, error: StarletteHTTPException) -> Response:
    """The app's own handler for that status (or for all HTTP errors) answers, as in Flask."""
    handlers = request.app.exception_handlers
    handler = (
        _layered(_router_layers(request), error)
        or handlers.get(error.status_code)
        or handlers.get(StarletteHTTPException)
        or _http_error
    )
    response = handler(request, error)
    return await response if inspect.isawaitable(response) else response


async def _server_error(request: Request, error: Exception) -> Response:
    return error_page(500)


FLASK_ERRORS = {
    RequestValidationError: _validation_error,
    StarletteHTTPException: _http_error,
    Exception: _server_error,
}
UNSUPPORTED_JSON = "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."


class FirstQueryValues:
    """Flask reads the first of repeated query keys (``?page=1&page=2`` gives 1), Starlette the
    last: this ASGI middleware keeps only the first value of each key that no route reads as a
    list (``getlist``), which it learns once from the app's OpenAPI schema."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.list_keys: set[str] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            if self.list_keys is None:
                self.list_keys = _list_keys(scope["app"])
            pairs = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
            seen: set[str] = set()
            kept = []
            for key, value in pairs:
                if key in self.list_keys or key not in seen:
                    kept.append((key, value))
                seen.add(key)
            if len(kept) != len(pairs):
                scope = {**scope, "query_string": urlencode(kept).encode("latin-1")}
        await self.app(scope, receive, send)


def _list_keys(app: Any) -> set[str]:
    keys = set()
    for operations in app.openapi().get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                types = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf", [])]
                if parameter.get("in") == "query" and "array" in types:
                    keys.add(parameter["name"])
    return keys


# -- the request context: g and the request hooks ------------------------------------------
#
# Flask keeps per-request state on ``g`` and runs before/after/teardown hooks around every view.
# Here ``g`` is a namespace created for each request by FlaskRequestContext and kept in a
# context variable, so that it is the same object in the view, in the helpers and decorators the
# view calls, in the hooks and in the error handlers, also when a plain ``def`` view runs in the
# thread pool (Starlette copies the context into it). The hooks registered with
# ``before_request(app)`` and friends run in Flask's order: before hooks in registration order
# (the first to return a value answers instead of the view), after hooks in reverse order on
# every response, error responses included, teardown hooks last, with the error if there was one.
# It also answers HEAD and OPTIONS on every route, as Flask does.

_request_globals: ContextVar[SimpleNamespace | None] = ContextVar("flask_compat_g", default=None)
_current_request: ContextVar["FlaskRequest | None"] = ContextVar("flask_compat_request", default=None)


class _Globals:
    """``flask.g`` for the current request."""

    @staticmethod
    def _namespace() -> SimpleNamespace:
        namespace = _request_globals.get()
        if namespace is None:
            raise RuntimeError("Working outside of request context: g is only available while a request is handled.")
        return namespace

    def __getattr__(self, name: str) -> Any:
        return getattr(self._namespace(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._namespace(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._namespace(), name)

    def __contains__(self, name: str) -> bool:
        return hasattr(self._namespace(), name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._namespace(), name, default)

    def pop(self, name: str, *default: Any) -> Any:
        namespace = self._namespace()
        if hasattr(namespace, name):
            value = getattr(namespace, name)
            delattr(namespace, name)
            return value
        if default:
            return default[0]
        raise KeyError(name)

    def setdefault(self, name: str, default: Any = None) -> Any:
        namespace = self._namespace()
        if not hasattr(namespace, name):
            setattr(namespace, name, default)
        return getattr(namespace, name)


g = _Globals()


def _hooks(owner: Any, app_wide: bool = False) -> dict[str, list[Any]]:
    """The hooks registered on an app or a router; ``app_wide`` ones are a router's
    ``before_app_request`` & co., which Flask runs for every request of the app."""
    attribute = "flask_app_hooks" if app_wide else "flask_hooks"
    hooks = owner.__dict__.get(attribute)
    if hooks is None:
        hooks = {"before": [], "after": [], "teardown": [], "appcontext": []}
        setattr(owner, attribute, hooks)
        _remember_blueprint(owner)
    return hooks


def _registrar(kind: str) -> Any:
    def register(owner: Any, app_wide: bool = False) -> Any:
        def decorator(hook: Any) -> Any:
            _hooks(owner, app_wide)[kind].append(hook)
            return hook

        return decorator

    return register


before_request = _registrar("before")
before_request.__doc__ = (
    "``@app.before_request``: ``@before_request(app)``; ``@bp.before_request``: ``@before_request(bp)``, "
    "for that router's routes only; ``@bp.before_app_request``: ``@before_request(bp, app_wide=True)``."
)
after_request = _registrar("after")
after_request.__doc__ = "``@app.after_request``: ``@after_request(app)``; the hook gets and returns the response."
teardown_request = _registrar("teardown")
teardown_request.__doc__ = "``@app.teardown_request`` / ``teardown_appcontext``: runs after every request."
teardown_appcontext = _registrar("appcontext")
teardown_appcontext.__doc__ = (
    "``@app.teardown_appcontext``: runs after every request, after the teardown_request hooks, and "
    "when an ``app_context(app)`` is left."
)


# -- blueprints: hooks and error handlers of one router ---------------------------------------
#
# Flask runs a blueprint's hooks and error handlers for the requests routed to that blueprint's
# views. A router's routes are copied into the app by include_router with the same endpoint
# functions, so the request's route (matched here as Starlette's router will match it) tells
# which routers it belongs to. A router's error handlers are laid over the app's, for its routes
# only, through the handlers Starlette looks up in the request scope.

_BLUEPRINTS: list[Any] = []  # routers with Flask hooks or error handlers, by their first one
_NO_HOOKS: dict[str, list[Any]] = {"before": [], "after": [], "teardown": [], "appcontext": []}


def _remember_blueprint(owner: Any) -> None:
    if isinstance(owner, Router) and all(owner is not known for known in _BLUEPRINTS):
        _BLUEPRINTS.append(owner)


def _error_handlers(owner: Any, app_wide: bool = False) -> dict[Any, Any]:
    attribute = "flask_app_error_handlers" if app_wide else "flask_error_handlers"
    handlers = owner.__dict__.get(attribute)
    if handlers is None:
        handlers = {}
        setattr(owner, attribute, handlers)
        _remember_blueprint(owner)
    return handlers


def blueprint_errorhandler(router: Any, key: Any, app_wide: bool = False) -> Any:
    """``@bp.errorhandler(key)``: ``@blueprint_errorhandler(bp, key)``, for errors raised while
    that router's routes handle a request; ``@bp.app_errorhandler(key)``: ``app_wide=True``.
    The handler is Flask's, unchanged: for a status code or an HTTP exception class it gets an
    ``HTTPError``, for another exception class the exception as raised."""

    def decorator(handler: Any) -> Any:
        http = isinstance(key, int) or (isinstance(key, type) and issubclass(key, StarletteHTTPException))
        adapted = flask_error_handler(handler) if http else flask_exception_handler(handler)
        _error_handlers(router, app_wide)[key] = adapted
        return handler

    return decorator


def _converts(route: Any, values: dict[str, Any]) -> bool:
    """Whether the path values convert (``/members/x`` for ``<int:member_id>`` does not: Flask's
    routing 404, which no blueprint sees)."""
    return not _path_errors(route, values)


def _path_errors(route: Any, values: dict[str, Any]) -> list[Any]:
    """FastAPI's validation errors for the route's path parameters (none for a route that is not
    FastAPI's, or has none)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None or not values or not dependant.path_params:
        return []
    _, errors = request_params_to_args(dependant.path_params, values)
    return list(errors)


def _routes(routes: list[Any], owners: list[Any]) -> Any:
    """(route, the routers it was included from) for every route of the app. FastAPI copies an
    included router's routes into the app (the endpoint tells where they came from), or, in
    newer versions, keeps the router behind one route with ``original_router``."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes, [*owners, inner])
        else:
            yield route, owners


def _included_blueprints(app: Any) -> list[Any]:
    """The routers with Flask hooks or error handlers that ``app`` includes; their routes are
    made to run the routers' hooks and handlers, and the routes of an ``@cross_origin`` view
    its CORS (once, when the app's routes change)."""
    cached = app.__dict__.get("flask_compat_blueprints")
    if cached is not None and cached[0] == (len(app.router.routes), len(_BLUEPRINTS)):
        return cached[1]
    _in_flask_order(app.router)
    included: list[Any] = []
    # FastAPI before 0.16x copied an included router's routes into the app: only the endpoint
    # tells where such a route came from; later versions keep the router (``original_router``)
    copied = not any(getattr(route, "original_router", None) is not None for route in app.router.routes)
    for route, owners in _routes(app.router.routes, []):
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None:
            continue
        if not owners and copied:
            owners = [bp for bp in _BLUEPRINTS if any(getattr(r, "endpoint", None) is endpoint for r in bp.routes)]
        blueprints = [bp for bp in owners if any(bp is known for known in _BLUEPRINTS)]
        if blueprints:
            _run_blueprint(route, blueprints)
        cors = getattr(endpoint, "flask_cors_options", None)
        if cors is not None and not getattr(route, "flask_compat_cors", False):
            route.handle = FlaskCORS(route.handle, **cors)
            route.flask_compat_cors = True
        included.extend(bp for bp in blueprints if all(bp is not seen for seen in included))
    app.flask_compat_blueprints = ((len(app.router.routes), len(_BLUEPRINTS)), included)
    return included


def _segment_weights(path: str) -> tuple[int, ...]:
    """werkzeug's preference, segment by segment: a static part before a variable, a variable
    before a path variable (``{p:path}``), which may take several segments."""
    return tuple(2 if ":path}" in part else 1 if "{" in part else 0 for part in path.strip("/").split("/"))


def _may_overlap(first: str, second: str) -> bool:
    """Whether two route paths can match the same URL (a path variable may match any tail)."""
    a, b = first.strip("/").split("/"), second.strip("/").split("/")
    for x, y in zip(a, b):
        if ":path}" in x or ":path}" in y:
            return True
        if "{" not in x and "{" not in y and x != y:
            return False
    return len(a) == len(b)


def _in_flask_order(router: Any) -> None:
    """Routes in the order werkzeug tries them where two can match the same URL: Starlette takes
    the first declared, so ``/books/{book_id}`` declared before ``/books/search`` would take
    ``/books/search`` (and answer 404 when ``search`` is not an int) where Flask prefers the static
    route. Only routes that overlap move; included routers are put in order too."""
    routes = router.routes
    paths = [getattr(r, "path", None) if getattr(r, "original_router", None) is None else None for r in routes]
    start = 0
    while start < len(routes):
        end = start
        while end < len(routes) and paths[end] is not None:
            end += 1
        run = list(range(start, end))
        if any(
            _segment_weights(paths[j]) < _segment_weights(paths[i]) and _may_overlap(paths[i], paths[j])
            for n, i in enumerate(run) for j in run[n + 1:]
        ):
            routes[start:end] = sorted(routes[start:end], key=lambda r: _segment_weights(r.path))
            if hasattr(router, "_routes_version"):  # FastAPI caches what included routers match
                router._routes_version += 1
        start = end + 1
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            _in_flask_order(inner)


def _run_blueprint(route: Any, blueprints: list[Any]) -> None:
    """Make ``route`` run its routers' before hooks (FLASK_MIDDLEWARE runs their after and
    teardown hooks) and let their error handlers answer before the app's: Starlette reads the
    handlers from the scope when the route handles the request."""
    if getattr(route, "flask_compat_blueprints", None) is not None:
        return
    handle = route.handle  # what the router calls, in every FastAPI version

    async def blueprint_handle(scope: dict[str, Any], receive: Any, send: Any) -> None:
        methods = getattr(route, "methods", None)
        if (methods and scope["method"] not in methods) or not _converts(route, scope.get("path_params", {})):
            await handle(scope, receive, send)  # Flask's routing 404 or 405: no blueprint sees it
            return
        scope.setdefault("flask_compat", {})["blueprints"] = blueprints
        request = Request(scope, receive)
        layers = _router_layers(request)
        if any(layers) and "starlette.exception_handlers" in scope:
            classes, statuses = scope["starlette.exception_handlers"]
            classes, statuses = dict(classes), dict(statuses)
            for layer in reversed(layers):
                classes.update({k: v for k, v in layer.items() if not isinstance(k, int)})
                statuses.update({k: v for k, v in layer.items() if isinstance(k, int) and k != 500})
                if 500 in layer and Exception not in layer:
                    classes[Exception] = layer[500]
            scope["starlette.exception_handlers"] = (classes, statuses)
        response = None
        try:
            for hook in (h for bp in blueprints for h in bp.__dict__.get("flask_hooks", _NO_HOOKS)["before"]):
                value = await _call(hook)
                if value is not None:
                    response = to_response(value)
                    break
        except Exception as exc:  # abort(401) in a blueprint's before hook
            response = await _error_response(request, exc)
        if response is not None:
            await response(scope, receive, send)
        else:
            await handle(scope, receive, send)

    route.handle = blueprint_handle
    route.flask_compat_blueprints = blueprints


def _lookup(handlers: dict[Any, Any], error: BaseException) -> Any | None:
    """Starlette's order: the status code of an HTTP error, then the exception's classes."""
    if isinstance(error, StarletteHTTPException) and error.status_code in handlers:
        return handlers[error.status_code]
    found = next((handlers[cls] for cls in type(error).__mro__ if cls in handlers), None)
    if (found is None or found is _server_error) and not isinstance(error, StarletteHTTPException):
        return handlers.get(500) or found  # Flask's 500 handler answers unhandled exceptions
    return found


def _layered(layers: list[dict[Any, Any]], error: BaseException) -> Any | None:
    return next((h for h in (_lookup(layer, error) for layer in layers) if h is not None), None)


def _router_layers(request: Request) -> list[dict[Any, Any]]:
    """Error handlers that come before the app's: the request's routers', then app-wide ones."""
    state = request.scope.get("flask_compat", {})
    blueprints, app_wide = state.get("blueprints", []), state.get("app_wide", [])
    return [
        *(bp.__dict__.get("flask_error_handlers", {}) for bp in blueprints),
        *(bp.__dict__.get("flask_app_error_handlers", {}) for bp in app_wide),
    ]


async def _error_response(request: Request, error: Exception) -> Response:
    """The response Flask's error handling gives for an error raised outside the route (a
    before hook) or not handled inside it: the routers' handlers, then the app's, then Flask's."""
    if isinstance(error, StarletteHTTPException):
        return await _answer_error(request, error)
    layers = [*_router_layers(request), request.app.exception_handlers]
    handler = _layered(layers, error) or _server_error
    if handler in (_server_error, request.app.exception_handlers.get(500)):  # Flask logs what a 500 answers
        logging.getLogger(__name__).exception("unhandled exception in %s %s", request.method, request.url.path)
    response = handler(request, error)
    return await response if inspect.isawaitable(response) else response


async def _call(function: Any, *args: Any) -> Any:
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    return await run_in_threadpool(function, *args)


class FlaskRequestContext(BaseHTTPMiddleware):
    """A fresh ``g`` for every request, and the request hooks around it: the app's, the
    app-wide ones of its routers, and (run by their routes) those of the request's routers."""

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        token = _request_globals.set(SimpleNamespace())
        if _is_json(request):
            await request.body()  # cached, so that request.get_json() also works outside the view
        request_token = _current_request.set(FlaskRequest(request))
        app_wide = _included_blueprints(request.app)
        # one object per request, shared with the scopes that middleware below copies
        state = request.scope["flask_compat"] = {"app_wide": app_wide, "blueprints": []}
        # Flask's order: the app's hooks (a blueprint's app-wide ones among them), then the
        # blueprint's (run by its routes); after and teardown hooks in the reverse order
        layers = [_hooks(request.app), *(bp.flask_app_hooks for bp in app_wide if "flask_app_hooks" in bp.__dict__)]
        blueprint_hooks_added = False
        error: BaseException | None = None
        try:
            response = None
            try:
                for hook in (h for layer in layers for h in layer["before"]):
                    value = await _call(hook)
                    if value is not None:
                        response = to_response(value)
                        break
            except Exception as exc:  # abort(401) in a before hook: answered by the error handlers
                response = await _error_response(request, exc)
            if response is None:
                response = await _too_large(request)  # where Flask's view would have read the body
            if response is None:
                head = request.method == "HEAD"
                if head:  # Flask answers HEAD on every GET route: the GET's headers, no body
                    request.scope["method"] = "GET"
                try:
                    response = await call_next(request)
                except Exception as exc:  # Flask's after_request hooks see the 500 response too
                    error = exc
                    response = await _error_response(request, exc)
                response = await _automatic_methods(request, response, head)
            layers += [bp.__dict__.get("flask_hooks", _NO_HOOKS) for bp in state["blueprints"]]
            blueprint_hooks_added = True
            for hook in (h for layer in reversed(layers) for h in reversed(layer["after"])):
                response = to_response(await _call(hook, response))
            return response
        finally:
            if not blueprint_hooks_added:  # an error before the after hooks
                layers += [bp.__dict__.get("flask_hooks", _NO_HOOKS) for bp in state["blueprints"]]
            for hook in (h for layer in reversed(layers) for h in reversed(layer["teardown"])):
                try:
                    await _call(hook, error)
                except Exception:
                    logging.getLogger(__name__).exception("teardown hook %r failed", hook)
            for hook in reversed(_hooks(request.app)["appcontext"]):  # Flask pops the app context last
                try:
                    await _call(hook, error)
                except Exception:
                    logging.getLogger(__name__).exception("teardown hook %r failed", hook)
            _request_globals.reset(token)
            _current_request.reset(request_token)


class Args:
    """``request.args``: the first of repeated keys, ``get(key, default, type=...)`` falling back
    to the default when the value does not convert, and 400 for a missing ``args[key]``."""

    def __init__(self, query: Any) -> None:
        self._pairs = list(query.multi_items())

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:  # noqa: A002 - Flask's name
        for name, value in self._pairs:
            if name == key:
                if type is None:
                    return value
                try:
                    return type(value)
                except (ValueError, TypeError):
                    return default
        return default

    def getlist(self, key: str, type: Any = None) -> list[Any]:  # noqa: A002
        values = [v for k, v in self._pairs if k == key]
        if type is None:
            return values
        converted = []
        for value in values:
            try:
                converted.append(type(value))
            except (ValueError, TypeError):
                continue
        return converted

    def __getitem__(self, key: str) -> str:
        for name, value in self._pairs:
            if name == key:
                return value
        raise HTTPException(status_code=400)

    def __contains__(self, key: str) -> bool:
        return any(name == key for name, _ in self._pairs)

    def __iter__(self) -> Any:
        return iter(dict(self._pairs))

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        if flat:
            return {k: self.get(k) for k in self}
        return {k: self.getlist(k) for k in self}


class FlaskRequest:
    """``flask.request`` outside the view (in hooks, helpers and decorators such as
    ``login_required``): Flask's request API over the Starlette request being handled. Form data
    and files are read in the view (Form and UploadFile parameters), not here."""

    def __init__(self, request: Request) -> None:
        self._request = request
        self.method = request.method
        self.headers = request.headers
        self.cookies = request.cookies
        self.args = Args(request.query_params)
        self.path = request.url.path
        self.full_path = f"{request.url.path}?{request.url.query}"
        self.url = str(request.url)
        self.base_url = str(request.url.replace(query=""))
        self.host = request.url.netloc
        self.scheme = request.url.scheme
        self.remote_addr = request.client.host if request.client else None
        self.content_type = request.headers.get("content-type")
        self.mimetype = (self.content_type or "").split(";")[0].strip().lower()
        self.is_json = _is_json(request)

    @property
    def view_args(self) -> dict[str, Any]:
        return dict(self._request.path_params)

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            if silent:
                return None
            raise HTTPException(status_code=415, detail=UNSUPPORTED_JSON)
        body = getattr(self._request, "_body", None)
        if body is None:
            raise RuntimeError("the body of a non-JSON request is read in the view, not through flask_compat.request")
        try:
            return json.loads(body)
        except ValueError:
            if silent:
                return None
            raise HTTPException(status_code=400) from None


class _RequestProxy:
    """``flask.request`` for the request being handled (see FlaskRequest)."""

    def __getattr__(self, name: str) -> Any:
        current = _current_request.get()
        if current is None:
            raise RuntimeError("Working outside of request context: request is only available while a request is handled.")
        return getattr(current, name)


request = _RequestProxy()


async def _too_large(request: Request) -> Response | None:
    """Flask's 413 for a body over app.config["MAX_CONTENT_LENGTH"] (by its Content-Length)."""
    limit = getattr(request.app, "config", {}).get("MAX_CONTENT_LENGTH")
    length = request.headers.get("content-length", "")
    if limit is None or not length.isdigit() or int(length) <= int(limit):
        return None
    return await _answer_error(request, StarletteHTTPException(413))


async def _automatic_methods(request: Request, response: Response, head: bool) -> Response:
    """What Flask adds to every route: HEAD wherever there is GET, OPTIONS everywhere (200 with
    the Allow header, empty body), and both in a 405's Allow header."""
    if head:
        request.scope["method"] = "HEAD"
        await _drain(response)
        return Response(b"", status_code=response.status_code, headers=dict(response.headers))
    if response.status_code != 405 or "allow" not in response.headers:
        return response
    allowed = {m.strip().upper() for m in response.headers["allow"].split(",") if m.strip()}
    allowed |= _methods_for_path(request.app, request.url.path)  # every route of the path, as Flask
    allowed |= {"HEAD"} if "GET" in allowed else set()
    allowed.add("OPTIONS")
    allow = ", ".join(sorted(allowed))
    if request.method == "OPTIONS":
        await _drain(response)
        return Response(b"", status_code=200, headers={"Allow": allow}, media_type="text/html")
    response.headers["Allow"] = allow
    return response


def _methods_for_path(app: Any, path: str) -> set[str]:
    """The methods of every route whose path template matches ``path`` (Starlette's 405 names
    only the first such route's; Flask all of them)."""
    methods = set()
    for template, operations in app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\{[^}/]+\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {method.upper() for method in operations if isinstance(operations[method], dict)}
    return methods


async def _drain(response: Response) -> None:
    iterator = getattr(response, "body_iterator", None)
    if iterator is not None:
        async for _ in iterator:
            pass


class FlaskSessions:
    """Flask's ``session``: a signed cookie named as ``SESSION_COOKIE_NAME`` ("session") under
    ``app.config["SECRET_KEY"]``, which is read at the first request, once the app has configured
    itself. Starlette signs the cookie its own way: sessions made by the Flask app do not carry
    over (users sign in again once)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inner: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self.inner is None:
            from starlette.middleware.sessions import SessionMiddleware

            config = getattr(scope["app"], "config", {})
            secret = config.get("SECRET_KEY")
            name = config.get("SESSION_COOKIE_NAME") or "session"
            self.inner = SessionMiddleware(self.app, secret_key=secret, session_cookie=name, max_age=None) if secret else self.app
        await self.inner(scope, receive, send)


class _SessionProxy:
    """``flask.session`` for the request being handled: a dict kept in the signed cookie."""

    _attributes = ("permanent", "modified", "new", "accessed")

    @staticmethod
    def _session() -> dict[str, Any]:
        current = _current_request.get()
        if current is None:
            raise RuntimeError("Working outside of request context: session is only available while a request is handled.")
        if "session" not in current._request.scope:
            raise RuntimeError("The session is unavailable because no secret key was set (app.config['SECRET_KEY']).")
        return current._request.session

    def __getattr__(self, name: str) -> Any:
        if name in self._attributes:
            return False
        return getattr(self._session(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._attributes:  # permanent / modified: the cookie is always written
            raise AttributeError(name)

    def __getitem__(self, key: str) -> Any:
        return self._session()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._session()[key] = value

    def __delitem__(self, key: str) -> None:
        del self._session()[key]

    def __contains__(self, key: str) -> bool:
        return key in self._session()

    def __iter__(self) -> Any:
        return iter(self._session())

    def __len__(self) -> int:
        return len(self._session())


session = _SessionProxy()
FLASK_MIDDLEWARE = [Middleware(FlaskSessions), Middleware(FlaskRequestContext), Middleware(FirstQueryValues)]


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def _load(request: Request, force: bool, silent: bool) -> Any:
    if not (force or _is_json(request)):
        if silent:
            return None
        raise HTTPException(status_code=415, detail=UNSUPPORTED_JSON)
    try:
        return json.loads(await request.body())
    except ValueError:
        if silent:
            return None
        raise HTTPException(status_code=400) from None


async def get_json(request: Request) -> Any:
    """``request.get_json()`` / ``request.json``."""
    return await _load(request, force=False, silent=False)


async def get_json_silent(request: Request) -> Any:
    """``request.get_json(silent=True)``."""
    return await _load(request, force=False, silent=True)


async def get_json_force(request: Request) -> Any:
    """``request.get_json(force=True)``."""
    return await _load(request, force=True, silent=False)


async def get_json_force_silent(request: Request) -> Any:
    """``request.get_json(force=True, silent=True)``."""
    return await _load(request, force=True, silent=True)


class FileStorage:
    """An upload with the synchronous API of Flask's FileStorage, over FastAPI's UploadFile:
    ``request.files["doc"]`` becomes ``doc: UploadFile`` read through ``FileStorage(doc)``."""

    def __init__(self, upload: UploadFile) -> None:
        self.upload = upload
        self.filename = upload.filename
        self.content_type = upload.content_type
        self.mimetype = (upload.content_type or "").split(";")[0].strip()
        self.stream = upload.file

    def read(self, size: int = -1) -> bytes:
        return self.upload.file.read(size)

    def save(self, destination: Any, buffer_size: int = 16384) -> None:
        self.upload.file.seek(0)
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as target:
                shutil.copyfileobj(self.upload.file, target, buffer_size)
        else:
            shutil.copyfileobj(self.upload.file, destination, buffer_size)


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a view's JSON body with ``model``. Documentation only: the
    view still receives the body as it came (``get_json``) and validates it itself, as it did
    in Flask, so its own error answers stay the same."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def get_data(request: Request) -> bytes:
    """``request.get_data()``: the raw body."""
    return await request.body()


async def get_data_as_text(request: Request) -> str:
    """``request.get_data(as_text=True)``."""
    return (await request.body()).decode("utf-8", errors="replace")


async def get_request_data(request: Request) -> bytes:
    """``request.data``: the raw body, empty for form posts (Flask parses those into form)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return b"" if media_type in _FORM_TYPES else await request.body()


class HTTPError(Exception):
    """What a Flask error handler received for an HTTP error: ``code``, ``name``,
    ``description`` (werkzeug's HTTPException attributes), from Starlette's exception."""

    def __init__(self, code: int, description: str | None = None, original: BaseException | None = None) -> None:
        self.code = code
        self.name, default = _ERROR_PAGES.get(code, (_phrase(code) or "Unknown Error", ""))
        self.description = default if description is None else description
        self.original_exception = original
        super().__init__(f"{code} {self.name}: {self.description}")

    def get_headers(self, *args: Any) -> list[tuple[str, str]]:
        """werkzeug's HTTPException.get_headers: the content type and, for 405, Allow."""
        headers = getattr(self.original_exception, "headers", None) or {}
        return [("Content-Type", "text/html; charset=utf-8"), *headers.items()]

    def get_description(self, *args: Any) -> str:
        return f"<p>{_escape(self.description)}</p>"

    @classmethod
    def of(cls, error: BaseException) -> "HTTPError":
        if isinstance(error, StarletteHTTPException):
            phrase = _phrase(error.status_code)
            detail = error.detail if isinstance(error.detail, str) and error.detail != phrase else None
            return cls(error.status_code, detail, error)
        return cls(500, None, error)  # what reaches a 500 handler: InternalServerError in Flask


def to_response(value: Any) -> Response:
    """What Flask makes of a view's or handler's return value (make_response)."""
    status, headers = None, None
    if isinstance(value, tuple):
        if len(value) == 3:
            value, status, headers = value
        elif len(value) == 2:
            value, extra = value
            if isinstance(extra, (dict, list)):
                headers = extra
            else:
                status = extra
    headers = dict(headers) if headers is not None else None
    if isinstance(value, Response):
        if status is not None:
            value.status_code = int(status)
        if headers:
            value.headers.update(headers)
        return value
    if isinstance(value, (dict, list)):
        return JSONResponse(value, status_code=int(status or 200), headers=headers)
    if isinstance(value, bytes):
        return Response(value, status_code=int(status or 200), headers=headers, media_type="text/html")
    return HTMLResponse(value, status_code=int(status or 200), headers=headers)


def _adapted(handler: Any, argument: Any) -> Any:
    async def handle(request: Request, error: BaseException) -> Response:
        result = handler(argument(error))
        return to_response(await result if inspect.isawaitable(result) else result)

    handle.__name__ = getattr(handler, "__name__", "handle")
    return handle


def flask_error_handler(handler: Any) -> Any:
    """A Flask error handler for an HTTP status (``@app.errorhandler(404)``, ``HTTPException``,
    ``500``) as a Starlette one: it gets an ``HTTPError`` and may return what a Flask view may."""
    return _adapted(handler, HTTPError.of)


def flask_exception_handler(handler: Any) -> Any:
    """A Flask error handler for an exception class (``@app.errorhandler(APIError)``): it gets
    the exception as raised and may return what a Flask view may."""
    return _adapted(handler, lambda error: error)


# -- the app's Flask attributes: config, logger, instance_path, extensions ----------------------


class Config(dict):
    """Flask's ``app.config``: a dict with Flask's loaders. It stays on the app (``app.config``,
    and ``current_app.config`` while a request is handled), the one settings object of the app,
    reachable wherever the Flask app's was."""

    def __init__(self, root_path: str, defaults: dict[str, Any] | None = None) -> None:
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_object(self, obj: Any) -> None:
        if isinstance(obj, str):
            module, _, attribute = obj.rpartition(".")
            obj = getattr(importlib.import_module(module), attribute) if module else importlib.import_module(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_mapping(self, mapping: dict[str, Any] | None = None, **kwargs: Any) -> bool:
        for key, value in {**(mapping or {}), **kwargs}.items():
            if key.isupper():
                self[key] = value
        return True

    def from_pyfile(self, filename: str, silent: bool = False) -> bool:
        path = os.path.join(self.root_path, filename)
        namespace: dict[str, Any] = {"__file__": path}
        try:
            with open(path, "rb") as handle:
                exec(compile(handle.read(), path, "exec"), namespace)  # noqa: S102 - Flask's own contract
        except OSError:
            if silent:
                return False
            raise
        self.from_mapping({k: v for k, v in namespace.items() if k.isupper()})
        return True

    def from_envvar(self, variable: str, silent: bool = False) -> bool:
        filename = os.environ.get(variable)
        if not filename:
            if silent:
                return False
            raise RuntimeError(f"The environment variable {variable!r} is not set")
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(self, prefix: str = "FLASK") -> bool:
        for key in sorted(os.environ):
            if key.startswith(f"{prefix}_"):
                value: Any = os.environ[key]
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
                self[key.removeprefix(f"{prefix}_")] = value
        return True

    def get_namespace(self, namespace: str, lowercase: bool = True, trim_namespace: bool = True) -> dict[str, Any]:
        found = {}
        for key, value in self.items():
            if key.startswith(namespace):
                name = key[len(namespace):] if trim_namespace else key
                found[name.lower() if lowercase else name] = value
        return found


class FlaskResponse(JSONResponse):
    """What a view's return value becomes, as in Flask: a str (or bytes) is an HTML page, anything
    else JSON. FastAPI would send a str as a JSON string; a view returning what a helper made
    (``return page()``) must answer as it did."""

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Any = None,
        media_type: str | None = None,
        background: Any = None,
    ) -> None:
        if isinstance(content, (str, bytes)) and media_type is None:
            media_type = "text/html"
        super().__init__(content, status_code, headers, media_type, background)

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        if isinstance(content, str):
            return content.encode("utf-8")
        return super().render(content)


def add_flask_attributes(
    app: Any,
    import_name: str,
    instance_path: str | None = None,
    instance_relative_config: bool = False,
    template_folder: str | None = "templates",
) -> Any:
    """Give the FastAPI app what code written for the Flask app reads from it: ``config``
    (Flask's defaults that apps read), ``logger``, ``flask_root_path``, ``instance_path``,
    ``extensions``, ``cli``, ``template_folder``, and ``FlaskApp``'s attributes and methods."""
    module = sys.modules.get(import_name)
    # Flask's app.root_path; FastAPI's root_path is the ASGI mount prefix, so it keeps its own name
    app.flask_root_path = os.path.dirname(os.path.abspath(module.__file__)) if module and getattr(module, "__file__", None) else os.getcwd()
    app.__class__ = _flask_class(type(app))
    if isinstance(app.router.default_response_class, DefaultPlaceholder):  # the app did not choose one
        app.router.default_response_class = FlaskResponse  # its routes', and its routers'
    app.instance_path = instance_path or app.auto_find_instance_path()
    app.config = Config(app.instance_path if instance_relative_config else app.flask_root_path, _FLASK_DEFAULTS)
    app.logger = logging.getLogger(import_name)
    app.extensions = {}
    app.name = import_name
    app.template_folder = template_folder  # read by render_template
    app.cli = _cli_group(app)  # Flask's app.cli: a click group
    return app


def _config_attribute(key: str) -> property:
    return property(lambda self: self.config.get(key), lambda self, value: self.config.__setitem__(key, value))


class FlaskApp:
    """What ``add_flask_attributes`` adds to the class of a converted app: Flask's config-backed
    ``testing`` and ``secret_key``, and Flask's methods that code calls or patches (tests
    monkeypatch ``auto_find_instance_path``). ``isinstance(app, FlaskApp)`` tells a converted
    app, as ``isinstance(app, Flask)`` told a Flask one."""

    testing = _config_attribute("TESTING")
    secret_key = _config_attribute("SECRET_KEY")

    def auto_find_instance_path(self) -> str:
        """Flask's default instance folder: ``instance`` next to the app's package."""
        return os.path.join(os.path.dirname(self.flask_root_path), "instance")


@functools.lru_cache(maxsize=None)
def _flask_class(cls: type) -> type:
    return type(cls.__name__, (FlaskApp, cls), {})


_FLASK_DEFAULTS = {
    "DEBUG": False,
    "TESTING": False,
    "SECRET_KEY": None,
    "MAX_CONTENT_LENGTH": None,
    "JSON_SORT_KEYS": True,
}


class _AppProxy:
    """``flask.current_app``: the app handling the current request, or the app of ``app_context``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_app_of_context(), name)  # the request's app, else app_context(app)'s

    def _get_current_object(self) -> Any:
        """The app itself, to hand to a thread (as with Flask's proxy)."""
        return _app_of_context()


current_app = _AppProxy()


# -- Flask-CORS ----------------------------------------------------------------------------------

_REGEX_CHARACTERS = set("*\\[]^$?+(){}|")


def flask_cors_options(
    origins: Any = "*",
    methods: Any = None,
    allow_headers: Any = "*",
    expose_headers: Any = None,
    supports_credentials: bool = False,
    max_age: Any = None,
    send_wildcard: bool = False,
    vary_header: bool = True,
) -> dict[str, Any]:
    """Flask-CORS's ``CORS(app, ...)`` options as Starlette CORSMiddleware's: ``app.add_middleware(
    CORSMiddleware, **flask_cors_options(origins=..., supports_credentials=...))``. Flask-CORS
    answers an allowed origin with that origin (not ``*``) unless ``send_wildcard``; a regular
    expression among the origins is matched as one, as Flask-CORS does."""

    def as_list(value: Any) -> list[str]:
        if value is None:
            return []
        return [value] if isinstance(value, str) else list(value)

    options: dict[str, Any] = {
        "allow_methods": as_list(methods) or ["*"],
        "allow_headers": as_list(allow_headers),
        "expose_headers": as_list(expose_headers),
        "allow_credentials": bool(supports_credentials),
    }
    wanted = as_list(origins)
    patterns = [o for o in wanted if o == "*" or _REGEX_CHARACTERS & set(o)]
    if "*" in wanted and send_wildcard and not supports_credentials:
        options["allow_origins"] = ["*"]
    else:
        options["allow_origins"] = [o for o in wanted if o not in patterns]
        if patterns:
            options["allow_origin_regex"] = "|".join(".*" if p == "*" else p for p in patterns)
    if max_age is not None:
        options["max_age"] = int(max_age.total_seconds()) if hasattr(max_age, "total_seconds") else int(max_age)
    return options


class FlaskCORS(CORSMiddleware):
    """Starlette's CORSMiddleware answering as Flask-CORS does: a request from an origin it does
    not allow gets no CORS headers at all (Starlette still sends Allow-Credentials and
    Expose-Headers, and refuses such a preflight with 400 where Flask answers OPTIONS itself)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            origin = Headers(scope=scope).get("origin")
            if origin is not None and not self.is_allowed_origin(origin=origin):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def cross_origin(*args: Any, **options: Any) -> Any:
    """Flask-CORS's ``@cross_origin(...)`` on one view: the view's routes get their own
    CORSMiddleware with those options (FLASK_MIDDLEWARE puts it in front of each of them), so
    that other routes send no CORS headers, as in Flask. Preflight requests are answered there."""
    if args:
        options.setdefault("origins", args[0])
    options.pop("automatic_options", None)  # Starlette's CORSMiddleware answers preflights itself

    def decorator(view: Any) -> Any:
        # a new function, as Flask-CORS returns: above @app.route it marks nothing the app serves
        if inspect.iscoroutinefunction(view):

            async def with_cors(*args: Any, **kwargs: Any) -> Any:
                return await view(*args, **kwargs)
        else:

            def with_cors(*args: Any, **kwargs: Any) -> Any:
                return view(*args, **kwargs)

        functools.update_wrapper(with_cors, view)
        with_cors.flask_cors_options = flask_cors_options(**options)  # type: ignore[attr-defined]
        return with_cors

    return decorator


def url_for(endpoint: str, *, _external: bool = False, _anchor: str | None = None, **values: Any) -> str:
    """``flask.url_for`` for the request being handled: the route named by the view's function
    (a blueprint's ``"bp.view"`` and ``".view"`` name the same view), path parameters filled in,
    other values in the query string, as Flask builds it."""
    current = _current_request.get()
    if current is None:
        raise RuntimeError("Working outside of request context: url_for is only available while a request is handled.")
    app = current._request.app
    name = endpoint.rpartition(".")[2]
    path_values = {k: v for k, v in values.items() if v is not None}
    route_params = _route_params(app, name)
    params = {k: str(v) for k, v in path_values.items() if k in route_params}
    query = [(k, str(v)) for k, v in path_values.items() if k not in route_params]
    url = str(app.url_path_for(name, **params))
    if query:
        url += "?" + urlencode(query)
    if _anchor:
        url += f"#{_anchor}"
    if _external:
        url = str(current._request.base_url).rstrip("/") + url
    return url


def _route_params(app: Any, name: str) -> set[str]:
    """The path parameters of the route called ``name``, found through the OpenAPI schema (the
    operation ids FastAPI makes: name, path and method)."""
    for path, operations in app.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            expected = re.sub(r"\W", "_", f"{name}{path}") + f"_{method}"
            if isinstance(operation, dict) and operation.get("operationId") == expected:
                return set(re.findall(r"{([^}:]+)", path))
    return set()


def redirect(location: str, code: int = 302) -> Response:
    """``flask.redirect``: the status, the Location header as given and Flask's small HTML page."""
    link = _escape(location)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        f'<p>You should be redirected automatically to the target URL: <a href="{link}">{link}</a>. If not, click the link.\n'
    )
    return HTMLResponse(body, status_code=code, headers={"Location": location})


def make_response(*args: Any) -> Response:
    """``flask.make_response``: a Response from what a view may return (body, status, headers)."""
    if not args:
        return HTMLResponse("")
    return to_response(args[0] if len(args) == 1 else tuple(args))


# -- Flask's test client -------------------------------------------------------------------------


class TestResponse:
    """A response with the API of Flask's test response (status_code, headers, data,
    get_data, get_json, is_json, mimetype) over httpx's."""

    __test__ = False  # not a pytest test class

    def __init__(self, response: Any) -> None:
        self._response = response
        self.status_code = response.status_code
        self.status = f"{response.status_code} {response.reason_phrase}"
        self.headers = response.headers
        self.data = response.content
        self.content_type = response.headers.get("content-type", "")
        self.mimetype = self.content_type.split(";")[0].strip().lower()
        self.is_json = self.mimetype == "application/json" or (
            self.mimetype.startswith("application/") and self.mimetype.endswith("+json")
        )
        self.location = response.headers.get("location")

    @property
    def text(self) -> str:
        return self.get_data(as_text=True)

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_data(self, as_text: bool = False) -> Any:
        return self.data.decode("utf-8", errors="replace") if as_text else self.data

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        if not (force or self.is_json):
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise


class FlaskTestClient:
    """``app.test_client()``: Flask's test client API (get, post, ..., json=, data=,
    headers=, query_string=) over FastAPI's TestClient, for tests written against Flask."""

    __test__ = False

    def __init__(self, app: Any) -> None:
        from fastapi.testclient import TestClient

        self.client = TestClient(app, base_url="http://localhost", raise_server_exceptions=False, follow_redirects=False)

    def open(self, path: str, method: str = "GET", *, json: Any = None, data: Any = None, headers: Any = None,
             query_string: Any = None, content_type: str | None = None, follow_redirects: bool = False) -> TestResponse:
        headers = dict(headers or {})
        if content_type is not None:
            headers["Content-Type"] = content_type
        options: dict[str, Any] = {"headers": headers, "params": query_string, "follow_redirects": follow_redirects}
        if json is not None:
            options["json"] = json
        elif isinstance(data, dict):
            options["data"] = data
        elif data is not None:
            options["content"] = data
        return TestResponse(self.client.request(method, path, **options))

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "GET", **options)

    def post(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "POST", **options)

    def put(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "PUT", **options)

    def patch(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "PATCH", **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "DELETE", **options)

    def options(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "OPTIONS", **options)

    def head(self, path: str, **options: Any) -> TestResponse:
        return self.open(path, "HEAD", **options)


# --- Flask-HTTPAuth and Flask-Login ---------------------------------------------------------------
#
# Both extensions protect a view with a decorator that answers in the view's place when the
# request is not allowed. Here the same objects, with the same callback-registration API, protect
# a route as a FastAPI dependency, ``dependencies=[Depends(auth.dependency(role="admin"))]``
# (Flask-HTTPAuth) or ``dependencies=[Depends(login_required.dependency)]`` (Flask-Login), and
# still work as decorators where that is how a view uses them. A refusal is the very response the
# extension gave (its status, body and WWW-Authenticate or Location header), raised as
# ``AuthRefusal`` and sent as is: in Flask the decorator returned it, so the app's own 401/403
# error handlers never saw it, and here they do not either. Flask-Login's ``abort(401)`` (no
# login view) stays an HTTP error that those handlers do answer, as in Flask.


class AuthRefusal(Exception):
    """The response an auth check gave instead of the view's (see FLASK_ERRORS)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _auth_refusal(request: Request, error: AuthRefusal) -> Response:
    return error.response


FLASK_ERRORS[AuthRefusal] = _auth_refusal


def _resolved(value: Any) -> Any:
    """The value of a callback that may be ``async def`` (Flask ran those through ensure_sync);
    the checks run in a worker thread, so a coroutine is awaited on the event loop."""
    if not inspect.isawaitable(value):
        return value

    async def wait() -> Any:
        return await value

    return anyio.from_thread.run(wait)


def _guard(check: Any, view: Any) -> Any:
    """``view`` wrapped as the extension's decorator wraps it: ``check()`` returns the refusal
    (a Response) or None; the view's sync or async nature is kept for decorators around it."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            refusal = await run_in_threadpool(check)
            return refusal if refusal is not None else await view(*args, **kwargs)

        return guarded_async

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        refusal = check()
        return refusal if refusal is not None else view(*args, **kwargs)

    return guarded


def _dependency(check: Any, schemes: tuple[Any, ...] = ()) -> Any:
    """A route dependency that raises ``check()``'s refusal. ``schemes`` are FastAPI security
    classes that document the route's scheme in OpenAPI (a plain ``def``: FastAPI runs it in a
    worker thread, where blocking user lookups belong)."""

    def dependency(request: Request, **schemes_: Any) -> None:
        _match_path(request)
        refusal = check()
        if refusal is not None:
            raise AuthRefusal(refusal)

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    parameters += [
        inspect.Parameter(f"security_{index}", inspect.Parameter.KEYWORD_ONLY, default=Depends(scheme))
        for index, scheme in enumerate(schemes)
    ]
    dependency.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return dependency


def decorator_dependency(decorator: Any) -> Any:
    """The project's own auth decorator (``@functools.wraps(view)`` around checks and ``return
    view(*args, **kwargs)``) as a route dependency: ``dependencies=[Depends(decorator_dependency(
    login_required))]``. The decorator's checks run where they ran, before the view; what it
    returned instead of calling the view (``jsonify(error=...), 401``) is the answer, as it was
    (the app's error handlers do not see it); an ``abort(403)`` in it is answered by them."""
    passed = object()
    checked = decorator(lambda *args, **kwargs: passed)

    async def dependency(request: Request) -> None:
        _match_path(request)  # Flask matched the URL's converters before the decorator ran
        result = await _call(checked)
        if result is not passed:
            raise AuthRefusal(to_response(result))

    dependency.__name__ = getattr(checked, "__name__", "dependency")
    return dependency


def _match_path(request: Request) -> None:
    """Flask matched the URL (its converters: ``<int:page>``) before the auth decorator ran, so
    ``/admin/abc`` was a 404 for everyone; FastAPI checks path parameters after the route's
    dependencies. The route's path parameters are checked here first, with the same error."""
    route = request.scope.get("route")
    errors = _path_errors(route, request.path_params) if route is not None else []
    if errors:
        raise RequestValidationError(errors)


def _documented(security_class: type, **options: Any) -> Any:
    """A FastAPI security scheme that only documents: OpenAPI shows the scheme, while the check
    stays Flask-HTTPAuth's (FastAPI's HTTPBasic refuses a malformed header that Flask-HTTPAuth
    passes to verify_password as empty credentials, HTTPBearer knows one scheme only)."""

    async def no_credentials(self: Any) -> None:
        return None

    documented = type(security_class.__name__, (security_class,), {"__call__": no_credentials})
    return documented(auto_error=False, **options)


class _Credentials:
    """What Flask-HTTPAuth reads from the Authorization header (werkzeug's Authorization)."""

    def __init__(self, type_: str, username: Any = None, password: Any = None, token: Any = None, **parameters: Any):
        self.type = type_
        self.username = username
        self.password = password
        self.token = token
        self.parameters = parameters

    def __getattr__(self, name: str) -> Any:
        return self.__dict__.get("parameters", {}).get(name)


def _parse_authorization(value: str | None) -> _Credentials | None:
    """werkzeug's ``Authorization.from_header``: Basic credentials, auth parameters or a token."""
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    scheme = scheme.lower()
    rest = rest.strip(" \t")
    if scheme == "basic":
        try:
            username, _, password = b64decode(rest, validate=True).decode().partition(":")
        except (ValueError, UnicodeError):
            return None
        return _Credentials(scheme, username, password)
    if "=" in rest.rstrip("="):
        parameters = {}
        for item in rest.split(","):
            key, _, raw = item.strip().partition("=")
            parameters[key] = raw.strip('"') if raw else None
        return _Credentials(scheme, **parameters)
    return _Credentials(scheme, token=rest)


class HTTPAuth:
    """Flask-HTTPAuth's base class: callbacks registered with decorators, ``login_required``
    (a decorator) and ``dependency`` (the same check for ``Depends``)."""

    security_class: Any = HTTPBase

    def __init__(self, scheme: str | None = None, realm: str | None = None, header: str | None = None) -> None:
        self.scheme = scheme
        self.realm = realm or "Authentication Required"
        self.header = header
        self.get_password_callback: Any = lambda username: None
        self.get_user_roles_callback: Any = None
        self.auth_error_callback: Any = None
        self.error_handler(lambda status: ("Unauthorized Access", status))

    def _security(self) -> Any:
        if self.header not in (None, "Authorization"):
            return _documented(APIKeyHeader, name=self.header)
        if self.security_class is HTTPBase:
            return _documented(HTTPBase, scheme=self.scheme)
        return _documented(self.security_class)

    def is_compatible_auth(self, headers: Any) -> bool:
        if self.header is None or self.header == "Authorization":
            parts = headers.get("Authorization", "").split(None, 1)
            return len(parts) == 2 and parts[0] == self.scheme
        return self.header in headers

    def get_password(self, f: Any) -> Any:
        self.get_password_callback = f
        return f

    def get_user_roles(self, f: Any) -> Any:
        self.get_user_roles_callback = f
        return f

    def error_handler(self, f: Any) -> Any:
        """The response for a refusal: what ``f(status)`` returns, 401 unless it gave a status,
        with the WWW-Authenticate header unless it set one (as Flask-HTTPAuth makes it)."""

        @functools.wraps(f)
        def decorated(*args: Any, **kwargs: Any) -> Response:
            result = _resolved(f(*args, **kwargs))
            check_status_code = not isinstance(result, (tuple, Response))
            response = to_response(result)
            if check_status_code and response.status_code == 200:
                response.status_code = 401
            if "WWW-Authenticate" not in response.headers:
                response.headers["WWW-Authenticate"] = self.authenticate_header()
            return response

        self.auth_error_callback = decorated
        return decorated

    def authenticate_header(self) -> str:
        return f'{self.scheme} realm="{self.realm}"'

    def get_auth(self) -> _Credentials | None:
        if self.header is None or self.header == "Authorization":
            auth = _parse_authorization(request.headers.get("Authorization"))
        elif self.header in request.headers:
            auth = _Credentials(self.scheme or "", token=request.headers[self.header])
        else:
            auth = None
        if auth is not None and auth.type.lower() != (self.scheme or "").lower():
            return None
        return auth

    def get_auth_password(self, auth: _Credentials | None) -> Any:
        if auth and auth.username:
            return _resolved(self.get_password_callback(auth.username))
        return None

    def authenticate(self, auth: _Credentials | None, stored_password: Any) -> Any:
        raise NotImplementedError

    def authorize(self, role: Any, user: Any, auth: _Credentials | None) -> bool:
        if role is None:
            return True
        roles = role if isinstance(role, (list, tuple)) else [role]
        if user is True:
            user = auth
        if self.get_user_roles_callback is None:
            raise ValueError("get_user_roles callback is not defined")
        user_roles = _resolved(self.get_user_roles_callback(user))
        if user_roles is None:
            user_roles = set()
        elif not isinstance(user_roles, (list, tuple)):
            user_roles = {user_roles}
        else:
            user_roles = set(user_roles)
        for wanted in roles:
            if isinstance(wanted, (list, tuple)):
                if set(wanted) <= user_roles:
                    return True
            elif wanted in user_roles:
                return True
        return False

    def refusal(self, role: Any = None, optional: Any = None) -> Response | None:
        """Flask-HTTPAuth's check of the current request: None when the view may run (the user
        is then ``current_user()``), else the error response."""
        if request.method == "OPTIONS":  # CORS preflights pass, as in Flask-HTTPAuth
            return None
        auth = self.get_auth()
        password = self.get_auth_password(auth)
        status = None
        user = self.authenticate(auth, password)
        if user in (False, None):
            status = 401
        elif not self.authorize(role, user, auth):
            status = 403
        if not optional and status:
            takes_status = _accepts_argument(self.auth_error_callback)
            return self.auth_error_callback(status) if takes_status else self.auth_error_callback()
        g.flask_httpauth_user = user if user is not True else auth.username if auth else None
        return None

    def login_required(self, f: Any = None, role: Any = None, optional: Any = None) -> Any:
        """``@auth.login_required`` / ``@auth.login_required(role=..., optional=...)`` as a
        decorator, for a view that cannot take the check as a dependency."""
        if f is not None and (role is not None or optional is not None):
            raise ValueError("role and optional are the only supported arguments")

        def decorate(view: Any) -> Any:
            return _guard(lambda: self.refusal(role, optional), view)

        return decorate(f) if f is not None else decorate

    def dependency(self, role: Any = None, optional: Any = None) -> Any:
        """``Depends(auth.dependency(role=..., optional=...))``: the check of
        ``@auth.login_required(role=..., optional=...)`` before the route's view runs."""
        return _dependency(lambda: self.refusal(role, optional), (self._security(),))

    def username(self) -> str:
        auth = self.get_auth()
        return auth.username if auth else ""

    def current_user(self) -> Any:
        return g.get("flask_httpauth_user")


def _accepts_argument(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)


class HTTPBasicAuth(HTTPAuth):
    """Flask-HTTPAuth's ``HTTPBasicAuth``: ``@auth.verify_password`` (called with empty strings
    when the request has no credentials), or ``get_password`` / ``hash_password``."""

    security_class = HTTPBasic

    def __init__(self, scheme: str | None = None, realm: str | None = None) -> None:
        super().__init__(scheme or "Basic", realm)
        self.hash_password_callback: Any = None
        self.verify_password_callback: Any = None

    def _security(self) -> Any:
        return _documented(HTTPBasic, realm=self.realm) if self.scheme == "Basic" else _documented(HTTPBase, scheme=self.scheme)

    def hash_password(self, f: Any) -> Any:
        self.hash_password_callback = f
        return f

    def verify_password(self, f: Any) -> Any:
        self.verify_password_callback = f
        return f

    def get_auth(self) -> _Credentials | None:
        # Flask-HTTPAuth's own parser: any scheme, the credentials decoded as UTF-8 or Latin-1
        header = self.header or "Authorization"
        if header not in request.headers:
            return None
        value = request.headers[header].encode("utf-8")
        try:
            scheme, credentials = value.split(b" ", 1)
            encoded_username, encoded_password = b64decode(credentials).split(b":", 1)
        except (ValueError, TypeError):
            return None
        try:
            username, password = encoded_username.decode("utf-8"), encoded_password.decode("utf-8")
        except UnicodeDecodeError:
            username, password = encoded_username.decode("latin1"), encoded_password.decode("latin1")
        return _Credentials(scheme.decode("latin1"), username, password)

    def authenticate(self, auth: _Credentials | None, stored_password: Any) -> Any:
        username, client_password = (auth.username, auth.password) if auth else ("", "")
        if self.verify_password_callback:
            return _resolved(self.verify_password_callback(username, client_password))
        if not auth:
            return None
        if self.hash_password_callback:
            try:
                client_password = _resolved(self.hash_password_callback(client_password))
            except TypeError:
                client_password = _resolved(self.hash_password_callback(username, client_password))
        matches = client_password is not None and stored_password is not None
        return auth.username if matches and hmac.compare_digest(client_password, stored_password) else None


class HTTPTokenAuth(HTTPAuth):
    """Flask-HTTPAuth's ``HTTPTokenAuth``: ``@auth.verify_token`` gets the token of the
    ``Authorization: <scheme> <token>`` header, or the whole value of a custom ``header``."""

    def __init__(self, scheme: str = "Bearer", realm: str | None = None, header: str | None = None) -> None:
        super().__init__(scheme, realm, header)
        self.verify_token_callback: Any = None
        self.security_class = HTTPBearer if scheme.lower() == "bearer" else HTTPBase

    def verify_token(self, f: Any) -> Any:
        self.verify_token_callback = f
        return f

    def authenticate(self, auth: _Credentials | None, stored_password: Any) -> Any:
        token = getattr(auth, "token", None)
        if token and self.verify_token_callback:
            return _resolved(self.verify_token_callback(token))
        return None


class MultiAuth:
    """Flask-HTTPAuth's ``MultiAuth``: the first of the auth objects whose scheme the request
    uses checks it (the first one when none does)."""

    def __init__(self, main_auth: HTTPAuth, *additional_auths: HTTPAuth) -> None:
        self.main_auth = main_auth
        self.additional_auths = additional_auths

    def _selected(self) -> HTTPAuth:
        if not self.main_auth.is_compatible_auth(request.headers):
            for auth in self.additional_auths:
                if auth.is_compatible_auth(request.headers):
                    return auth
        return self.main_auth

    def refusal(self, role: Any = None, optional: Any = None) -> Response | None:
        return self._selected().refusal(role, optional)

    def login_required(self, f: Any = None, role: Any = None, optional: Any = None) -> Any:
        if f is not None and (role is not None or optional is not None):
            raise ValueError("role and optional are the only supported arguments")

        def decorate(view: Any) -> Any:
            return _guard(lambda: self.refusal(role, optional), view)

        return decorate(f) if f is not None else decorate

    def dependency(self, role: Any = None, optional: Any = None) -> Any:
        schemes = tuple(a._security() for a in (self.main_auth, *self.additional_auths))
        return _dependency(lambda: self.refusal(role, optional), schemes)

    def current_user(self) -> Any:
        return g.get("flask_httpauth_user")


# Flask-Login keeps the user's id in Flask's session (``_user_id``, with ``_fresh`` and the ``_id``
# of the client that logged in) and, with ``remember=True``, in a "remember_token" cookie signed
# with SECRET_KEY; the same keys and the same cookie are kept here.

LOGIN_MESSAGE = "Please log in to access this page."
REFRESH_MESSAGE = "Please reauthenticate to access this page."
_SESSION_KEYS = {"_user_id", "_remember", "_remember_seconds", "_id", "_fresh", "next"}


class UserMixin:
    """Flask-Login's ``UserMixin``: an active, authenticated user whose id is ``str(self.id)``."""

    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        try:
            return str(self.id)  # type: ignore[attr-defined]
        except AttributeError:
            raise NotImplementedError("No `id` attribute - override `get_id`") from None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UserMixin):
            return self.get_id() == other.get_id()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal


class AnonymousUserMixin:
    """Flask-Login's ``AnonymousUserMixin``: ``current_user`` when nobody is logged in."""

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return False

    @property
    def is_anonymous(self) -> bool:
        return True

    def get_id(self) -> None:
        return None


def _secret(key: Any = None) -> bytes:
    key = current_app.config["SECRET_KEY"] if key is None else key
    return key.encode("latin1") if isinstance(key, str) else key


def encode_cookie(payload: str, key: Any = None) -> str:
    """Flask-Login's remember cookie value: ``payload|sha512 HMAC under SECRET_KEY``."""
    return f"{payload}|{hmac.new(_secret(key), payload.encode('utf-8'), sha512).hexdigest()}"


def decode_cookie(cookie: str, key: Any = None) -> str | None:
    """The user id in a remember cookie made by ``encode_cookie``, or None if it was not signed so."""
    if "|" not in cookie:
        return None
    payload, digest = cookie.rsplit("|", 1)
    expected = hmac.new(_secret(key), payload.encode("utf-8"), sha512).hexdigest()
    return payload if hmac.compare_digest(expected, digest) else None


def make_next_param(login_url: str, current_url: str) -> str:
    """The ``next`` value: the current URL without scheme and host when the login URL is on the
    same site."""
    login, current = urlsplit(login_url), urlsplit(current_url)
    if (not login.scheme or login.scheme == current.scheme) and (not login.netloc or login.netloc == current.netloc):
        return urlunsplit(("", "", current.path, current.query, ""))
    return current_url


def _expand_login_view(login_view: str) -> str:
    return login_view if login_view.startswith(("https://", "http://", "/")) else url_for(login_view)


def login_url(login_view: str, next_url: str | None = None, next_field: str = "next") -> str:
    """Flask-Login's ``login_url``: the login view's URL with ``?next=`` the page asked for."""
    base = _expand_login_view(login_view)
    if next_url is None:
        return base
    parsed = urlsplit(base)
    query = parse_qs(parsed.query, keep_blank_values=True)
    query[next_field] = make_next_param(base, next_url)  # type: ignore[assignment]
    netloc = current_app.config.get("FORCE_HOST_FOR_REDIRECTS") or parsed.netloc
    return urlunsplit(parsed._replace(netloc=netloc, query=urlencode(query, doseq=True)))


def _client_identifier() -> str:
    """Flask-Login's session-protection identifier: the client's address and user agent."""
    user_agent = request.headers.get("User-Agent")
    address = request.headers.get("X-Forwarded-For", request.remote_addr)
    address_part = address.encode("utf-8").split(b",")[0].strip() if address is not None else None
    agent_part = user_agent.encode("utf-8") if user_agent is not None else None
    return sha512(f"{address_part}|{agent_part}".encode()).hexdigest()


class LoginManager:
    """Flask-Login's ``LoginManager`` on a FastAPI app: ``user_loader``, ``request_loader``,
    ``unauthorized_handler``, ``login_view`` (a redirect to it with ``?next=``), session
    protection and the remember cookie, as Flask-Login has them."""

    def __init__(self, app: Any = None, add_context_processor: bool = True) -> None:
        self.anonymous_user: Any = AnonymousUserMixin
        self.login_view: str | None = None
        self.blueprint_login_views: dict[str, str] = {}
        self.login_message: str | None = LOGIN_MESSAGE
        self.login_message_category = "message"
        self.refresh_view: str | None = None
        self.needs_refresh_message: str | None = REFRESH_MESSAGE
        self.needs_refresh_message_category = "message"
        self.session_protection: str | None = "basic"
        self.localize_callback: Any = None
        self.unauthorized_callback: Any = None
        self.needs_refresh_callback: Any = None
        self.id_attribute = "get_id"
        self._user_callback: Any = None
        self._request_callback: Any = None
        self._header_callback: Any = None
        self._session_identifier_generator = _client_identifier
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Any, add_context_processor: bool = True) -> None:
        """``app.login_manager``, and the after-request hook that writes the remember cookie."""
        app.login_manager = self
        after_request(app)(self._update_remember_cookie)

    def user_loader(self, callback: Any) -> Any:
        self._user_callback = callback
        return callback

    def request_loader(self, callback: Any) -> Any:
        self._request_callback = callback
        return callback

    def header_loader(self, callback: Any) -> Any:
        self._header_callback = callback
        return callback

    def unauthorized_handler(self, callback: Any) -> Any:
        self.unauthorized_callback = callback
        return callback

    def needs_refresh_handler(self, callback: Any) -> Any:
        self.needs_refresh_callback = callback
        return callback

    @property
    def user_callback(self) -> Any:
        return self._user_callback

    @property
    def request_callback(self) -> Any:
        return self._request_callback

    def _message(self, message: str | None, category: str) -> None:
        if message:
            flash(self.localize_callback(message) if self.localize_callback else message, category)

    def _redirect_to(self, view: str) -> Response:
        if current_app.config.get("USE_SESSION_FOR_NEXT", False):
            session["_id"] = self._session_identifier_generator()
            session["next"] = make_next_param(_expand_login_view(view), request.url)
            return redirect(login_url(view))
        return redirect(login_url(view, next_url=request.url))

    def unauthorized(self) -> Any:
        """What ``login_required`` answers: the unauthorized handler's response, a redirect to
        the login view, or a 401 error (the app's 401 handler answers it, as in Flask)."""
        if self.unauthorized_callback:
            return self.unauthorized_callback()
        if not self.login_view:
            raise HTTPException(status_code=401)
        self._message(self.login_message, self.login_message_category)
        return self._redirect_to(self.login_view)

    def needs_refresh(self) -> Any:
        if self.needs_refresh_callback:
            return self.needs_refresh_callback()
        if not self.refresh_view:
            raise HTTPException(status_code=401)
        self._message(self.needs_refresh_message, self.needs_refresh_message_category)
        return self._redirect_to(self.refresh_view)

    def _update_request_context_with_user(self, user: Any = None) -> None:
        g._login_user = self.anonymous_user() if user is None else user

    def _load_user(self) -> None:
        if self._user_callback is None and self._request_callback is None:
            raise RuntimeError("Missing user_loader or request_loader.")
        if self._session_protection_failed():
            return self._update_request_context_with_user()
        user = None
        user_id = session.get("_user_id")
        if user_id is not None and self._user_callback is not None:
            user = _resolved(self._user_callback(user_id))
        if user is None:
            config = current_app.config
            cookie_name = config.get("REMEMBER_COOKIE_NAME", "remember_token")
            header_name = config.get("AUTH_HEADER_NAME", "Authorization")
            if cookie_name in request.cookies and session.get("_remember") != "clear":
                user = self._load_user_from_remember_cookie(request.cookies[cookie_name])
            elif self._request_callback:
                user = _resolved(self._request_callback(request))
            elif header_name in request.headers and self._header_callback:
                user = _resolved(self._header_callback(request.headers[header_name]))
        return self._update_request_context_with_user(user)

    def _session_protection_failed(self) -> bool:
        mode = current_app.config.get("SESSION_PROTECTION", self.session_protection)
        if not mode or mode not in ("basic", "strong"):
            return False
        if len(session) and self._session_identifier_generator() != session.get("_id"):
            if mode == "basic":
                if session.get("_fresh") is not False:
                    session["_fresh"] = False
                return False
            for key in _SESSION_KEYS:
                session.pop(key, None)
            session["_remember"] = "clear"
            return True
        return False

    def _load_user_from_remember_cookie(self, cookie: str) -> Any:
        user_id = decode_cookie(cookie)
        if user_id is None:
            return None
        session["_user_id"] = user_id
        session["_fresh"] = False
        return _resolved(self._user_callback(user_id)) if self._user_callback else None

    def _update_remember_cookie(self, response: Response) -> Response:
        config = current_app.config
        if not _has_session():  # no SECRET_KEY: nobody could have logged in
            return response
        if "_remember" not in session and config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
            session["_remember"] = "set"
        if "_remember" in session:
            operation = session.pop("_remember", None)
            name = config.get("REMEMBER_COOKIE_NAME", "remember_token")
            domain, path = config.get("REMEMBER_COOKIE_DOMAIN"), config.get("REMEMBER_COOKIE_PATH", "/")
            if operation == "set" and "_user_id" in session:
                seconds = session.get("_remember_seconds")
                duration = timedelta(seconds=seconds) if seconds is not None else config.get("REMEMBER_COOKIE_DURATION", timedelta(days=365))
                if isinstance(duration, int):
                    duration = timedelta(seconds=duration)
                response.set_cookie(
                    name,
                    encode_cookie(str(session["_user_id"])),
                    expires=datetime.now(timezone.utc) + duration,
                    domain=domain,
                    path=path,
                    secure=config.get("REMEMBER_COOKIE_SECURE", False),
                    httponly=config.get("REMEMBER_COOKIE_HTTPONLY", True),
                    samesite=config.get("REMEMBER_COOKIE_SAMESITE"),
                )
            elif operation == "clear":
                response.delete_cookie(name, domain=domain, path=path)
        return response


def _has_session() -> bool:
    current = _current_request.get()
    return current is not None and "session" in current._request.scope


def _login_manager() -> LoginManager:
    return current_app.login_manager


def _get_user() -> Any:
    if _current_request.get() is None:
        return None
    if "_login_user" not in g:
        _login_manager()._load_user()
    return g._login_user


class _CurrentUser:
    """Flask-Login's ``current_user``: the logged-in user of the request being handled (the
    anonymous user when nobody is)."""

    def _get_current_object(self) -> Any:
        return _get_user()

    def __getattr__(self, name: str) -> Any:
        return getattr(_get_user(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(_get_user(), name, value)

    def __eq__(self, other: object) -> bool:
        return _get_user() == other

    def __ne__(self, other: object) -> bool:
        return _get_user() != other

    def __hash__(self) -> int:
        return hash(_get_user())

    def __bool__(self) -> bool:
        return bool(_get_user())

    def __str__(self) -> str:
        return str(_get_user())

    def __repr__(self) -> str:
        return repr(_get_user())


current_user = _CurrentUser()


def login_user(user: Any, remember: bool = False, duration: Any = None, force: bool = False, fresh: bool = True) -> bool:
    """Flask-Login's ``login_user``: the user's id in the session (and the remember cookie)."""
    if not force and not user.is_active:
        return False
    manager = _login_manager()
    session["_user_id"] = getattr(user, manager.id_attribute)()
    session["_fresh"] = fresh
    session["_id"] = manager._session_identifier_generator()
    if remember:
        session["_remember"] = "set"
        if duration is not None:
            session["_remember_seconds"] = duration.total_seconds()
    manager._update_request_context_with_user(user)
    return True


def logout_user() -> bool:
    """Flask-Login's ``logout_user``: the user's keys leave the session; the remember cookie is
    cleared by the after-request hook."""
    for key in ("_user_id", "_fresh", "_id"):
        session.pop(key, None)
    if current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies:
        session["_remember"] = "clear"
        session.pop("_remember_seconds", None)
    _login_manager()._update_request_context_with_user()
    return True


def confirm_login() -> None:
    session["_fresh"] = True
    session["_id"] = _login_manager()._session_identifier_generator()


def login_fresh() -> bool:
    return session.get("_fresh", False)


def login_remembered() -> bool:
    name = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    if name in request.cookies and session.get("_remember") != "clear":
        return decode_cookie(request.cookies[name]) is not None
    return False


def _login_refusal(fresh: bool) -> Response | None:
    if request.method == "OPTIONS" or current_app.config.get("LOGIN_DISABLED"):
        return None
    if not current_user.is_authenticated:
        return to_response(_resolved(_login_manager().unauthorized()))
    if fresh and not login_fresh():
        return to_response(_resolved(_login_manager().needs_refresh()))
    return None


def login_required(func: Any) -> Any:
    """Flask-Login's ``@login_required`` as a decorator; ``Depends(login_required.dependency)``
    is the same check as a route dependency."""
    return _guard(lambda: _login_refusal(fresh=False), func)


def fresh_login_required(func: Any) -> Any:
    """Flask-Login's ``@fresh_login_required`` (a login that was not restored from the remember
    cookie); ``Depends(fresh_login_required.dependency)`` as a route dependency."""
    return _guard(lambda: _login_refusal(fresh=True), func)


login_required.dependency = _dependency(lambda: _login_refusal(fresh=False))  # type: ignore[attr-defined]
fresh_login_required.dependency = _dependency(lambda: _login_refusal(fresh=True))  # type: ignore[attr-defined]


# --- Flask-SQLAlchemy ---------------------------------------------------------------------------
#
# ``db = SQLAlchemy()`` becomes ``class Base(ModelRepr, DeclarativeBase)`` and ``db = Database(Base)``: the
# models are plain SQLAlchemy declarative models, and ``db`` keeps the part of Flask-SQLAlchemy
# that is about the app: an engine made from ``app.config`` when ``init_app`` runs, ``db.session``
# (SQLAlchemy's scoped_session, one session per request, removed when the request ends) and the
# helpers that answer 404 through the app's error handlers, as ``abort(404)`` does. SQLAlchemy is
# imported where it is used, so that projects without it can still import this module.

_PAGE_DEFAULTS = {"page": 1, "per_page": 20}


def _session_scope() -> Any:
    """The scope of ``db.session``: the request being handled (it lives in a context variable,
    also in the thread a ``def`` view runs in), else the current thread (start-up code, scripts,
    tests), as a scoped_session scopes by default."""
    import threading

    current = _current_request.get()
    return current if current is not None else threading.get_ident()


def _not_found(description: str | None = None) -> None:
    raise HTTPException(status_code=404, detail=description)


try:  # here, not at the top: only this section needs SQLAlchemy
    from sqlalchemy.orm import Query as _SQLAlchemyQuery
except ImportError:  # a project without SQLAlchemy makes no queries
    _SQLAlchemyQuery = object  # type: ignore[assignment,misc]


class FlaskQuery(_SQLAlchemyQuery):  # type: ignore[misc,valid-type]
    """SQLAlchemy's legacy Query (``session.query(User)``) with what Flask-SQLAlchemy's added:
    ``get_or_404``, ``first_or_404``, ``one_or_404`` and ``paginate``. A ``Database``'s session
    makes its queries with it (``db.session.query(User).get_or_404(1)``), and relationships with
    ``lazy="dynamic"`` are given it (``query_class=FlaskQuery``), as Flask-SQLAlchemy did."""

    def get_or_404(self, ident: Any, description: str | None = None) -> Any:
        value = self.get(ident)
        if value is None:
            _not_found(description)
        return value

    def first_or_404(self, description: str | None = None) -> Any:
        value = self.first()
        if value is None:
            _not_found(description)
        return value

    def one_or_404(self, description: str | None = None) -> Any:
        from sqlalchemy.exc import MultipleResultsFound, NoResultFound

        try:
            return self.one()
        except (NoResultFound, MultipleResultsFound):
            _not_found(description)

    def paginate(self, *, page: int | None = None, per_page: int | None = None, max_per_page: int | None = None,
                 error_out: bool = True, count: bool = True) -> Pagination:
        return Pagination(
            lambda limit, offset: self.limit(limit).offset(offset).all(),
            lambda: self.order_by(None).count(),
            page=page, per_page=per_page, max_per_page=max_per_page, error_out=error_out, count=count,
        )


class Pagination:
    """Flask-SQLAlchemy's Pagination: one page of a query's results (``items``) with ``page``,
    ``per_page``, ``total``, ``pages``, ``has_next``/``next_num``, ``has_prev``/``prev_num``,
    ``first``/``last`` and ``iter_pages()``. ``page`` and ``per_page`` not given are read from the
    query string (``?page=2&per_page=10``, defaults 1 and 20); with ``error_out`` a value that is
    not a number, below 1, or a page past the end answers 404."""

    def __init__(self, fetch: Any, total: Any, *, page: int | None = None, per_page: int | None = None,
                 max_per_page: int | None = None, error_out: bool = True, count: bool = True) -> None:
        self._fetch, self._total = fetch, total
        self._options = {"max_per_page": max_per_page}
        self.page = self._argument("page", page, error_out)
        self.per_page = self._argument("per_page", per_page, error_out)
        if max_per_page is not None:
            self.per_page = min(self.per_page, max_per_page)
        if self.per_page < 1:
            if error_out:
                _not_found()
            self.per_page = _PAGE_DEFAULTS["per_page"]
        self.max_per_page = max_per_page
        self.items: list[Any] = list(fetch(self.per_page, (self.page - 1) * self.per_page))
        if not self.items and self.page != 1 and error_out:
            _not_found()
        self.total: int | None = total() if count else None

    @staticmethod
    def _argument(name: str, value: int | None, error_out: bool) -> int:
        current = _current_request.get()
        if value is None and current is not None:
            try:
                value = int(current.args.get(name, _PAGE_DEFAULTS[name]))
            except (TypeError, ValueError):
                if error_out:
                    _not_found()
        if value is None:
            value = _PAGE_DEFAULTS[name]
        if name == "page" and value < 1:
            if error_out:
                _not_found()
            value = 1
        return value

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        return max(self.first, self.first + len(self.items) - 1)

    @property
    def pages(self) -> int:
        if not self.total:
            return 0
        return -(-self.total // self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def _other(self, page: int, error_out: bool) -> Pagination:
        other = Pagination(self._fetch, self._total, page=page, per_page=self.per_page,
                           error_out=error_out, count=False, **self._options)
        other.total = self.total
        return other

    def prev(self, *, error_out: bool = False) -> Pagination:
        return self._other(self.page - 1, error_out)

    def next(self, *, error_out: bool = False) -> Pagination:
        return self._other(self.page + 1, error_out)

    def iter_pages(self, *, left_edge: int = 2, left_current: int = 2, right_current: int = 4,
                   right_edge: int = 2) -> Any:
        """Page numbers for a pager: the edges and the pages around the current one, with None
        where numbers are skipped (1, 2, None, 5, 6, 7, 8, 9, 10, 11, None, 19, 20)."""
        end = self.pages + 1
        if end == 1:
            return
        left_end = min(1 + left_edge, end)
        yield from range(1, left_end)
        if left_end == end:
            return
        middle_start = max(left_end, self.page - left_current)
        middle_end = min(self.page + right_current + 1, end)
        if middle_start > left_end:
            yield None
        yield from range(middle_start, middle_end)
        if middle_end == end:
            return
        right_start = max(middle_end, end - right_edge)
        if right_start > middle_end:
            yield None
        yield from range(right_start, end)

    def __iter__(self) -> Any:
        return iter(self.items)


class ModelRepr:
    """Flask-SQLAlchemy's repr of a model, for the declarative base: ``<User 1>``, or
    ``<User (pending 1403...)>`` before it is saved, so that logs and messages showing a model
    read as they did (a model's own ``__repr__`` still wins)."""

    def __repr__(self) -> str:
        from sqlalchemy import inspect as inspect_

        state = inspect_(self)
        if state.transient:
            key = f"(transient {id(self)})"
        elif state.pending:
            key = f"(pending {id(self)})"
        else:
            key = ", ".join(map(str, state.identity))
        return f"<{type(self).__name__} {key}>"


def _driver_defaults(options: dict[str, Any], instance_path: str) -> None:
    """Flask-SQLAlchemy's engine defaults: an in-memory SQLite database is one connection shared
    by all threads (StaticPool), a relative SQLite path is relative to the instance folder (which
    is created), MySQL talks utf8mb4 and recycles pooled connections after two hours."""
    from sqlalchemy import pool
    from sqlalchemy.engine import make_url

    url = make_url(options["url"])
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        if url.database in (None, "", ":memory:"):
            options["poolclass"] = pool.StaticPool
            options["connect_args"] = {**options.get("connect_args", {}), "check_same_thread": False}
            return
        uri = bool(url.query.get("uri"))
        path = url.database[5:] if uri else url.database
        if not os.path.isabs(path):
            os.makedirs(instance_path, exist_ok=True)
            path = os.path.join(instance_path, path)
            options["url"] = url.set(database=f"file:{path}" if uri else path)
    elif url.drivername.startswith("mysql"):
        if options.get("pool_class", pool.QueuePool) is pool.QueuePool:
            options.setdefault("pool_recycle", 7200)
        if "charset" not in url.query:
            options["url"] = url.update_query_dict({"charset": "utf8mb4"})


class Database:
    """What ``db = SQLAlchemy()`` was, over plain SQLAlchemy: ``Database(Base)`` for the models'
    declarative base, ``init_app(app)`` makes the engine from ``app.config["SQLALCHEMY_DATABASE_URI"]``
    and ``SQLALCHEMY_ENGINE_OPTIONS`` (Flask-SQLAlchemy's defaults included), ``session`` is a
    scoped_session with one session per request, removed when the request ends (outside a request:
    one per thread), ``create_all()``/``drop_all()`` work on the engine, and ``get_or_404``,
    ``first_or_404``, ``one_or_404`` and ``paginate`` answer 404 as Flask-SQLAlchemy's do."""

    def __init__(self, base: type, app: Any = None, *, engine_options: dict[str, Any] | None = None,
                 session_options: dict[str, Any] | None = None) -> None:
        from weakref import WeakKeyDictionary

        from sqlalchemy.orm import scoped_session, sessionmaker

        self.Model = base
        self.metadata = base.metadata
        self.engine_options = dict(engine_options or {})
        self._engines: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()
        self._last_engine: Any = None
        options = {"query_cls": FlaskQuery, **(session_options or {})}
        scope = options.pop("scopefunc", _session_scope)
        self._sessions = sessionmaker(**options)
        # the session is bound when it is made, to the engine of the app of its request
        self.session = scoped_session(self._new_session, scopefunc=scope)  # type: ignore[arg-type]
        if app is not None:
            self.init_app(app)

    def _new_session(self, **options: Any) -> Any:
        return self._sessions(**{"bind": self.engine, **options})

    def init_app(self, app: Any) -> None:
        """Make the app's engine from its config, as Flask-SQLAlchemy's init_app does."""
        from sqlalchemy import engine_from_config

        config = app.config
        options = {**self.engine_options, **config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})}
        url = config.setdefault("SQLALCHEMY_DATABASE_URI", None)
        echo = config.setdefault("SQLALCHEMY_ECHO", False)
        if config.setdefault("SQLALCHEMY_BINDS", {}):
            raise RuntimeError("SQLALCHEMY_BINDS (several databases) is not converted: make one engine per bind by hand.")
        config.setdefault("SQLALCHEMY_RECORD_QUERIES", False)
        config.setdefault("SQLALCHEMY_TRACK_MODIFICATIONS", False)
        if url is not None:
            options["url"] = url
        if "url" not in options:
            raise RuntimeError("Either 'SQLALCHEMY_DATABASE_URI' or 'SQLALCHEMY_BINDS' must be set.")
        options.setdefault("echo", echo)
        options.setdefault("echo_pool", echo)
        _driver_defaults(options, getattr(app, "instance_path", os.getcwd()))
        previous = self._engines.get(app)
        if previous is not None:
            previous.dispose()
        self._engines[app] = self._last_engine = engine_from_config(options, prefix="")
        # a session of this thread made for an earlier app (a test suite making an app per test)
        # is bound to that app's engine: the next use makes one for the new engine
        self.session.remove()
        app.extensions["sqlalchemy"] = self
        if self._remove_session not in _hooks(app)["teardown"]:
            teardown_appcontext(app)(self._remove_session)

    def _remove_session(self, error: BaseException | None = None) -> None:
        self.session.remove()

    @property
    def engine(self) -> Any:
        """The engine of the app handling the request; outside a request, the last one made."""
        current = _current_request.get()
        engine = self._engines.get(current._request.app) if current is not None else None
        engine = engine or self._last_engine
        if engine is None:
            raise RuntimeError("No database engine yet: call db.init_app(app) once app.config is set.")
        return engine

    def create_all(self, bind_key: Any = "__all__") -> None:
        self.metadata.create_all(self.engine)

    def drop_all(self, bind_key: Any = "__all__") -> None:
        self.metadata.drop_all(self.engine)

    def get_or_404(self, entity: Any, ident: Any, *, description: str | None = None) -> Any:
        value = self.session.get(entity, ident)
        if value is None:
            _not_found(description)
        return value

    def first_or_404(self, statement: Any, *, description: str | None = None) -> Any:
        value = self.session.execute(statement).scalar()
        if value is None:
            _not_found(description)
        return value

    def one_or_404(self, statement: Any, *, description: str | None = None) -> Any:
        from sqlalchemy.exc import MultipleResultsFound, NoResultFound

        try:
            return self.session.execute(statement).scalar_one()
        except (NoResultFound, MultipleResultsFound):
            _not_found(description)

    def paginate(self, select: Any, *, page: int | None = None, per_page: int | None = None,
                 max_per_page: int | None = None, error_out: bool = True, count: bool = True) -> Pagination:
        """``db.paginate(select(User))``: one page of the statement's results."""
        from sqlalchemy import func
        from sqlalchemy import select as select_
        from sqlalchemy.orm import lazyload

        session = self.session

        def fetch(limit: int, offset: int) -> list[Any]:
            return list(session.execute(select.limit(limit).offset(offset)).unique().scalars())

        def total() -> int:
            counted = select.options(lazyload("*")).order_by(None).subquery()
            return session.execute(select_(func.count()).select_from(counted)).scalar()

        return Pagination(fetch, total, page=page, per_page=per_page, max_per_page=max_per_page,
                          error_out=error_out, count=count)


# --- Flask-JWT-Extended ---------------------------------------------------------------------------
#
# Flask-JWT-Extended's API over PyJWT (the library it uses itself), so that tokens keep their
# format (claims sub, iat, nbf, jti, exp, type, fresh, csrf; the same header) and their checks:
# a token made by the Flask app is accepted by the converted one and the other way round. The
# settings are the app's ``JWT_*`` config keys (``JWT_SECRET_KEY``, falling back to
# ``SECRET_KEY``; ``JWT_TOKEN_LOCATION``; ...), read at request time as Flask-JWT-Extended reads
# them. A refused request raises one of the exceptions below; ``JWTManager.init_app`` registers
# exception handlers that answer with the manager's callbacks, Flask-JWT-Extended's defaults
# (``{"msg": "Missing Authorization Header"}``, 401; a bad token, 422; ...) or the app's own
# ``@jwt.expired_token_loader`` & co. ``JWTRequired(...)`` is ``@jwt_required(...)`` as a route
# dependency; ``jwt_required(...)`` stays a decorator where a dependency would change the order
# of the checks. The decoded token lives on ``g``, so ``get_jwt()``, ``get_jwt_identity()`` and
# ``jwt_current_user`` work in views, helpers, decorators and hooks alike. Tokens are read from
# the headers, cookies (with their CSRF double-submit header), query string or JSON body, as
# JWT_TOKEN_LOCATION says; ``set_access_cookies`` & co. write the extension's cookies. Not kept:
# JWT_CSRF_CHECK_FORM (a CSRF value from a form field: refused with a 500 instead), the
# ``add_context_processor`` of templates, and claims encoded by the app's own Flask JSON provider.


class JWTExtendedException(Exception):
    """Base of the errors that refuse a request for its token (Flask-JWT-Extended's names)."""


class JWTDecodeError(JWTExtendedException):
    """The token decoded but lacks a claim the extension needs."""


class InvalidHeaderError(JWTExtendedException):
    """The Authorization header is not ``<type> <JWT>``."""


class InvalidQueryParamError(JWTExtendedException):
    """The query parameter does not start with JWT_QUERY_STRING_VALUE_PREFIX."""


class NoAuthorizationError(JWTExtendedException):
    """No token where JWT_TOKEN_LOCATION says to look."""


class CSRFError(JWTExtendedException):
    """A token from a cookie without its double-submit CSRF value."""


class WrongTokenError(JWTExtendedException):
    """A refresh token where an access token is needed, or the other way round."""


class _TokenError(JWTExtendedException):
    def __init__(self, message: str, jwt_header: dict, jwt_data: dict) -> None:
        super().__init__(message)
        self.jwt_header = jwt_header
        self.jwt_data = jwt_data


class RevokedTokenError(_TokenError):
    """``@jwt.token_in_blocklist_loader`` said the token is revoked."""

    def __init__(self, jwt_header: dict, jwt_data: dict) -> None:
        super().__init__("Token has been revoked", jwt_header, jwt_data)


class FreshTokenRequired(_TokenError):
    """``jwt_required(fresh=True)`` got a token that is not fresh."""


class UserLookupError(_TokenError):
    """``@jwt.user_lookup_loader`` found no user for the token's identity."""


class UserClaimsVerificationError(_TokenError):
    """``@jwt.token_verification_loader`` refused the token's claims."""


_JWT_DEFAULTS: dict[str, Any] = {
    "JWT_ACCESS_TOKEN_EXPIRES": None,  # set in init_app: timedelta(minutes=15)
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_COOKIE_NAME": "csrf_access_token",
    "JWT_ACCESS_CSRF_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_FIELD_NAME": "csrf_token",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_ALGORITHM": "HS256",
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_COOKIE_DOMAIN": None,
    "JWT_COOKIE_SAMESITE": None,
    "JWT_COOKIE_SECURE": False,
    "JWT_CSRF_CHECK_FORM": False,
    "JWT_CSRF_IN_COOKIES": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_DECODE_ALGORITHMS": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_DECODE_LEEWAY": 0,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_ENCODE_ISSUER": None,
    "JWT_ERROR_MESSAGE_KEY": "msg",
    "JWT_HEADER_NAME": "Authorization",
    "JWT_HEADER_TYPE": "Bearer",
    "JWT_IDENTITY_CLAIM": "sub",
    "JWT_JSON_KEY": "access_token",
    "JWT_PRIVATE_KEY": None,
    "JWT_PUBLIC_KEY": None,
    "JWT_QUERY_STRING_NAME": "jwt",
    "JWT_QUERY_STRING_VALUE_PREFIX": "",
    "JWT_REFRESH_COOKIE_NAME": "refresh_token_cookie",
    "JWT_REFRESH_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "csrf_refresh_token",
    "JWT_REFRESH_CSRF_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_FIELD_NAME": "csrf_token",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_REFRESH_JSON_KEY": "refresh_token",
    "JWT_REFRESH_TOKEN_EXPIRES": None,  # set in init_app: timedelta(days=30)
    "JWT_SECRET_KEY": None,
    "JWT_SESSION_COOKIE": True,
    "JWT_TOKEN_LOCATION": ("headers",),
    "JWT_VERIFY_SUB": True,
    "JWT_ENCODE_NBF": True,
}
# Algorithms that sign with a private key and verify with a public one.
_ASYMMETRIC = re.compile(r"^(RS|ES|PS|Ed)")


def _json_msg(message: str, status: int) -> Response:
    return JSONResponse({_jwt_config("JWT_ERROR_MESSAGE_KEY"): message}, status_code=status)


class JWTManager:
    """Flask-JWT-Extended's ``JWTManager(app)`` / ``jwt.init_app(app)`` for the FastAPI app,
    with the same loader decorators (``@jwt.user_lookup_loader``, ``@jwt.expired_token_loader``,
    ...). Each callback may return what a Flask view may (``jsonify(...), 401``, a dict)."""

    def __init__(self, app: Any = None, add_context_processor: bool = False) -> None:
        self._callbacks: dict[str, Any] = {
            "additional_claims": lambda identity: {},
            "additional_headers": lambda identity: {},
            "decode_key": lambda header, data: _jwt_key(decode=True),
            "encode_key": lambda identity: _jwt_key(decode=False),
            "expired_token": lambda header, data: _json_msg("Token has expired", 401),
            "invalid_token": lambda reason: _json_msg(reason, 422),
            "needs_fresh_token": lambda header, data: _json_msg("Fresh token required", 401),
            "revoked_token": lambda header, data: _json_msg("Token has been revoked", 401),
            "token_in_blocklist": lambda header, data: False,
            "token_verification": lambda header, data: True,
            "token_verification_failed": lambda header, data: _json_msg("User claims verification failed", 400),
            "unauthorized": lambda reason: _json_msg(reason, 401),
            "user_identity": lambda identity: identity,
            "user_lookup": None,
            "user_lookup_error": lambda header, data: _json_msg(
                f"Error loading the user {data[_jwt_config('JWT_IDENTITY_CLAIM')]}", 401
            ),
        }
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any, add_context_processor: bool = False) -> None:
        """Register with the app: its ``JWT_*`` defaults and the answers to refused tokens."""
        import datetime

        import jwt

        app.extensions["flask-jwt-extended"] = self
        defaults = {
            **_JWT_DEFAULTS,
            "JWT_ACCESS_TOKEN_EXPIRES": datetime.timedelta(minutes=15),
            "JWT_REFRESH_TOKEN_EXPIRES": datetime.timedelta(days=30),
        }
        for key, value in defaults.items():
            app.config.setdefault(key, value)
        # Exception class -> how Flask-JWT-Extended answers it: its errorhandlers, for the same
        # classes, so that a handler the app registers later for one of them takes over, as in Flask.
        reason = ("invalid_token", lambda error: (str(error),))
        token = lambda name: (name, lambda error: (error.jwt_header, error.jwt_data))
        answers = {
            CSRFError: ("unauthorized", lambda error: (str(error),)),
            NoAuthorizationError: ("unauthorized", lambda error: (str(error),)),
            jwt.ExpiredSignatureError: token("expired_token"),
            FreshTokenRequired: token("needs_fresh_token"),
            RevokedTokenError: token("revoked_token"),
            UserClaimsVerificationError: token("token_verification_failed"),
            UserLookupError: token("user_lookup_error"),
            jwt.InvalidTokenError: reason,
            JWTDecodeError: reason,
            InvalidHeaderError: reason,
            InvalidQueryParamError: reason,
            WrongTokenError: reason,
        }
        for error_class, (callback, arguments) in answers.items():
            app.add_exception_handler(error_class, self._answer(callback, arguments))

    def _answer(self, callback: str, arguments: Any) -> Any:
        def answer(request: Request, error: Exception) -> Response:
            return to_response(self._callbacks[callback](*arguments(error)))

        answer.__name__ = f"jwt_{callback}"
        return answer  # a plain def: Starlette runs it in the thread pool, as callbacks may block

    def _loader(name: str) -> Any:  # builds the loader decorators below
        def register(self: JWTManager, callback: Any) -> Any:
            self._callbacks[name] = callback
            return callback

        register.__name__ = f"{name}_loader"
        register.__doc__ = f"``@jwt.{name}_loader``: the app's own {name.replace('_', ' ')} callback."
        return register

    additional_claims_loader = _loader("additional_claims")
    additional_headers_loader = _loader("additional_headers")
    decode_key_loader = _loader("decode_key")
    encode_key_loader = _loader("encode_key")
    expired_token_loader = _loader("expired_token")
    invalid_token_loader = _loader("invalid_token")
    needs_fresh_token_loader = _loader("needs_fresh_token")
    revoked_token_loader = _loader("revoked_token")
    token_in_blocklist_loader = _loader("token_in_blocklist")
    token_verification_loader = _loader("token_verification")
    token_verification_failed_loader = _loader("token_verification_failed")
    unauthorized_loader = _loader("unauthorized")
    user_identity_loader = _loader("user_identity")
    user_lookup_loader = _loader("user_lookup")
    user_lookup_error_loader = _loader("user_lookup_error")
    del _loader

    def _encode(self, identity: Any, token_type: str, claims: Any, fresh: Any, expires_delta: Any, headers: Any) -> str:
        import datetime
        import uuid

        import jwt

        now = datetime.datetime.now(datetime.timezone.utc)
        header_overrides = {**self._callbacks["additional_headers"](identity), **(headers or {})}
        claim_overrides = {**self._callbacks["additional_claims"](identity), **(claims or {})}
        if expires_delta is None:
            key = "JWT_ACCESS_TOKEN_EXPIRES" if token_type == "access" else "JWT_REFRESH_TOKEN_EXPIRES"
            expires_delta = _jwt_config(key)
        if type(expires_delta) is int:
            expires_delta = datetime.timedelta(seconds=expires_delta)
        if isinstance(fresh, datetime.timedelta):
            fresh = datetime.datetime.timestamp(now + fresh)
        data: dict[str, Any] = {
            "fresh": fresh,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "type": token_type,
            _jwt_config("JWT_IDENTITY_CLAIM"): self._callbacks["user_identity"](identity),
        }
        if _jwt_config("JWT_ENCODE_NBF"):
            data["nbf"] = now
        if _jwt_config("JWT_COOKIE_CSRF_PROTECT"):
            data["csrf"] = str(uuid.uuid4())
        for claim, key in (("aud", "JWT_ENCODE_AUDIENCE"), ("iss", "JWT_ENCODE_ISSUER")):
            if _jwt_config(key):
                data[claim] = _jwt_config(key)
        if expires_delta:
            data["exp"] = now + expires_delta
        data.update(claim_overrides)
        secret = self._callbacks["encode_key"](identity)
        return jwt.encode(data, secret, _jwt_config("JWT_ALGORITHM"), json_encoder=_JWTJSONEncoder, headers=header_overrides)

    def _decode(self, encoded: str, csrf_value: str | None = None, allow_expired: bool = False) -> dict[str, Any]:
        import hmac

        import jwt

        algorithms = _jwt_config("JWT_DECODE_ALGORITHMS") or [_jwt_config("JWT_ALGORITHM")]
        if _jwt_config("JWT_ALGORITHM") not in algorithms:
            algorithms = [*algorithms, _jwt_config("JWT_ALGORITHM")]
        unverified = jwt.decode(encoded, algorithms=algorithms, options={"verify_signature": False})
        header = jwt.get_unverified_header(encoded)
        audience = _jwt_config("JWT_DECODE_AUDIENCE")
        identity_claim = _jwt_config("JWT_IDENTITY_CLAIM")

        def decode(verify_exp: bool) -> dict[str, Any]:
            options: dict[str, Any] = {"verify_aud": audience is not None, "verify_sub": _jwt_config("JWT_VERIFY_SUB")}
            if not verify_exp:
                options["verify_exp"] = False
            data = jwt.decode(
                encoded,
                self._callbacks["decode_key"](header, unverified),
                algorithms=algorithms,
                audience=audience,
                issuer=_jwt_config("JWT_DECODE_ISSUER"),
                leeway=_jwt_config("JWT_DECODE_LEEWAY"),
                options=options,
            )
            if identity_claim not in data:
                raise JWTDecodeError(f"Missing claim: {identity_claim}")
            data.setdefault("type", "access")
            data.setdefault("fresh", False)
            data.setdefault("jti", None)
            if csrf_value:
                if "csrf" not in data:
                    raise JWTDecodeError("Missing claim: csrf")
                if not hmac.compare_digest(data["csrf"], csrf_value):
                    raise CSRFError("CSRF double submit tokens do not match")
            return data

        try:
            return decode(verify_exp=not allow_expired)
        except jwt.ExpiredSignatureError as error:
            error.jwt_header = header  # type: ignore[attr-defined]  # what expired_token_loader gets
            error.jwt_data = decode(verify_exp=False)  # type: ignore[attr-defined]
            raise


class _JWTJSONEncoder(json.JSONEncoder):
    """Claims and identities encoded as Flask's JSON provider does (dates, UUIDs, dataclasses)."""

    def default(self, o: Any) -> Any:
        import dataclasses
        import datetime
        import decimal
        import uuid
        from email.utils import format_datetime

        if isinstance(o, datetime.datetime):
            return format_datetime(o.astimezone(datetime.timezone.utc) if o.tzinfo else o, usegmt=o.tzinfo is not None)
        if isinstance(o, datetime.date):
            return format_datetime(datetime.datetime(o.year, o.month, o.day), usegmt=False)
        if isinstance(o, (decimal.Decimal, uuid.UUID)):
            return str(o)
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return dataclasses.asdict(o)
        if hasattr(o, "__html__"):
            return str(o.__html__())
        return super().default(o)


def _jwt_manager() -> JWTManager:
    manager = current_app.extensions.get("flask-jwt-extended")
    if manager is None:
        raise RuntimeError("You must initialize a JWTManager with this app before using this method")
    return manager


def _jwt_config(key: str) -> Any:
    """A JWT_* setting of the current app, with Flask-JWT-Extended's default."""
    return current_app.config.get(key, _JWT_DEFAULTS.get(key))


def _jwt_key(decode: bool) -> Any:
    algorithm = _jwt_config("JWT_ALGORITHM")
    if _ASYMMETRIC.match(algorithm):
        name = "JWT_PUBLIC_KEY" if decode else "JWT_PRIVATE_KEY"
        if not _jwt_config(name):
            raise RuntimeError(f'{name} must be set to use asymmetric cryptography algorithm "{algorithm}"')
        return _jwt_config(name)
    key = _jwt_config("JWT_SECRET_KEY") or current_app.config.get("SECRET_KEY")
    if not key:
        raise RuntimeError(f'JWT_SECRET_KEY or flask SECRET_KEY must be set when using symmetric algorithm "{algorithm}"')
    return key


def create_access_token(
    identity: Any, fresh: Any = False, expires_delta: Any = None, additional_claims: Any = None, additional_headers: Any = None
) -> str:
    """Flask-JWT-Extended's ``create_access_token``: the same claims, signed the same way."""
    return _jwt_manager()._encode(identity, "access", additional_claims, fresh, expires_delta, additional_headers)


def create_refresh_token(identity: Any, expires_delta: Any = None, additional_claims: Any = None, additional_headers: Any = None) -> str:
    """Flask-JWT-Extended's ``create_refresh_token``."""
    return _jwt_manager()._encode(identity, "refresh", additional_claims, False, expires_delta, additional_headers)


def decode_token(encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False) -> dict[str, Any]:
    """Flask-JWT-Extended's ``decode_token``: the verified claims of a token."""
    return _jwt_manager()._decode(encoded_token, csrf_value, allow_expired)


def get_unverified_jwt_headers(encoded_token: str) -> dict[str, Any]:
    import jwt

    return jwt.get_unverified_header(encoded_token)


def get_jti(encoded_token: str) -> str | None:
    return decode_token(encoded_token).get("jti")


def get_csrf_token(encoded_token: str) -> str:
    return decode_token(encoded_token)["csrf"]


def _token_from_headers(current: FlaskRequest, refresh: bool) -> tuple[str, str | None]:
    name, kind = _jwt_config("JWT_HEADER_NAME"), _jwt_config("JWT_HEADER_TYPE")
    header = current.headers.get(name, "").strip().strip(",")
    if not header:
        raise NoAuthorizationError(f"Missing {name} Header")
    if not kind:
        parts = header.split()
        if len(parts) != 1:
            raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: <JWT>'")
        return parts[0], None
    # the header may hold several comma-separated credentials: exactly one of our type
    ours = [value for value in re.split(r",\s*", header) if value and value.split()[0] == kind]
    if len(ours) != 1:
        raise NoAuthorizationError(f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'")
    parts = ours[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1], None


def _token_from_cookies(current: FlaskRequest, refresh: bool) -> tuple[str, str | None]:
    kind = "REFRESH" if refresh else "ACCESS"
    cookie = _jwt_config(f"JWT_{kind}_COOKIE_NAME")
    token = current.cookies.get(cookie)
    if not token:
        raise NoAuthorizationError(f'Missing cookie "{cookie}"')
    if not (_jwt_config("JWT_COOKIE_CSRF_PROTECT") and current.method in _jwt_config("JWT_CSRF_METHODS")):
        return token, None
    csrf = current.headers.get(_jwt_config(f"JWT_{kind}_CSRF_HEADER_NAME"))
    if not csrf and _jwt_config("JWT_CSRF_CHECK_FORM"):
        raise RuntimeError("JWT_CSRF_CHECK_FORM: read the CSRF value from the form in the view")
    if not csrf:
        raise CSRFError("Missing CSRF token")
    return token, csrf


def _token_from_query_string(current: FlaskRequest, refresh: bool) -> tuple[str, str | None]:
    name, prefix = _jwt_config("JWT_QUERY_STRING_NAME"), _jwt_config("JWT_QUERY_STRING_VALUE_PREFIX")
    value = current.args.get(name)
    if not value:
        raise NoAuthorizationError(f"Missing '{name}' query paramater")  # sic, as Flask-JWT-Extended
    if not value.startswith(prefix):
        raise InvalidQueryParamError(f"Invalid value for query parameter '{name}'. Expected the value to start with '{prefix}'")
    return value[len(prefix):], None


def _token_from_json(current: FlaskRequest, refresh: bool) -> tuple[str, str | None]:
    if not current.is_json:
        raise NoAuthorizationError("Invalid content-type. Must be application/json.")
    key = _jwt_config("JWT_REFRESH_JSON_KEY" if refresh else "JWT_JSON_KEY")
    try:
        data = current.get_json()
    except HTTPException:
        data = None
    token = data.get(key) if isinstance(data, dict) else None
    if not token:
        raise NoAuthorizationError(f'Missing "{key}" key in json data.')
    return token, None


_TOKEN_LOCATIONS = {
    "headers": _token_from_headers,
    "cookies": _token_from_cookies,
    "query_string": _token_from_query_string,
    "json": _token_from_json,
}


def _decode_from_request(locations: Any, fresh: bool, refresh: bool, verify_type: bool, skip_revocation_check: bool) -> tuple[dict, dict, str]:
    import datetime

    current = _current_request.get()
    if current is None:
        raise RuntimeError("Working outside of request context: a JWT is only read while a request is handled.")
    if isinstance(locations, str):
        locations = [locations]
    if not locations:
        locations = _jwt_config("JWT_TOKEN_LOCATION")
        locations = [locations] if isinstance(locations, str) else list(locations)
    manager = _jwt_manager()
    missing = []
    for location in locations:
        if location not in _TOKEN_LOCATIONS:
            raise RuntimeError(f"'{location}' is not a valid location")
        try:
            encoded, csrf = _TOKEN_LOCATIONS[location](current, refresh)
        except NoAuthorizationError as error:
            missing.append(str(error))
            continue
        data = manager._decode(encoded, csrf)
        header = get_unverified_jwt_headers(encoded)
        break
    else:
        if len(locations) > 1:
            raise NoAuthorizationError(f"Missing JWT in {', '.join(locations[:-1])} or {locations[-1]} ({'; '.join(missing)})")
        raise NoAuthorizationError(missing[0])
    if verify_type and not refresh and data["type"] == "refresh":
        raise WrongTokenError("Only non-refresh tokens are allowed")
    if verify_type and refresh and data["type"] != "refresh":
        raise WrongTokenError("Only refresh tokens are allowed")
    if fresh:
        is_fresh = data["fresh"]
        if not isinstance(is_fresh, bool):  # a timestamp: fresh until then
            is_fresh = is_fresh >= datetime.datetime.now(datetime.timezone.utc).timestamp()
        if not is_fresh:
            raise FreshTokenRequired("Fresh token required", header, data)
    if not skip_revocation_check and manager._callbacks["token_in_blocklist"](header, data):
        raise RevokedTokenError(header, data)
    if not manager._callbacks["token_verification"](header, data):
        raise UserClaimsVerificationError("User claims verification failed", header, data)
    return data, header, location


def verify_jwt_in_request(
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: Any = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> tuple[dict, dict] | None:
    """Flask-JWT-Extended's ``verify_jwt_in_request``: raise (and so refuse the request) unless
    it carries a valid token; keep the token on ``g`` for ``get_jwt()`` and friends."""
    if _current_request.get() is not None and request.method == "OPTIONS":
        return None
    try:
        data, header, location = _decode_from_request(locations, fresh, refresh, verify_type, skip_revocation_check)
    except NoAuthorizationError:
        if not optional:
            raise
        g._jwt_extended_jwt, g._jwt_extended_jwt_header, g._jwt_extended_jwt_location = {}, {}, None
        g._jwt_extended_jwt_user = {"loaded_user": None}
        return None
    lookup = _jwt_manager()._callbacks["user_lookup"]
    user = None
    if lookup is not None:
        user = {"loaded_user": lookup(header, data)}
        if user["loaded_user"] is None:
            identity = data[_jwt_config("JWT_IDENTITY_CLAIM")]
            raise UserLookupError(f"user_lookup returned None for {identity}", header, data)
    # kept only once every check passed, as Flask-JWT-Extended does
    g._jwt_extended_jwt_user, g._jwt_extended_jwt_header = user, header
    g._jwt_extended_jwt, g._jwt_extended_jwt_location = data, location
    return header, data


def _wrap(view: Any, check: Any) -> Any:
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def checked_async(*args: Any, **kwargs: Any) -> Any:
            check()
            return await view(*args, **kwargs)

        return checked_async

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        check()
        return view(*args, **kwargs)

    return checked


def jwt_required(
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: Any = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> Any:
    """``@jwt_required(...)`` as a decorator, where it stays one: the function checks the token
    when it is called (FastAPI still sees the view's own parameters)."""
    if callable(optional):  # a bare @jwt_required: Flask-JWT-Extended 4 registered a view that fails

        def not_called() -> Any:
            raise TypeError("jwt_required is a decorator factory: write @jwt_required()")

        return not_called
    return lambda view: _wrap(
        view, lambda: verify_jwt_in_request(optional, fresh, refresh, locations, verify_type, skip_revocation_check)
    )


# Documents the token in the OpenAPI schema (the docs' Authorize button); it never refuses
# anything itself: JWTRequired does, with Flask-JWT-Extended's answers and settings.
_JWT_BEARER = HTTPBearer(
    auto_error=False, scheme_name="JWT", description="A JWT as Flask-JWT-Extended makes them (create_access_token)"
)


class JWTRequired:
    """``@jwt_required(...)`` as a route dependency: ``@app.get("/me", dependencies=[Depends(
    JWTRequired())])``. It runs before the view and before its parameters are checked, where
    Flask-JWT-Extended's decorator ran, and refuses with the same answers. The route shows the
    JWT security scheme in the OpenAPI schema."""

    def __init__(
        self,
        optional: bool = False,
        fresh: bool = False,
        refresh: bool = False,
        locations: Any = None,
        verify_type: bool = True,
        skip_revocation_check: bool = False,
    ) -> None:
        self.options = (optional, fresh, refresh, locations, verify_type, skip_revocation_check)

    def __call__(self, request: Request, _documented: Annotated[Any, Security(_JWT_BEARER)]) -> None:
        # a plain def: FastAPI runs it in the thread pool, since the app's loaders may block
        _match_path(request)  # Flask matched the URL's converters first: /orders/abc stays a 404
        verify_jwt_in_request(*self.options)

    def __repr__(self) -> str:
        names = ("optional", "fresh", "refresh", "locations", "verify_type", "skip_revocation_check")
        defaults = (False, False, False, None, True, False)
        given = [f"{n}={v!r}" for n, v, d in zip(names, self.options, defaults) if v != d]
        return f"JWTRequired({', '.join(given)})"


# An instance has no __globals__ for FastAPI (before 0.12x) to read the annotations, which are
# strings under ``from __future__ import annotations``: give __call__ the objects themselves.
JWTRequired.__call__.__annotations__ = typing.get_type_hints(JWTRequired.__call__, include_extras=True)


def get_jwt() -> dict[str, Any]:
    """The claims of the request's token ({} under ``jwt_required(optional=True)`` without one)."""
    data = g.get("_jwt_extended_jwt", None)
    if data is None:
        raise RuntimeError("You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method")
    return data


def get_jwt_header() -> dict[str, Any]:
    header = g.get("_jwt_extended_jwt_header", None)
    if header is None:
        raise RuntimeError("You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method")
    return header


def get_jwt_identity() -> Any:
    return get_jwt().get(_jwt_config("JWT_IDENTITY_CLAIM"), None)


def get_jwt_request_location() -> str | None:
    return g.get("_jwt_extended_jwt_location", None)


def get_current_user() -> Any:
    """The user ``@jwt.user_lookup_loader`` found for the request's token."""
    get_jwt()
    user = g.get("_jwt_extended_jwt_user", None)
    if user is None:
        raise RuntimeError("You must provide a `@jwt.user_lookup_loader` callback to use this method")
    return user["loaded_user"]


class _JWTUserProxy:
    """Flask-JWT-Extended's ``current_user``: the loaded user of the request being handled
    (``isinstance(current_user, User)`` holds, as with werkzeug's LocalProxy)."""

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # what isinstance() asks
        return type(get_current_user())

    def __getattr__(self, name: str) -> Any:
        return getattr(get_current_user(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(get_current_user(), name, value)

    def __len__(self) -> int:
        return len(get_current_user())

    def __getitem__(self, key: Any) -> Any:
        return get_current_user()[key]

    def __contains__(self, key: Any) -> bool:
        return key in get_current_user()

    def __iter__(self) -> Any:
        return iter(get_current_user())

    def __eq__(self, other: object) -> bool:
        return get_current_user() == other

    def __hash__(self) -> int:
        return hash(get_current_user())

    def __bool__(self) -> bool:
        return bool(get_current_user())

    def __str__(self) -> str:
        return str(get_current_user())

    def __repr__(self) -> str:
        return repr(get_current_user())


jwt_current_user = _JWTUserProxy()


def _jwt_cookie(response: Response, kind: str, value: str, max_age: Any, domain: Any, csrf: bool) -> None:
    """One of Flask-JWT-Extended's cookies (the token's, or its CSRF double-submit value's),
    with the same attributes as werkzeug writes them: a deleted cookie expires in 1970; a
    max_age comes with the matching Expires."""
    import datetime

    name = f"JWT_{kind}_CSRF_COOKIE" if csrf else f"JWT_{kind}_COOKIE"
    max_age = max_age or (None if _jwt_config("JWT_SESSION_COOKIE") else 31540000)
    if value == "":
        expires: Any = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    elif max_age is not None:
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=max_age)
    else:
        expires = None
    response.set_cookie(
        _jwt_config(f"{name}_NAME"),
        value,
        max_age=None if value == "" else max_age,
        expires=expires,
        path=_jwt_config(f"{name}_PATH"),
        domain=domain or _jwt_config("JWT_COOKIE_DOMAIN"),
        secure=_jwt_config("JWT_COOKIE_SECURE"),
        httponly=not csrf,
        samesite=_jwt_config("JWT_COOKIE_SAMESITE"),
    )


def _set_jwt_cookies(response: Response, kind: str, token: str, max_age: Any, domain: Any) -> None:
    _jwt_cookie(response, kind, token, max_age, domain, csrf=False)
    if _jwt_config("JWT_COOKIE_CSRF_PROTECT") and _jwt_config("JWT_CSRF_IN_COOKIES"):
        _jwt_cookie(response, kind, get_csrf_token(token) if token else "", max_age, domain, csrf=True)


def set_access_cookies(response: Response, encoded_access_token: str, max_age: Any = None, domain: Any = None) -> None:
    """Flask-JWT-Extended's ``set_access_cookies`` on a Starlette response: the token's cookie
    and, with CSRF protection, the cookie of its double-submit value."""
    _set_jwt_cookies(response, "ACCESS", encoded_access_token, max_age, domain)


def set_refresh_cookies(response: Response, encoded_refresh_token: str, max_age: Any = None, domain: Any = None) -> None:
    _set_jwt_cookies(response, "REFRESH", encoded_refresh_token, max_age, domain)


def unset_access_cookies(response: Response, domain: Any = None) -> None:
    _set_jwt_cookies(response, "ACCESS", "", None, domain)


def unset_refresh_cookies(response: Response, domain: Any = None) -> None:
    _set_jwt_cookies(response, "REFRESH", "", None, domain)


def unset_jwt_cookies(response: Response, domain: Any = None) -> None:
    unset_access_cookies(response, domain)
    unset_refresh_cookies(response, domain)


# --- files, templates, the app context and the CLI ---------------------------------------------
#
# send_file and send_from_directory answer with Flask's headers (its Content-Type, with charset,
# Content-Disposition, Cache-Control, ETag and Last-Modified) and its conditional answers (304,
# 412, a single byte range, 416), over Starlette's FileResponse for paths. render_template renders
# with a Jinja2Templates environment over the app's template folders with Flask's autoescaping and
# globals (config, request, session, g, url_for, get_flashed_messages). app_context(app) makes
# current_app and g work outside a request, as ``with app.app_context():`` did (and
# test_request_context(app, path) request and url_for too, for tests); ``app.cli`` is a
# click group whose commands run inside it: ``python -m <pkg>.flask_compat --app <module>:app CMD``.


_app_contexts: ContextVar[Any] = ContextVar("flask_compat_app", default=None)


def _app_of_context() -> Any:
    """The app of the innermost ``app_context`` (one entered in a view too), else of the request."""
    app = _app_contexts.get()
    if app is not None:
        return app
    current = _current_request.get()
    if current is None:
        raise RuntimeError(
            "Working outside of application context: use `with app_context(app):` or handle a request."
        )
    return current._request.app


class AppContext:
    """``app.app_context()``: current_app is ``app`` and ``g`` a fresh namespace until it is left,
    as a context manager or with Flask's ``push()`` / ``pop()``; leaving it runs the app's
    ``teardown_appcontext`` hooks (which close what was kept on that ``g``, and db.session)."""

    def __init__(self, app: Any) -> None:
        self.app = app._get_current_object() if isinstance(app, _AppProxy) else app  # current_app.app_context()
        self._tokens: list[tuple[Any, Any]] = []

    @property
    def g(self) -> Any:
        return g

    def push(self) -> None:
        self._tokens.append((_app_contexts.set(self.app), _request_globals.set(SimpleNamespace())))

    def pop(self, exc: BaseException | None = None) -> None:
        for hook in reversed(_hooks(self.app)["appcontext"]):
            try:
                _run_to_end(hook(exc))
            except Exception:
                logging.getLogger(__name__).exception("teardown hook %r failed", hook)
        app_token, g_token = self._tokens.pop()
        _request_globals.reset(g_token)
        _app_contexts.reset(app_token)

    def __enter__(self) -> AppContext:  # noqa: PYI034 - typing.Self is Python 3.11+
        self.push()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pop(exc_info[1] if isinstance(exc_info[1], BaseException) else None)


app_context = AppContext


def _run_to_end(result: Any) -> None:
    """Await what an async hook returned, from synchronous code (``with app_context(app):``)."""
    if not inspect.isawaitable(result):
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # no loop in this thread: run one for the hook

        async def awaited() -> None:
            await result

        asyncio.run(awaited())
        return
    result.close()  # type: ignore[union-attr]
    raise RuntimeError("an async teardown_appcontext hook cannot run when an app context is left inside a running event loop")


def _root_path(app: Any) -> str:
    """Flask's ``app.root_path`` (``app.flask_root_path``): the folder of the module that created
    the app, which relative file and template paths start from."""
    return getattr(app, "flask_root_path", None) or os.getcwd()


# Flask's (werkzeug's) text types that get "; charset=utf-8" besides text/*.
_CHARSET_TYPES = frozenset(
    {
        "application/ecmascript", "application/javascript", "application/sql", "application/xml",
        "application/xml-dtd", "application/xml-external-parsed-entity",
    }
)
# What a 304 leaves out (werkzeug removes the entity headers but Expires and Content-Location).
_NOT_IN_304 = frozenset(
    {"allow", "content-encoding", "content-language", "content-length", "content-md5", "content-range",
     "content-type", "last-modified"}
)


def _content_type(mimetype: str) -> str:
    if "charset=" not in mimetype and (
        mimetype.startswith("text/") or mimetype in _CHARSET_TYPES or mimetype.endswith("+xml")
    ):
        return f"{mimetype}; charset=utf-8"
    return mimetype


def _content_disposition(download_name: str, as_attachment: bool) -> str:
    """Flask's header: a plain ``filename=`` (quoted only when needed), and for a non-ASCII name an
    ASCII fallback plus the RFC 5987 ``filename*``."""
    import unicodedata
    from urllib.parse import quote

    kind = "attachment" if as_attachment else "inline"
    try:
        download_name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        quoted = quote(download_name, safe="!#$&+-.^_`|~")
        return f"{kind}; filename={_header_token(simple)}; filename*=UTF-8''{quoted}"
    return f"{kind}; filename={_header_token(download_name)}"


def _header_token(value: str) -> str:
    """A header parameter value as werkzeug writes it: bare when it is a token, else quoted."""
    if value and re.fullmatch(r"[\w!#$%&'*+\-.^`|~]+", value, re.ASCII):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _http_date(value: Any) -> str:
    from datetime import datetime, timezone
    from email.utils import format_datetime, formatdate

    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return format_datetime(value.astimezone(timezone.utc), usegmt=True)
    return formatdate(float(value), usegmt=True)


def _parse_http_date(value: str | None) -> float | None:
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None


def _etags(value: str | None) -> tuple[set[str], set[str], bool]:
    """(strong tags, all tags without W/, star) of an If-Match / If-None-Match header."""
    strong, every = set(), set()
    for tag in re.findall(r'(W/)?"([^"]*)"', value or ""):
        every.add(tag[1])
        if not tag[0]:
            strong.add(tag[1])
    return strong, every, (value or "").strip() == "*"


def _unmodified(headers: Any, etag: str | None, last_modified: float | None) -> bool:
    """werkzeug's is_resource_modified, negated: the client's copy is current."""
    unmodified = False
    since = _parse_http_date(headers.get("if-modified-since"))
    if since is not None and last_modified is not None and int(last_modified) <= since:
        unmodified = True
    if etag:
        tag = etag.strip('"')
        _, none_match, none_star = _etags(headers.get("if-none-match"))
        if none_match or none_star:
            unmodified = none_star or tag in none_match
        strong, every, star = _etags(headers.get("if-match"))
        if every or star:
            unmodified = not (star or tag in strong)
    return unmodified


def _byte_range(header: str | None, size: int | None) -> tuple[int, int] | None:
    """The one byte range werkzeug serves (start, stop), None for no range request; a range it
    cannot serve raises its 416."""
    if not header or not size:
        return None
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    start = stop = None
    if match and match.group(1):
        start = int(match.group(1))
        stop = min(int(match.group(2)) + 1, size) if match.group(2) else size
    elif match and match.group(2) and int(match.group(2)) > 0:
        start, stop = max(size - int(match.group(2)), 0), size
    if start is None or stop is None or start >= stop:
        raise StarletteHTTPException(416, headers={"Content-Range": f"bytes */{size}"})
    return start, stop


def _range_applies(if_range: str | None, etag: str | None, last_modified: float | None) -> bool:
    """A Range is served unless If-Range names another version: a different ETag (weak or not),
    or a date before the file's Last-Modified (werkzeug's reading)."""
    if not if_range:
        return True
    since = _parse_http_date(if_range)
    if since is not None:
        return last_modified is not None and int(last_modified) <= since
    tag = if_range.strip().removeprefix("W/").strip('"')
    return etag is not None and tag == etag.strip('"')


def send_file(
    path_or_file: Any,
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: Any = None,
    max_age: Any = None,
) -> Response:
    """``flask.send_file``: a path (relative to the app's folder, as in Flask) or a binary file
    object, with Flask's headers and conditional answers. A path comes from the code, never
    from the client: use send_from_directory for that."""
    import io
    import time
    import zlib

    app = _app_of_context()
    current = _current_request.get()
    request_headers = current._request.headers if current is not None else {}
    method = current._request.method if current is not None else "GET"
    path, file, size, mtime = None, None, None, None
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.path.join(_root_path(app), os.fspath(path_or_file))
        stat = os.stat(path)  # a missing file is a 500, as in Flask
        size, mtime = stat.st_size, stat.st_mtime
        download_name = download_name if download_name is not None else os.path.basename(path)
    else:
        file = path_or_file
        if isinstance(file, io.BytesIO):
            size = file.getbuffer().nbytes
        elif isinstance(file, io.TextIOBase):
            raise ValueError("Files must be opened in binary mode or use BytesIO.")  # noqa: TRY004 - Flask's
    headers: dict[str, str] = {}
    if mimetype is None:
        if download_name is None:
            raise TypeError("Unable to detect the MIME type because a file name is not available.")
        import mimetypes

        mimetype, encoding = mimetypes.guess_type(download_name)
        mimetype = mimetype or "application/octet-stream"
        if encoding is not None and not as_attachment:
            headers["Content-Encoding"] = encoding
    if download_name is not None:
        headers["Content-Disposition"] = _content_disposition(download_name, as_attachment)
    elif as_attachment:
        raise TypeError("No name provided for attachment.")
    headers["Content-Type"] = _content_type(mimetype)
    if size is not None:
        headers["Content-Length"] = str(size)
    modified = last_modified if last_modified is not None else mtime
    if modified is not None:
        headers["Last-Modified"] = _http_date(modified)
    if max_age is None:
        max_age = app.config.get("SEND_FILE_MAX_AGE_DEFAULT") if hasattr(app, "config") else None
    if callable(max_age):
        max_age = max_age(path)
    if hasattr(max_age, "total_seconds"):
        max_age = int(max_age.total_seconds())
    headers["Cache-Control"] = "no-cache"
    if max_age is not None:
        headers["Cache-Control"] = f"public, max-age={max_age}" if max_age > 0 else f"no-cache, max-age={max_age}"
        headers["Expires"] = _http_date(int(time.time() + max_age))
    if isinstance(etag, str):
        headers["ETag"] = f'"{etag}"'
    elif etag and path is not None:
        headers["ETag"] = f'"{mtime}-{size}-{zlib.adler32(path.encode()) & 0xFFFFFFFF}"'
    status, span = 200, None
    if conditional and method in ("GET", "HEAD"):
        headers["Date"] = _http_date(time.time())
        headers["Accept-Ranges"] = "bytes"
        modified_at = _parse_http_date(headers.get("Last-Modified"))
        if _range_applies(request_headers.get("if-range"), headers.get("ETag"), modified_at):
            span = _byte_range(request_headers.get("range"), size)
        if span is None and _unmodified(request_headers, headers.get("ETag"), modified_at):
            if request_headers.get("if-match"):
                status = 412
            else:
                _close(file)
                kept = {k: v for k, v in headers.items() if k.lower() not in _NOT_IN_304}
                return Response(status_code=304, headers=kept)
    if span is not None:
        status = 206
        headers["Content-Length"] = str(span[1] - span[0])
        headers["Content-Range"] = f"bytes {span[0]}-{span[1] - 1}/{size}"
    if path is not None and span is None:
        response = _FileResponse(path, status_code=status, headers=headers, stat_result=stat)
        if "ETag" not in headers:  # etag=False: none, where FileResponse would make its own
            del response.headers["etag"]
        if not conditional:  # FileResponse announces ranges; Flask did only for conditional files
            del response.headers["accept-ranges"]
        return response
    if path is not None:
        with open(path, "rb") as handle:
            handle.seek(span[0])
            return Response(handle.read(span[1] - span[0]), status_code=status, headers=headers)
    if isinstance(file, io.BytesIO):
        data = file.read()
        return Response(data[span[0]:span[1]] if span else data, status_code=status, headers=headers)
    from starlette.responses import StreamingResponse

    def chunks() -> Any:
        try:
            yield from iter(lambda: file.read(64 * 1024), b"")
        finally:
            _close(file)

    return StreamingResponse(chunks(), status_code=status, headers=headers)


class _FileResponse(FileResponse):
    """Starlette's FileResponse, sending the whole file: send_file has answered Range requests
    already, as Flask does (and, with conditional=False, ignored them)."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") == "http":
            scope = {**scope, "headers": [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"range"]}
        await super().__call__(scope, receive, send)


def _close(file: Any) -> None:
    if file is not None and hasattr(file, "close"):
        file.close()


def safe_join(directory: str, *untrusted: str) -> str | None:
    """werkzeug's safe_join: ``directory`` joined with URL-style path parts, or None when a part
    is absolute, climbs out with ``..`` or uses another separator (a backslash on Windows)."""
    import posixpath

    parts = [directory or "."]
    alternative = [sep for sep in (os.sep, os.altsep) if sep and sep != "/"]
    for part in untrusted:
        if not part:
            continue
        part = posixpath.normpath(part)
        if os.path.isabs(part) or part == ".." or part.startswith(("/", "../")) or any(s in part for s in alternative):
            return None
        parts.append(part)
    return posixpath.join(*parts)


def send_from_directory(directory: Any, path: Any, **kwargs: Any) -> Response:
    """``flask.send_from_directory``: a file under ``directory`` (relative to the app's folder),
    named by the client. A name that leaves the directory (``..``, an absolute path) or no file is
    a 404 raised like ``abort(404)``, so the app's own 404 handler answers, as in Flask."""
    joined = safe_join(os.fspath(directory), os.fspath(path))
    if joined is None:
        raise StarletteHTTPException(404)
    joined = os.path.join(_root_path(_app_of_context()), joined)
    if not os.path.isfile(joined):
        raise StarletteHTTPException(404)
    return send_file(joined, **kwargs)


# Flask autoescapes templates with these endings, and every template given as a string.
_AUTOESCAPED = ("html", "htm", "xml", "xhtml", "svg")
# The blueprints' template folders, searched after the app's (in the order their modules ran).
_BLUEPRINT_TEMPLATE_FOLDERS: list[str] = []


def with_template_folder(router: Any, import_name: str, template_folder: str) -> Any:
    """``Blueprint(..., template_folder=...)``: render_template also finds the templates of this
    folder (beside the blueprint's module), after the app's own, as Flask does."""
    module = sys.modules.get(import_name)
    path = getattr(module, "__file__", None)
    root = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    folder = os.path.join(root, template_folder)
    if folder not in _BLUEPRINT_TEMPLATE_FOLDERS:
        _BLUEPRINT_TEMPLATE_FOLDERS.append(folder)
    return router


def templates_of(app: Any) -> Any:
    """The app's Jinja2Templates: its ``template_folder`` (beside the module that created the
    app, as Flask finds it) then the blueprints', Flask's autoescaping and the globals Flask gives
    every template. Made once per app; ``app.jinja_env`` becomes ``templates_of(app).env``."""
    templates = getattr(app.state, "flask_templates", None)
    folder = os.path.join(_root_path(app), getattr(app, "template_folder", None) or "templates")
    if templates is None:
        import jinja2
        from fastapi.templating import Jinja2Templates

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            autoescape=jinja2.select_autoescape(_AUTOESCAPED, default_for_string=True, default=False),
        )
        env.globals.update(
            url_for=url_for, get_flashed_messages=get_flashed_messages, config=getattr(app, "config", {}),
            request=request, session=session, g=g,
        )
        templates = Jinja2Templates(env=env)
        app.state.flask_templates = templates
    # blueprints imported after the first use add their folders, filters, globals and tests too
    templates.env.loader.searchpath = [folder, *_BLUEPRINT_TEMPLATE_FOLDERS]
    env = templates.env
    for kind, registry in (("filter", env.filters), ("global", env.globals), ("test", env.tests)):
        registry.update(_APP_WIDE[kind])
    return templates


def _template_registrar(kind: str) -> Any:
    def register(app: Any, name: str | None = None) -> Any:
        def decorator(function: Any) -> Any:
            env = templates_of(app).env
            registry = {"filter": env.filters, "global": env.globals, "test": env.tests}[kind]
            registry[name or function.__name__] = function
            return function

        return decorator

    return register


# What blueprints register for every app (bp.app_template_filter & co.), by kind and name.
_APP_WIDE: dict[str, dict[str, Any]] = {"filter": {}, "global": {}, "test": {}, "context_processor": {}}


def _app_wide_registrar(kind: str) -> Any:
    def register(name: str | None = None) -> Any:
        def decorator(function: Any) -> Any:
            _APP_WIDE[kind][name or function.__name__] = function
            return function

        return decorator

    return register


app_template_filter = _app_wide_registrar("filter")
app_template_filter.__doc__ = "A blueprint's ``@bp.app_template_filter(name)``: for every app's templates."
app_template_global = _app_wide_registrar("global")
app_template_global.__doc__ = "A blueprint's ``@bp.app_template_global(name)``: for every app's templates."
app_template_test = _app_wide_registrar("test")
app_template_test.__doc__ = "A blueprint's ``@bp.app_template_test(name)``: for every app's templates."


def app_context_processor(function: Any) -> Any:
    """A blueprint's ``@bp.app_context_processor``: its values go to every app's templates."""
    _APP_WIDE["context_processor"][f"{function.__module__}.{function.__qualname__}"] = function
    return function


template_filter = _template_registrar("filter")
template_filter.__doc__ = "``@app.template_filter(name)``: ``@template_filter(app, name)``."
template_global = _template_registrar("global")
template_global.__doc__ = "``@app.template_global(name)``: ``@template_global(app, name)``."
template_test = _template_registrar("test")
template_test.__doc__ = "``@app.template_test(name)``: ``@template_test(app, name)``."


def context_processor(app: Any) -> Any:
    """``@app.context_processor``: ``@context_processor(app)``; what it returns is added to the
    context of every template rendered, under the values the view passes, as in Flask."""

    def decorator(function: Any) -> Any:
        if getattr(app.state, "flask_context_processors", None) is None:
            app.state.flask_context_processors = []
        app.state.flask_context_processors.append(function)
        return function

    return decorator


def _context(app: Any, context: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for processor in [*_APP_WIDE["context_processor"].values(), *getattr(app.state, "flask_context_processors", ())]:
        merged.update(processor())
    merged.update(context)
    return merged


def flash(message: str, category: str = "message") -> None:
    """``flask.flash``: the message waits in the session until a later request reads it."""
    flashes = list(session.get("_flashes", []))
    flashes.append((category, message))
    session["_flashes"] = flashes


def get_flashed_messages(with_categories: bool = False, category_filter: Any = ()) -> list[Any]:
    """``flask.get_flashed_messages`` (also a template global): the messages flashed so far, taken
    out of the session once per request and kept for the rest of it, as Flask does."""
    current = _current_request.get()
    flashes = getattr(current, "_flashes", None)
    if flashes is None:
        flashes = [tuple(f) for f in session.pop("_flashes", None) or []]
        if current is not None:
            current._flashes = flashes
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    return flashes if with_categories else [message for _, message in flashes]


def render_template(template_name_or_list: Any, **context: Any) -> str:
    """``flask.render_template``: the rendered text (a view returns it as HTML, as in Flask)."""
    app = _app_of_context()
    return templates_of(app).env.get_or_select_template(template_name_or_list).render(_context(app, context))


def render_template_string(source: str, **context: Any) -> str:
    """``flask.render_template_string``: autoescaped, as Flask renders a template given as text."""
    app = _app_of_context()
    return templates_of(app).env.from_string(source).render(_context(app, context))


class TestRequestContext:
    """``app.test_request_context(path, ...)``: ``request``, ``g``, ``session`` and ``url_for``
    work as they would while ``path`` is requested, without running a view (tests, scripts).
    ``base_url`` gives the scheme and host; an app mounted under a path prefix is not supported."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        app: Any,
        path: str = "/",
        base_url: str | None = None,
        query_string: Any = None,
        method: str = "GET",
        headers: Any = None,
        data: Any = None,
        json: Any = None,
        content_type: str | None = None,
    ) -> None:
        import json as json_module
        from urllib.parse import urlsplit

        base = urlsplit(base_url or "http://localhost/")
        if base.path.strip("/"):  # Flask's SCRIPT_NAME: the app mounted under a prefix
            raise ValueError(f"test_request_context: base_url with a path ({base_url}) is not supported")
        path, _, query = path.partition("?")
        if query_string is not None:
            query = query_string if isinstance(query_string, str) else urlencode(query_string, doseq=True)
        body = b""
        if json is not None:
            body, content_type = json_module.dumps(json).encode(), content_type or "application/json"
        elif isinstance(data, dict):
            body = urlencode(data, doseq=True).encode()
            content_type = content_type or "application/x-www-form-urlencoded"
        elif data is not None:
            body = data.encode() if isinstance(data, str) else bytes(data)
        raw = [(str(k).lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in dict(headers or {}).items()]
        raw.append((b"host", base.netloc.encode("latin-1")))
        if content_type:
            raw.append((b"content-type", content_type.encode("latin-1")))
        scope: dict[str, Any] = {
            "type": "http", "http_version": "1.1", "method": method.upper(), "scheme": base.scheme,
            "path": path, "root_path": "", "query_string": query.encode("latin-1"),
            "headers": raw, "client": None, "server": (base.hostname, base.port), "app": app,
        }
        if getattr(app, "config", {}).get("SECRET_KEY"):
            scope["session"] = {}
        self.request = Request(scope)
        self.request._body = body
        self._tokens: list[tuple[Any, Any]] = []

    def push(self) -> None:
        self._tokens.append((_current_request.set(FlaskRequest(self.request)), _request_globals.set(SimpleNamespace())))

    def pop(self, exc: BaseException | None = None) -> None:
        request_token, g_token = self._tokens.pop()
        _request_globals.reset(g_token)
        _current_request.reset(request_token)

    def __enter__(self) -> TestRequestContext:  # noqa: PYI034 - typing.Self is Python 3.11+
        self.push()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.pop()


test_request_context = TestRequestContext


def with_appcontext(command: Any) -> Any:
    """``flask.cli.with_appcontext``: the command runs in the app context. Commands of ``app.cli``
    always do; a command outside it finds the app on click's context object."""
    import click

    @click.pass_context
    def run(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        app = ctx.find_object(_CliApp)
        if _app_contexts.get() is None and _current_request.get() is None and app is not None:
            ctx.with_resource(AppContext(app.app))
        return ctx.invoke(command, *args, **kwargs)

    return functools.update_wrapper(run, command)


class _CliApp:
    def __init__(self, app: Any) -> None:
        self.app = app


# The blueprints' command groups (``bp.cli``), offered by every app's ``cli`` under their names.
_BLUEPRINT_COMMANDS: dict[str, Any] = {}


def blueprint_cli(name: str) -> Any:
    """``bp.cli`` of the blueprint called ``name``: a click group that ``app.cli`` offers as
    ``name``, as Flask did once the blueprint was registered (``flask users create``)."""
    import click

    return _BLUEPRINT_COMMANDS.setdefault(name, click.Group(name))


def _cli_group(app: Any) -> Any:
    """``app.cli``: a click group whose commands (and the blueprints') run in the app context, as
    under ``flask``. None when click is not installed (it comes with uvicorn)."""
    try:
        import click
    except ImportError:  # pragma: no cover - click comes with uvicorn
        return None

    class AppCommands(click.Group):
        def get_command(self, ctx: Any, name: str) -> Any:
            return super().get_command(ctx, name) or _BLUEPRINT_COMMANDS.get(name)

        def list_commands(self, ctx: Any) -> list[str]:
            return sorted({*super().list_commands(ctx), *_BLUEPRINT_COMMANDS})

    def enter_app_context() -> None:
        ctx = click.get_current_context()
        ctx.obj = _CliApp(app)
        if _app_contexts.get() is None:
            ctx.with_resource(AppContext(app))

    name = getattr(app, "name", None)
    return AppCommands(name, callback=enter_app_context, help="The app's commands (Flask's app.cli).")


def _load_app(spec: str) -> Any:
    """``module:attribute`` (an app or an app factory), or ``module`` with ``app`` or ``create_app``."""
    sys.path.insert(0, os.getcwd())
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    found = getattr(module, attribute or "app", None)
    if found is None and not attribute:
        found = getattr(module, "create_app", None)
    if found is None:
        raise SystemExit(f"no app {attribute or 'app'} in {module_name}")
    return found() if inspect.isfunction(found) else found


def main(argv: list[str] | None = None) -> None:
    """``flask --app pkg.app seed-notes``: ``python -m pkg.flask_compat --app pkg.app:app seed-notes``
    (``--app`` may be left out when FLASK_APP is set)."""
    args = list(sys.argv[1:] if argv is None else argv)
    spec = os.environ.get("FLASK_APP")
    if args[:1] == ["--app"] and len(args) > 1:
        spec, args = args[1], args[2:]
    elif args and args[0].startswith("--app="):
        spec, args = args[0].removeprefix("--app="), args[1:]
    if not spec:
        raise SystemExit("usage: python -m <package>.flask_compat --app module:app COMMAND [ARGS]...")
    app = _load_app(spec)
    app.cli.main(args=args, prog_name=f"python -m {__spec__.name if __spec__ else 'flask_compat'} --app {spec}")


if __name__ == "__main__":
    main()
