"""Flask's message flashing over ``request.session``, the session a converted app keeps in
Flask's own signed cookie (``login.FlaskSessionMiddleware``).

Flask keeps flashed messages in its session, as a ``_flashes`` list of ``(category, message)``
pairs, which its tagged JSON writes as tuples. The same steps on ``request.session`` write and
read the same cookie: a message flashed by the original app is shown by the converted one, and
the reverse, so a cutover between a flash and the page after it loses nothing.

- ``flash(request, message, category="message")``: Flask's ``flash``, which reads the list
  (``session.get``, so the answer varies by cookie) and stores it back with the pair appended.
  Flask also sends its ``message_flashed`` signal; the converter leaves a project that connects
  to it on Flask's.
- ``get_flashed_messages(request, with_categories=False, category_filter=())``: Flask's: the
  first call of a request pops the list from the session (``"_flashes" in session``, then
  ``pop``); every call of that request gets the same messages, filtered by category, as pairs
  or as messages alone. Flask keeps the popped list on its request context; here it stays on the
  request's session object, which every ``Request`` of the request shares (a copy of the ASGI
  scope too, as an exception handler Flask calls is given).
- ``flashes_in_flask_templates(flask_app)``: the Flask app's own templates (those a converted app
  still renders through Flask) get ``get_flashed_messages`` over that same session, instead of
  Flask's, which reads the session Flask opened from the cookie: one request has one list of
  messages, and one writer of the cookie. It sets a global of the app's Jinja environment, which
  Flask makes on first use (as ``app.add_template_global`` does).

Starlette's templates get ``get_flashed_messages`` from ``templating.flask_template_context``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import HTTPConnection, Request

__all__ = ["flash", "flashes_in_flask_templates", "get_flashed_messages"]

KEY = "_flashes"  # Flask's key in its session
POPPED = "flashes"  # the session object's attribute: the list popped in this request


def flash(request: HTTPConnection, message: str, category: str = "message") -> None:
    """Flash ``message`` to the next page that shows them, as Flask's ``flash`` (module doc)."""
    session = request.session
    flashes = session.get(KEY, [])
    flashes.append((category, message))
    session[KEY] = flashes


def get_flashed_messages(
    request: HTTPConnection, with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    """The messages flashed to this request, as Flask's ``get_flashed_messages`` (module doc)."""
    session = request.session
    flashes = getattr(session, POPPED, None)
    if flashes is None:
        flashes = session.pop(KEY) if KEY in session else []
        setattr(session, POPPED, flashes)
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    if not with_categories:
        return [f[1] for f in flashes]
    return flashes


def flashes_in_flask_templates(flask_app: Any) -> None:
    """Give the templates the Flask app renders this module's ``get_flashed_messages``, over the
    request's ``request.session`` (module doc). Call it once, where the app is made."""
    flask_app.jinja_env.globals["get_flashed_messages"] = _in_flask


def _in_flask(with_categories: bool = False, category_filter: Iterable[str] = ()) -> list[Any]:
    # Flask's request of the request being answered holds the ASGI scope the bridge serves
    from flask import request  # only where Flask renders: this module needs no Flask otherwise

    scope = request.environ["asgi.scope"]
    return get_flashed_messages(Request(scope), with_categories, category_filter)
