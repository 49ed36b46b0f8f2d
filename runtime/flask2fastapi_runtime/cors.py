"""Flask-CORS's options as Starlette's ``CORSMiddleware`` arguments, for an app with no Flask left.

``CORS(app, origins=..., supports_credentials=True)`` becomes::

    app.add_middleware(CORSMiddleware, **flask_cors_options(app.config, origins=..., supports_credentials=True))

Flask-CORS reads its options from the app's config first (``CORS_ORIGINS``, ``CORS_METHODS``...,
Flask-CORS's documented ``CORS_*`` keys) and from its keyword arguments over them; so does this.
What each option becomes, chosen so that a browser sees what it saw under Flask-CORS:

- ``origins``: ``"*"`` (the default) lets every origin in. Flask-CORS answers such a request with
  the request's own origin (unless ``send_wildcard=True``), and so does an origin pattern that
  matches everything; an origin string that looks like a regular expression is matched as one
  from its start, the others are compared without case, as Flask-CORS does. All of them go into
  one ``allow_origin_regex``.
- ``methods``, ``expose_headers``: the same lists, sorted as Flask-CORS writes them.
- ``allow_headers``: ``"*"`` echoes what the preflight asks for, as both do.
- ``supports_credentials`` -> ``allow_credentials``; ``max_age`` in seconds.

What Starlette's middleware does differently, and why it is kept (browsers act the same):

- a preflight from an origin, with a method or with headers that are not allowed is refused with
  400, where Flask-CORS answered 200 without CORS headers: the browser refuses both;
- the answer to an origin that is not allowed still carries ``Access-Control-Allow-Credentials``
  and ``Access-Control-Expose-Headers`` (never ``Access-Control-Allow-Origin``, so the browser
  refuses it as before);
- a request without an ``Origin`` header (no browser's cross-origin request) gets no CORS headers,
  where Flask-CORS's ``always_send`` added them;
- a preflight always carries ``Access-Control-Max-Age`` (600 s unless set), where Flask-CORS sent
  none (the browser's default, 5 s in Chromium): preflights are cached longer;
- the preflight's answer is Starlette's ``OK`` (text/plain), not Flask's empty OPTIONS answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["flask_cors_options"]

# Flask-CORS's defaults, as documented
_METHODS = ("GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE")
_DEFAULTS: dict[str, Any] = {
    "origins": "*",
    "methods": _METHODS,
    "allow_headers": "*",
    "expose_headers": None,
    "supports_credentials": False,
    "max_age": None,
    "send_wildcard": False,
}
# what makes Flask-CORS read an origin as a regular expression rather than a literal
_REGEX_CHARACTERS = set("*\\]?$^[()")
_STARLETTE_MAX_AGE = 600
_HARMLESS = (("vary_header", True), ("automatic_options", True), ("always_send", True), ("resources", r"/*"))


def flask_cors_options(config: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """The keyword arguments of ``CORSMiddleware`` that answer as ``CORS(app, **options)`` did
    for an app whose config is ``config`` (module doc). ValueError for an option Flask-CORS has
    and this cannot carry over (``resources``, ``vary_header=False``...)."""
    chosen = dict(_DEFAULTS)
    for key, value in (config or {}).items():
        if key.startswith("CORS_") and key[5:].lower() in _DEFAULTS:
            chosen[key[5:].lower()] = value
    for key, value in options.items():
        if key not in _DEFAULTS and not _harmless(key, value):
            raise ValueError(f"Flask-CORS's {key}={value!r} has no CORSMiddleware equal")
        if key in _DEFAULTS:
            chosen[key] = value
    origins = _as_list(chosen["origins"])
    credentials = bool(chosen["supports_credentials"])
    arguments: dict[str, Any] = {
        "allow_methods": sorted({m.upper() for m in _as_list(chosen["methods"])}),
        "allow_headers": ["*"] if "*" in _as_list(chosen["allow_headers"]) else sorted(_as_list(chosen["allow_headers"])),
        "allow_credentials": credentials,
        "expose_headers": sorted(_as_list(chosen["expose_headers"])),
        "max_age": int(chosen["max_age"]) if chosen["max_age"] is not None else _STARLETTE_MAX_AGE,
    }
    if "*" in origins and chosen["send_wildcard"] and not credentials:
        arguments["allow_origins"] = ["*"]
    else:
        arguments["allow_origin_regex"] = _origin_pattern(origins)
    return arguments


def _harmless(key: str, value: Any) -> bool:
    """Options whose Flask-CORS default is what the middleware does anyway."""
    return any(key == name and value == default for name, default in _HARMLESS)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, re.Pattern)):
        return [value]  # type: ignore[list-item]
    return list(value) if isinstance(value, Iterable) else [value]


def _origin_pattern(origins: list[Any]) -> str:
    """One regular expression, matched whole by Starlette, for Flask-CORS's origin list: a pattern
    matches from the origin's start (``re.match``), a literal origin without case."""
    alternatives = []
    for origin in origins:
        if isinstance(origin, re.Pattern):
            alternatives.append(f"(?:{origin.pattern}).*")
        elif origin == "*":
            alternatives.append(".*")
        elif _REGEX_CHARACTERS & set(origin):
            alternatives.append(f"(?i:{origin}).*")
        else:
            alternatives.append(f"(?i:{re.escape(origin)})")
    return "|".join(alternatives) if alternatives else "(?!)"  # no origin: nothing matches
