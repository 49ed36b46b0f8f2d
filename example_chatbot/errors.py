"""The app's exceptions and JSON error handlers."""

import re

from flask import Flask, current_app, g, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
}


class APIError(Exception):
    """Base class for errors the API reports to clients as JSON."""

    status_code = 500
    code = "internal_error"
    message = "internal server error"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status_code: int | None = None) -> None:
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.message)


class Conflict(APIError):
    status_code = 409
    code = "conflict"
    message = "the resource already exists"


class LLMUnavailable(APIError):
    status_code = 503
    code = "llm_unavailable"
    message = "the language model is not available"


class UpstreamError(APIError):
    status_code = 502
    code = "upstream_error"
    message = "the language model returned an invalid response"


class UpstreamTimeout(APIError):
    status_code = 504
    code = "upstream_timeout"
    message = "the language model did not answer in time"


def error_body(code: str, message: str, **extra) -> dict:
    error = {"code": code, "message": message, **extra}
    request_id = g.get("request_id")
    if request_id:
        error["request_id"] = request_id
    return {"error": error}


def validation_error(message: str, field: str | None = None):
    """A 400 response for an invalid field in a JSON body."""
    extra = {"field": field} if field else {}
    return jsonify(error_body("validation_error", message, **extra)), 400


def _http_error_code(exc: HTTPException) -> str:
    if exc.code in HTTP_ERROR_CODES:
        return HTTP_ERROR_CODES[exc.code]
    return re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")


def handle_http_exception(exc: HTTPException):
    response = jsonify(error_body(_http_error_code(exc), exc.description or exc.name))
    response.status_code = exc.code or 500
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if exc.code == 401:
        response.headers.setdefault("WWW-Authenticate", "Bearer")
    return response


def handle_internal_error(exc: InternalServerError):
    # Flask has already logged the original exception; never leak it to clients.
    return jsonify(error_body("internal_error", "internal server error")), 500


def handle_api_error(exc: APIError):
    if exc.status_code >= 500:
        current_app.logger.warning("%s: %s", exc.code, exc.message)
    return jsonify(error_body(exc.code, exc.message)), exc.status_code


def init_app(app: Flask) -> None:
    for status in (400, 401, 403, 404, 405):
        app.register_error_handler(status, handle_http_exception)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(500, handle_internal_error)
    app.register_error_handler(APIError, handle_api_error)
