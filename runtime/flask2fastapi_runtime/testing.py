"""Flask's test client, driving the whole converted app.

``app.test_client()`` (on the bridge or on the Flask app) is still Flask's ``FlaskClient``,
with its cookies, ``session_transaction``, ``with client:`` and ``environ_base``, and its
``TestResponse`` (``get_json``, ``data``, ``status_code``). Only where a request goes changes:
through the ASGI app, so native routes are tested as they are served. An app's own
``test_client_class`` (a FlaskClient subclass) keeps its behaviour the same way.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient


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
            application = _Served(application, application.extensions["flask2fastapi"].wsgi)
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
