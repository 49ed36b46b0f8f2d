"""What converted Flask apps need beyond FastAPI, Starlette and Flask themselves.

- ``FlaskBridge`` (bridge): the converted app, a FastAPI app serving a real Flask app's routes
  next to native FastAPI ones, every request inside Flask's request context.
- ``FlaskRoute`` (routing): the route class of native routes, ``APIRouter(route_class=FlaskRoute)``.
- ``OrDefault`` (params): ``page: Annotated[int, OrDefault] = 1``, the default for a value that
  does not convert, as ``request.args.get("page", 1, type=int)`` gave.
- ``FlaskJson`` (json_body): ``data: Annotated[Model | None, FlaskJson()] = None``, the JSON body
  as the view's ``request.get_json()`` read it, as a Pydantic model.
- ``@api.exception_handler(key)`` (handlers): a FastAPI exception handler that also answers the
  errors raised in Flask's request cycle, where Flask's lookup picks it; ``blueprint_handlers(bp,
  {key: handler})``, a blueprint's, for its views and (``BlueprintHooks(handlers=...)``) its hooks.
- ``FlaskJSONResponse`` (json_response): a JSONResponse with the bytes ``jsonify`` wrote (sorted
  keys, ASCII, a final newline, Flask's dates); ``status_name(code)`` (errors): werkzeug's name
  of a status, what ``error.name`` was; ``request_path(request)`` (request_path): what Flask's
  ``request.path`` was, where Starlette's ``request.url.path`` writes an odd path otherwise.
- ``bridge_of`` (bridge): the bridge of a Flask app, for code that holds only the Flask app.
- ``NativeApp``, ``NativeRoute`` (native), ``Config`` (config), ``FlaskCorsMiddleware`` (cors): the
  converted app once no Flask is left in it, with Flask's conventions, config loading and
  Flask-CORS's answers byte for byte; ``flask_cors_options`` (starlette_cors): Flask-CORS's options
  for Starlette's CORSMiddleware instead. Importing them needs no Flask.
- ``RequestHooks``, ``ResponseHead`` (hooks): before/after request hooks as pure ASGI middleware.
- ``Settings`` (settings): ``settings: Settings``, the app's settings mapping (the Flask app's
  ``config`` on a bridge) where Flask code read ``current_app.config``; ``app_settings``,
  ``settings_of(app)``.
- ``HTTPBasicAuth``, ``HTTPTokenAuth``, ``MultiAuth`` (httpauth, ``from flask2fastapi_runtime.httpauth
  import ...``): Flask-HTTPAuth's objects with its callbacks, whose ``login_required(...)`` is a
  FastAPI dependency returning the user and refusing as Flask-HTTPAuth did.
- ``generate_password_hash``, ``check_password_hash`` (passwords): werkzeug.security's password
  hashes (scrypt, pbkdf2), read and written without werkzeug.
- ``http_client()`` (http): the app's shared aiohttp ClientSession, opened in its lifespan, where
  Flask code called ``requests``; ``http_params``, ``http_timeout``, ``read_body``, ``read_text``, ``read_json``,
  ``iter_lines``, ``raise_for_status``: requests' ``params=``, ``timeout=``, ``.content``, ``.text``, ``.json()``,
  ``.iter_lines()``, ``.raise_for_status()``.
- ``awaitable(f)``, ``requests_double(monkeypatch, verb, fake)`` (doubles): what a converted Flask
  test puts where it swapped a function that became async, or ``requests.post`` (now the shared
  aiohttp client's call).
- ``BridgedClient`` (testing): Flask's test client, through the whole converted app;
  ``as_wsgi(app)``: the app as WSGI harnesses (WebTest's ``TestApp``) drive it.
- ``file_response``, ``safe_path`` (``flask2fastapi_runtime.files``): what Flask's ``send_file`` and
  ``send_from_directory`` answered (werkzeug's headers, ETag, conditional and range answers).
- ``flask_template_context`` (``flask2fastapi_runtime.templating``): a ``Jinja2Templates`` context
  processor giving templates Flask's ``request.path``, ``url_for`` (the route's path, quoted as
  werkzeug quotes) and ``get_flashed_messages``.
- ``flash``, ``get_flashed_messages``, ``flashes_in_flask_templates`` (``flask2fastapi_runtime.flashing``):
  Flask's message flashing over ``request.session``, in Flask's own cookie.
- ``redirect`` (``flask2fastapi_runtime.redirects``): werkzeug's redirect (its HTML page) as a
  Starlette response.
- ``FlaskSessionMiddleware``, ``session_user``, ``login_user``, ``logout_user``, ``login_redirect``,
  ``UserMixin``, ``AnonymousUser``, ``LoginRefused`` (``flask2fastapi_runtime.login``): Flask's session cookie and
  Flask-Login's login state without Flask, for a current-user dependency.
- ``JWTAuth``, ``JWT``, ``JWTRefused`` (jwt_auth, the jwt extra: PyJWT): Flask-JWT-Extended's
  JWTManager for FastAPI; ``Depends(jwt.required(...))`` for ``@jwt_required(...)``, the same
  tokens, claims, loaders and refusals.
- ``python -m flask2fastapi_runtime.cli --app MODULE:APP COMMAND``: the Flask app's CLI.
"""

from typing import Any

from .config import Config
from .cors import FlaskCorsMiddleware
from .doubles import awaitable, requests_double
from .http_errors import status_name
from .json_body import FlaskJson
from .json_response import FlaskJSONResponse
from .native import NativeApp, NativeRoute
from .params import OrDefault
from .passwords import check_password_hash, generate_password_hash
from .request_path import request_path
from .hooks import BlueprintHooks, RequestHooks, ResponseHead
from .http import (
    BodyReadTimeout, HTTPStatusError, HttpClientOptions, InvalidJSON, http_client, http_params, http_timeout, iter_lines,
    raise_for_status, read_body, read_json, read_text, with_http_client,
)
from .settings import Settings, app_settings, settings_of
from .starlette_cors import flask_cors_options

# What needs Flask (the flask extra) or PyJWT (the jwt extra): imported when first named, so that an app with no Flask
# left (or no JWT) imports this package without them.
_FLASK_SIDE = {
    "JWTAuth": "jwt_auth", "JWT": "jwt_auth", "JWTRefused": "jwt_auth",  # PyJWT (the jwt extra), not Flask
    "FlaskBridge": "bridge", "bridge_of": "bridge", "FlaskRoute": "routing", "blueprint_handlers": "handlers", "BridgedClient": "testing", "as_wsgi": "testing",
}


def __getattr__(name: str) -> Any:
    module = _FLASK_SIDE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"
__all__ = [
    "BodyReadTimeout", "BridgedClient", "Config", "FlaskCorsMiddleware", "HTTPStatusError", "FlaskBridge", "FlaskJSONResponse", "FlaskJson", "FlaskRoute",
    "HttpClientOptions", "InvalidJSON", "JWT", "JWTAuth", "JWTRefused", "NativeApp", "NativeRoute", "OrDefault", "awaitable", "requests_double", "RequestHooks", "BlueprintHooks",
    "ResponseHead", "Settings", "app_settings", "as_wsgi", "blueprint_handlers", "bridge_of", "check_password_hash", "flask_cors_options",
    "generate_password_hash", "http_client", "http_params", "http_timeout", "iter_lines", "raise_for_status", "read_body",
    "read_json", "read_text", "request_path", "settings_of", "status_name", "with_http_client",
]
