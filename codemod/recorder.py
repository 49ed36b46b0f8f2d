"""A pytest plugin that records every HTTP request a test suite sends to its app, with the answer.

Loaded with ``-p codemod.recorder`` (``flask2fastapi verify --record-tests`` puts it in
``PYTEST_ADDOPTS``), it edits nothing in the project: it wraps, at class level, the two doors a
request comes in by, and writes down what went in and what came out, per test (pytest's nodeid;
unittest TestCases run under pytest too):

- ``flask.Flask.__call__``, the WSGI entry (Flask's and WebTest's clients, a live server in this
  process); the rule Flask matched (``request.url_rule``) is taken from the ``request_started``
  signal, and each app's url_map is written once, for the coverage of the route table;
- ``starlette.applications.Starlette.__call__``, the ASGI entry of a FastAPI or Starlette app
  (FastAPI's TestClient, the converted project's Flask-style client).

Only the outermost door records: a Flask app a converted app still serves inside itself is part of
that app's answer. Each response is read to its end here, as Flask's client does with
``buffered=True`` (a test that reads only part of a stream still gets the same bytes).

This module uses only the standard library (it runs in the project's own interpreter). It writes
JSON lines to ``$FLASK2FASTAPI_RECORD_DIR/<pid>.jsonl``, one file per process (pytest-xdist
workers each write theirs): an ``exchange`` line per request, a ``test`` line per test (its
outcome) and a ``routes`` line per app. codemod/recording.py merges them into a recording.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import io
import json
import os
import threading
from typing import Any

DIRECTORY = "FLASK2FASTAPI_RECORD_DIR"
LARGE = 64 * 1024  # bytes of a body kept whole
OUTSIDE = ""  # the test id of a request sent outside any test (at collection, at session end)

_inside = contextvars.ContextVar("flask2fastapi_recording", default=None)
_lock = threading.Lock()
_state: dict[str, Any] = {"test": OUTSIDE, "seq": 0, "apps": set(), "file": None}


def body_fields(data: bytes) -> dict[str, Any]:
    """A body as JSON text: ``{"body": text}`` when it is UTF-8, else ``{"body_base64": ...}``;
    past ``LARGE`` bytes, only its length and SHA-256, so that a recording stays small."""
    if len(data) > LARGE:
        return {"body_length": len(data), "body_sha256": hashlib.sha256(data).hexdigest()}
    try:
        return {"body": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(data).decode("ascii")}


def _write(line: dict[str, Any]) -> None:
    with _lock:
        handle = _state["file"]
        if handle is None:
            folder = os.environ[DIRECTORY]
            handle = _state["file"] = open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a", encoding="utf-8")
        handle.write(json.dumps(line, sort_keys=True) + "\n")
        handle.flush()


def _begin(via: str, request: dict[str, Any]) -> dict[str, Any]:
    with _lock:
        seq = _state["seq"]
        _state["seq"] += 1
    return {"test": _state["test"], "seq": seq, "via": via, "rule": None, "request": request}


def _header_text(value: bytes) -> str:
    return value.decode("latin-1")


# -- WSGI: Flask.__call__ ---------------------------------------------------------------------


def _wsgi_request(environ: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    length = environ.get("CONTENT_LENGTH")
    stream = environ.get("wsgi.input") or io.BytesIO()
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    headers = [[k[5:].replace("_", "-").lower(), v] for k, v in environ.items() if k.startswith("HTTP_")]
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers.append([key.replace("_", "-").lower(), environ[key]])
    path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
    request = {
        "method": environ.get("REQUEST_METHOD", "GET"),
        "path": path.decode("utf-8", errors="replace") or "/",
        "query": environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", errors="replace"),
        "headers": sorted(headers),
        **body_fields(body),
    }
    return request, body


def _flask_call(original: Any) -> Any:
    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if _inside.get() is not None or environ.get("REQUEST_METHOD") is None:
            return original(self, environ, start_response)
        request, _ = _wsgi_request(environ)
        exchange = _begin("wsgi", request)
        _routes_of(self)
        token = _inside.set(exchange)
        started: dict[str, Any] = {}

        def recording_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started.update(status=int(status.split(" ", 1)[0]), headers=[[k.lower(), v] for k, v in headers])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            app_iter = original(self, environ, recording_start_response)
        except BaseException as error:
            _finish(exchange, {"raised": type(error).__name__})
            raise
        finally:
            _inside.reset(token)
        chunks: list[bytes] = []
        try:
            for chunk in app_iter:
                chunks.append(chunk)
        except BaseException as error:  # raised while streaming: after the bytes sent so far
            _finish(exchange, {**started, **body_fields(b"".join(chunks)), "raised": type(error).__name__})
            return _then_raise(chunks, error)
        finally:
            if hasattr(app_iter, "close"):
                app_iter.close()
        _finish(exchange, {**started, **body_fields(b"".join(chunks))})
        return chunks

    return __call__


def _then_raise(chunks: list[bytes], error: BaseException) -> Any:
    yield from chunks
    raise error


def _on_request_started(sender: Any, **_: Any) -> None:
    exchange = _inside.get()
    if exchange is not None and exchange["rule"] is None:
        from flask import request

        rule = request.url_rule
        if rule is not None:
            exchange["rule"], exchange["endpoint"] = rule.rule, rule.endpoint


def _routes_of(app: Any) -> None:
    if id(app) in _state["apps"] or not hasattr(app, "url_map"):
        return
    _state["apps"].add(id(app))
    rules = [
        [rule.rule, sorted(set(rule.methods or ()) - {"HEAD", "OPTIONS"}), rule.endpoint]
        for rule in app.url_map.iter_rules()
    ]
    _write({"routes": sorted(rules)})


# -- ASGI: Starlette.__call__ -----------------------------------------------------------------


def _starlette_call(original: Any) -> Any:
    async def __call__(self: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or _inside.get() is not None:
            await original(self, scope, receive, send)
            return
        parts, message = [], {"more_body": True}
        while message.get("more_body"):
            message = await receive()
            if message.get("type") != "http.request":
                break
            parts.append(message.get("body", b""))
        body = b"".join(parts)
        request = {
            "method": scope["method"],
            "path": scope.get("path") or "/",
            "query": scope.get("query_string", b"").decode("utf-8", errors="replace"),
            "headers": sorted([_header_text(k).lower(), _header_text(v)] for k, v in scope.get("headers", [])),
            **body_fields(body),
        }
        exchange = _begin("asgi", request)
        token = _inside.set(exchange)
        given = False
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def replay() -> dict[str, Any]:
            nonlocal given
            if not given:
                given = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def recording_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [[_header_text(k).lower(), _header_text(v)] for k, v in message.get("headers", [])]
                started.update(status=message["status"], headers=headers)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await original(self, scope, replay, recording_send)
        except BaseException as error:
            _finish(exchange, {**started, **body_fields(b"".join(chunks)), "raised": type(error).__name__})
            raise
        finally:
            _inside.reset(token)
        _finish(exchange, {**started, **body_fields(b"".join(chunks))})

    return __call__


def _finish(exchange: dict[str, Any], response: dict[str, Any]) -> None:
    if "status" not in response:
        response["status"] = None
    response.setdefault("headers", [])
    _write({**exchange, "response": response})


# -- pytest hooks -----------------------------------------------------------------------------


def install() -> None:
    """Wrap the entries of whichever of Flask and Starlette this interpreter has."""
    try:
        import flask
    except ImportError:
        pass
    else:
        if not hasattr(flask.Flask.__call__, "_flask2fastapi"):
            flask.Flask.__call__ = _flask_call(flask.Flask.__call__)
            flask.Flask.__call__._flask2fastapi = True
            flask.request_started.connect(_on_request_started, weak=False)
    try:
        from starlette.applications import Starlette
    except ImportError:
        return
    if not hasattr(Starlette.__call__, "_flask2fastapi"):
        Starlette.__call__ = _starlette_call(Starlette.__call__)
        Starlette.__call__._flask2fastapi = True


def pytest_configure(config: Any) -> None:
    if os.environ.get(DIRECTORY):
        install()


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    _state["test"] = nodeid


def pytest_runtest_logreport(report: Any) -> None:
    if not os.environ.get(DIRECTORY):
        return
    outcome = report.outcome if report.when == "call" or report.outcome != "passed" else None
    if outcome is not None:
        _write({"test": report.nodeid, "phase": report.when, "outcome": outcome})


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    _state["test"] = OUTSIDE
