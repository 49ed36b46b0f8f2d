"""Scripted requests against a Flask or a FastAPI app, answered in one comparable form.

The seed of ``flask2fastapi verify``: the same request list is sent to the original app (Flask's
test client) and to the converted one (FastAPI's TestClient, which needs httpx); each answer is
reduced to what a client sees: status, media type, body (parsed when JSON) and the headers asked
for. Run as ``python -m codemod.verify SPEC REQUESTS.json`` so that the two apps, which usually
share a package name, live in separate processes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from codemod.routes import load_app


def answers(app: Any, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flask = hasattr(app, "test_client")
    if flask:
        client = app.test_client()
    else:
        from fastapi.testclient import TestClient

        client = TestClient(app, raise_server_exceptions=False)
    results = []
    for request in requests:
        kwargs = {k: request[k] for k in ("json", "headers", "data") if k in request}
        if not flask and "data" in kwargs:
            kwargs["content"] = kwargs.pop("data")
        response = client.open(request["path"], method=request["method"], **kwargs) if flask else client.request(
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
                "headers": {h: response.headers.get(h) for h in request.get("expect_headers", [])},
            }
        )
    return results


def main(argv: list[str]) -> None:
    sys.path.insert(0, ".")
    with open(argv[1], encoding="utf-8") as handle:
        requests = json.load(handle)
    print(json.dumps(answers(load_app(argv[0]), requests)))


if __name__ == "__main__":
    main(sys.argv[1:])
