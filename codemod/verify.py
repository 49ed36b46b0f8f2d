"""Proof that a migration kept the wire contract: route tables and scripted answers, compared.

The same request list is sent to the original app (Flask's test client) and to the converted one
(FastAPI's TestClient, which needs httpx); each answer is reduced to what a client sees: status,
media type, body (parsed when JSON) and the headers the script asks for. The two apps usually
share a package name, so each is loaded in a process of its own
(``python -m codemod.verify routes|answers SPEC [REQUESTS.json]`` in the app's folder).

A request is ``{"method", "path"}`` plus any of ``json``, ``data`` (a raw body), ``form`` and
``files`` (a multipart body: ``{"field": "value"}``, ``{"name": ["filename", "text"]}``),
``headers``, ``cookies`` and ``expect_headers`` (names of response headers to compare).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codemod.routes import load_app, route_table


def is_flask(app: Any) -> bool:
    """A Flask app, not an ASGI one: a FlaskBridge answers Flask's attributes (``test_client``,
    ``url_map``) for the Flask app it holds, but is asked as the FastAPI app it is."""
    return hasattr(app, "test_client") and not hasattr(app, "openapi")


def answers(app: Any, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flask = is_flask(app)
    client = _client(app, flask, None)
    results = []
    for request in requests:
        kwargs = {k: request[k] for k in ("json", "headers", "data") if k in request}
        if not flask and "data" in kwargs:
            kwargs["content"] = kwargs.pop("data")
        if "form" in request or "files" in request:  # a multipart/form-data body
            form, files = request.get("form", {}), request.get("files", {})
            if flask:
                uploads = {name: (io.BytesIO(text.encode()), filename) for name, (filename, text) in files.items()}
                kwargs["data"] = {**form, **uploads}
            else:
                kwargs["data"] = form
                kwargs["files"] = {name: (filename, text.encode()) for name, (filename, text) in files.items()}
        # Each request with cookies gets a client of its own, holding just those cookies
        # (Werkzeug's test client keeps a cookie jar and does not send a Cookie header as given).
        cookies = request.get("cookies")
        sender = _client(app, flask, cookies) if cookies else client
        response = sender.open(request["path"], method=request["method"], **kwargs) if flask else sender.request(
            request["method"], request["path"], **kwargs
        )
        media_type = (response.headers.get("content-type") or "").split(";")[0].strip()
        body_bytes = response.data if flask else response.content
        body: Any = body_bytes.decode("utf-8", errors="replace")
        if media_type == "application/json" and body_bytes:
            body = json.loads(body_bytes)
        results.append(
            {
                "request": f"{request['method']} {request['path']}",
                "status": response.status_code,
                "media_type": media_type if body_bytes else "",
                "body": body,
                "headers": {h: _header(response.headers, h) for h in request.get("expect_headers", [])},
            }
        )
    return results


def _header(headers: Any, name: str) -> str | None:
    """A response header; a method list (Allow) sorted, since Flask lists methods from a set."""
    value = headers.get(name)
    if value is not None and name.lower() in ("allow", "access-control-allow-methods"):
        value = ", ".join(sorted(m.strip() for m in value.split(",")))
    return value


def _client(app: Any, flask: bool, cookies: dict[str, str] | None) -> Any:
    if flask:
        client = app.test_client()
        for name, value in (cookies or {}).items():
            client.set_cookie(name, value)
        return client
    from fastapi.testclient import TestClient

    # as Flask's test client: its host (absolute URLs compare) and redirects not followed
    return TestClient(app, base_url="http://localhost", raise_server_exceptions=False, cookies=cookies, follow_redirects=False)


def in_folder(root: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120, module: str = "codemod.verify") -> Any:
    """Run ``module``'s ``main`` (this one's by default) in ``root``, a process of its own; its JSON answer."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=root, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise VerifyError(f"loading {args[1]} in {root} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


class VerifyError(RuntimeError):
    """The app could not be loaded or asked (the message has the end of its traceback)."""


def route_table_in(root: Path, spec: str, env: dict[str, str] | None = None) -> list[list[str]]:
    return in_folder(root, "routes", spec, env=env)


def answers_in(root: Path, spec: str, requests: list[dict[str, Any]], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(requests, handle)
    try:
        return in_folder(root, "answers", spec, handle.name, env=env)
    finally:
        os.unlink(handle.name)


@dataclass
class Comparison:
    missing_routes: list[list[str]]  # in the original only
    extra_routes: list[list[str]]  # in the converted app only
    differences: list[tuple[dict[str, Any], dict[str, Any]]]  # (original, converted) answers

    @property
    def same(self) -> bool:
        return not (self.missing_routes or self.extra_routes or self.differences)


def compare(original: Path, converted: Path, spec: str, requests: list[dict[str, Any]], env: dict[str, str] | None = None) -> Comparison:
    before, after = route_table_in(original, spec, env), route_table_in(converted, spec, env)
    answered = zip(answers_in(original, spec, requests, env), answers_in(converted, spec, requests, env))
    return Comparison(
        missing_routes=[r for r in before if r not in after],
        extra_routes=[r for r in after if r not in before],
        differences=[(a, b) for a, b in answered if a != b],
    )


def main(argv: list[str]) -> None:
    sys.path.insert(0, ".")
    command, spec = argv[0], argv[1]
    if command == "routes":
        print(json.dumps(sorted(route_table(load_app(spec)))))
        return
    with open(argv[2], encoding="utf-8") as handle:
        requests = json.load(handle)
    print(json.dumps(answers(load_app(spec), requests)))


if __name__ == "__main__":
    main(sys.argv[1:])
