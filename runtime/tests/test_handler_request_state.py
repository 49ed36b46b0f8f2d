"""A FastAPI-way exception handler that Flask calls (a 404 or 405 werkzeug's routing raised, an
abort in a bridged view) writes the request.state that the RequestHooks around the bridge read:
one state per request, whatever server made the scope (with or without a "state" of its own)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import Request
from fastapi.responses import JSONResponse
from flask import Flask, abort
from starlette.exceptions import HTTPException as StarletteHTTPException

from flask2fastapi_runtime import FlaskBridge, RequestHooks, ResponseHead


def _api() -> FlaskBridge:
    app = Flask(__name__)
    api = FlaskBridge(app)

    @app.route("/legacy/<int:n>")
    def legacy(n):  # a bridged view
        abort(404 if n else 410)

    @api.exception_handler(StarletteHTTPException)
    def http_error(request: Request, error: StarletteHTTPException):
        request.state.codes = [*getattr(request.state, "codes", []), error.status_code]
        return JSONResponse({"code": error.status_code}, status_code=error.status_code)

    def trail(request: Request, response: ResponseHead):
        response.headers["X-Codes"] = ",".join(str(c) for c in getattr(request.state, "codes", []))
        return response

    api.add_middleware(RequestHooks, after=[trail])
    return api


def _answers(api: FlaskBridge, requests: list[tuple[str, str]]) -> list[tuple[int, str]]:
    async def run() -> list[tuple[int, str]]:
        # httpx's ASGITransport gives a scope without "state" (uvicorn and TestClient give one)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://test") as client:
            answers = []
            for method, path in requests:
                response = await client.request(method, path)
                answers.append((response.status_code, response.headers.get("x-codes")))
            return answers

    return asyncio.run(run())


@pytest.mark.parametrize(
    ("method", "path", "answer"),
    [("GET", "/nowhere", (404, "404")), ("POST", "/legacy/1", (405, "405")), ("GET", "/legacy/1", (404, "404")),
     ("GET", "/legacy/0", (410, "410"))],
)
def test_the_handler_flask_calls_writes_the_state_the_hooks_read(method, path, answer):
    assert _answers(_api(), [(method, path)]) == [answer]


def test_each_request_has_a_state_of_its_own():
    assert _answers(_api(), [("GET", "/nowhere"), ("GET", "/legacy/0")]) == [(404, "404"), (410, "410")]
