"""``NativeApp`` and ``NativeRoute``: the converted app once no Flask is left, and its routes.

When every route of a project is native and nothing else of Flask is used (the converter's last
step, transforms/leave_flask.py), the Flask app, the bridge and the dependency on Flask leave.
What the project's factory still uses of Flask's app object, and the conventions its clients
saw, stay, without Flask or werkzeug:

- ``NativeApp(__name__, instance_relative_config=True)`` takes Flask's constructor arguments and
  has the parts of the app object that factory and test code read: ``config`` (``config.Config``,
  Flask's loaders), ``extensions``, ``instance_path`` (found as Flask finds it:
  ``auto_find_instance_path``), ``import_name``, ``name``, ``logger``, ``testing``, ``debug`` and
  ``test_client()`` (``native_testing``). Flask's ``root_path`` is ``folder`` here: FastAPI's
  ``root_path`` is the ASGI one. It opens the shared HTTP client in its lifespan (``http``).
- Its routes answer as Flask's did (``FlaskConventions``): HEAD is served by the GET view without
  a body; OPTIONS is answered with 200, an empty body and ``Allow``; a path that only exists with
  a trailing slash is redirected there with 308; an error that Starlette raises or the code
  raises as ``HTTPException`` reaches the app's exception handlers with werkzeug's description
  where none was given, and a 405 with Flask's ``Allow`` (every method of the URL, HEAD and
  OPTIONS). The handler is looked up as Flask looked it up: by status, then by class, then the
  project's handler for ``Exception``; without any, an error is werkzeug's HTML page.
- A request whose parameters do not validate is a 400 for the app's handlers, as the view's own
  ``request.args["x"]`` was (``flask_errors=False``: FastAPI's 422).
- ``NativeRoute`` (``APIRouter(route_class=NativeRoute)``) makes what the view returns a response
  as Flask's ``make_response`` did (``flask_response``): a dict or list as ``jsonify`` wrote it, a
  ``(body, status, headers)`` tuple, a str as HTML, a Starlette response as it is; the route's
  ``status_code=`` and FastAPI's sub-response apply. It reads query parameters, headers and
  cookies as Flask read them (the first of a repeated query key or cookie, a repeated header's
  values joined) and a ``FlaskJson`` body as ``request.get_json`` did (415 before the size
  counts, 413 over ``MAX_CONTENT_LENGTH``, 400 for malformed JSON; under ``silent`` only 413, and
  only for a JSON content type). A form or file body over ``MAX_CONTENT_LENGTH`` is werkzeug's 413
  too; a body the view does not read is not counted, as under Flask.
- ``NativeApp`` refuses what it cannot honour of Flask's constructor: a static folder that exists
  (Flask served it; pass ``static_folder=None`` and mount Starlette's ``StaticFiles``), host or
  subdomain matching. ``template_folder`` is kept as an attribute only (templates are Flask's).
  FastAPI's own options (``title=``...) pass through.

An unhandled exception is handled as Flask's ``handle_exception`` did: answered by the app's
handler for 500 (or ``Exception``), else werkzeug's 500 page, logged on the app's logger
("Exception on /path [GET]"), inside the app's middleware so that its after hooks see the 500;
where Flask propagated it (``PROPAGATE_EXCEPTIONS``, or testing / debug mode) it is raised on, to
Starlette's ServerErrorMiddleware and the server (or the test).

What differs from Flask, by design: form bodies and uploads are parsed by FastAPI
(python-multipart), not werkzeug; an exception raised by a middleware outside the routes (a before
hook) is answered by Starlette's ServerErrorMiddleware with the same handler, without the after
hooks.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import logging
import os
import re
import sys
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import http, http_errors, json_body, params, refusals
from .config import Config
from .json_response import FlaskJSONResponse
from .redirects import redirect

__all__ = ["FlaskConventions", "NativeApp", "NativeRoute", "flask_response"]

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# Flask's constructor arguments that have no part here once they are off (the default or falsy)
_REFUSED_WHEN_SET = ("static_host", "host_matching", "subdomain_matching")
# the endpoint's own parameters for the request and FastAPI's sub-response
_REQUEST = "flask2fastapi_request"
_SUB_RESPONSE = "flask2fastapi_response"


class NativeApp(FastAPI):
    """A FastAPI app with what the project's factory used of Flask's app object, and Flask's
    conventions for its routes (module doc)."""

    def __init__(
        self,
        import_name: str,
        *,
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        static_folder: str | os.PathLike[str] | None = "static",
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = "templates",
        flask_errors: bool = True,
        http_client_options: http.HttpClientOptions = http.HttpClientOptions(),
        **options: Any,
    ) -> None:
        for argument in _REFUSED_WHEN_SET:
            if options.pop(argument, False):
                raise TypeError(f"NativeApp has no {argument}: Flask's host and subdomain matching stay with Flask")
        folder = _package_folder(import_name)
        if static_folder is not None and os.path.isdir(os.path.join(folder, static_folder)):
            # Flask served it at static_url_path; silently answering 404 there would change the app
            raise TypeError(
                f"NativeApp serves no static folder ({os.path.join(folder, static_folder)} exists): pass static_folder=None "
                "and mount starlette.staticfiles.StaticFiles at its URL"
            )
        options.setdefault("redirect_slashes", False)  # Flask's way: FlaskConventions
        super().__init__(**options)
        self.router.route_class = NativeRoute
        self.router.lifespan_context = http.with_http_client(self.router.lifespan_context, http_client_options)
        self.import_name = import_name
        self.folder = folder
        # what render_template read; templates are Flask's, so this is only kept for code that reads it
        self.template_folder = template_folder
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError("instance_path must be absolute, as Flask requires")
        self.instance_path = instance_path
        self.config = Config(instance_path if instance_relative_config else self.folder)
        self.config["DEBUG"] = os.environ.get("FLASK_DEBUG", "").lower() not in ("", "0", "false", "no")
        if options.get("debug") is not None:  # FastAPI's debug=, set before the config existed
            self.config["DEBUG"] = bool(options["debug"])
        self.extensions: dict[str, Any] = {}
        self.add_middleware(FlaskConventions, app_routes=self)  # type: ignore[arg-type]
        self.add_exception_handler(HTTPException, answer_http_error)
        # werkzeug's 500 page where the project has no handler of its own (a later 500 or
        # Exception one replaces it: Starlette takes the last registered of the two)
        self.add_exception_handler(500, answer_server_error)
        if flask_errors:
            self.add_exception_handler(RequestValidationError, answer_validation_error)
        # Flask-HTTPAuth's and Flask-Login's refusals, answered as they answered them (refusals)
        FastAPI.add_exception_handler(self, refusals.Refused, refusals.answer_refused)

    @property
    def name(self) -> str:
        """Flask's ``app.name``: the import name, or the main script's for ``__main__``."""
        if self.import_name == "__main__":
            main = getattr(sys.modules["__main__"], "__file__", None)
            return os.path.splitext(os.path.basename(main))[0] if main else "__main__"
        return self.import_name

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(self.name)

    @property
    def testing(self) -> bool:
        return bool(self.config["TESTING"])

    @testing.setter
    def testing(self, value: bool) -> None:
        self.config["TESTING"] = value

    @property
    def debug(self) -> bool:  # type: ignore[override]
        return bool(self.config.get("DEBUG")) if hasattr(self, "config") else False

    @debug.setter
    def debug(self, value: bool) -> None:
        if hasattr(self, "config"):
            self.config["DEBUG"] = value

    @property
    def propagate_exceptions(self) -> bool:
        """Whether an unhandled exception reaches the test (Flask's rule)."""
        configured = self.config.get("PROPAGATE_EXCEPTIONS")
        return bool(configured) if configured is not None else self.testing or self.debug

    def auto_find_instance_path(self) -> str:
        """Flask's instance folder: ``instance`` next to the package, or ``<prefix>/var/<name>-instance``
        for an installed one."""
        package_path, installed_prefix = _package_path(self.import_name)
        if installed_prefix is None:
            return os.path.join(package_path, "instance")
        return os.path.join(installed_prefix, "var", f"{self.name}-instance")

    def add_exception_handler(self, exc_class_or_status_code: Any, handler: Callable[..., Any]) -> None:
        # every handler that may get an HTTPException gets it as Flask's handler got werkzeug's
        super().add_exception_handler(exc_class_or_status_code, _with_flask_details(handler))
        # Starlette reads the handlers when it builds the stack, on the first request: one added
        # later (a test's, after a request) is seen once the stack is built again
        self.middleware_stack = None

    def test_client(self, use_cookies: bool = True) -> Any:
        from .native_testing import NativeClient

        return NativeClient(self, use_cookies=use_cookies)

    def has_own(self, scope: Scope) -> bool:
        """Whether a route matches the request's URL and method itself (a view that declared
        OPTIONS or HEAD, which Flask then let answer it)."""
        return any(route.matches(scope)[0] is Match.FULL for route in self.router.routes)

    def allowed_methods(self, scope: Scope) -> list[str]:
        """The methods Flask's ``Allow`` lists for the request's URL: those of every route that
        matches it, HEAD with GET, and OPTIONS; empty when no route matches."""
        found = set()
        for method in _METHODS:
            probe = {**scope, "method": method}
            if any(route.matches(probe)[0] is Match.FULL for route in self.router.routes):
                found.add(method)
        if not found:
            return []
        if "GET" in found:
            found.add("HEAD")
        return sorted(found | {"OPTIONS"})


class FlaskConventions:
    """Pure ASGI middleware (the app's innermost): HEAD, automatic OPTIONS and the trailing
    slash redirect as Flask answered them (module doc)."""

    def __init__(self, app: ASGIApp, app_routes: NativeApp) -> None:
        self.app = app
        self.routes = app_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method in ("OPTIONS", "HEAD") and self.routes.has_own(scope):
            # a route of the URL declares the method: its view answers it, as Flask's did (a HEAD without its body)
            await self.app(scope, receive, _without_body(send) if method == "HEAD" else send)
            return
        if method == "OPTIONS":
            allowed = self.routes.allowed_methods(scope)
            if allowed:
                response = Response(b"", headers={"Allow": ", ".join(allowed)}, media_type="text/html")
                await response(scope, receive, send)
                return
        elif method == "HEAD":
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        if not scope["path"].endswith("/"):
            send = self._slash_redirecting(scope, receive, send)
        await self._handling_errors(scope, receive, send)

    async def _handling_errors(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request, an exception no handler took answered as Flask's ``handle_exception``
        did: logged on the app's logger, answered by the app's handler for 500 or ``Exception``
        inside the app's middleware (so its after hooks see the 500, as Flask's after_request
        functions did), or raised on where Flask propagated it (the test client's case)."""
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started or self.routes.propagate_exceptions:
                raise  # Starlette's ServerErrorMiddleware answers and the server logs it
            self.routes.logger.error("Exception on %s [%s]", scope["path"], scope["method"], exc_info=exc)
            request = Request(scope, receive)
            answered = _server_error_handler(self.routes)(request, exc)
            response = await answered if inspect.isawaitable(answered) else answered
            await response(scope, receive, sending)

    def _slash_redirecting(self, scope: Scope, receive: Receive, send: Send) -> Send:
        """``send``, except that a 404 for a URL whose rule ends with a slash, and takes the
        request's method, is werkzeug's 308 there instead (looked for only on a 404: the routes
        are not searched on every request)."""
        redirected = False

        async def sending(message: Message) -> None:
            nonlocal redirected
            if redirected:
                return  # the 404's body: the redirect was sent in its place
            if message["type"] == "http.response.start" and message["status"] == 404:
                slashed = {**scope, "path": scope["path"] + "/"}
                if scope["method"] in self.routes.allowed_methods(slashed):
                    redirected = True
                    await _redirect(scope, slashed["path"])(scope, receive, send)
                    return
            await send(message)

        return sending


def _without_body(send: Send) -> Send:
    async def head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return head


def _redirect(scope: Scope, path: str) -> Response:
    """werkzeug's 308 to the URL with the slash (its absolute Location and its page)."""
    request = Request(scope)
    url = str(request.url.replace(path=(scope.get("root_path") or "") + path))
    return redirect(url, 308)


# -- errors ----------------------------------------------------------------------------------


def _with_flask_details(handler: Callable[..., Any]) -> Callable[..., Any]:
    """``handler``, given an HTTPException as Flask gave its handler werkzeug's (``flask_error``)."""

    @functools.wraps(handler)
    async def handle(request: Request, exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            exc = flask_error(request, exc)
        answered = handler(request, exc)
        return await answered if inspect.isawaitable(answered) else answered

    return handle


def flask_error(request: Request, exc: HTTPException) -> HTTPException:
    """The exception as werkzeug raised it for the same request: werkzeug's description where
    only the status's phrase was given (``raise HTTPException(404)``, Starlette's own 404), and
    Flask's ``Allow`` on a 405."""
    detail = exc.detail
    if detail == _phrase(exc.status_code):
        detail = http_errors.description(exc.status_code) or detail
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        app = request.scope.get("app")
        allowed = app.allowed_methods(request.scope) if isinstance(app, NativeApp) else []
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    if detail == exc.detail and headers == dict(exc.headers or {}):
        return exc
    made = type(exc).__new__(type(exc))
    made.__dict__.update(exc.__dict__)
    made.detail, made.headers = detail, headers or None
    return made


def _phrase(code: int) -> str | None:
    from http import HTTPStatus

    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return None


async def answer_http_error(request: Request, exc: HTTPException) -> Response:
    """The answer to an HTTPException no handler of the project's for its status or class takes:
    the project's handler for ``Exception`` where there is one (Flask's lookup ends there: an
    ``errorhandler(Exception)`` got ``abort(409)`` and the 404 of an unknown URL), else
    werkzeug's page."""
    for_everything = getattr(request.app, "exception_handlers", {}).get(Exception)
    if for_everything is not None:
        answered = for_everything(request, exc)
        return await answered if inspect.isawaitable(answered) else answered
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "content-type"}
    return HTMLResponse(http_errors.error_page(exc.status_code, exc.detail), status_code=exc.status_code, headers=headers)


def _server_error_handler(app: Any) -> Callable[..., Any]:
    """The handler Flask picked for an exception no other handler took: the one for
    ``Exception`` (its lookup by class comes first), else the one for 500, else werkzeug's page."""
    handlers = app.exception_handlers
    return handlers.get(Exception) or handlers.get(500) or answer_server_error


def answer_server_error(request: Request, exc: Exception) -> Response:
    """An unhandled exception, answered as Flask did without a handler of the project's:
    werkzeug's 500 page (``FlaskConventions`` logs it first, as Flask did)."""
    return HTMLResponse(http_errors.error_page(500, http_errors.description(500)), status_code=500)


async def answer_validation_error(request: Request, exc: Exception) -> Response:
    """Parameters that do not validate: the 400 of the view's own ``request.args["x"]``, for the
    app's handler of it (werkzeug's BadRequest: the same description)."""
    refusal = HTTPException(status_code=400, detail=http_errors.description(400))
    handler = _handler_for(request.app, refusal)
    answered = handler(request, refusal)
    return await answered if inspect.isawaitable(answered) else answered


def _handler_for(app: Any, exc: HTTPException) -> Callable[..., Any]:
    """The app's handler Starlette would pick for ``exc``: by its status, then its class."""
    handlers = app.exception_handlers
    if exc.status_code in handlers:
        return handlers[exc.status_code]
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return answer_http_error


# -- routes ----------------------------------------------------------------------------------


# The scope key a route of the runtime's (NativeRoute, FlaskRoute) sets, when its ``matches`` is
# full, to its name: Flask's endpoint. The router asks a route whether it matches before handing
# it the request, and so does RequestHooks, ahead of the router, to learn which blueprint's hooks
# run (hooks.endpoint_of): a route inside an included router is asked with the scope itself,
# whatever the router in between gives back.
ENDPOINT = "flask2fastapi.endpoint"


def marked(route: APIRoute, scope: Scope, found: tuple[Match, Scope]) -> tuple[Match, Scope]:
    if found[0] is Match.FULL:
        scope[ENDPOINT] = route.name
    return found


class NativeRoute(APIRoute):
    """An APIRoute whose view answers as it did under Flask (module doc)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return marked(self, scope, super().matches(scope))

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        view = getattr(endpoint, "__flask2fastapi_view__", endpoint)  # FastAPI 0.115 copies routes
        self.view = view
        # what the view returns is made a response here: a response_model only documents it
        if isinstance(kwargs.get("response_model"), DefaultPlaceholder) or "response_model" not in kwargs:
            kwargs["response_model"] = None
        endpoint, self.flask_json = _native_endpoint(view, kwargs.get("status_code"))
        super().__init__(_werkzeug_matching(path, endpoint), endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        json = self.flask_json

        # a form or other body FastAPI reads for the view (not a FlaskJson one, read in the endpoint)
        reads_body = self.body_field is not None and not json

        async def flask_request_handler(request: Request) -> Response:
            if reads_body:
                refuse_too_large(request)
            return await handler(FlaskReadRequest(request.scope, request.receive, json))

        return flask_request_handler


class FlaskReadRequest(Request):
    """The request FastAPI reads a native route's parameters from: the first value of a repeated
    query key, form field or cookie and a repeated header's values joined, as Flask's request gave
    them; a FlaskJson body left to the endpoint (``json_body.UNREAD``)."""

    def __init__(self, scope: Scope, receive: Receive, json: bool) -> None:
        super().__init__(scope, receive)
        self.flask_json = json

    @property
    def query_params(self) -> Any:  # type: ignore[override]
        if not hasattr(self, "_flask_query"):
            query = self.scope.get("query_string", b"").decode("latin-1")
            self._flask_query = params.FirstValues(parse_qsl(query, keep_blank_values=True))
        return self._flask_query

    @property
    def headers(self) -> Any:  # type: ignore[override]
        if not hasattr(self, "_flask_headers"):
            joined: dict[bytes, list[bytes]] = {}
            for name, value in self.scope["headers"]:
                joined.setdefault(name.lower(), []).append(value)
            self._flask_headers = Headers(raw=[(name, b",".join(values)) for name, values in joined.items()])
        return self._flask_headers

    @property
    def cookies(self) -> dict[str, str]:  # type: ignore[override]
        if not hasattr(self, "_flask_cookies"):
            from http.cookies import _unquote  # type: ignore[attr-defined]  # the stdlib's reading

            first: dict[str, str] = {}
            for header in self.headers.getlist("cookie"):
                for chunk in header.split(";"):
                    name, found, value = chunk.strip().partition("=")
                    if found and name:
                        first.setdefault(name.strip(), _unquote(value.strip()))
            self._flask_cookies = first
        return self._flask_cookies

    async def json(self) -> Any:
        return json_body.UNREAD if self.flask_json else await super().json()

    def form(self, **limits: Any) -> Any:  # type: ignore[override]
        """The form Starlette parses, its single-value reads giving a repeated key's first value
        (``title: Annotated[str, Form()]`` is what ``request.form["title"]`` was)."""
        return _FormCall(self._first_values_form(limits))

    async def _first_values_form(self, limits: dict[str, Any]) -> FormData:
        if not hasattr(self, "_flask_form"):
            parsed = await super().form(**limits)
            self._flask_form = FirstValueForm(parsed.multi_items())
        return self._flask_form


class FirstValueForm(FormData):
    """Form fields whose single-value reads give the first of a repeated key, as werkzeug's
    MultiDict did; ``getlist`` and ``multi_items`` give every value."""

    def __init__(self, items: list[tuple[str, Any]]) -> None:
        super().__init__(items)
        self._first: dict[str, Any] = {}
        for key, value in items:
            self._first.setdefault(key, value)

    def __getitem__(self, key: Any) -> Any:
        return self._first[key]

    def values(self) -> Any:
        return self._first.values()

    def items(self) -> Any:
        return self._first.items()


class _FormCall:
    """``request.form()``'s answer, awaited (as FastAPI does) or used as ``async with`` (which
    closes the form's files at its end, as Starlette's does)."""

    def __init__(self, coroutine: Any) -> None:
        self.coroutine = coroutine
        self.form: FormData | None = None

    def __await__(self) -> Any:
        return self.coroutine.__await__()

    async def __aenter__(self) -> FormData:
        self.form = await self.coroutine
        return self.form

    async def __aexit__(self, *exc_info: Any) -> None:
        if self.form is not None:
            await self.form.close()


class _FloatConvertor(Convertor[float]):
    """werkzeug's float converter: digits, a dot, digits (``/price/1`` is no float there)."""

    regex = r"[0-9]+\.[0-9]+"

    def convert(self, value: str) -> float:
        return float(value)

    def to_string(self, value: float) -> str:
        return str(value)


class _UUIDConvertor(Convertor[uuid.UUID]):
    """werkzeug's uuid converter: hex digits of either case."""

    regex = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        return str(value)


register_url_convertor("werkzeug_float", _FloatConvertor())
register_url_convertor("werkzeug_uuid", _UUIDConvertor())
_CONVERTORS = {int: "int", float: "werkzeug_float", uuid.UUID: "werkzeug_uuid"}
_PARAMETER = re.compile(r"\{(?P<name>[A-Za-z_]\w*)\}")


def _werkzeug_matching(path: str, endpoint: Callable[..., Any]) -> str:
    """The path with a convertor for each int, float and UUID parameter, so that the route
    matches what werkzeug's converter matched (``/notes/x`` is a 404 for ``<int:note_id>``, not a
    validation error)."""
    parameters = inspect.signature(endpoint).parameters

    def part(match: re.Match[str]) -> str:
        parameter = parameters.get(match["name"])
        annotation = parameter.annotation if parameter is not None else None
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        convertor = _CONVERTORS.get(annotation)
        return f"{{{match['name']}:{convertor}}}" if convertor else match[0]

    return _PARAMETER.sub(part, path)


def _native_endpoint(view: Callable[..., Any], status_code: int | None) -> tuple[Callable[..., Any], bool]:
    """The endpoint FastAPI calls: the view called with the parsed parameters (its FlaskJson
    bodies read first), what it returns made the response Flask made."""
    signature = _resolved_signature(view)
    bodies = json_body.json_parameters(signature)
    asynchronous = inspect.iscoroutinefunction(view)
    parameters = list(signature.parameters.values())
    # FastAPI gives the request and the sub-response to one parameter each: the view's own if it has one
    own = next((p.name for p in parameters if _is_response(p.annotation)), None)
    own_request = next((p.name for p in parameters if _is_request(p.annotation)), None)
    at = next((i for i, p in enumerate(parameters) if p.kind is p.VAR_KEYWORD), len(parameters))
    hidden = []
    if own_request is None:
        hidden.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    if own is None:
        hidden.append(inspect.Parameter(_SUB_RESPONSE, inspect.Parameter.KEYWORD_ONLY, annotation=Response))
    parameters[at:at] = hidden

    @functools.wraps(view)
    async def endpoint(**kwargs: Any) -> Response:
        request = kwargs.pop(_REQUEST) if own_request is None else kwargs[own_request]
        sub_response = kwargs.pop(_SUB_RESPONSE) if own is None else kwargs[own]
        for name, (how, model) in bodies.items():
            if how.deferred:  # the body is here now; what reading it may answer, later (json_body)
                kwargs[name] = json_body.BodyReader(functools.partial(_read_later, request, await request.body(), how, model))
            else:
                kwargs[name] = how.model_of(await flask_json_value(request, how), model)
        value = await view(**kwargs) if asynchronous else await run_in_threadpool(view, **kwargs)
        return flask_response(value, status_code, sub_response)

    endpoint.__signature__ = signature.replace(parameters=json_body.as_bodies(parameters, bodies))  # type: ignore[attr-defined]
    endpoint.__flask2fastapi_view__ = view  # type: ignore[attr-defined]
    del endpoint.__wrapped__  # FastAPI reads the signature above, already resolved
    return endpoint, bool(bodies)


async def flask_json_value(request: Request, how: json_body.FlaskJson) -> Any:
    """What ``request.get_json(force=..., silent=...)`` gave for this request (module doc)."""
    if not (how.force or _is_json(request)):  # decided before the body is read, so before its size counts
        return _not_json(how)
    refuse_too_large(request)
    return _decoded(request, await request.body(), how)


def _read_later(request: Request, body: bytes, how: json_body.FlaskJson, model: Any) -> Any:
    """A deferred body's read (``json_body.BodyReader``): what ``flask_json_value`` gives, the body
    already received."""
    if not (how.force or _is_json(request)):
        return how.model_of(_not_json(how), model)
    refuse_too_large(request)
    return how.model_of(_decoded(request, body, how), model)


def _is_json(request: Request) -> bool:
    mimetype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def _not_json(how: json_body.FlaskJson) -> None:
    if how.silent:
        return None
    raise HTTPException(
        status_code=415,
        detail="Did not attempt to load JSON data because the request Content-Type was not 'application/json'.",
    )


def _decoded(request: Request, body: bytes, how: json_body.FlaskJson) -> Any:
    limit = _content_limit(request)
    if limit is not None and len(body) > limit:
        raise HTTPException(status_code=413)
    try:
        return json.loads(body)
    except ValueError as error:
        if how.silent:
            return None
        # Flask says why only in debug mode: else werkzeug's plain BadRequest
        debug = getattr(request.app, "debug", False)
        raise HTTPException(status_code=400, detail=f"Failed to decode JSON object: {error}" if debug else None) from None


def _content_limit(request: Request) -> int | None:
    return getattr(request.app, "config", {}).get("MAX_CONTENT_LENGTH")


def refuse_too_large(request: Request) -> None:
    """werkzeug's 413 for a body whose declared length is over the app's ``MAX_CONTENT_LENGTH``,
    raised where Flask raised it: when the body is read (its JSON, its form)."""
    limit = _content_limit(request)
    declared = request.headers.get("content-length")
    if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status_code=413)


def flask_response(value: Any, status_code: int | None, sub_response: Response | None) -> Response:
    """The response Flask's ``make_response`` made of what a view returned (module doc), with the
    route's declared status for a plain body and FastAPI's sub-response's headers and status."""
    body, status, headers = value, None, None
    if isinstance(value, tuple):
        if len(value) == 3:
            body, status, headers = value
        elif len(value) == 2:
            body, second = value
            if isinstance(second, (Mapping, list, Headers)):
                headers = second
            else:
                status = second
        else:
            raise TypeError("The view function did not return a valid response tuple: (body, status, headers), (body, status) or (body, headers)")
    if isinstance(body, Response):
        response = body
    elif isinstance(body, (dict, list)):
        response = FlaskJSONResponse(body)
    elif isinstance(body, (str, bytes, bytearray)):
        response = HTMLResponse(bytes(body) if not isinstance(body, str) else body)
    elif body is None and status_code is not None and status_code in (204, 205, 304):
        response = Response(status_code=status_code)
    elif body is None:
        raise TypeError("The view function did not return a valid response: it returned None")
    elif isinstance(body, Iterable):
        response = StreamingResponse(body, media_type="text/html")
    else:
        raise TypeError(f"The view function did not return a valid response: a {type(body).__name__}")
    if status is not None:
        response.status_code = int(str(status).split()[0])
    elif status_code is not None and not isinstance(body, Response):
        response.status_code = status_code
    if headers is not None:
        items = headers.items() if isinstance(headers, Mapping) else headers
        for name, header_value in items:
            response.headers[name] = str(header_value)
    if sub_response is not None and not isinstance(value, Response):
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        response.raw_headers.extend((k, v) for k, v in sub_response.raw_headers if k != b"content-length")
    if response.status_code < 200 or response.status_code in (204, 304):
        # a status with no body: werkzeug sent no Content-Length (the status was set after the body)
        response.raw_headers[:] = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
    return response


def _resolved_signature(view: Callable[..., Any]) -> inspect.Signature:
    """The view's signature with its string annotations resolved in its module, one by one, and
    no return annotation."""
    signature = inspect.signature(view)
    namespace = getattr(inspect.unwrap(view), "__globals__", {})
    parameters = [p.replace(annotation=_resolved(p.annotation, namespace)) for p in signature.parameters.values()]
    return signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)


def _resolved(annotation: Any, namespace: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, namespace)  # what typing.get_type_hints does for one annotation
    except Exception:  # FastAPI will say which annotation it cannot use
        return annotation


def _is_request(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Request)


def _is_response(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Response)


# -- where the app lives -----------------------------------------------------------------------


def _package_folder(import_name: str) -> str:
    """Flask's ``root_path``: the folder of the module (the package's own folder)."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None)
    if filename is None:
        spec = importlib.util.find_spec(import_name) if import_name != "__main__" else None
        filename = spec.origin if spec is not None and spec.origin not in (None, "namespace") else None
    return os.path.dirname(os.path.abspath(filename)) if filename else os.getcwd()


def _package_path(import_name: str) -> tuple[str, str | None]:
    """The folder that holds the app's top-level package (or module), and the install prefix when
    that folder is a site-packages one (Flask's ``find_package``)."""
    root = import_name.partition(".")[0]
    spec = importlib.util.find_spec(root) if root != "__main__" else None
    if spec is None or spec.origin in (None, "namespace"):
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        folder = os.path.dirname(locations[0]) if locations else os.getcwd()
    elif spec.submodule_search_locations:  # a package: the folder its folder is in
        folder = os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
    else:
        folder = os.path.dirname(os.path.abspath(spec.origin))
    parts = os.path.normpath(folder).split(os.sep)
    if parts[-1] in ("site-packages", "dist-packages"):
        prefix = os.sep.join(parts[:-3]) if len(parts) > 3 and parts[-3] in ("lib", "lib64") else sys.prefix
        return folder, prefix
    return folder, None
