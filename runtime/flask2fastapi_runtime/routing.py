"""Native routes: FastAPI path operations whose views run inside Flask's request context.

``APIRouter(route_class=FlaskRoute)`` (and every ``@api.get`` of a ``FlaskBridge``) gives
routes that FastAPI documents and whose parameters FastAPI parses, but whose view Flask calls:
the request context is Flask's, the app's and the blueprint's before/after hooks and error
handlers run around the view, and what the view returns becomes a response through Flask's
``make_response``, exactly as before the conversion. Only the parameters changed hands.

A view written as FastAPI code runs there too, with FastAPI's meaning kept: its dependencies
(``Depends``, yield ones included) are solved before Flask's cycle and shared with the view; a
``request: Request`` is Starlette's (``request.app`` is the bridge); what it returns with the
route's ``status_code=``, its ``response: Response`` and Starlette responses is made Flask's
response before the after_request hooks (``responses``); an HTTPException it or a dependency
raises is answered by the app's error handlers (``errors``).

An ``async def`` view of an endpoint that nothing of the Flask app acts on (no hooks, url
processors, teardown functions, signal receivers, session to refresh...) takes the fast path
(``fastpath``): awaited on the event loop without Flask's request context, its value made
Flask's response there, no thread hop. What it raises, or a view that touches Flask's context,
goes through Flask's cycle as below.

FastAPI reads a native view's query, header and cookie parameters from Flask's request object
for the request (``FlaskRequest``: a repeated key gives what ``request.args.get`` gave, see
``params``), its form fields and files from werkzeug's parse of the body (``forms``), and a JSON body declared with ``json_body.FlaskJson`` is read by Flask's
``get_json`` right before the view is called, inside the request context.

Each native route is also a rule in the Flask app's ``url_map``, under the route's name as
endpoint ("items.get_item" for a blueprint's view). So werkzeug keeps deciding which view a URL
reaches: its converters (``/items/-1`` is no ``<int:...>``), strict slashes, the order of
overlapping rules, 404 and 405 with Allow; ``url_for`` builds native routes' URLs; and the
blueprint part of the endpoint gives the view its blueprint's hooks. The rule is derived from the
FastAPI path and the view's annotations, which is why the converter makes a route native only
where that derivation gives back the original rule:

==================  ====================  ======================
FastAPI path        parameter annotation  werkzeug rule
==================  ====================  ======================
``{x}``             none or ``str``       ``<x>``
``{x}``             ``int``               ``<int:x>``
``{x}``             ``float``             ``<float:x>``
``{x}``             ``uuid.UUID``         ``<uuid:x>``
``{x}``             ``Literal["a", "b"]`` ``<any("a", "b"):x>``
``{x:path}``        any                   ``<path:x>``
==================  ====================  ======================
"""

from __future__ import annotations

import functools
import inspect
import itertools
import re
import typing
import uuid
import weakref
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, NamedTuple

from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from flask import current_app, request
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, NoMatchFound
from starlette.types import Receive, Scope

from . import fastpath, forms, json_body, params, responses, wsgi
from .native import _resolved_signature  # the same resolution, on the Flask-free side

# The endpoint Flask's url_map chose for the request (scope and environ key), and the view call
# that the Flask side of a native route makes (environ key).
ENDPOINT = "flask2fastapi.endpoint"
CALL = "flask2fastapi.call"
# The Flask app and WSGI environ of the request being answered, for the view in the thread pool.
CURRENT: ContextVar[tuple[Any, wsgi.Environ]] = ContextVar("flask2fastapi_current")
# The endpoint's own parameter for FastAPI's sub-response, which the view or any of its
# dependencies may have set headers, cookies or a status on (see ``responses``).
SUB_RESPONSE = "flask2fastapi_response"


class Call(NamedTuple):
    """What Flask's side of a native route calls: the view with the parameters FastAPI parsed,
    the route's declared ``status_code=`` (None if not given) and FastAPI's sub-response."""

    view: Callable[..., Any]
    kwargs: dict[str, Any]
    status_code: int | None = None
    sub_response: Response | None = None


# id -> route (an APIRoute defines __eq__, so it is no set member)
_ROUTES: weakref.WeakValueDictionary[int, FlaskRoute] = weakref.WeakValueDictionary()
_generation = itertools.count(1)
GENERATION = [0]  # bumped for each new native route, so a bridge knows when to look again

_PARAMETER = re.compile(r"\{(?P<name>[A-Za-z_]\w*)(?::(?P<convertor>\w+))?\}")


class FlaskRoute(APIRoute):
    """An APIRoute whose view Flask calls, inside its request context (see the module doc)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        view = getattr(endpoint, "__flask2fastapi_view__", endpoint)  # FastAPI 0.115 copies routes
        self.view = view
        # Flask makes the response of whatever the view returns, so a return annotation (such as
        # ``-> flask.Response``) is no response model. One given as ``response_model=`` only
        # documents the answer in OpenAPI: the endpoint returns a response, which FastAPI sends
        # as it is, never validating or serialising it through the model.
        if isinstance(kwargs.get("response_model"), DefaultPlaceholder) or "response_model" not in kwargs:
            kwargs["response_model"] = None
        endpoint = _through_flask(view, kwargs.get("status_code"))
        # read by get_route_handler, which APIRoute.__init__ calls
        path_names = {m["name"] for m in _PARAMETER.finditer(path)}
        # what the endpoint and the route's own dependencies (``dependencies=[Depends(guard)]``,
        # a router's included) read
        signature = endpoint.__signature__
        extra = [
            inspect.Parameter(f"flask2fastapi_dependency_{index}", inspect.Parameter.KEYWORD_ONLY, default=dependency)
            for index, dependency in enumerate(kwargs.get("dependencies") or ())
        ]
        signature = signature.replace(parameters=[*signature.parameters.values(), *extra])
        self.flask_sources = params.read_sources(signature, path_names)
        self.flask_form = params.form_fields(signature, path_names) if "form" in self.flask_sources else None
        self.flask_json = endpoint.__flask2fastapi_json__
        super().__init__(path, endpoint, **kwargs)
        _ROUTES[id(self)] = self
        GENERATION[0] = next(_generation)

    def get_route_handler(self) -> Callable[[Request], Any]:
        # FastAPI's documented way to give a route a request class of its own
        handler = super().get_route_handler()
        sources, json, form = self.flask_sources, self.flask_json, self.flask_form
        if not sources and not json:
            return handler  # path parameters only: nothing read differently

        async def flask_request_handler(request: Request) -> Response:
            return await handler(FlaskRequest(request.scope, request.receive, sources, json, form))

        return flask_request_handler

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Only the route Flask's url_map chose: werkzeug's matching is the one that counts.
        if scope.get("type") == "http" and scope.get(ENDPOINT) != self.name:
            return Match.NONE, {}
        return super().matches(scope)

    def werkzeug_rule(self, path: str) -> str:
        """The werkzeug rule of this route, mounted at ``path`` (its full FastAPI path)."""
        parameters = inspect.signature(self.endpoint).parameters

        def rule_part(match: re.Match[str]) -> str:
            name = match["name"]
            if match["convertor"] == "path":
                return f"<path:{name}>"
            parameter = parameters.get(name)
            annotation = parameter.annotation if parameter is not None else inspect.Parameter.empty
            converter = _converter(annotation)
            if converter is None:
                raise TypeError(f"{self.name}: no werkzeug converter for {name}: {annotation!r}")
            return f"<{converter}:{name}>" if converter else f"<{name}>"

        return _PARAMETER.sub(rule_part, path)


def _converter(annotation: Any) -> str | None:
    """The werkzeug converter (with its arguments) for a path parameter's annotation; "" for the
    default one; None when there is none."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation in (inspect.Parameter.empty, str):
        return ""
    if typing.get_origin(annotation) is typing.Literal:
        values = typing.get_args(annotation)
        if all(isinstance(v, str) for v in values):
            return "any(" + ", ".join(f'"{v}"' for v in values) + ")"
        return None
    return {int: "int", float: "float", uuid.UUID: "uuid"}.get(annotation)


def _through_flask(view: Callable[..., Any], status_code: int | None) -> Callable[..., Any]:
    """The endpoint FastAPI calls with the parsed parameters: it hands the call to Flask, which
    runs its whole request cycle around it (``native_view``) and answers; an async view where
    ``fastpath.applies`` answers without that cycle. JSON bodies that Flask
    reads (``json_body.FlaskJson``) are read there, right before the view is called."""
    signature = _resolved_signature(view)
    bodies = json_body.json_parameters(signature)
    call = _reading_bodies(view, bodies) if bodies else view
    asynchronous = inspect.iscoroutinefunction(view)
    parameters = list(signature.parameters.values())
    # FastAPI's sub-response, for every view (a dependency may set a cookie on it): FastAPI
    # gives it to one parameter of the endpoint, the view's own if it has one
    own = next((p.name for p in parameters if _is_response(p.annotation)), None)
    if own is None:
        hidden = inspect.Parameter(SUB_RESPONSE, inspect.Parameter.KEYWORD_ONLY, annotation=Response)
        at = next((i for i, p in enumerate(parameters) if p.kind is p.VAR_KEYWORD), len(parameters))
        parameters.insert(at, hidden)

    @functools.wraps(view)
    async def endpoint(**kwargs: Any) -> Any:
        # async, so that FastAPI does not move it to the thread pool: wsgi.answer makes the one
        # hop for Flask's whole request cycle (none for a test client's request)
        flask_app, environ = CURRENT.get()
        sub_response = kwargs.pop(SUB_RESPONSE) if own is None else kwargs[own]
        if asynchronous and fastpath.applies(flask_app, environ[ENDPOINT], environ):
            # the view is called now: what is raised from here on is no dependency's (bridge)
            environ[CALL] = Call(view, kwargs, status_code, sub_response)
            answered = await fastpath.answer(flask_app, environ, view, bodies, kwargs, status_code, sub_response)
            if isinstance(answered, Response):
                return answered
            environ[CALL] = Call(answered, {}, status_code, sub_response)  # Flask's cycle answers
        elif asynchronous:
            environ[CALL] = Call(await _awaited(flask_app, environ, view, bodies, kwargs), {}, status_code, sub_response)
        else:
            environ[CALL] = Call(call, kwargs, status_code, sub_response)
        response = (await wsgi.answer(flask_app, environ)).response()
        response.background = environ.get(responses.BACKGROUND)  # None: FastAPI sets its own
        return response

    endpoint.__signature__ = signature.replace(parameters=json_body.as_bodies(parameters, bodies))  # type: ignore[attr-defined]
    endpoint.__flask2fastapi_view__ = view  # type: ignore[attr-defined]
    endpoint.__flask2fastapi_json__ = bool(bodies)  # type: ignore[attr-defined]
    del endpoint.__wrapped__  # FastAPI reads the signature above, already resolved
    return endpoint


async def _awaited(flask_app: Any, environ: wsgi.Environ, view: Callable[..., Any], bodies: dict, kwargs: dict[str, Any]) -> Callable[[], Any]:
    """An async view runs on the event loop, before Flask's cycle, which then answers with what it
    returned or raised (the one ``native_view`` calls): its awaits never hold a thread. Its JSON
    bodies are read by Flask's ``get_json`` first, as for a sync view. Flask's before_request
    hooks would run after it, so a view of an app that has any is refused (the converter keeps
    such views sync; see the runtime README)."""
    endpoint = environ.get(ENDPOINT) or getattr(view, "__name__", "")
    blueprints = [None, *_blueprint_chain(endpoint)]
    if any(flask_app.before_request_funcs.get(b) or flask_app.url_value_preprocessors.get(b) for b in blueprints):
        raise RuntimeError(
            f"{endpoint} is an async view, which runs before Flask's cycle, and the app has before_request "
            "hooks for it: make the hooks RequestHooks middleware, or the view a def"
        )
    try:
        # Flask's request context is there for what the view's path still reads of Flask (a
        # helper's jsonify); context variables keep it this request's, on the shared loop. Its
        # teardown functions run when it ends and again at the end of Flask's cycle, so they
        # must be idempotent (closing what g holds is)
        with flask_app.request_context(environ):
            for name, (how, model) in bodies.items():
                kwargs[name] = how.read(model)
            value = await view(**kwargs)
    except Exception as exc:  # raised again inside Flask's cycle: its error handlers answer it
        error = exc

        def again() -> Any:
            raise error

        return again
    return lambda: value


def _blueprint_chain(endpoint: str) -> list[str]:
    """"a.b.view" -> ["a", "a.b"]: the blueprints whose hooks apply to the endpoint."""
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _is_response(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Response)


def _reading_bodies(view: Callable[..., Any], bodies: dict[str, tuple[json_body.FlaskJson, Any]]) -> Callable[..., Any]:
    """``view``, its FlaskJson parameters read by Flask (inside its request context) first."""

    @functools.wraps(view)
    def call(**kwargs: Any) -> Any:
        for name, (how, model) in bodies.items():
            kwargs[name] = how.read(model)
        return view(**kwargs)

    return call


class FlaskRequest(Request):
    """The request FastAPI reads a native route's parameters from. Its query parameters, headers
    and cookies (those of ``sources`` that the view's parameters read) are those of Flask's
    request object for it, so that a parameter gets the value ``request.args.get(...)`` gave the
    view (the first of a repeated key, not Starlette's last: see ``params``). Where Flask reads
    the JSON body (``json``), FastAPI does not parse it (malformed JSON would be its 422 before
    the view; see ``json_body``). Its form (for ``Form()`` and ``UploadFile`` parameters, whose
    names ``form`` holds) is the one werkzeug parses for Flask's ``request.form`` and
    ``request.files`` (see ``forms``)."""

    def __init__(
        self, scope: Scope, receive: Receive, sources: frozenset[str], json: bool, form: forms.Fields | None = None
    ) -> None:
        super().__init__(scope, receive)
        self.flask_sources = sources
        self.flask_json = json
        self.flask_form = form
        self.flask_read: dict[str, Any] = {}

    def _as_flask(self, source: str) -> Any:
        if source not in self.flask_read:
            flask_request = self.flask_read.get("request")
            if flask_request is None:
                flask_app, environ = CURRENT.get()
                flask_request = self.flask_read["request"] = flask_app.request_class(environ)
            self.flask_read[source] = params.READERS[source](flask_request)
        return self.flask_read[source]

    @property
    def query_params(self) -> Any:  # type: ignore[override]
        return self._as_flask("query_params") if "query_params" in self.flask_sources else super().query_params

    @property
    def headers(self) -> Any:  # type: ignore[override]
        return self._as_flask("headers") if "headers" in self.flask_sources else super().headers

    @property
    def cookies(self) -> Any:  # type: ignore[override]
        return self._as_flask("cookies") if "cookies" in self.flask_sources else super().cookies

    async def json(self) -> Any:
        return json_body.UNREAD if self.flask_json else await super().json()

    def form(self, **limits: Any) -> Any:  # type: ignore[override]
        # FastAPI awaits it (the newest passes its own limits: Flask's config sets them here)
        if self.flask_form is None:
            return super().form(**limits)
        return self._flask_form(self.flask_form)

    async def _flask_form(self, fields: forms.Fields) -> Any:
        if "form" not in self.flask_read:
            self.flask_read["form"] = forms.form_data(*CURRENT.get(), fields)
        return self.flask_read["form"]


def native_view(**view_args: Any) -> Any:
    """The Flask view function of every native endpoint: it calls the view with the parameters
    FastAPI parsed (``view_args`` are werkzeug's, for Flask's url processors and hooks)."""
    call = request.environ.get(CALL)
    if call is None:
        raise RuntimeError(
            f"{request.endpoint} is a FastAPI route: serve the FlaskBridge (ASGI), not the Flask app (WSGI)"
        )
    returned = current_app.ensure_sync(call.view)(**call.kwargs)
    return responses.as_flask(returned, call.status_code, call.sub_response)


def native_routes() -> list[FlaskRoute]:
    """Every native route of the process (each app picks those it serves)."""
    return list(_ROUTES.values())


def full_paths(app: Any, routes: list[FlaskRoute]) -> list[tuple[FlaskRoute, str]]:
    """The FastAPI path each of ``routes`` has in ``app`` (with the prefixes of the routers it was
    included through), for the routes ``app`` serves; found through ``url_path_for``."""
    # Routes the app holds itself have their full path (those of @api.get, and every included
    # one where FastAPI copies routes into the app, as 0.115 does): the copied route's original
    # in its router is then no route of this app.
    direct = [route for route in app.routes if isinstance(route, FlaskRoute)]
    found: list[tuple[FlaskRoute, str]] = [(route, route.path) for route in direct]
    held = {id(route) for route in direct}
    rest = [
        route for route in routes
        if id(route) not in held
        and not any(d.endpoint is route.endpoint and d.path.endswith(route.path) for d in direct)
    ]
    prefixes: dict[str, str] = {}
    served: list[FlaskRoute] = []
    # url_path_for gives the path of the first route of a name (a view with two rules has two
    # routes of one name): the prefix comes from that one and holds for its siblings
    for route in rest:
        placeholders = {name: "{" + name + "}" for name in route.param_convertors}
        try:
            full = str(app.url_path_for(route.name, **placeholders))
        except NoMatchFound:
            continue
        served.append(route)
        own = str(route.url_path_for(route.name, **placeholders))
        if full.endswith(own):
            prefixes.setdefault(route.name, full[: len(full) - len(own)])
    for route in served:
        prefix = prefixes.get(route.name)
        if prefix is not None:
            found.append((route, prefix + route.path))
    return found
