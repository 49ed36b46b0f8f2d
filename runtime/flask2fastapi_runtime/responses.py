"""What a native view returns the FastAPI way, as the Flask response the app's hooks then see.

A view rewritten into idiomatic FastAPI code still runs inside Flask's request cycle (see
``routing``), so what it returns is made a Flask response before the after_request hooks, the
way FastAPI would have made its response:

- The route's declared ``status_code=`` (``@router.post("", status_code=201)``) applies when the
  view returns a plain body (a dict, list, str...: no tuple, no response object); Flask alone
  would have used 200. Not declared, nothing changes (FastAPI's default 200 is Flask's).
- FastAPI's sub-response (a ``response: Response`` parameter of the view or of a dependency):
  the headers and cookies set on it are added to Flask's response, and its status_code, if one
  was set, replaces the status. As under FastAPI, not when the view returned a response object.
- ``None`` with a status that has no body (204, 304: ``status_code=204`` and no return) is an
  empty body, as FastAPI sends it.
- A Starlette response (Response, JSONResponse, HTMLResponse, PlainTextResponse,
  RedirectResponse...) becomes a werkzeug response with its status, body and headers, repeated
  Set-Cookie and a missing Content-Type included. A StreamingResponse's headers go through
  Flask the same way; its body passes through untouched (werkzeug's ``direct_passthrough``)
  and streams on the event loop after Flask's cycle, as under FastAPI. A response's
  ``background`` task runs after the response is sent. A FileResponse has no body to hand over:
  a TypeError says to return ``flask.send_file(...)``.

Bridged views are Flask code, returning Flask's types, and none of this applies to them:
converted views are native ones. A Starlette response returned from a bridged view meets
Flask's own ``make_response``, which the runtime does not own, and its TypeError.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from starlette.responses import Response, StreamingResponse

from .wsgi import AsyncBody

# Environ key: the background task of the Starlette response a native view returned.
BACKGROUND = "flask2fastapi.background"


def as_flask(
    returned: Any,
    status_code: int | None,
    sub_response: Response | None,
    flask_app: Any = None,
    environ: dict[str, Any] | None = None,
) -> Any:
    """What a native view returned, as Flask's make_response takes it (module doc). The Flask
    app and the request's environ are Flask's current ones unless given (``fastpath`` has no
    request context)."""
    if isinstance(returned, Response):
        return from_starlette(returned, flask_app, environ)
    if callable(returned):  # a Flask response or another WSGI app: FastAPI would change nothing
        return returned
    plain = not isinstance(returned, tuple)
    set_status = sub_response.status_code if sub_response is not None else None
    headers = sub_response.raw_headers if sub_response is not None else []
    status = set_status or (status_code if plain else None)
    if returned is None and status is not None and not _has_body(status):
        returned = ""
    if status is None and not headers:
        return returned
    response = (current_app if flask_app is None else flask_app).make_response(returned)
    if status is not None:
        response.status_code = status
    for name, value in headers:  # added, as FastAPI adds them to its own response
        response.headers.add(name.decode("latin-1"), value.decode("latin-1"))
    return response


def _has_body(status: int) -> bool:
    return status >= 200 and status not in (204, 205, 304)


def from_starlette(response: Response, flask_app: Any = None, environ: dict[str, Any] | None = None) -> Any:
    """A werkzeug response (the Flask app's response_class) answering as ``response`` does; the
    app and environ are Flask's current ones unless given."""
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.raw_headers]
    if isinstance(response, StreamingResponse):
        body: Any = AsyncBody(response.body_iterator)
    elif isinstance(getattr(response, "body", None), (bytes, bytearray, memoryview)):
        body = bytes(response.body)
    else:
        raise TypeError(
            f"a native view returned a {type(response).__name__}, which has no body to give Flask's"
            " response: return flask.send_file(...) for a file"
        )
    converted = (current_app if flask_app is None else flask_app).response_class(
        body, status=response.status_code, headers=headers, direct_passthrough=isinstance(body, AsyncBody)
    )
    if not any(name.lower() == "content-type" for name, _ in headers):
        converted.headers.pop("Content-Type", None)  # werkzeug's default is no part of it
    if response.background is not None:
        (request.environ if environ is None else environ)[BACKGROUND] = response.background
    return converted
