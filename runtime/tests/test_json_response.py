"""FlaskJSONResponse writes the bytes Flask's jsonify wrote, whatever the value: a dict built in
any key order, non-ASCII text, dates, UUIDs, decimals, dataclasses, markup; and refuses what
jsonify refused. Returned by an exception handler of a FlaskBridge, it is the body Flask sends."""

from __future__ import annotations

import dataclasses
import decimal
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from flask import Flask, abort, jsonify
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException

from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse


@dataclasses.dataclass
class Point:
    x: int
    label: str


VALUES: list[Any] = [
    {"message": "m", "code": "c", "field": "f", "request_id": "r"},  # keys sorted
    {"error": {"z": 1, "a": [3, 2, {"y": None, "b": True}]}},
    {"naïve": "café ☕ \u2028", "emoji": "😀"},  # escaped, as ensure_ascii
    {"when": datetime(2024, 5, 17, 9, 30, 5), "aware": datetime(2024, 5, 17, 9, 30, tzinfo=timezone(timedelta(hours=2)))},
    {"day": date(2024, 2, 29), "id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "amount": decimal.Decimal("1.10")},
    {"point": Point(1, "p"), "html": Markup("<b>x</b>")},
    [1, 2.5, -0.0, 1e100, "two", None],
    "just text",
    None,
    {},
]


def _flask_bytes(value: Any) -> bytes:
    app = Flask(__name__)
    with app.app_context():
        return jsonify(value).get_data()


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_bytes_are_jsonifys(value: Any) -> None:
    response = FlaskJSONResponse(value, status_code=418)
    assert response.body == _flask_bytes(value)
    assert response.status_code == 418
    assert response.media_type == "application/json"


def test_what_jsonify_refuses_it_refuses() -> None:
    for value in ({"x": object()}, {1: "int key", "a": "str key"}, {"nan": float("nan")}):
        try:
            expected: Any = _flask_bytes(value)
        except (TypeError, ValueError) as error:
            expected = type(error)
        if isinstance(expected, bytes):
            assert FlaskJSONResponse(value).body == expected
        else:
            with pytest.raises(expected):
                FlaskJSONResponse(value)


def test_an_exception_handlers_body_goes_out_as_it_is() -> None:
    """Through the bridge, inside Flask's cycle and on FastAPI's side alike."""
    app = Flask(__name__)
    app.add_url_rule("/flask", "flask", lambda: abort(404, description="no é here"))
    api = FlaskBridge(app)
    router = APIRouter()  # a plain FastAPI route: its errors are FastAPI's alone

    @router.get("/plain")
    def plain():
        raise StarletteHTTPException(status_code=404, detail="no é here")

    api.include_router(router)

    @api.exception_handler(404)
    def not_found(request: Request, exc: StarletteHTTPException):
        return FlaskJSONResponse({"message": exc.detail, "code": exc.status_code}, status_code=404)

    client = TestClient(api)
    expected = _flask_bytes({"message": "no é here", "code": 404})
    for path in ("/flask", "/plain"):
        response = client.get(path)
        assert (response.status_code, response.headers["content-type"], response.content) == (404, "application/json", expected)
