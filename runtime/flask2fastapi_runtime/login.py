"""Flask's signed session cookie and Flask-Login's login state, without Flask.

A converted app whose views took Flask-Login's ``current_user``, ``login_user`` and
``logout_user`` takes the current user from a dependency instead. For a cutover to log no one
out, that dependency must read the cookie Flask wrote, and the cookie it writes must be one that
Flask (and a rollback to the original) reads. Starlette's ``SessionMiddleware`` signs a different
format, so this module keeps Flask's:

- ``FlaskSessionMiddleware(app, config=..., login=True)``: ``request.session`` (Starlette's API) holds the
  content of Flask's ``session`` cookie: itsdangerous' ``URLSafeTimedSerializer`` with the salt
  ``cookie-session``, an HMAC-derived SHA-1 key, Flask's tagged JSON (tuples, bytes, ...), keys
  sorted; ``SECRET_KEY_FALLBACKS`` read; ``PERMANENT_SESSION_LIFETIME`` the age limit. The cookie
  is written back as Flask's ``SecureCookieSessionInterface`` wrote it: only when the session was
  modified (or is permanent and ``SESSION_REFRESH_EACH_REQUEST``), deleted when emptied, with
  ``Vary: Cookie`` whenever the session was read, and the same attributes (``SESSION_COOKIE_*``).
  ``config`` is a mapping read on each request; without it, the settings of the app serving the
  request (``settings_of``: a bridged Flask app's ``config``, ``NativeApp``'s, ``app.state.settings``).
  ``login=False`` for an app without Flask-Login: no remember cookie, and the session is read only
  where the app reads it (Flask-Login's after-request step read it on every request).
- ``UserMixin`` and ``AnonymousUser``: Flask-Login's ``is_authenticated``, ``is_active``,
  ``is_anonymous`` and ``get_id()``.
- ``session_user(request, load_user)``: the user Flask-Login's ``current_user`` was, by
  the same steps: "basic" session protection (a session from another address or browser is no
  longer fresh), ``_user_id`` given to the project's ``user_loader``, else the ``remember_token``
  cookie (unless the session says ``_remember: clear``; the session then holds its user id, not
  fresh), else ``AnonymousUser()``.
- ``login_user(request, user, ...)`` and ``logout_user(request)`` write and clear ``_user_id``,
  ``_fresh``, ``_id`` and ``_remember`` as Flask-Login did; the middleware then sets or clears the
  ``remember_token`` cookie as Flask-Login's after-request hook did.
- ``login_redirect(request, login_url, ...)``: the answer of Flask-Login's ``unauthorized()``
  with a ``login_view``: its message flashed into the session (Flask's ``_flashes`` list), a
  302 to the login URL with ``?next=`` (the current path and query), werkzeug's redirect page.

What is not kept: ``request_loader`` and ``header_loader`` (they were handed Flask's request),
"strong" session protection, ``USE_SESSION_FOR_NEXT``, ``FORCE_HOST_FOR_REDIRECTS`` and the
signals; the converter leaves a project that uses them on Flask-Login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .flashing import flash
from .redirects import redirect
from .refusals import Refused, answer_refused
from .settings import settings_of

__all__ = [
    "AnonymousUser",
    "LoginRefused",
    "answer_login_refused",
    "FlaskSession",
    "FlaskSessionMiddleware",
    "UserMixin",
    "login_redirect",
    "login_user",
    "logout_user",
    "session_user",
]

# Flask's and Flask-Login's defaults, for a config that does not name them
DEFAULTS: dict[str, Any] = {
    "SECRET_KEY_FALLBACKS": None,
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "REMEMBER_COOKIE_NAME": "remember_token",
    "REMEMBER_COOKIE_DURATION": timedelta(days=365),
    "REMEMBER_COOKIE_DOMAIN": None,
    "REMEMBER_COOKIE_PATH": "/",
    "REMEMBER_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": None,
}
SESSION_KEYS = ("_user_id", "_remember", "_remember_seconds", "_id", "_fresh", "next")
LOGIN_MESSAGE = "Please log in to access this page."


def _setting(config: Mapping[str, Any], key: str) -> Any:
    return config.get(key, DEFAULTS[key]) if key in DEFAULTS else config[key]


def _seconds(value: Any) -> int:
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


# -- Flask's tagged JSON: the types JSON lacks, under a one-key dict (flask.json.tag) -----------


def _tag(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)) in TAGS:
            key = next(iter(value))
            return {" di": {f"{key}__": _tag(value[key])}}
        return {key: _tag(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return {" t": [_tag(item) for item in value]}
    if isinstance(value, bytes):
        return {" b": base64.b64encode(value).decode("ascii")}
    if hasattr(value, "__html__"):
        return {" m": str(value.__html__())}
    if isinstance(value, list):
        return [_tag(item) for item in value]
    if isinstance(value, uuid.UUID):
        return {" u": value.hex}
    if isinstance(value, datetime):
        return {" d": format_datetime(value.astimezone(timezone.utc), usegmt=True)}
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        key, item = next(iter(value.items()))
        if key in TAGS:
            return TAGS[key](item)
    return value


TAGS: dict[str, Callable[[Any], Any]] = {
    " di": lambda item: {next(iter(item))[:-2]: next(iter(item.values()))},
    " t": tuple,
    " b": lambda item: base64.b64decode(item),
    " m": str,  # markupsafe is not a dependency: the markup's text
    " u": lambda item: uuid.UUID(item),
    " d": parsedate_to_datetime,
}


class _TaggedJSON:
    """The serializer Flask hands itsdangerous (keys sorted, as Flask's JSON provider sorts)."""

    @staticmethod
    def dumps(value: Any) -> str:
        return json.dumps(_tag(value), separators=(",", ":"), sort_keys=True)

    @staticmethod
    def loads(value: str | bytes) -> Any:
        return json.loads(value, object_hook=_untag)


def _serializer(secret_key: str | bytes, fallbacks: list[str | bytes] | None = None) -> URLSafeTimedSerializer:
    keys = [*(fallbacks or []), secret_key]  # itsdangerous signs with the last, reads with any
    return URLSafeTimedSerializer(
        keys,  # type: ignore[arg-type]
        salt="cookie-session",
        serializer=_TaggedJSON,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


# -- the session ------------------------------------------------------------------------------


class FlaskSession(dict):  # type: ignore[type-arg]
    """Flask's ``SecureCookieSession``: a dict that knows whether it was read or changed."""

    def __init__(self, initial: Mapping[str, Any] = ()) -> None:  # type: ignore[assignment]
        super().__init__(initial)
        self.modified = False
        self.accessed = False
        self.flashes: list[Any] | None = None  # what get_flashed_messages popped (flashing)

    @property
    def permanent(self) -> bool:
        return bool(super().get("_permanent", False))

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def _changed(self) -> None:
        self.accessed = self.modified = True

    # as werkzeug's CallbackDict under Flask's session: a change is one that happened (a pop of
    # a missing key or a setdefault of a present one changes nothing); every call is an access
    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        self.accessed = True
        super().__delitem__(key)
        self._changed()

    def pop(self, key: str, *default: Any) -> Any:
        self.accessed = True
        present = super().__contains__(key)
        value = super().pop(key, *default)
        if present:
            self._changed()
        return value

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        absent = not super().__contains__(key)
        value = super().setdefault(key, default)
        if absent:
            self._changed()
        return value

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def clear(self) -> None:
        super().clear()
        self._changed()


class NullSession(FlaskSession):
    """Flask's ``NullSession``, the session of an app without a ``SECRET_KEY``: it reads as
    empty, and any change raises Flask's RuntimeError. It is never written back."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session is unavailable because no secret key was set.  Set the secret_key on the"
            " application to something unique and secret."
        )

    __setitem__ = __delitem__ = pop = setdefault = update = clear = popitem = _fail  # type: ignore[assignment]


class FlaskSessionMiddleware:
    """``request.session`` read from and written to Flask's session cookie (module doc)."""

    def __init__(self, app: ASGIApp, config: Mapping[str, Any] | None = None, login: bool = True) -> None:
        self.app = app
        self.config = config
        # Flask-Login's after-request step (the remember cookie) runs on every request, and reads
        # the session as it does (Vary: Cookie); an app without Flask-Login has no such step
        self.login = login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        config = self.config if self.config is not None else settings_of(scope["app"])
        cookie = connection.cookies.get(_setting(config, "SESSION_COOKIE_NAME"))
        session = scope["session"] = _load(config, cookie)
        had_remember_cookie = _setting(config, "REMEMBER_COOKIE_NAME") in connection.cookies

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if self.login:
                    _remember_cookie(session, config, headers, had_remember_cookie)
                _save(config, session, headers)
            await send(message)

        await self.app(scope, receive, sending)



def _load(config: Mapping[str, Any], cookie: str | None) -> FlaskSession:
    secret = config.get("SECRET_KEY")
    if not secret:
        return NullSession()
    if not cookie:
        return FlaskSession()
    max_age = _seconds(_setting(config, "PERMANENT_SESSION_LIFETIME"))
    try:
        data = _serializer(secret, _setting(config, "SECRET_KEY_FALLBACKS")).loads(cookie, max_age=max_age)
    except BadSignature:
        return FlaskSession()
    return FlaskSession(data)


def _save(config: Mapping[str, Any], session: FlaskSession, headers: MutableHeaders) -> None:
    name = _setting(config, "SESSION_COOKIE_NAME")
    if isinstance(session, NullSession):
        return  # Flask saves no null session: no cookie, no Vary
    if session.accessed:
        _vary_cookie(headers)
    if not session:
        if session.modified:
            headers.append("set-cookie", _cookie_header(name, "", config, "SESSION", expires=0))
            _vary_cookie(headers)
        return
    refresh = session.permanent and _setting(config, "SESSION_REFRESH_EACH_REQUEST")
    if not (session.modified or refresh) or not config.get("SECRET_KEY"):
        return
    expires = None
    if session.permanent:
        expires = datetime.now(timezone.utc) + _setting(config, "PERMANENT_SESSION_LIFETIME")
    value = _serializer(config["SECRET_KEY"], _setting(config, "SECRET_KEY_FALLBACKS")).dumps(dict(session))
    headers.append("set-cookie", _cookie_header(name, value, config, "SESSION", expires=expires))
    _vary_cookie(headers)


def _vary_cookie(headers: MutableHeaders) -> None:
    present = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
    if "cookie" not in {v.lower() for v in present}:
        headers["vary"] = ", ".join([*present, "Cookie"])


def _cookie_header(name: str, value: str, config: Mapping[str, Any], kind: str, expires: Any, bare: bool = False) -> str:
    """A Set-Cookie value with werkzeug's attributes, in its order (``dump_cookie``); ``bare``:
    only the domain and path (Flask-Login deletes its cookie so)."""
    path = _setting(config, f"{kind}_COOKIE_PATH") or _setting(config, "APPLICATION_ROOT")
    parts = [f"{name}={_quoted(value)}"]
    domain = _setting(config, f"{kind}_COOKIE_DOMAIN")
    if domain:
        parts.append(f"Domain={domain}")
    if expires is not None:
        when = datetime.fromtimestamp(0, timezone.utc) if expires == 0 else expires
        parts.append(f"Expires={format_datetime(when, usegmt=True)}")
        if expires == 0:  # a deleted cookie: werkzeug's delete_cookie gives both
            parts.append("Max-Age=0")
    if bare:
        return "; ".join([*parts, f"Path={path}"])
    if _setting(config, f"{kind}_COOKIE_SECURE"):
        parts.append("Secure")
    if _setting(config, f"{kind}_COOKIE_HTTPONLY"):
        parts.append("HttpOnly")
    parts.append(f"Path={path}")
    samesite = _setting(config, f"{kind}_COOKIE_SAMESITE")
    if samesite:
        parts.append(f"SameSite={samesite.title()}")
    if kind == "SESSION" and _setting(config, "SESSION_COOKIE_PARTITIONED"):
        parts.append("Partitioned")
    return "; ".join(parts)


def _quoted(value: str) -> str:
    if not value:
        return ""  # werkzeug's dump_cookie writes a deleted cookie's empty value bare, not ""
    cookie: SimpleCookie = SimpleCookie()
    cookie["x"] = value
    return cookie["x"].coded_value


# -- Flask-Login --------------------------------------------------------------------------------


class UserMixin:
    """Flask-Login's ``UserMixin``: a user is authenticated while active; its id is ``str(id)``."""

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

    __hash__ = object.__hash__


class AnonymousUser:
    """Flask-Login's ``AnonymousUserMixin``: what ``current_user`` was for nobody."""

    is_authenticated = False
    is_active = False
    is_anonymous = True

    def get_id(self) -> None:
        return None


def _identifier(connection: HTTPConnection) -> str:
    """Flask-Login's session identifier: a hash of the client's address and User-Agent (as the
    repr of their bytes, as Flask-Login formats them)."""
    forwarded = connection.headers.get("x-forwarded-for")
    address = forwarded if forwarded is not None else (connection.client.host if connection.client else None)
    address_part = address.encode("utf-8").split(b",")[0].strip() if address is not None else None
    agent = connection.headers.get("user-agent")
    agent_part = agent.encode("utf-8") if agent is not None else None
    return hashlib.sha512(f"{address_part}|{agent_part}".encode()).hexdigest()


def _digest(payload: str, secret: str | bytes) -> str:
    key = secret.encode("latin1") if isinstance(secret, str) else secret
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha512).hexdigest()


def session_user(connection: HTTPConnection, load_user: Callable[[str], Any], config: Mapping[str, Any] | None = None) -> Any:
    """The user Flask-Login's ``current_user`` was for this request (module doc), or
    ``AnonymousUser()``. ``config``: the app's settings (``settings_of``) unless given."""
    config = config if config is not None else settings_of(connection.app)
    session = connection.session
    if session and _identifier(connection) != session.get("_id"):
        if session.get("_fresh") is not False:  # "basic" protection: the session is no longer fresh
            session["_fresh"] = False
    user = None
    user_id = session.get("_user_id")
    if user_id is not None:
        user = load_user(user_id)
    cookie = connection.cookies.get(_setting(config, "REMEMBER_COOKIE_NAME"))
    if user is None and cookie is not None and session.get("_remember") != "clear":
        payload, bar, digest = cookie.rpartition("|")
        secret = config.get("SECRET_KEY")
        if bar and secret and hmac.compare_digest(_digest(payload, secret), digest):
            # a signed cookie is taken at its word, the user found or not, as Flask-Login did
            session["_user_id"] = payload
            session["_fresh"] = False
            user = load_user(payload)
    return user if user is not None else AnonymousUser()


def login_user(
    connection: HTTPConnection,
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool:
    """Flask-Login's ``login_user``: the user's id, freshness and session identifier in the session."""
    if not force and not user.is_active:
        return False
    session = connection.session
    session["_user_id"] = user.get_id()
    session["_fresh"] = fresh
    session["_id"] = _identifier(connection)
    if remember:
        session["_remember"] = "set"
        if duration is not None:
            session["_remember_seconds"] = duration.total_seconds()
    return True


def logout_user(connection: HTTPConnection, config: Mapping[str, Any] | None = None) -> bool:
    """Flask-Login's ``logout_user``: the login keys leave the session; a remember cookie is cleared."""
    config = config if config is not None else settings_of(connection.app)
    session = connection.session
    for key in ("_user_id", "_fresh", "_id"):
        if key in session:
            session.pop(key)
    if _setting(config, "REMEMBER_COOKIE_NAME") in connection.cookies:
        session["_remember"] = "clear"
        if "_remember_seconds" in session:
            session.pop("_remember_seconds")
    return True


def _remember_cookie(session: FlaskSession, config: Mapping[str, Any], headers: MutableHeaders, sent: bool) -> None:
    """Flask-Login's after-request hook: ``_remember`` in the session sets or clears the cookie."""
    if "_remember" not in session:
        return
    operation = session.pop("_remember")
    name = _setting(config, "REMEMBER_COOKIE_NAME")
    if operation == "set" and "_user_id" in session:
        seconds = session.get("_remember_seconds")
        duration = timedelta(seconds=seconds) if seconds is not None else _setting(config, "REMEMBER_COOKIE_DURATION")
        if isinstance(duration, int):
            duration = timedelta(seconds=duration)
        payload = str(session["_user_id"])
        value = f"{payload}|{_digest(payload, config['SECRET_KEY'])}"
        expires = datetime.now(timezone.utc) + duration
        headers.append("set-cookie", _cookie_header(name, value, config, "REMEMBER", expires=expires))
    elif operation == "clear":
        headers.append("set-cookie", _cookie_header(name, "", config, "REMEMBER", expires=0, bare=True))


def login_redirect(
    connection: HTTPConnection,
    login_url: str,
    message: str | None = LOGIN_MESSAGE,
    category: str = "message",
    next_field: str = "next",
) -> HTMLResponse:
    """The answer of Flask-Login's ``unauthorized()`` with a login view (module doc)."""
    if message:
        flash(connection, message, category)
    current = urlsplit(str(connection.url))
    login = urlsplit(login_url)
    if (not login.scheme or login.scheme == current.scheme) and (not login.netloc or login.netloc == current.netloc):
        next_url = urlunsplit(("", "", current.path, current.query, ""))
    else:
        next_url = str(connection.url)
    query: dict[str, Any] = parse_qs(login.query, keep_blank_values=True)
    query[next_field] = next_url  # a next= the login URL had is replaced where it stood
    location = urlunsplit((login.scheme, login.netloc, login.path, urlencode(query, doseq=True), login.fragment))
    return redirect(location)


class LoginRefused(Refused):
    """What a converted ``login_required`` dependency raises: the answer Flask-Login gave instead
    of the view (its ``unauthorized_handler``'s, or ``login_redirect``'s), answered by the app's
    handler of ``refusals.Refused`` (``answer_login_refused`` is that handler, for an app that
    registers it by this name: ``app.add_exception_handler(LoginRefused, answer_login_refused)``)."""


answer_login_refused = answer_refused
