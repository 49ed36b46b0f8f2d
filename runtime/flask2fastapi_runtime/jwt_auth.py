"""``JWTAuth``: Flask-JWT-Extended's ``JWTManager`` for FastAPI, with PyJWT and no Flask.

FastAPI has no JSON Web Token support of its own (its security tutorial decodes tokens with
PyJWT in a dependency). A Flask app using Flask-JWT-Extended has tokens out in the world and
clients that read its refusals, so the converted app must verify the very tokens the Flask app
issued, issue tokens the Flask app verifies, and refuse as it did. ``JWTAuth`` keeps that:

- the same settings, read from the app's config (``JWT_SECRET_KEY`` or ``SECRET_KEY``,
  ``JWT_ALGORITHM``, ``JWT_TOKEN_LOCATION``, ``JWT_HEADER_NAME``/``TYPE``, the cookie, query and
  JSON names, ``JWT_ERROR_MESSAGE_KEY``, expiries, audience, issuer, leeway...), with
  Flask-JWT-Extended's defaults;
- the same claims (``sub``, ``fresh``, ``type``, ``jti``, ``iat``, ``nbf``, ``exp``, ``csrf``
  when cookies are protected) and the same checks, in the same order, with the same messages;
- the same loader decorators (``@jwt.user_lookup_loader``, ``@jwt.unauthorized_loader``...);
  what a refusal loader returns is answered as Flask's ``make_response`` would (a dict as
  ``jsonify`` wrote it, ``(body, status)``, ``(body, status, headers)``).

Use::

    jwt = JWTAuth()
    jwt.init_app(app)   # a FastAPI app (its settings), or a Flask app served by a FlaskBridge

    @app.get("/me")
    def me(token: Annotated[JWT, Depends(jwt.required(fresh=True))]):
        return {"id": token.identity, "role": token.claims["role"], "name": token.user.name}

``jwt.required(...)`` takes ``jwt_required``'s arguments and is a dependency returning the
verified ``JWT`` (for ``optional=True`` without a token: no claims, identity and user None). It
declares an HTTP bearer scheme in OpenAPI (an API key in a cookie or the query where the
``locations`` given say so). A refusal is raised as ``JWTRefused``, answered by the handler
``init_app`` registers. ``await jwt.verify(request, ...)`` is ``verify_jwt_in_request``, for code
that is no dependency: a before hook made ``RequestHooks`` middleware keeps the token it verified
on ``request.state.jwt`` (a refusal raised there is answered by the app's handler, as the
middleware answers a hook's exceptions), and a view that read the token the hook verified takes
it from ``Depends(jwt.current)``. ``jwt.create_access_token`` / ``create_refresh_token`` /
``decode_token`` are Flask-JWT-Extended's functions.

Given a Flask app (served by a FlaskBridge, with code that keeps Flask), ``init_app`` answers a
refusal through Flask's request cycle (the app's before_request hooks first, its after_request
hooks on the refusal, as around Flask-JWT-Extended's decorator), and registers a
Flask-JWT-Extended ``JWTManager`` with the same loaders, so that Flask code still calling
``verify_jwt_in_request`` or ``get_jwt`` refuses and answers alike. A token a dependency
verified is not what Flask-JWT-Extended's ``get_jwt()`` gives: Flask code that reads it must
take it from the view (transforms/jwt_auth.py converts no view with such a helper).

What it does not keep: ``JWT_TOKEN_LOCATION`` including "json" reads the body as JSON the way
Flask's ``request.is_json``/``request.json`` did, but a form-posted CSRF token
(``JWT_CSRF_CHECK_FORM``) is not read; setting cookies (``set_access_cookies``) is not here.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from hmac import compare_digest
from typing import Any

import jwt as pyjwt
from fastapi import Depends
from fastapi.security import APIKeyCookie, APIKeyQuery, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from .hooks import HookRequest
from .json_response import FlaskJSONResponse
from .refusals import Refused
from .settings import settings_of

__all__ = ["JWT", "JWTAuth", "JWTRefused", "HookRefused"]

# Flask-JWT-Extended's defaults (JWTManager._set_default_configuration_options)
DEFAULTS: dict[str, Any] = {
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_ALGORITHM": "HS256",
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_DECODE_ALGORITHMS": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_DECODE_LEEWAY": 0,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_ENCODE_ISSUER": None,
    "JWT_ENCODE_NBF": True,
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
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_REFRESH_JSON_KEY": "refresh_token",
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
    "JWT_SECRET_KEY": None,
    "JWT_TOKEN_LOCATION": ("headers",),
    "JWT_VERIFY_SUB": True,
}
LOCATIONS = ("headers", "cookies", "query_string", "json")
_ASYMMETRIC = ("RS", "ES", "PS", "Ed")


class JWTRefused(Exception):
    """A request refused for its token: ``answer`` is what the loader returned (a dict, a
    ``(body, status[, headers])`` tuple or a response), ``response`` that as a Starlette response."""

    def __init__(self, answer: Any) -> None:
        Exception.__init__(self, answer)  # not Refused's, for HookRefused: ``response`` is made from the answer
        self.answer = answer

    @property
    def response(self) -> Response:
        return _response(self.answer)


class HookRefused(JWTRefused, Refused):
    """``verify``'s refusal in a before hook run as ``RequestHooks`` middleware, answered there
    with the app's handler: ``JWTRefused``'s (``init_app`` on a FastAPI app), or on a
    ``FlaskBridge`` ``Refused``'s, which answers ``response`` as it is. (A dependency's
    ``JWTRefused`` is no ``Refused``: on a bridge it goes through Flask's cycle, after the hooks
    that stayed Flask's; a hook made middleware has no Flask hook left to come after.)"""


class _NoToken(Exception):
    """Flask-JWT-Extended's NoAuthorizationError: answered by the unauthorized loader."""


class _CSRF(Exception):
    """Flask-JWT-Extended's CSRFError: answered by the unauthorized loader, never optional."""


class _Invalid(Exception):
    """A token (or where it was looked for) that does not verify: the invalid token loader."""


@dataclass(frozen=True)
class JWT:
    """The verified token of a request: its claims, header, where it was found and its user."""

    claims: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    location: str | None = None
    identity_claim: str = "sub"
    loaded_user: Any = None
    has_user_lookup: bool = False

    @property
    def identity(self) -> Any:
        """``get_jwt_identity()``: the identity claim, None without a token."""
        return self.claims.get(self.identity_claim)

    @property
    def user(self) -> Any:
        """``current_user``: what the user lookup loader returned for the token."""
        if not self.has_user_lookup:
            raise RuntimeError("You must provide a `@jwt.user_lookup_loader` callback to use this method")
        return self.loaded_user


def _loader(attribute: str) -> Callable[[JWTAuth, Callable[..., Any]], Callable[..., Any]]:
    def register(self: JWTAuth, callback: Callable[..., Any]) -> Callable[..., Any]:
        self.callbacks[attribute] = callback
        for manager in self._flask_managers:
            getattr(manager, attribute)(callback)
        return callback

    register.__name__ = attribute
    register.__doc__ = f"The decorator ``JWTManager.{attribute}``: registers ``callback``."
    return register


class JWTAuth:
    """Flask-JWT-Extended's JWTManager for FastAPI (module doc)."""

    def __init__(self, app: Any = None) -> None:
        self.callbacks: dict[str, Callable[..., Any]] = {}
        self._config: Mapping[str, Any] | None = None
        self._flask_managers: list[Any] = []  # Flask-JWT-Extended's, for Flask code that stays
        if app is not None:
            self.init_app(app)

    additional_claims_loader = _loader("additional_claims_loader")
    additional_headers_loader = _loader("additional_headers_loader")
    decode_key_loader = _loader("decode_key_loader")
    encode_key_loader = _loader("encode_key_loader")
    expired_token_loader = _loader("expired_token_loader")
    invalid_token_loader = _loader("invalid_token_loader")
    needs_fresh_token_loader = _loader("needs_fresh_token_loader")
    revoked_token_loader = _loader("revoked_token_loader")
    token_in_blocklist_loader = _loader("token_in_blocklist_loader")
    token_verification_failed_loader = _loader("token_verification_failed_loader")
    token_verification_loader = _loader("token_verification_loader")
    unauthorized_loader = _loader("unauthorized_loader")
    user_identity_loader = _loader("user_identity_loader")
    user_lookup_error_loader = _loader("user_lookup_error_loader")
    user_lookup_loader = _loader("user_lookup_loader")

    # -- binding to an app ---------------------------------------------------------------
    def init_app(self, app: Any) -> None:
        """Read settings from ``app`` and answer refusals there (module doc)."""
        if hasattr(app, "add_exception_handler"):  # a FastAPI app
            self._config = settings_of(app)
            app.add_exception_handler(JWTRefused, _refusal)
            return
        self._config = app.config
        for key, value in DEFAULTS.items():
            app.config.setdefault(key, value)
        # A native route's dependency raises before Flask's cycle; the bridge answers what has no
        # FastAPI handler as if the view raised it (errors.answer_raised): the before_request
        # hooks run first and may answer instead, the after_request hooks see the refusal, as
        # around Flask-JWT-Extended's decorator.
        app.register_error_handler(JWTRefused, _flask_answer)
        self._register_in_flask(app)

    def _register_in_flask(self, flask_app: Any) -> None:
        """Flask-JWT-Extended's own manager, with these loaders, for Flask code that stays."""
        try:
            from flask_jwt_extended import JWTManager
        except ImportError:  # no Flask code left that could use it
            return
        manager = JWTManager()
        for name, callback in self.callbacks.items():
            getattr(manager, name)(callback)
        manager.init_app(flask_app)
        self._flask_managers.append(manager)

    @property
    def config(self) -> Mapping[str, Any]:
        if self._config is None:
            raise RuntimeError("JWTAuth: call init_app(app) before using it")
        return self._config

    def setting(self, key: str) -> Any:
        return self.config.get(key, DEFAULTS.get(key))

    def setting_or_default(self, key: str) -> Any:
        """A setting where the app may not be bound yet (a route declared before init_app)."""
        return DEFAULTS[key] if self._config is None else self.setting(key)

    # -- issuing -------------------------------------------------------------------------
    def create_access_token(self, identity: Any, fresh: bool | float | timedelta = False, expires_delta: Any = None,
                            additional_claims: dict | None = None, additional_headers: dict | None = None) -> str:
        """``flask_jwt_extended.create_access_token``."""
        return self._encode(identity, "access", additional_claims, fresh, expires_delta, additional_headers)

    def create_refresh_token(self, identity: Any, expires_delta: Any = None, additional_claims: dict | None = None,
                             additional_headers: dict | None = None) -> str:
        """``flask_jwt_extended.create_refresh_token``."""
        return self._encode(identity, "refresh", additional_claims, False, expires_delta, additional_headers)

    def _encode(self, identity: Any, kind: str, claims: dict | None, fresh: Any, expires: Any, headers: dict | None) -> str:
        header = dict(self._call("additional_headers_loader", identity, default={}))
        header.update(headers or {})
        extra = dict(self._call("additional_claims_loader", identity, default={}))
        extra.update(claims or {})
        if expires is None:
            expires = self._expiry(f"JWT_{kind.upper()}_TOKEN_EXPIRES")
        now = datetime.now(timezone.utc)
        if isinstance(fresh, timedelta):
            fresh = datetime.timestamp(now + fresh)
        data: dict[str, Any] = {
            "fresh": fresh, "iat": now, "jti": str(uuid.uuid4()), "type": kind,
            self.setting("JWT_IDENTITY_CLAIM"): self._call("user_identity_loader", identity, default=identity),
        }
        if self.setting("JWT_ENCODE_NBF"):
            data["nbf"] = now
        if self.setting("JWT_COOKIE_CSRF_PROTECT"):
            data["csrf"] = str(uuid.uuid4())
        for claim, key in (("aud", "JWT_ENCODE_AUDIENCE"), ("iss", "JWT_ENCODE_ISSUER")):
            if self.setting(key):
                data[claim] = self.setting(key)
        if expires:
            data["exp"] = now + expires
        data.update(extra)
        key = self._call("encode_key_loader", identity, default=self._key(private=True))
        return pyjwt.encode(data, key, self.setting("JWT_ALGORITHM"), headers=header or None, json_encoder=_FlaskJSONEncoder)

    def _expiry(self, key: str) -> Any:
        delta = self.setting(key)
        return timedelta(seconds=delta) if type(delta) is int else delta

    def _key(self, private: bool) -> str:
        algorithm = self.setting("JWT_ALGORITHM")
        if algorithm.startswith(_ASYMMETRIC):
            key = self.setting("JWT_PRIVATE_KEY" if private else "JWT_PUBLIC_KEY")
            if not key:
                raise RuntimeError(f'JWT_{"PRIVATE" if private else "PUBLIC"}_KEY must be set to use asymmetric cryptography algorithm "{algorithm}"')
            return key
        key = self.setting("JWT_SECRET_KEY") or self.config.get("SECRET_KEY")
        if not key:
            raise RuntimeError(f'JWT_SECRET_KEY or flask SECRET_KEY must be set when using symmetric algorithm "{algorithm}"')
        return key

    # -- verifying -----------------------------------------------------------------------
    def decode_token(self, encoded: str, csrf_value: str | None = None, allow_expired: bool = False) -> dict[str, Any]:
        """``flask_jwt_extended.decode_token``: PyJWT's errors (``jwt.InvalidTokenError``) pass."""
        algorithms = list(self.setting("JWT_DECODE_ALGORITHMS") or [])
        if self.setting("JWT_ALGORITHM") not in algorithms:
            algorithms.append(self.setting("JWT_ALGORITHM"))
        unverified = pyjwt.decode(encoded, algorithms=algorithms, options={"verify_signature": False})
        header = pyjwt.get_unverified_header(encoded)
        secret = self._call("decode_key_loader", header, unverified, default=self._key(private=False))
        audience = self.setting("JWT_DECODE_AUDIENCE")

        def decode(allow_expired: bool) -> dict[str, Any]:
            options: dict[str, Any] = {"verify_aud": audience is not None, "verify_sub": self.setting("JWT_VERIFY_SUB")}
            if allow_expired:
                options["verify_exp"] = False
            return pyjwt.decode(encoded, secret, algorithms=algorithms, audience=audience, issuer=self.setting("JWT_DECODE_ISSUER"),
                                leeway=self.setting("JWT_DECODE_LEEWAY"), options=options)

        try:
            claims = decode(allow_expired)
        except pyjwt.ExpiredSignatureError as error:
            error.jwt_header, error.jwt_data = header, decode(True)  # type: ignore[attr-defined]
            raise
        identity = self.setting("JWT_IDENTITY_CLAIM")
        if identity not in claims:
            raise _Invalid(f"Missing claim: {identity}")
        claims.setdefault("type", "access")
        claims.setdefault("fresh", False)
        claims.setdefault("jti", None)
        if csrf_value:
            if "csrf" not in claims:
                raise _Invalid("Missing claim: csrf")
            if not compare_digest(claims["csrf"], csrf_value):
                raise _CSRF("CSRF double submit tokens do not match")
        return claims

    def required(self, optional: bool = False, fresh: bool = False, refresh: bool = False,
                 locations: str | Iterable[str] | None = None, verify_type: bool = True,
                 skip_revocation_check: bool = False) -> Callable[..., Any]:
        """The dependency ``@jwt_required(...)`` with these arguments stands for: the verified
        ``JWT`` of the request, or ``JWTRefused`` with what Flask-JWT-Extended answered."""
        where = (locations,) if isinstance(locations, str) else tuple(locations) if locations else None
        # the security scheme OpenAPI shows; the dependency reads the request itself, to refuse
        # with Flask-JWT-Extended's messages
        scheme: Any
        if where and where[0] == "cookies":
            scheme = APIKeyCookie(name=self.setting_or_default(f"JWT_{'REFRESH' if refresh else 'ACCESS'}_COOKIE_NAME"), auto_error=False)
        elif where and where[0] == "query_string":
            scheme = APIKeyQuery(name=self.setting_or_default("JWT_QUERY_STRING_NAME"), auto_error=False)
        else:
            scheme = HTTPBearer(bearerFormat="JWT", auto_error=False)

        async def jwt_required(request: Request, _credentials: Any = Depends(scheme)) -> JWT:
            token = await self.verify(request, optional, fresh, refresh, where, verify_type, skip_revocation_check)
            return JWT(identity_claim=self.setting("JWT_IDENTITY_CLAIM"), has_user_lookup="user_lookup_loader" in self.callbacks) if token is None else token

        return jwt_required

    async def verify(self, request: Request, optional: bool = False, fresh: bool = False, refresh: bool = False,
                     locations: str | Iterable[str] | None = None, verify_type: bool = True,
                     skip_revocation_check: bool = False) -> JWT | None:
        """``verify_jwt_in_request``, for ``request``: the token, or ``JWTRefused`` (``HookRefused``
        in a ``RequestHooks`` hook); None for an OPTIONS request, which it exempts and verifies no
        token for (reading one is then an error)."""
        try:
            return await self._verify(request, optional, fresh, refresh, locations, verify_type, skip_revocation_check)
        except JWTRefused as refused:
            if isinstance(request, HookRequest):
                raise HookRefused(refused.answer) from None
            raise

    async def _verify(self, request: Request, optional: bool, fresh: bool, refresh: bool,
                      locations: str | Iterable[str] | None, verify_type: bool, skip_revocation_check: bool) -> JWT | None:
        if locations is not None:
            locations = (locations,) if isinstance(locations, str) else tuple(locations)
        identity_claim = self.setting("JWT_IDENTITY_CLAIM")
        lookup = "user_lookup_loader" in self.callbacks
        if request.method == "OPTIONS":  # Flask-JWT-Extended's exempt methods
            return None
        try:
            try:
                claims, header, location = await self._find(request, locations or self._locations(), refresh)
            except _NoToken:
                if not optional:
                    raise
                return JWT(identity_claim=identity_claim, has_user_lookup=lookup)
            if verify_type and refresh != (claims["type"] == "refresh"):
                raise _Invalid("Only refresh tokens are allowed" if refresh else "Only non-refresh tokens are allowed")
            if fresh and not _is_fresh(claims["fresh"]):
                raise JWTRefused(self._answer("needs_fresh_token_loader", header, claims))
            if not skip_revocation_check and await self._run("token_in_blocklist_loader", header, claims, default=False):
                raise JWTRefused(self._answer("revoked_token_loader", header, claims))
            if not await self._run("token_verification_loader", header, claims, default=True):
                raise JWTRefused(self._answer("token_verification_failed_loader", header, claims))
            user = None
            if lookup:
                user = await self._run("user_lookup_loader", header, claims, default=None)
                if user is None:
                    raise JWTRefused(self._answer("user_lookup_error_loader", header, claims))
        except (_NoToken, _CSRF) as error:
            raise JWTRefused(self._answer("unauthorized_loader", str(error))) from None
        except pyjwt.ExpiredSignatureError as error:
            raise JWTRefused(self._answer("expired_token_loader", error.jwt_header, error.jwt_data)) from None  # type: ignore[attr-defined]
        except (_Invalid, pyjwt.InvalidTokenError) as error:
            raise JWTRefused(self._answer("invalid_token_loader", str(error))) from None
        return JWT(claims, header, location, identity_claim, user, lookup)

    async def current(self, request: Request) -> JWT:
        """The dependency for the token a before hook verified (``request.state.jwt``): what
        ``get_jwt()`` read after the hook's ``verify_jwt_in_request()``, and its refusal where
        no hook verified one."""
        token = getattr(request.state, "jwt", None)
        if not isinstance(token, JWT):
            raise RuntimeError("You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method")
        return token

    def _locations(self) -> tuple[str, ...]:
        configured = self.setting("JWT_TOKEN_LOCATION")
        return (configured,) if isinstance(configured, str) else tuple(configured)

    async def _find(self, request: Request, locations: tuple[str, ...], refresh: bool) -> tuple[dict, dict, str]:
        """The first location with a token, decoded (Flask-JWT-Extended's order and messages)."""
        errors = []
        for location in locations:
            if location not in LOCATIONS:
                raise RuntimeError(f"'{location}' is not a valid location")
            try:
                encoded, csrf = await getattr(self, f"_from_{location}")(request, refresh)
            except _NoToken as error:
                errors.append(str(error))
                continue
            return self.decode_token(encoded, csrf), pyjwt.get_unverified_header(encoded), location
        if len(locations) > 1:
            raise _NoToken(f"Missing JWT in {', '.join(locations[:-1])} or {locations[-1]} ({'; '.join(errors)})")
        raise _NoToken(errors[0])

    async def _from_headers(self, request: Request, refresh: bool) -> tuple[str, None]:
        name, kind = self.setting("JWT_HEADER_NAME"), self.setting("JWT_HEADER_TYPE")
        value = request.headers.get(name, "").strip().strip(",")
        if not value:
            raise _NoToken(f"Missing {name} Header")
        if not kind:
            parts = value.split()
            if len(parts) != 1:
                raise _Invalid(f"Bad {name} header. Expected '{name}: <JWT>'")
            return parts[0], None
        typed = [v for v in re.split(r",\s*", value) if v and v.split()[0] == kind]
        if len(typed) != 1:
            raise _NoToken(f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'")
        parts = typed[0].split()
        if len(parts) != 2:
            raise _Invalid(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
        return parts[1], None

    async def _from_cookies(self, request: Request, refresh: bool) -> tuple[str, str | None]:
        kind = "REFRESH" if refresh else "ACCESS"
        cookie = self.setting(f"JWT_{kind}_COOKIE_NAME")
        encoded = request.cookies.get(cookie)
        if not encoded:
            raise _NoToken(f'Missing cookie "{cookie}"')
        if not (self.setting("JWT_COOKIE_CSRF_PROTECT") and request.method in self.setting("JWT_CSRF_METHODS")):
            return encoded, None
        csrf = request.headers.get(self.setting(f"JWT_{kind}_CSRF_HEADER_NAME"))
        if not csrf:
            raise _CSRF("Missing CSRF token")
        return encoded, csrf

    async def _from_query_string(self, request: Request, refresh: bool) -> tuple[str, None]:
        name, prefix = self.setting("JWT_QUERY_STRING_NAME"), self.setting("JWT_QUERY_STRING_VALUE_PREFIX")
        value = request.query_params.get(name)
        if not value:
            raise _NoToken(f"Missing '{name}' query paramater")  # sic: Flask-JWT-Extended's message
        if not value.startswith(prefix):
            raise _Invalid(f"Invalid value for query parameter '{name}'. Expected the value to start with '{prefix}'")
        return value[len(prefix):], None

    async def _from_json(self, request: Request, refresh: bool) -> tuple[str, None]:
        mimetype = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if not (mimetype == "application/json" or mimetype.startswith("application/") and mimetype.endswith("+json")):
            raise _NoToken("Invalid content-type. Must be application/json.")
        key = self.setting("JWT_REFRESH_JSON_KEY" if refresh else "JWT_JSON_KEY")
        try:
            body = json.loads(await request.body())
        except ValueError:  # Flask's BadRequest
            body = None
        encoded = body and body.get(key)
        if not encoded:
            raise _NoToken(f'Missing "{key}" key in json data.')
        return encoded, None

    # -- loaders and answers -------------------------------------------------------------
    def _call(self, name: str, *args: Any, default: Any) -> Any:
        callback = self.callbacks.get(name)
        return default if callback is None else callback(*args)

    async def _run(self, name: str, *args: Any, default: Any) -> Any:
        """A loader of the project's (it may do blocking I/O: in the thread pool)."""
        callback = self.callbacks.get(name)
        return default if callback is None else await run_in_threadpool(callback, *args)

    def _answer(self, name: str, *args: Any) -> Any:
        """What the loader ``name`` answers (Flask-JWT-Extended's default one where the app set none)."""
        callback = self.callbacks.get(name)
        if callback is not None:
            return callback(*args)
        key = self.setting("JWT_ERROR_MESSAGE_KEY")
        if name in ("unauthorized_loader", "invalid_token_loader"):
            return {key: args[0]}, 401 if name == "unauthorized_loader" else 422
        if name == "user_lookup_error_loader":
            identity = args[1][self.setting("JWT_IDENTITY_CLAIM")]
            return {key: f"Error loading the user {identity}"}, 401
        message, status = {
            "expired_token_loader": ("Token has expired", 401),
            "needs_fresh_token_loader": ("Fresh token required", 401),
            "revoked_token_loader": ("Token has been revoked", 401),
            "token_verification_failed_loader": ("User claims verification failed", 400),
        }[name]
        return {key: message}, status


def _is_fresh(fresh: Any) -> bool:
    if isinstance(fresh, bool):
        return fresh
    return fresh >= datetime.timestamp(datetime.now(timezone.utc))


def _response(value: Any) -> Response:
    """What a loader returned, as Flask's ``make_response`` answered it."""
    if isinstance(value, Response):
        return value
    status, headers = 200, None
    if isinstance(value, tuple):
        if len(value) == 3:
            value, status, headers = value
        elif isinstance(value[1], (int, str)) or hasattr(value[1], "value"):
            value, status = value
        else:
            value, headers = value
    if isinstance(value, Response):
        value.status_code = int(status)
        if headers:
            value.headers.update(dict(headers))
        return value
    code = int(status) if not isinstance(status, str) else int(status.split()[0])  # Flask takes "401 UNAUTHORIZED" too
    return FlaskJSONResponse(value, status_code=code, headers=dict(headers) if headers else None)


async def _refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JWTRefused)
    return exc.response


def _flask_answer(exc: JWTRefused) -> Any:
    """Flask's error handler: the loader's answer, made a response by Flask as before."""
    return exc.answer


class _FlaskJSONEncoder(json.JSONEncoder):
    """Claims as Flask's JSON provider wrote them (Flask-JWT-Extended encodes with it)."""

    def default(self, o: Any) -> Any:
        from .json_response import flask_default

        return flask_default(o)
