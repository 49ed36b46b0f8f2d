"""What a client sees of one recorded exchange, as a JSON value two runs can be compared by.

``view(exchange)`` reduces a recorded request and its answer (codemod/recording.py) to::

    {"request": {"method", "path", "query": {name: [values]}, "headers": {name: value},
                 "cookies": {name: value}, "body": ...},
     "response": {"status", "headers": {name: value}, "cookies": {name: {"value", attribute...}},
                  "body": ...[, "raised": exception name]}}

An exception that went out of the app instead of an answer, or with a 500 (Starlette's error
middleware answers, then raises it on), is ``{"raised": name}`` alone: that is what the test got.

- A body is parsed as JSON when its media type says JSON, as a form (``{name: [values]}``) when it
  is ``application/x-www-form-urlencoded``; other text is ``{"text": [tokens]}``, split at white
  space and at ``< > " ' = & ; , ( ) [ ] { }`` with the separators kept, so that one token (a CSRF
  value in a page, a timestamp in an event stream) can be masked without the rest of the page.
  Bytes are ``{"base64": ...}``; a body the recorder kept as a digest ``{"sha256", "length"}``.
- Headers that say how the bytes travelled rather than what they are (``content-length``,
  ``date``, ``server``, ``transfer-encoding``, ``connection``) and those a test client adds by
  itself (``host``, ``user-agent``, ``accept-encoding``) are left out; ``cookie`` and
  ``set-cookie`` become ``cookies``. As ``verify --requests`` does, the media type of an empty
  body is not compared (Flask labels ``return "", 204`` text/html). A method list (``allow``) is
  sorted: Flask builds it from a set.
- With ``cors="browser"``, CORS is compared as a browser reads it rather than byte for byte:
  the ``access-control-*`` headers and ``Vary``'s CORS entries become one verdict per answer
  (the origin allowed or not, credentials, the headers exposed; for a preflight, whether it
  lets the request through). The converter's ``FlaskCorsMiddleware`` answers as Flask-CORS did,
  byte for byte; Starlette's ``CORSMiddleware`` (what earlier conversions wrote) differs in ways
  no browser sees (runtime/flask2fastapi_runtime/starlette_cors.py lists them).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

TRANSPORT_HEADERS = frozenset({"content-length", "date", "server", "transfer-encoding", "connection"})
CLIENT_HEADERS = frozenset({"host", "user-agent", "accept-encoding", "connection", "content-length"})
SORTED_LISTS = frozenset({"allow", "access-control-allow-methods"})
TOKENS = re.compile(r"""(\s+|[<>"'=&;,()\[\]{}])""")  # on data, never on code
CORS_VARY = frozenset({"origin", "access-control-request-method", "access-control-request-headers", "access-control-request-private-network"})
SAFE_METHODS = frozenset({"GET", "HEAD", "POST"})


def view(exchange: dict[str, Any], cors: str = "strict") -> dict[str, Any]:
    request, response = exchange["request"], exchange["response"]
    sent = _headers(request["headers"], CLIENT_HEADERS | {"cookie"})
    answered = _headers(response["headers"], TRANSPORT_HEADERS | {"set-cookie"})
    result = {
        "request": {
            "method": request["method"],
            "path": request["path"],
            "query": parse_qs(request["query"], keep_blank_values=True),
            "headers": sent,
            "cookies": _request_cookies(request["headers"]),
            "body": body(request, sent),
        },
        "response": {
            "status": response["status"],
            "headers": answered,
            "cookies": _response_cookies(response["headers"]),
            "body": body(response, answered),
        },
    }
    if "raised" in response:
        # what reached the test is the exception: Flask's client raises it (PROPAGATE_EXCEPTIONS)
        # before any answer, Starlette's error middleware sends its 500 and raises it on
        result["response"] = {"raised": response["raised"]} if response["status"] in (None, 500) else {
            **result["response"], "raised": response["raised"]}
    if cors == "browser":
        _as_browser(result["request"], result["response"])
    return result


def _headers(pairs: list[list[str]], left_out: frozenset[str]) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    for name, value in pairs:
        if name in left_out:
            continue
        if name in SORTED_LISTS:
            value = ", ".join(sorted(part.strip() for part in value.split(",")))
        headers[name] = value if name not in headers else f"{headers[name]}\n{value}"
    return headers


def _request_cookies(pairs: list[list[str]]) -> dict[str, str]:
    cookies = {}
    for name, value in pairs:
        if name == "cookie":
            for part in value.split(";"):
                key, _, text = part.strip().partition("=")
                if key:
                    cookies[key] = text
    return cookies


def _response_cookies(pairs: list[list[str]]) -> dict[str, dict[str, Any]]:
    """Each Set-Cookie as ``{"value", attribute: value or True}`` by cookie name; a name set twice
    in one answer (deleted, then set) is ``name#2`` the second time."""
    cookies: dict[str, dict[str, Any]] = {}
    for name, header in pairs:
        if name != "set-cookie":
            continue
        first, *attributes = header.split(";")
        key, _, value = first.strip().partition("=")
        cookie: dict[str, Any] = {"value": value}
        for attribute in attributes:
            label, equals, text = attribute.strip().partition("=")
            if label:
                cookie[label.lower()] = text if equals else True
        name, count = key, 1
        while name in cookies:
            count += 1
            name = f"{key}#{count}"
        cookies[name] = cookie
    return cookies


def body(message: dict[str, Any], headers: dict[str, Any]) -> Any:
    """The body in its comparable form; an empty body takes its media type with it."""
    if "body_sha256" in message:
        return {"sha256": message["body_sha256"], "length": message["body_length"]}
    if "body_base64" in message:
        return {"base64": message["body_base64"]}
    text = message.get("body", "")
    media = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if not text:
        headers.pop("content-type", None)
        return ""
    if media == "application/json" or media.endswith("+json"):
        try:
            return json.loads(text)
        except ValueError:
            pass
    if media == "application/x-www-form-urlencoded":
        return parse_qs(text, keep_blank_values=True)
    return {"text": [token for token in TOKENS.split(text) if token]}


def text_of(value: Any) -> Any:
    """A ``{"text": [tokens]}`` body as its text again (for a report); anything else as it is."""
    if isinstance(value, dict) and set(value) == {"text"} and isinstance(value["text"], list):
        return "".join(value["text"])
    return value


def _as_browser(request: dict[str, Any], response: dict[str, Any]) -> None:
    """CORS as a browser reads it (module doc): the verdict replaces the headers it comes from."""
    headers = response["headers"]
    cors = {name: headers.pop(name) for name in list(headers) if name.startswith("access-control-")}
    if "vary" in headers:
        kept = [v.strip() for v in headers.pop("vary").replace("\n", ",").split(",") if v.strip().lower() not in CORS_VARY]
        if kept:
            headers["vary"] = ", ".join(kept)
    origin = request["headers"].get("origin")
    if origin is None:
        return  # no browser applies CORS to a request without an Origin
    allowed = cors.get("access-control-allow-origin") in (origin, "*")
    verdict: dict[str, Any] = {"allowed": allowed}
    if allowed:
        verdict["any_origin"] = cors["access-control-allow-origin"] == "*"
        verdict["credentials"] = cors.get("access-control-allow-credentials") == "true"
    wanted = request["headers"].get("access-control-request-method")
    if request["method"] == "OPTIONS" and wanted is not None:
        # a preflight: the browser reads its CORS headers and whether it is 2xx, nothing else
        methods = {m.strip().upper() for m in cors.get("access-control-allow-methods", "").split(",")}
        asked = {h.strip().lower() for h in request["headers"].get("access-control-request-headers", "").split(",") if h.strip()}
        granted = {h.strip().lower() for h in cors.get("access-control-allow-headers", "").split(",")}
        verdict["passes"] = bool(
            allowed and 200 <= (response["status"] or 0) < 300
            and (wanted.upper() in methods or wanted.upper() in SAFE_METHODS or "*" in methods)
            and (asked <= granted or "*" in granted)
        )
        for name in ("status", "body"):
            response.pop(name, None)
        for name in ("content-type", "allow"):
            headers.pop(name, None)
    elif allowed:
        verdict["exposed"] = sorted(h.strip().lower() for h in cors.get("access-control-expose-headers", "").split(",") if h.strip())
    response["cors"] = verdict
