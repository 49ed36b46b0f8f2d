"""``flask_template_context``: the ``request``, ``url_for`` and ``get_flashed_messages`` Flask's
Jinja environment gives every template, as a context processor of Starlette's ``Jinja2Templates``.

Flask renders templates with names of its own. Two of them answer differently in Starlette's
templates, which put Starlette's ``Request`` in the context and a ``url_for`` global, and one
is not there at all:

- ``{{ request.path }}``: werkzeug's path (decoded, below the app's root path, one leading
  slash). On Starlette's ``Request`` Jinja falls back to ``request["path"]``, the ASGI scope's
  path, which keeps the root path. ``TemplateRequest`` is Starlette's request with werkzeug's
  ``path`` (``request_path``); everything else of it is Starlette's.
- ``{{ url_for("download", filename="a b.txt") }}``: Flask writes the path under the app's root
  (``/files/a%20b.txt``); Starlette's global writes the absolute URL and quotes nothing.
  ``url_path`` quotes each value as werkzeug's converters do and keeps the path.
- ``{% for category, message in get_flashed_messages(with_categories=true) %}``: Flask's, over
  the session the app keeps in Flask's cookie (``flashing.get_flashed_messages``; it needs
  ``login.FlaskSessionMiddleware``, and is only called where a template calls it).

Register it as ``Jinja2Templates(..., context_processors=[flask_template_context])``. Starlette
runs context processors after the view's values and lets them win; the converter passes none of
these names from a view, so nothing of the view is overridden.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import quote

from starlette.requests import Request

from .flashing import get_flashed_messages
from .request_path import request_path

__all__ = ["TemplateRequest", "flask_template_context", "url_path"]

# what werkzeug's BaseConverter.to_url leaves unquoted
SAFE = "!$&'()*+,/:;=@"


class TemplateRequest(Request):
    """Starlette's request, whose ``path`` is Flask's ``request.path`` (module doc)."""

    @property
    def path(self) -> str:
        return request_path(self)


def url_path(request: Request, endpoint: str, /, **values: Any) -> str:
    """Flask's ``url_for(endpoint, **values)`` inside a request, for a route of the FastAPI app
    named ``endpoint`` whose path variables are exactly ``values``."""
    quoted = {name: quote(str(value), safe=SAFE) for name, value in values.items()}
    return request.url_for(endpoint, **quoted).path


def flask_template_context(request: Request) -> dict[str, Any]:
    """The ``request``, ``url_for`` and ``get_flashed_messages`` of Flask's template context,
    for this request."""
    return {
        "request": TemplateRequest(request.scope, request.receive),
        "url_for": partial(url_path, request),
        "get_flashed_messages": partial(get_flashed_messages, request),
    }
