"""``FlaskJSONResponse``: a Starlette JSON response with the bytes Flask's ``jsonify`` wrote.

Starlette's ``JSONResponse`` writes a dict's keys in insertion order and non-ASCII characters
as they are, ends without a newline and refuses dates, UUIDs and decimals. Flask's default JSON
provider (``jsonify``, a view's returned dict) sorts the keys, escapes non-ASCII characters
(``\\u00e9``), ends the body with a newline and writes a date as an HTTP date, a UUID or a
decimal as a string, a dataclass as its ``asdict()``, an object with ``__html__`` as that
markup. A client that compares bodies byte for byte, caches them by ETag or signs them sees the
difference. So where converted code stands for a ``jsonify(value)`` whose value it cannot show
to be plain JSON data (a dict a project helper builds), it returns ``FlaskJSONResponse(value,
status_code=...)``: a ``JSONResponse`` that renders as Flask's provider did.

What it does not keep: the indented output of Flask's debug mode (``app.debug``, or
``app.json.compact = False``); it writes the compact form a server out of debug mode sent. An app
that sets its own JSON provider (``app.json = ...``) is not converted this way.
"""

from __future__ import annotations

import dataclasses
import decimal
import email.utils
import json
import uuid
from datetime import date, datetime, time, timezone
from typing import Any

from starlette.responses import JSONResponse


class FlaskJSONResponse(JSONResponse):
    """``JSONResponse`` rendering ``content`` as ``flask.jsonify(content)`` did (module doc)."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, default=flask_default, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
        return f"{text}\n".encode("utf-8")


def flask_default(value: Any) -> Any:
    """What Flask's default JSON provider writes for a value ``json`` does not know."""
    if isinstance(value, date):
        return _http_date(value)
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _http_date(value: date) -> str:
    """werkzeug's ``http_date``: a naive datetime is UTC, a date is its midnight in UTC."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=timezone.utc)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    else:
        value = value.astimezone(timezone.utc)
    return email.utils.format_datetime(value, usegmt=True)
