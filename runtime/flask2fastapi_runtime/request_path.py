"""``request_path(request)``: Flask's ``request.path``, read from Starlette's Request.

An error handler that echoes the path (``jsonify(error=..., path=request.path)``) answers for
URLs no route knows, so it sees every odd path a client sends. ``request.url.path`` is not what
werkzeug gave there: Starlette's URL writes a ``?``, ``#`` or ``\\`` of the decoded path
percent-encoded again (``/a%3Fb``), and keeps the leading slashes of ``//a``. werkzeug's
``request.path`` is the decoded path below the app's root path (``SCRIPT_NAME``), with one
leading slash. Nothing else of the request is read.
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["request_path"]


def request_path(request: Request) -> str:
    """The path Flask's ``request.path`` gave for this request (module doc)."""
    path = request.scope["path"]
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return "/" + path.lstrip("/")
