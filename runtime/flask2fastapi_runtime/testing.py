"""Flask's test client, driving the whole converted app.

``app.test_client()`` (on the bridge or on the Flask app) is still Flask's ``FlaskClient``,
with its cookies, ``session_transaction``, ``with client:`` and ``environ_base``, and its
``TestResponse`` (``get_json``, ``data``, ``status_code``). Only where a request goes changes:
through the ASGI app, so native routes are tested as they are served. An app's own
``test_client_class`` (a FlaskClient subclass) keeps its behaviour the same way.

As under Flask's client, a request runs in the test's own thread (``InlineASGI``): an event loop
of its own, and Flask's code called in place rather than in the thread pool. Tests that share
one SQLite connection between the test and the views (an in-memory database), or that read
``g`` after ``with client:``, keep working.
"""

from __future__ import annotations

import asyncio
import io
from http import HTTPStatus
from typing import Any

from a2wsgi.asgi import build_scope
from flask import Flask
from flask.testing import FlaskClient

from . import native_testing
from .wsgi import HEADER_NAMES, INLINE



class InlineASGI:
    """A WSGI callable that answers each request by running the ASGI app to the end in the
    calling thread, on an event loop of its own."""

    def __init__(self, asgi_app: Any) -> None:
        self.asgi_app = asgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        scope = build_scope(environ)  # keeps the environ as scope["wsgi_environ"]
        scope[INLINE] = True  # type: ignore[typeddict-unknown-key]
        length = environ.get("CONTENT_LENGTH")
        stream = environ.get("wsgi.input") or io.BytesIO()
        body = stream.read(int(length)) if length else stream.read()
        status, headers, chunks = asyncio.run(_drive(self.asgi_app, scope, body))
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        names = scope.get(HEADER_NAMES, {})  # type: ignore[misc]
        listed = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        start_response(f"{status} {phrase}".rstrip(), [(names.get(k, k), v) for k, v in listed])
        return chunks


async def _drive(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    """The ASGI app run to its end on ``body`` (native_testing's driver): what it raised goes on."""
    status, headers, chunks, error = await native_testing.drive(app, scope, body)
    if error is not None:
        raise error
    return status, headers, chunks  # type: ignore[return-value]


class _Served:
    """The Flask app as a test client sees it: the Flask app's attributes, but a request made
    with it goes to the bridge."""

    def __init__(self, flask_app: Flask, wsgi_app: Any) -> None:
        self.__dict__["_flask_app"] = flask_app
        self.__dict__["_wsgi_app"] = wsgi_app

    def __getattr__(self, name: str) -> Any:
        return getattr(self._flask_app, name)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._wsgi_app(environ, start_response)


class BridgedClient(FlaskClient):
    """FlaskClient whose requests go through the FlaskBridge of its app."""

    def __init__(self, application: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(application, Flask) and "flask2fastapi" in application.extensions:
            application = _Served(application, InlineASGI(application.extensions["flask2fastapi"]))
        super().__init__(application, *args, **kwargs)


def bridged_test_client(flask_app: Flask, use_cookies: bool = True, **kwargs: Any) -> FlaskClient:
    """``flask_app.test_client()`` of a bridged app: its ``test_client_class``, read when called
    (the factory may set it after the bridge was made), sending requests through the bridge."""
    cls = bridged_client_class(flask_app.test_client_class)
    return cls(flask_app, flask_app.response_class, use_cookies=use_cookies, **kwargs)


def bridged_client_class(cls: type[FlaskClient] | None) -> type[FlaskClient]:
    """``cls`` (the app's test_client_class) with its requests going through the bridge."""
    if cls is None or cls is FlaskClient:
        return BridgedClient
    if issubclass(cls, BridgedClient):
        return cls
    return type(cls.__name__, (BridgedClient, cls), {"__module__": cls.__module__})


def as_wsgi(app: Any) -> Any:
    """What a WSGI test harness (WebTest's ``TestApp``) should drive for ``app``: a bridge's
    WSGI face (``api.wsgi``), also for its Flask app; anything else unchanged."""
    bridge = app.extensions.get("flask2fastapi") if isinstance(app, Flask) else app
    wsgi = getattr(type(bridge), "wsgi", None)
    return bridge.wsgi if isinstance(wsgi, property) else app
