"""``redirect(location, code=302)``: werkzeug's redirect, as a Starlette response.

Flask's ``redirect`` (werkzeug's) answers with a small HTML page linking to the new location,
not an empty body as Starlette's ``RedirectResponse`` does: ``text/html; charset=utf-8``, the
page with the location HTML-escaped as MarkupSafe escapes it (``&#39;`` and ``&#34;`` for the
quotes, where ``html.escape`` writes ``&#x27;`` and ``&quot;``), and ``Location`` the location.

werkzeug writes ``Location`` through its ``iri_to_uri`` when it sends the answer (a converted view
on a FlaskBridge still answers through werkzeug); here it is written as given, so converted code
passes a location ``iri_to_uri`` leaves as it is: a path ``url_for`` built, or plain ASCII text.
"""

from __future__ import annotations

from starlette.responses import HTMLResponse

from .http_errors import escaped

__all__ = ["redirect", "redirect_page"]


def redirect_page(location: str) -> str:
    """The HTML page of werkzeug's redirect to ``location``."""
    shown = escaped(location)
    return (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        f'<p>You should be redirected automatically to the target URL: <a href="{shown}">{shown}</a>. If not, click the link.\n'
    )


def redirect(location: str, code: int = 302) -> HTMLResponse:
    """What Flask's ``redirect(location, code)`` answered (module doc)."""
    return HTMLResponse(redirect_page(location), status_code=code, headers={"Location": location})
