"""Flask-CORS's options as Starlette's ``CORSMiddleware`` arguments: for a team that prefers
Starlette's middleware to ``FlaskCorsMiddleware`` (cors), which answers byte for byte as Flask-CORS
did and is what the converter writes. Converted apps of earlier versions read::

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

What Starlette's middleware does differently (browsers act the same; ``verify --cors browser``
compares CORS as a browser reads it, and so finds such an app identical):

- a preflight from an origin, with a method or with headers that are not allowed is refused with
  400, where Flask-CORS answered 200 without CORS headers: the browser refuses both;
- the answer to an origin that is not allowed still carries ``Access-Control-Allow-Credentials``
  and ``Access-Control-Expose-Headers`` (never ``Access-Control-Allow-Origin``, so the browser
  refuses it as before);
- a request without an ``Origin`` header (no browser's cross-origin request) gets no CORS headers,
  where Flask-CORS's ``always_send`` added them;
- a preflight always carries ``Access-Control-Max-Age`` (600 s unless set), where Flask-CORS sent
  none (the browser's default, 5 s in Chromium): preflights are cached longer;
- the preflight's answer is Starlette's ``OK`` (text/plain), not Flask's empty OPTIONS answer;
- ``Vary: Origin`` is on answers Flask-CORS sent without it (one allowed origin, a refused one).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .cors import REGEX_CHARACTERS, as_list, flask_cors_settings

__all__ = ["flask_cors_options"]

# the options this carries over; the others only at their default (what the middleware does anyway)
_CARRIED = ("origins", "methods", "allow_headers", "expose_headers", "supports_credentials", "max_age", "send_wildcard")
_STARLETTE_MAX_AGE = 600
_HARMLESS = (("vary_header", True), ("automatic_options", True), ("always_send", True), ("resources", r"/*"))


def flask_cors_options(config: Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """The keyword arguments of ``CORSMiddleware`` that answer as ``CORS(app, **options)`` did
    for an app whose config is ``config`` (module doc). ValueError for an option Flask-CORS has
    and this cannot carry over (``resources``, ``vary_header=False``...)."""
    for key, value in options.items():
        if key not in _CARRIED and not _harmless(key, value):
            raise ValueError(f"Flask-CORS's {key}={value!r} has no CORSMiddleware equal")
    chosen = flask_cors_settings(config, options)
    origins = as_list(chosen["origins"])
    credentials = bool(chosen["supports_credentials"])
    arguments: dict[str, Any] = {
        "allow_methods": sorted({m.upper() for m in as_list(chosen["methods"])}),
        "allow_headers": ["*"] if "*" in as_list(chosen["allow_headers"]) else sorted(as_list(chosen["allow_headers"])),
        "allow_credentials": credentials,
        "expose_headers": sorted(as_list(chosen["expose_headers"])),
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


def _origin_pattern(origins: list[Any]) -> str:
    """One regular expression, matched whole by Starlette, for Flask-CORS's origin list: a pattern
    matches from the origin's start (``re.match``), a literal origin without case."""
    alternatives = []
    for origin in origins:
        if isinstance(origin, re.Pattern):
            alternatives.append(f"(?:{origin.pattern}).*")
        elif origin == "*":
            alternatives.append(".*")
        elif REGEX_CHARACTERS & set(origin):
            alternatives.append(f"(?i:{origin}).*")
        else:
            alternatives.append(f"(?i:{re.escape(origin)})")
    return "|".join(alternatives) if alternatives else "(?!)"  # no origin: nothing matches
