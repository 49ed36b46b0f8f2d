"""An answer a dependency gives in the view's place.

An auth dependency (Flask-HTTPAuth's and Flask-Login's converted checks) refuses
a request with the response the extension sent, untouched: no ``HTTPException``, so the project's
own 401/403 handlers never see it, as they never saw the extension's answer under Flask. It raises
``Refused(response)``; ``NativeApp`` and ``FlaskBridge`` register ``answer_refused`` for it, and
each extension's module raises it or its own subclass (``httpauth.Refused``, ``login.LoginRefused``),
so one handler answers them all. Another FastAPI app registers it itself:
``app.add_exception_handler(Refused, answer_refused)``. (``jwt_auth.JWTRefused`` is no ``Refused``:
on a bridge it is answered inside Flask's request cycle, after the before_request hooks, as
Flask-JWT-Extended's decorator was.)
"""

from __future__ import annotations

from typing import Any

__all__ = ["GuardRefused", "Refused", "answer_refused"]


class Refused(Exception):
    """Raised by a dependency: ``response`` is the answer, as the extension sent it."""

    def __init__(self, response: Any) -> None:
        super().__init__(getattr(response, "status_code", None))
        self.response = response


class GuardRefused(Refused):
    """Raised by a converted guard decorator's dependency with the response the decorator
    returned in the view's place (``return jsonify(error="unauthorized"), 401``). A ``NativeApp``
    answers it as any ``Refused``; a ``FlaskBridge`` has Flask answer a native route's request
    with it, as if the view returned it (``errors.answer_guard_refused``): the app's
    after_request hooks see it, as they saw the decorator's answer, and no error handler does."""


async def answer_refused(request: Any, exc: Exception) -> Any:
    """The exception handler for ``Refused``: its response, untouched."""
    assert isinstance(exc, Refused)
    return exc.response
