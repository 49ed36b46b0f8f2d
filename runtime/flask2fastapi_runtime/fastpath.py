"""The fast path of an ``async def`` native view: awaited on the event loop, answered without
Flask's request cycle, when nothing of the Flask app would act on the request.

The slow path (``routing``) runs the view inside a Flask request context, then replays what it
returned or raised through Flask's whole cycle in a worker thread: a thread hop, a second
request context, the hooks, ``make_response``, the session. When the Flask app registers nothing
that acts on the request, that cycle only turns the returned value into a response, which Flask's
own ``make_response`` and werkzeug's WSGI call do here, on the loop, with the same bytes.

What decides (``slow_path_reasons``, once per app and endpoint; cached once the app has had its
first request, after which Flask refuses new registrations, so the fast path marks the app as
having had it, as Flask's cycle does):

- no ``before_request``, ``after_request``, ``teardown_request``, ``url_value_preprocessor`` or
  ``url_defaults`` function for the app or for a blueprint of the endpoint ("a.b.view": "a",
  "a.b"), and no ``teardown_appcontext`` function;
- the app's class keeps Flask's own request cycle (``wsgi_app``, ``full_dispatch_request``,
  ``make_response``, ``process_response``, the contexts and teardowns: none overridden).

And per request, as these may change at any time:

- no receiver of ``request_started``, ``request_finished``, ``request_tearing_down`` or the
  app-context signals;
- ``wsgi_app`` not wrapped on the instance (``app.wsgi_app = Middleware(app.wsgi_app)``);
- Flask's cookie session, and no session to refresh: no secret key, or no session cookie sent
  (a permanent session's cookie is sent again on every request);
- no ``werkzeug.debug.preserve_context`` (a ``with client:`` test inspects the context after).

What the view does is watched, not guessed: while it runs, Flask's context variables hold
stand-ins (``LazyContext``), so ``flask.request``, ``g``, ``current_app``, ``session``,
``jsonify``, ``url_for`` or ``after_this_request`` all work: the first touch
pushes the real request context there, as the slow path would have had it, and the request
goes on the slow path from there. A FlaskJson body is read by a request of the app's request
class as its ``get_json`` reads it, outside the context (``body_reader``); what it refuses (415,
malformed JSON) goes through Flask's cycle. An exception the view raises is answered by Flask's cycle
(its error handlers, its 500) as on the slow path: the error handlers do not keep a view off the
fast path, only its errors go the slow way. Making the response touching Flask's context (a
custom JSON provider reading ``current_app``) or failing sends the value the slow way too.
"""

from __future__ import annotations

import inspect
import io
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

import flask.json
from flask import Flask
from flask import signals
from flask.globals import _cv_app, _cv_request
from flask.sessions import SecureCookieSessionInterface
from starlette.responses import Response

from . import forms, responses, wsgi

# Methods of Flask's request cycle: a subclass overriding one may act on every request.
_CYCLE = (
    "__call__", "wsgi_app", "request_context", "app_context", "full_dispatch_request",
    "preprocess_request", "dispatch_request", "finalize_request", "make_response",
    "process_response", "do_teardown_request", "do_teardown_appcontext",
)
# Per-blueprint registries (key None: the app's) of functions that act on a request.
_REGISTRIES = (
    "before_request_funcs", "after_request_funcs", "teardown_request_funcs",
    "url_value_preprocessors", "url_default_functions",
)
_SIGNALS = (
    signals.request_started, signals.request_finished, signals.request_tearing_down,
    signals.appcontext_pushed, signals.appcontext_popped, signals.appcontext_tearing_down,
)
_PRESERVE = "werkzeug.debug.preserve_context"

# Flask app -> endpoint -> whether its static conditions allow the fast path
_DECIDED: weakref.WeakKeyDictionary[Flask, dict[str, bool]] = weakref.WeakKeyDictionary()


def slow_path_reasons(flask_app: Flask, endpoint: str) -> list[str]:
    """What of ``flask_app`` keeps the async native view of ``endpoint`` on the slow path, by
    name (empty: nothing registered for it; the per-request conditions are ``request_reasons``)."""
    return _registered(flask_app, endpoint) + request_reasons(flask_app, {})


def _registered(flask_app: Flask, endpoint: str) -> list[str]:
    """What the app registers that acts on a request of ``endpoint`` (static conditions)."""
    reasons = []
    scopes = [None, *_blueprint_chain(endpoint)]
    for registry in _REGISTRIES:
        for scope in scopes:
            for function in getattr(flask_app, registry).get(scope) or ():
                reasons.append(f"{registry}[{scope!r}]: {_name(function)}")
    reasons += [f"teardown_appcontext_funcs: {_name(f)}" for f in flask_app.teardown_appcontext_funcs]
    own = type(flask_app)
    reasons += [f"{own.__name__}.{name} overrides Flask's" for name in _CYCLE if getattr(own, name) is not getattr(Flask, name)]
    return reasons


def request_reasons(flask_app: Flask, environ: dict[str, Any]) -> list[str]:
    """What keeps this request (``environ``) of ``flask_app`` on the slow path (module doc)."""
    reasons = [f"a receiver of {signal.name}" for signal in _SIGNALS if _received(signal, flask_app)]
    if "wsgi_app" in flask_app.__dict__:
        reasons.append(f"app.wsgi_app is wrapped: {_name(flask_app.__dict__['wsgi_app'])}")
    interface = flask_app.session_interface
    if type(interface) is not SecureCookieSessionInterface:
        reasons.append(f"session interface {type(interface).__name__}")
    elif flask_app.secret_key and flask_app.config["SESSION_COOKIE_NAME"] in environ.get("HTTP_COOKIE", ""):
        reasons.append("the request sends a session cookie")
    if _PRESERVE in environ:
        reasons.append("the test client preserves the request context")
    return reasons


def applies(flask_app: Flask, endpoint: str, environ: dict[str, Any]) -> bool:
    """Whether the async view of ``endpoint`` takes the fast path for this request."""
    decided = _DECIDED.get(flask_app)
    if decided is None:
        decided = _DECIDED[flask_app] = {}
    static = decided.get(endpoint)
    if static is None:
        static = not _registered(flask_app, endpoint)
        if getattr(flask_app, "_got_first_request", False):  # Flask refuses registrations now
            decided[endpoint] = static
    return static and not _request_blocked(flask_app, environ)


def _request_blocked(flask_app: Flask, environ: dict[str, Any]) -> bool:
    # request_reasons, without building the messages: this runs on every request
    for signal in _SIGNALS:
        if signal.receivers and _received(signal, flask_app):
            return True
    if "wsgi_app" in flask_app.__dict__ or _PRESERVE in environ:
        return True
    interface = flask_app.session_interface
    if type(interface) is not SecureCookieSessionInterface:
        return True
    return bool(flask_app.secret_key) and flask_app.config["SESSION_COOKIE_NAME"] in environ.get("HTTP_COOKIE", "")


async def answer(
    flask_app: Flask,
    environ: dict[str, Any],
    view: Callable[..., Any],
    bodies: dict[str, Any],
    kwargs: dict[str, Any],
    status_code: int | None,
    sub_response: Response | None,
) -> Response | Callable[[], Any]:
    """Await the view without Flask's cycle: the Starlette response for what it returned, or
    (it touched Flask's context, raised, or its value needs Flask to become a response) the
    view call that Flask's cycle must answer with, as on the slow path (module doc)."""
    # Flask marks its first request in its cycle: from now on it refuses new registrations
    flask_app._got_first_request = True  # type: ignore[attr-defined]
    lazy = LazyContext(flask_app, environ)
    with lazy.armed():
        try:
            if bodies:
                reader = body_reader(flask_app, environ)
                for name, (how, model) in bodies.items():
                    kwargs[name] = how.read(model, reader)
            value = await view(**kwargs)
        except Exception as exc:
            return _raising(exc)
        if lazy.context is None:
            made = _response(flask_app, environ, value, status_code, sub_response)
            if made is not None and lazy.context is None:
                return made
    return lambda: value


def _response(
    flask_app: Flask, environ: dict[str, Any], value: Any, status_code: int | None, sub_response: Response | None
) -> Response | None:
    """What Flask's cycle would send for ``value`` when nothing acts on the request: its
    ``make_response`` (``process_response`` has nothing to do), then the response called as the
    WSGI app, as Flask's ``wsgi_app`` ends. None when making it fails: Flask's cycle will say.
    What the response raises when called goes on, as it does from Flask's ``wsgi_app``."""
    try:
        returned = responses.as_flask(value, status_code, sub_response, flask_app, environ)
        flask_response = flask_app.make_response(returned)
    except Exception:
        environ.pop(responses.BACKGROUND, None)
        return None
    made = wsgi.call(flask_response, environ, whole=bool(environ["asgi.scope"].get(wsgi.INLINE))).response()
    made.background = environ.get(responses.BACKGROUND)  # None: FastAPI sets its own
    return made


def body_reader(flask_app: Flask, environ: dict[str, Any]) -> Any:
    """A request of the app's request class for reading the JSON body as its ``get_json`` does
    in the request context: over a copy of the body (a context pushed later reads it again), the
    size limit read from the app's config (``forms``), JSON loaded by the app's provider where the
    class loads it through ``flask.json`` (which reads ``current_app`` for that provider)."""
    copy = {**environ, "wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())}
    reader = forms.limited(flask_app.request_class)(copy)
    setattr(reader, forms.CONFIG, flask_app.config)
    if inspect.getattr_static(flask_app.request_class, "json_module", None) is flask.json:
        reader.json_module = flask_app.json
    return reader


def _raising(error: Exception) -> Callable[[], Any]:
    def again() -> Any:
        raise error

    return again


class LazyContext:
    """Stand-ins for Flask's application and request contexts while a fast view runs: the first
    attribute read (or truth test) on either pushes the real request context for ``environ``,
    which ``armed`` pops when the view is done (its teardown, as the slow path's ``with``)."""

    def __init__(self, flask_app: Flask, environ: dict[str, Any]) -> None:
        self.flask_app = flask_app
        self.environ = environ
        self.context: Any = None  # the request context, once pushed
        self.app_context: Any = None
        self._tokens: list[tuple[ContextVar[Any], Token[Any]]] = []

    @contextmanager
    def armed(self) -> Iterator[LazyContext]:
        self._tokens = [(_cv_app, _cv_app.set(_StandIn(self, "app"))), (_cv_request, _cv_request.set(_StandIn(self, "request")))]
        error: BaseException | None = None
        try:
            yield self
        except BaseException as exc:
            error = exc
            raise
        finally:
            if self.context is not None:
                try:
                    self.context.pop(error)
                except (ValueError, AssertionError):  # pushed in another task's context
                    pass
            self._disarm()

    def push(self) -> Any:
        """The real request context, pushed on first use."""
        if self.context is None:
            self._disarm()  # RequestContext.push reads the app context variable
            context = self.flask_app.request_context(self.environ)
            context.push()
            self.context, self.app_context = context, _cv_app.get()
        return self.context

    def _disarm(self) -> None:
        try:
            for var, token in reversed(self._tokens):
                var.reset(token)
        except ValueError:  # first used in a task the view started: its copy of the context
            _cv_request.set(None)  # type: ignore[arg-type]
            _cv_app.set(None)  # type: ignore[arg-type]
            return  # the view's own context resets them when it is done
        self._tokens = []


class _StandIn:
    """What Flask's context variables hold while a fast view runs (``LazyContext``)."""

    __slots__ = ("_lazy", "_kind")

    def __init__(self, lazy: LazyContext, kind: str) -> None:
        object.__setattr__(self, "_lazy", lazy)
        object.__setattr__(self, "_kind", kind)

    def _real(self) -> Any:
        lazy = self._lazy
        lazy.push()
        return lazy.app_context if self._kind == "app" else lazy.context

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._real(), name, value)

    def __bool__(self) -> bool:
        return bool(self._real())


def _received(signal: Any, flask_app: Flask) -> bool:
    """Whether a receiver gets the signal Flask sends for ``flask_app`` (blinker keeps a receiver
    disconnected from one sender in ``receivers``: its own lookup is the one that counts)."""
    return next(iter(signal.receivers_for(flask_app)), None) is not None


def _blueprint_chain(endpoint: str) -> list[str]:
    """"a.b.view" -> ["a", "a.b"]: the blueprints whose hooks apply to the endpoint."""
    parts = endpoint.split(".")[:-1]
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _name(function: Any) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"
