"""``app.test_client()`` of a ``NativeApp``: the test client a Flask project's tests were written
against, without Flask or werkzeug.

A converted project keeps its tests as they were (``client.post("/x", json=...)``,
``response.get_json()``, ``response.status_code``), so they test the converted app with the
requests and assertions that tested the original. The client speaks Flask's test-client API:

- ``get``, ``post``, ``put``, ``patch``, ``delete``, ``options``, ``head`` and ``open(path,
  method=...)`` with ``json=``, ``data=`` (bytes or str as the body, a dict as a form, multipart
  when a field is a file: an open file or ``(file, filename[, content_type])``), ``headers=``,
  ``query_string=`` (a dict or a str), ``content_type=``, ``follow_redirects=`` (werkzeug's rules:
  307/308 repeat the request, the others become a GET without the body) and ``environ_base=``
  (``REMOTE_ADDR`` and ``HTTP_*`` keys), ``auth=(username, password)`` (HTTP Basic), ``mimetype=``
  and ``base_url=`` (the scheme and host);
- its responses have ``status_code``, ``status`` (werkzeug's status line), ``headers``, ``data``,
  ``get_data(as_text=)``, ``text``, ``json``, ``get_json(silent=, force=)`` (werkzeug's
  response's: None for a body that is not JSON), ``is_json``, ``mimetype``, ``content_type``,
  ``location``, ``history`` (the redirects followed) and ``request`` (its ``method``, ``path``,
  ``url``, ``args``, ``headers``);
- cookies the app sets are sent back, as Flask's client does (``get_cookie``, ``set_cookie``,
  ``delete_cookie``).

Each request runs the ASGI app to its end in the test's own thread, on an event loop of its own,
as the bridge's test client does (``testing.InlineASGI``): a test and the app may share one
in-memory SQLite connection. The app's lifespan is not run (Flask had none, and the converter
writes none): the shared HTTP client (``http``) and async_sqlite's connections open on each
request's loop when first used and close with it. An exception no handler answers reaches the
test where Flask would have let it through (``PROPAGATE_EXCEPTIONS``, or testing / debug mode);
else the test gets the 500 the app answered with.
"""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
import os
import uuid
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from starlette.datastructures import Headers

__all__ = ["NativeClient", "NativeTestResponse", "ResponseHeaders", "SentRequest"]


class ResponseHeaders(Headers):
    """Starlette's headers with werkzeug's name for all values of one (``get_all``)."""

    def get_all(self, key: str) -> list[str]:
        return self.getlist(key)


class NativeTestResponse:
    """A response as Flask's test client gave it (module doc)."""

    def __init__(self, status_code: int, raw_headers: list[tuple[bytes, bytes]], data: bytes) -> None:
        self.status_code = status_code
        self.headers = ResponseHeaders(raw=raw_headers)
        self.data = data
        self.history: tuple[NativeTestResponse, ...] = ()  # the redirects followed to it
        self.request: SentRequest | None = None  # what was sent (set by the client)

    @property
    def status(self) -> str:
        """werkzeug's status line: its name of the status, upper case (``status_name``)."""
        from .http_errors import status_name

        name = status_name(self.status_code)
        return f"{self.status_code} {'UNKNOWN' if name == 'Unknown Error' else name.upper()}"

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self.data.decode("utf-8", "replace") if as_text else self.data

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    @property
    def mimetype(self) -> str | None:
        value = self.content_type
        return value.partition(";")[0].strip().lower() if value else None

    @property
    def is_json(self) -> bool:
        mimetype = self.mimetype or ""
        return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """werkzeug's response ``get_json``: None when the response is not JSON (a request's
        raises there, a response's does not), the parse error raised unless ``silent``."""
        if not (force or self.is_json):
            return None
        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self) -> Any:
        """werkzeug's ``json``: ``get_json()`` with its defaults (malformed JSON raises)."""
        return self.get_json()

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None else None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status}]>"


class NativeClient:
    """Flask's test-client API over a ``NativeApp`` (module doc)."""

    def __init__(self, app: Any, use_cookies: bool = True) -> None:
        self.application = app
        self.cookies: dict[str, str] | None = {} if use_cookies else None

    def __enter__(self) -> NativeClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def get(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="GET", **kwargs)

    def post(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="POST", **kwargs)

    def put(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="PUT", **kwargs)

    def patch(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="PATCH", **kwargs)

    def delete(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="DELETE", **kwargs)

    def options(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="OPTIONS", **kwargs)

    def head(self, path: str = "/", **kwargs: Any) -> NativeTestResponse:
        return self.open(path, method="HEAD", **kwargs)

    def open(
        self,
        path: str = "/",
        method: str = "GET",
        *,
        json: Any = None,
        data: Any = None,
        headers: Any = None,
        query_string: Any = None,
        content_type: str | None = None,
        follow_redirects: bool = False,
        environ_base: Mapping[str, Any] | None = None,
        auth: tuple[str, str] | None = None,
        mimetype: str | None = None,
        base_url: str | None = None,
    ) -> NativeTestResponse:
        method = method.upper()
        url = urlsplit(path)
        base = urlsplit(base_url or (f"{url.scheme}://{url.netloc}" if url.netloc else "http://localhost"))
        content_type = content_type or (_with_charset(mimetype) if mimetype else None)
        query = url.query
        if query_string is not None:
            query = query_string if isinstance(query_string, str) else urlencode(query_string, doseq=True)
        sent = [(str(k).lower(), str(v)) for k, v in (headers.items() if hasattr(headers, "items") else headers or [])]
        body, made_type = _body(json, data)
        content_type = content_type or made_type
        if content_type is not None and not any(k == "content-type" for k, _ in sent):
            sent.append(("content-type", content_type))
        if body or method in ("POST", "PUT", "PATCH"):
            sent.append(("content-length", str(len(body))))
        if self.cookies is not None:
            # werkzeug's client: the jar's cookies are the Cookie header, a test's own one dropped
            sent = [(k, v) for k, v in sent if k != "cookie"]
            if self.cookies:
                sent.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        if auth is not None and not any(k == "authorization" for k, _ in sent):
            # werkzeug's auth=(username, password): HTTP Basic
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            sent.append(("authorization", f"Basic {token}"))
        sent.append(("host", base.netloc or "localhost"))
        client_address = "127.0.0.1"
        for key, value in (environ_base or {}).items():
            # the WSGI environ keys a Flask test set: the client's address and HTTP_* headers
            if key == "REMOTE_ADDR":
                client_address = str(value)
            elif key.startswith("HTTP_"):
                sent.append((key[5:].replace("_", "-").lower(), str(value)))
        raw_path = quote(unquote(url.path or "/"), safe="/%:@!$&'()*+,;=")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": base.scheme or "http",
            "path": unquote(raw_path),  # ASGI's path is decoded, as werkzeug's PATH_INFO was
            "raw_path": raw_path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in sent],
            "client": (client_address, 50000),
            "server": (base.hostname or "localhost", base.port or (443 if base.scheme == "https" else 80)),
        }
        response = self._send(scope, body)
        response.request = SentRequest(method, scope["path"], query, sent)
        if follow_redirects and response.status_code in _REDIRECTS and response.location:
            return self._follow(response, method, json, data, headers, content_type, environ_base, auth)
        return response

    def _follow(self, response: NativeTestResponse, method: str, *sent: Any) -> NativeTestResponse:
        """werkzeug's redirect following: 307 and 308 repeat the request with its body, the others
        become a GET (a HEAD stays one) without it; ``history`` lists the redirects. As werkzeug
        rebuilds the request from the last one's headers, ``REMOTE_ADDR`` is not carried over."""
        json, data, headers, content_type, environ_base, auth = sent
        environ_base = {k: v for k, v in (environ_base or {}).items() if k.startswith("HTTP_")}
        if response.status_code not in (307, 308):
            method = "HEAD" if method == "HEAD" else "GET"
            json = data = content_type = None
        following = self.open(
            response.location, method=method, json=json, data=data, headers=headers, content_type=content_type,  # type: ignore[arg-type]
            follow_redirects=True, environ_base=environ_base, auth=auth,
        )
        following.history = (response, *following.history)
        return following

    def _send(self, scope: dict[str, Any], body: bytes) -> NativeTestResponse:
        status, raw_headers, chunks, error = asyncio.run(drive(self.application, scope, body))
        if error is not None and (status is None or self.application.propagate_exceptions):
            raise error
        response = NativeTestResponse(status or 500, raw_headers, b"".join(chunks))
        if self.cookies is not None:
            self._keep_cookies(response)
        return response

    def _keep_cookies(self, response: NativeTestResponse) -> None:
        for header in response.headers.getlist("set-cookie"):
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                expired = morsel["max-age"] in ("0", "-1") or (morsel["expires"] and "1970" in morsel["expires"])
                if expired:
                    self.cookies.pop(name, None)  # type: ignore[union-attr]
                else:
                    self.cookies[name] = morsel.value  # type: ignore[index]

    def get_cookie(self, key: str, **_: Any) -> Any:
        """Flask 3's ``client.get_cookie(key)``: the cookie (its ``key`` and ``value``), or None."""
        if self.cookies is None or key not in self.cookies:
            return None
        return _Cookie(key, self.cookies[key])

    def set_cookie(self, key: str, value: str = "", **_: Any) -> None:
        if self.cookies is not None:
            self.cookies[key] = value

    def delete_cookie(self, key: str, **_: Any) -> None:
        if self.cookies is not None:
            self.cookies.pop(key, None)


class _Cookie:
    def __init__(self, key: str, value: str) -> None:
        self.key = key
        self.value = value


_REDIRECTS = (301, 302, 303, 305, 307, 308)


class SentRequest:
    """What a test read of ``response.request`` after the call: the method, path, query and headers."""

    def __init__(self, method: str, path: str, query: str, headers: list[tuple[str, str]]) -> None:
        self.method = method
        self.path = path
        self.query_string = query.encode()
        self.headers = Headers(raw=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers])
        self.url = f"http://localhost{path}" + (f"?{query}" if query else "")

    @property
    def args(self) -> dict[str, str]:
        """The query's keys, each with its first value (what ``request.args[key]`` gave)."""
        first: dict[str, str] = {}
        for key, value in parse_qsl(self.query_string.decode(), keep_blank_values=True):
            first.setdefault(key, value)
        return first


# the application types werkzeug gives a charset, as it does text/* and */*+xml
_CHARSET_TYPES = frozenset({
    "application/ecmascript", "application/javascript", "application/sql", "application/xml",
    "application/xml-dtd", "application/xml-external-parsed-entity",
})


def _with_charset(mimetype: str) -> str:
    """werkzeug's content type of a ``mimetype=``: text types with ``; charset=utf-8``."""
    if mimetype.startswith("text/") or mimetype in _CHARSET_TYPES or mimetype.endswith("+xml"):
        return f"{mimetype}; charset=utf-8"
    return mimetype


def _body(json_value: Any, data: Any) -> tuple[bytes, str | None]:
    """The body werkzeug's EnvironBuilder sent for ``json=`` or ``data=`` and its content type
    (None: the caller's, or none): a dict of fields as a URL-encoded form, as multipart when a
    field is a file (an open file, or ``(file, filename[, content_type])``)."""
    if json_value is not None:
        return _json_dumps(json_value), "application/json"
    if isinstance(data, Mapping):
        fields = [(str(k), v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])]
        if any(_is_file(v) for _, v in fields):
            return _multipart(fields)
        return urlencode([(k, str(v)) for k, v in fields]).encode(), "application/x-www-form-urlencoded"
    if isinstance(data, str):
        return data.encode(), None
    if data is None:
        return b"", None
    return bytes(data), None


def _is_file(value: Any) -> bool:
    return isinstance(value, tuple) or hasattr(value, "read")


def _multipart(fields: list[tuple[str, Any]]) -> tuple[bytes, str]:
    boundary = f"----NativeClientBoundary{uuid.uuid4().hex}"
    parts = []
    for name, value in fields:
        if not _is_file(value):
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + str(value).encode() + b"\r\n")
            continue
        stream, filename, mimetype = (*value, None)[:3] if isinstance(value, tuple) else (value, getattr(value, "name", None), None)
        content = stream.read() if hasattr(stream, "read") else stream
        content = content.encode() if isinstance(content, str) else bytes(content)
        filename = os.path.basename(str(filename)) if filename else ""
        mimetype = mimetype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {mimetype}\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _json_dumps(value: Any) -> bytes:
    """The body Flask's client sent for ``json=``: its JSON provider's ``dumps`` (keys sorted, ASCII,
    json's default separators: only a response's JSON is compact)."""
    from .json_response import flask_default

    return json.dumps(value, default=flask_default, sort_keys=True).encode()


async def drive(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int | None, list, list[bytes], BaseException | None]:
    """Run the ASGI app to its end on one request whose body is ``body``: its status (None if it
    sent none), headers, body chunks, and what it raised after or instead of answering."""
    received = False
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # the client stays until the answer is whole
            await asyncio.Event().wait()
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    try:
        await app(scope, receive, send)
    except Exception as error:  # raised on after the app answered it (Starlette's 500)
        return start.get("status"), list(start.get("headers", [])), chunks, error
    return start.get("status"), list(start.get("headers", [])), chunks, None
