"""The converted app: a FastAPI app that holds the project's real Flask app and serves both.

``api = FlaskBridge(app)`` takes the Flask app the project builds as it always did (config,
extensions and their ``init_app``, hooks, error handlers, blueprints, Jinja, CLI, ``wsgi_app``
wrappers) and answers every request:

- Flask's ``url_map`` decides which endpoint a request reaches (see ``routing``).
- A native endpoint (a ``FlaskRoute``) goes to FastAPI, which parses its parameters and calls the
  view inside Flask's request cycle.
- Any other request is Flask's alone (a bridged route, or Flask's own 404/405/redirect).
- A URL that only a plain FastAPI route knows (``/docs``, ``/openapi.json``, a route written by
  hand without ``FlaskRoute``) goes to FastAPI as usual.
- An HTTPException or a validation error of a native route is answered by the Flask app's error
  handlers and hooks, as ``abort`` was (``errors``); so is any exception a native route's
  dependency raises that FastAPI has no handler for; on a plain FastAPI route, FastAPI's.
- ``@api.exception_handler(key)`` registers a FastAPI exception handler that Flask calls too,
  where its lookup finds the key (``handlers``).

The dispatch is pure ASGI middleware: no BaseHTTPMiddleware, whose extra task and body copies
cost time on every request. Flask's code runs in one thread-pool call per request.

Code written for Flask that is handed the bridge instead of the Flask app keeps working: an
attribute FastAPI does not have (``config``, ``extensions``, ``before_request``,
``register_blueprint``, ``app_context``, ``test_client``...) is the Flask app's, and
``route`` and ``get("/x/<int:id>")`` with a werkzeug rule register Flask views.
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from flask import Flask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send
from werkzeug.exceptions import HTTPException

from . import errors, handlers, http, refusals, responses, routing, wsgi
from .testing import InlineASGI, bridged_test_client

EXTENSION = "flask2fastapi"


def bridge_of(flask_app: Flask) -> FlaskBridge:
    """The FlaskBridge that serves ``flask_app`` (for code that holds only the Flask app)."""
    return flask_app.extensions[EXTENSION]


class FlaskBridge(FastAPI):
    """A FastAPI app serving a Flask app's routes next to its own native ones (module doc).

    ``flask_errors=False`` (``--native-validation``) lets FastAPI answer a request whose
    parameters do not validate with its 422; by default Flask answers it as the view's own
    ``request.args["x"]`` did, 400 through the app's error handlers and hooks. An
    HTTPException a native route's dependency raises is always Flask's to answer (``errors``).
    ``http_client_options``: the pool of the app's shared aiohttp session (``http``).
    """

    def __init__(
        self,
        flask_app: Flask,
        *,
        flask_errors: bool = True,
        http_client_options: http.HttpClientOptions = http.HttpClientOptions(),
        **options: Any,
    ) -> None:
        options.setdefault("redirect_slashes", False)  # werkzeug decides about slashes
        super().__init__(**options)
        # the shared aiohttp session opens before the app's own lifespan (or startup handlers)
        # and closes after it (http.with_http_client)
        self.router.lifespan_context = http.with_http_client(self.router.lifespan_context, http_client_options)
        self.flask_app = flask_app
        self.router.route_class = routing.FlaskRoute
        self.add_middleware(FlaskDispatch, bridge=self)  # type: ignore[arg-type]
        if flask_errors:
            FastAPI.add_exception_handler(self, RequestValidationError, errors.answer_validation_error)
        FastAPI.add_exception_handler(self, StarletteHTTPException, errors.answer_http_error)
        FastAPI.add_exception_handler(self, refusals.Refused, refusals.answer_refused)  # Flask-HTTPAuth's and Flask-Login's refusals
        FastAPI.add_exception_handler(self, refusals.GuardRefused, errors.answer_guard_refused)  # a converted guard's
        errors.install(flask_app)
        for key, handler in (options.get("exception_handlers") or {}).items():
            self.add_exception_handler(key, handler)  # the app's own, answering in Flask too
        self._blueprints = len(flask_app.blueprints)  # those whose scope has errors' handler
        self._native: dict[str, set[str]] = {}  # native endpoint -> its FastAPI methods
        self._rules: set[tuple[str, str]] = set()
        self._generation = -1
        self._adapters: dict[tuple[Any, ...], Any] = {}  # URL adapters by host (see _endpoint)
        flask_app.extensions[EXTENSION] = self
        flask_app.test_client = functools.partial(bridged_test_client, flask_app)  # type: ignore[method-assign]
        flask_app.url_build_error_handlers.append(self._build_again)
        self._delegate = True

    # -- the Flask app's attributes ---------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "flask_app" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.flask_app, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            self.__dict__.get("_delegate")
            and name not in self.__dict__
            and not hasattr(type(self), name)
            and hasattr(self.flask_app, name)
        ):
            setattr(self.flask_app, name, value)  # app.testing = True, app.json = Provider(app)
        else:
            super().__setattr__(name, value)

    def add_exception_handler(self, exc_class_or_status_code: Any, handler: Any) -> None:
        """FastAPI's, and the Flask app's for the errors raised in its request cycle: Flask's
        lookup picks ``handler`` where it picked a Flask handler of the same key (``handlers``).
        ``@api.exception_handler(key)`` comes here too."""
        if "flask_app" not in self.__dict__:  # FastAPI's own, while it is being made
            super().add_exception_handler(exc_class_or_status_code, handler)
            return
        handlers.register(self.flask_app, exc_class_or_status_code, handler)
        super().add_exception_handler(exc_class_or_status_code, handlers.fastapi_side(exc_class_or_status_code, handler))

    def route(self, rule: str, **options: Any) -> Any:  # type: ignore[override]
        """Flask's ``route``: Starlette's own is deprecated and no converted code uses it."""
        return self.flask_app.route(rule, **options)

    def _flask_or_fastapi(method: str) -> Any:
        def register(self: FlaskBridge, path: str, **options: Any) -> Any:
            if "<" in path:  # a werkzeug rule: code written for Flask was handed the bridge
                return getattr(self.flask_app, method)(path, **options)
            return getattr(FastAPI, method)(self, path, **options)

        register.__name__ = method
        register.__doc__ = getattr(FastAPI, method).__doc__
        return register

    get = _flask_or_fastapi("get")
    post = _flask_or_fastapi("post")
    put = _flask_or_fastapi("put")
    patch = _flask_or_fastapi("patch")
    delete = _flask_or_fastapi("delete")
    del _flask_or_fastapi

    def include_router(self, router: Any, **options: Any) -> None:  # type: ignore[override]
        super().include_router(router, **options)
        self._generation = -1  # routes made before the last look may be reachable only now
        self.sync_routes()

    # -- native routes in Flask's url_map ------------------------------------------------------
    @property
    def url_map(self) -> Any:
        """The Flask app's url_map, native routes declared so far included: the route table."""
        self.sync_routes()
        return self.flask_app.url_map

    def sync_routes(self) -> None:
        """Give every native route this app serves its rule in the Flask app's url_map."""
        if self._generation == routing.GENERATION[0]:
            return
        self._generation = routing.GENERATION[0]
        for route, path in routing.full_paths(self, routing.native_routes()):
            rule = route.werkzeug_rule(path)
            self._native.setdefault(route.name, set()).update(route.methods or ())
            if (rule, route.name) in self._rules:
                continue
            self._rules.add((rule, route.name))
            self.flask_app.add_url_rule(
                rule, endpoint=route.name, view_func=routing.native_view, methods=sorted(route.methods or ())
            )

    def endpoint_for(self, scope: Scope) -> str | None:
        """The endpoint Flask's url_map gives an HTTP request (None where Flask refuses it: a 404,
        a 405), as the dispatch finds it: RequestHooks runs a blueprint's hooks by it
        (``hooks.endpoint_of``), before the dispatch has run."""
        self.sync_routes()
        return _endpoint(self.flask_app, wsgi.environ_for(scope, b""), self._adapters)

    def native_methods(self, endpoint: str | None) -> set[str]:
        return self._native.get(endpoint, set()) if endpoint is not None else set()

    def _build_again(self, error: Exception, endpoint: str, values: dict[str, Any]) -> str:
        """``url_for`` of a native route declared after the last request: register, build."""
        generation = self._generation
        self.sync_routes()
        if generation == self._generation:
            raise error
        return self.flask_app.url_for(endpoint, **values)

    # -- WSGI, for harnesses that drive a WSGI app (WebTest's TestApp) -------------------------
    @property
    def wsgi(self) -> Any:
        """This ASGI app as a WSGI callable for test harnesses: ``TestApp(api.wsgi)``; each
        request runs in the caller's thread, as under Flask's test client."""
        return InlineASGI(self)


class FlaskDispatch:
    """Pure ASGI middleware: each HTTP request to the native route Flask's url_map chose for it,
    to a plain FastAPI route, or to Flask."""

    def __init__(self, app: ASGIApp, bridge: FlaskBridge) -> None:
        self.app = app
        self.bridge = bridge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # one request.state for FastAPI's side and Flask's (an exception handler Flask calls gets a
        # Request of a copy of this scope) and the middleware around them, whatever the server gave
        scope.setdefault("state", {})
        bridge = self.bridge
        bridge.sync_routes()
        flask_app = bridge.flask_app
        if len(flask_app.blueprints) != bridge._blueprints:  # registered after the bridge was made
            bridge._blueprints = errors.cover_blueprints(flask_app)
        body = await wsgi.read_body(receive)
        environ = wsgi.environ_for(scope, body)
        endpoint = _endpoint(flask_app, environ, bridge._adapters)
        method = "GET" if scope["method"] == "HEAD" else scope["method"]  # werkzeug drops the body
        if method in bridge.native_methods(endpoint):
            # Each request runs in a task of its own, whose context this value does not outlive.
            routing.CURRENT.set((flask_app, environ))
            environ[routing.ENDPOINT] = endpoint  # the scope FastAPI gets is a copy: Flask's side reads it here
            scope[handlers.FLASK_ANSWERS] = True
            native = {**scope, "method": method, routing.ENDPOINT: endpoint}
            try:
                await self.app(native, wsgi.replay(body, receive), send)
            except Exception as error:
                if routing.CALL in environ:  # Flask's cycle let it through: it goes on
                    raise
                # raised before Flask's cycle (a dependency): answered as if the view raised it
                answer = await errors.answer_raised(flask_app, environ, error)
                await answer(native, wsgi.replay(body, receive), send)
            return
        if endpoint is None and _fastapi_route(bridge, scope):
            await self.app(scope, wsgi.replay(body, receive), send)
            return
        scope[handlers.FLASK_ANSWERS] = True
        await (await wsgi.answer(flask_app, environ)).send(send)
        background = environ.get(responses.BACKGROUND)  # of an exception handler's response
        if background is not None:
            await background()


def _endpoint(flask_app: Flask, environ: wsgi.Environ, adapters: dict[tuple[Any, ...], Any]) -> str | None:
    """The endpoint Flask's url_map gives the request, None when Flask refuses it (404, 405,
    a redirect to the slash form, an untrusted host): Flask then answers it itself.

    The URL adapter is Flask's ``create_url_adapter`` for the request. It depends on the host, the
    scheme and the mount point only, not on the path or method (``match`` takes those), so one is
    kept per host in ``adapters`` (Flask builds a Request and binds a new adapter per request, and
    Flask will do so again when it serves the request): a third of the dispatch's cost.
    """
    key = _adapter_key(flask_app, environ)
    adapter = adapters.get(key) if key is not None else None
    if adapter is None:
        try:
            adapter = flask_app.create_url_adapter(flask_app.request_class(environ))
        except HTTPException:  # SecurityError: a host TRUSTED_HOSTS does not allow
            return None
        if adapter is None:
            return None
        if key is not None:
            if len(adapters) >= _ADAPTERS:  # many Host values: start again rather than grow
                adapters.clear()
            adapters[key] = adapter
    try:
        rule, _ = adapter.match(
            _wsgi_decoded(environ.get("PATH_INFO", "")), environ["REQUEST_METHOD"], return_rule=True
        )
    except HTTPException:
        return None
    return rule.endpoint


_ADAPTERS = 64  # URL adapters kept per bridge (one per Host value seen)
_FLASK_CREATE_URL_ADAPTER = Flask.create_url_adapter


def _adapter_key(flask_app: Flask, environ: wsgi.Environ) -> tuple[Any, ...] | None:
    """What Flask's ``create_url_adapter`` reads (the environ's host, scheme, mount point and
    upgrade headers; the app's SERVER_NAME, TRUSTED_HOSTS and matching settings); None when the
    app overrides ``create_url_adapter`` (it may read more): no adapter is kept then."""
    if type(flask_app).create_url_adapter is not _FLASK_CREATE_URL_ADAPTER:
        return None
    config = flask_app.config
    trusted = config.get("TRUSTED_HOSTS")
    url_map = flask_app.url_map
    get = environ.get
    return (
        get("wsgi.url_scheme"), get("HTTP_HOST"), get("SERVER_NAME"), get("SERVER_PORT"), get("SCRIPT_NAME"),
        get("HTTP_CONNECTION"), get("HTTP_UPGRADE"),
        config.get("SERVER_NAME"), tuple(trusted) if trusted is not None else None,
        flask_app.subdomain_matching, url_map.host_matching, url_map.default_subdomain,
    )


def _wsgi_decoded(value: str) -> str:
    """A WSGI string (UTF-8 bytes as latin-1) as text, as werkzeug's ``bind_to_environ`` reads it."""
    return value.encode("latin-1").decode(errors="replace")


def _fastapi_route(bridge: FlaskBridge, scope: Scope) -> bool:
    """Whether a route of FastAPI's own (not a native one) matches: /docs, /openapi.json."""
    return any(route.matches(scope)[0] is not Match.NONE for route in bridge.router.routes)
