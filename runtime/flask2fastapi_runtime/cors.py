"""``FlaskCorsMiddleware``: Flask-CORS's ``CORS(app, ...)`` for an app with no Flask left, answering
byte for byte as Flask-CORS did.

``CORS(app, origins=..., supports_credentials=True)`` becomes::

    app.add_middleware(FlaskCorsMiddleware, config=app.config, origins=..., supports_credentials=True)

It takes Flask-CORS's option names and defaults, reads the app's ``CORS_*`` config keys first
(a ``None`` value counts as unset) and its keyword arguments over them, as ``CORS(app)`` did; its
answers are Flask-CORS's, compared header by header over a matrix of options and requests in
runtime/tests/test_cors_middleware.py:

- Flask-CORS adds its headers to the app's answer, every answer (an error's too), and answers no
  request itself: a preflight is answered by the app (``NativeApp``'s automatic OPTIONS, as
  Flask's: 200, an empty ``text/html`` body, ``Allow``) and gets the CORS headers on top. An
  answer that already has ``Access-Control-Allow-Origin`` is left alone.
- ``Access-Control-Allow-Origin``: the request's ``Origin`` when it matches an allowed origin (a
  string with a regular expression's characters, or a compiled pattern, matched from the origin's
  start; other strings compared without case), ``*`` for ``origins="*"`` with ``send_wildcard``.
  A request without ``Origin`` gets, under ``always_send`` (the default), ``*`` for
  ``origins="*"`` (nothing with ``supports_credentials``) or the first literal origin in order.
- Then, in this order and only where not empty: ``Access-Control-Expose-Headers`` (sorted),
  ``Access-Control-Allow-Credentials: true``, ``Access-Control-Allow-Private-Network`` (to a
  request asking for it), and on an OPTIONS request whose ``Access-Control-Request-Method`` is
  in ``methods``: ``Access-Control-Allow-Headers`` (the requested ones allowed, sorted),
  ``Access-Control-Max-Age`` (only when set) and ``Access-Control-Allow-Methods`` (sorted, upper
  case). Flask-CORS tests the requested method as a part of that comma-separated text, so this
  does too. A preflight it does not allow gets only the headers before.
- ``Vary: Origin``, as a header of its own after the others, when the origin sent is not ``*`` and
  more than one origin (or a pattern) could have matched (``vary_header=False``: never).

Why not a subclass of Starlette's ``CORSMiddleware``: that answers preflights itself (200 ``OK``
or 400, ``Access-Control-Max-Age: 600``) instead of letting the app answer, adds ``Vary: Origin``
on other conditions and sends no CORS headers without ``Origin``; a subclass would override every
method it has and keep none. This is a small pure ASGI middleware instead: the options are
resolved once (patterns compiled, lists joined), a request costs a pass over its headers.

Header names are written in lower case, as ASGI asks (HTTP reads them without case). What is not
carried over: ``resources`` other than every path (the converter keeps such an app on Flask).
``flask_cors_options`` (starlette_cors) gives Starlette's own middleware the same options, for a
team that prefers it and accepts its differences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["FlaskCorsMiddleware", "flask_cors_settings"]

# Flask-CORS's options and their defaults, as documented
DEFAULTS: dict[str, Any] = {
    "origins": "*",
    "methods": ("GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"),
    "allow_headers": "*",
    "expose_headers": None,
    "supports_credentials": False,
    "max_age": None,
    "send_wildcard": False,
    "automatic_options": True,
    "vary_header": True,
    "resources": r"/*",
    "intercept_exceptions": True,
    "always_send": True,
    "allow_private_network": False,
}
# what makes Flask-CORS read an origin or a header as a regular expression rather than a literal
REGEX_CHARACTERS = frozenset("*\\]?$^[()")
# the resources that are every path (what CORS(app) covers unless told otherwise)
_EVERY_PATH = ("/*", "*", ".*")

_ORIGIN = "access-control-allow-origin"
_REQUESTED = {b"origin": 0, b"access-control-request-method": 1, b"access-control-request-headers": 2,
              b"access-control-request-private-network": 3}


def flask_cors_settings(config: Mapping[str, Any] | None, options: Mapping[str, Any]) -> dict[str, Any]:
    """Flask-CORS's options for ``CORS(app, **options)`` on an app whose config is ``config``: its
    defaults, the config's ``CORS_*`` keys that are not None over them, ``options`` over those.
    ValueError for a name Flask-CORS does not have."""
    chosen = dict(DEFAULTS)
    for key, value in (config or {}).items():
        if key.startswith("CORS_") and key[5:].lower() in DEFAULTS and value is not None:
            chosen[key[5:].lower()] = value
    for key, value in options.items():
        if key not in DEFAULTS:
            raise ValueError(f"Flask-CORS has no option {key}")
        chosen[key] = value
    return chosen


def as_list(value: Any) -> list[Any]:
    """A scalar (a string, a pattern) as a list of one; an iterable as a list; None as none."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def _pattern(value: Any) -> Any:
    """A compiled pattern for a string with a regular expression's characters (without case),
    the string itself otherwise; ``*`` is every value."""
    value = ".*" if value == "*" else value
    if isinstance(value, str) and REGEX_CHARACTERS & set(value):
        try:
            return re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"Flask-CORS option: {value!r} is no regular expression") from exc
    return value


def _joined(value: Any) -> str | None:
    """A list sorted and joined with ", " (a string as it is), as Flask-CORS writes it."""
    if value is None:
        return None
    if not isinstance(value, str) and isinstance(value, Iterable):
        return ", ".join(str(item) for item in sorted(value))
    return str(value)


def _matches(value: str, patterns: list[Any]) -> bool:
    folded = value.casefold()
    return any(p.match(value) if isinstance(p, re.Pattern) else folded == str(p).casefold() for p in patterns)


class FlaskCorsMiddleware:
    """Flask-CORS's headers on every answer of the app (module doc)."""

    def __init__(self, app: ASGIApp, config: Mapping[str, Any] | None = None, **options: Any) -> None:
        self.app = app
        chosen = flask_cors_settings(config, options)
        if chosen["resources"] not in _EVERY_PATH:
            raise ValueError(f"Flask-CORS's resources={chosen['resources']!r}: only every path is carried over")
        origins = [_pattern(origin) for origin in as_list(chosen["origins"])]
        self.any_origin = any(origin in ("*", ".*") for origin in as_list(chosen["origins"]))
        self.credentials = bool(chosen["supports_credentials"])
        self.send_wildcard = bool(chosen["send_wildcard"])
        if self.any_origin and self.credentials and self.send_wildcard:
            raise ValueError("Flask-CORS refuses supports_credentials with origins='*' and send_wildcard")
        self.origins = origins
        literal = sorted(o for o in origins if isinstance(o, str))
        self.first_literal = literal[0] if literal else None
        self.allow_headers = [_pattern(header) for header in as_list(chosen["allow_headers"])]
        methods = _joined(chosen["methods"])
        self.methods = methods.upper() if methods is not None else None
        self.expose = _joined(chosen["expose_headers"])
        max_age = chosen["max_age"]
        self.max_age = str(int(max_age.total_seconds())) if isinstance(max_age, timedelta) else max_age
        self.always_send = bool(chosen["always_send"])
        self.private_network = "true" if chosen["allow_private_network"] else "false"
        self.vary = bool(chosen["vary_header"]) and (len(origins) > 1 or any(isinstance(o, re.Pattern) for o in origins))
        self.without_origin = self.headers("GET", (None, None, None, None))  # the same for every such request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        requested: list[str | None] = [None, None, None, None]
        for name, value in scope["headers"]:
            index = _REQUESTED.get(name)
            if index is not None and requested[index] is None:
                requested[index] = value.decode("latin-1")
        method = scope["method"]
        common = not requested[0] and method != "OPTIONS" and requested[3] is None
        added = self.without_origin if common else self.headers(method, requested)
        if not added:
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                own = next((value for name, value in headers if name.lower() == b"access-control-allow-origin"), None)
                if not own:  # an answer that says its own CORS is left alone, as Flask-CORS left it
                    message = {**message, "headers": [*headers, *added]}
            await send(message)

        await self.app(scope, receive, sending)

    def headers(self, method: str, requested: list[str | None] | tuple[str | None, ...]) -> list[tuple[bytes, bytes]]:
        """The CORS headers Flask-CORS added to the answer to a ``method`` request with these
        ``Origin``, ``Access-Control-Request-Method``, ``-Headers`` and ``-Private-Network``."""
        origin, asked_method, asked_headers, private_network = requested
        allowed = self._allowed_origin(origin)
        if allowed is None:
            return []
        pairs: list[tuple[str, Any]] = [(_ORIGIN, allowed), ("access-control-expose-headers", self.expose)]
        if self.credentials:
            pairs.append(("access-control-allow-credentials", "true"))
        if private_network == "true":
            pairs.append(("access-control-allow-private-network", self.private_network))
        if method == "OPTIONS":
            asked = (asked_method or "").upper()
            if asked and self.methods and asked in self.methods:  # within the text, as Flask-CORS tests it
                pairs.append(("access-control-allow-headers", self._allowed_headers(asked_headers)))
                pairs.append(("access-control-max-age", self.max_age))
                pairs.append(("access-control-allow-methods", self.methods))
        if self.vary and allowed != "*":
            pairs.append(("vary", "Origin"))
        return [(name.encode(), str(value).encode("latin-1")) for name, value in pairs if value]

    def _allowed_origin(self, origin: str | None) -> str | None:
        """What ``Access-Control-Allow-Origin`` says to ``origin``; None: no CORS headers at all."""
        if origin:
            if self.any_origin and self.send_wildcard:
                return "*"
            return origin if _matches(origin, self.origins) else None
        if not self.always_send:
            return None
        if self.any_origin:
            return None if self.credentials else "*"
        return self.first_literal

    def _allowed_headers(self, asked: str | None) -> str | None:
        if not asked:
            return None
        return ", ".join(sorted(h for h in (part.strip() for part in asked.split(",")) if _matches(h, self.allow_headers)))
