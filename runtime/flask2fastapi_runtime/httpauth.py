"""Flask-HTTPAuth's checks as FastAPI dependencies that return the current user.

``HTTPBasicAuth``, ``HTTPTokenAuth`` and ``MultiAuth`` take the same callbacks as Flask-HTTPAuth
4.x (``verify_password``, ``verify_token``, ``get_user_roles``, ``error_handler``), so the
project's own checks stay as they were written. Where a view had ``@auth.login_required(...)``
it now declares ``user: Annotated[Any, Depends(auth.login_required(...))]`` (or
``dependencies=[Depends(...)]``), and reads ``user`` where it called ``auth.current_user()``.

What Flask-HTTPAuth does, kept because clients see it:

- an ``OPTIONS`` request is never checked (the user is ``None``);
- Basic credentials are read from any scheme (``Authorization: Token <base64 user:pw>`` passes),
  decoded as UTF-8, else Latin-1; anything unreadable counts as no credentials, and
  ``verify_password`` is still called, with two empty strings;
- a token is read as werkzeug reads ``Authorization`` (scheme compared without case, a value
  with a ``=`` that is not trailing is no token), or whole from a custom ``header=``;
- ``MultiAuth`` asks the first object whose scheme (case-sensitive) or custom header the request
  carries, else the first one;
- a refusal is the ``error_handler``'s answer (default ``"Unauthorized Access"`` as text/html),
  401 for no or bad credentials, 403 for a missing role, with ``WWW-Authenticate:
  <scheme> realm="<realm>"`` unless the handler set one. It is sent as it is: the app's own 401
  and 403 exception handlers do not see it (Flask-HTTPAuth returned it from the view).
  ``FlaskBridge`` and ``NativeApp`` answer ``Refused`` with it; another app needs
  ``app.add_exception_handler(Refused, answer_refused)``.

What differs: a callback that wants the request (where Flask code wrote ``g.x = ...``, the
converted callback writes ``request.state.x``) declares a ``request`` parameter and gets it
by keyword. When the verify callback returned ``True``, ``get_user_roles`` gets the
``Credentials`` read from the request rather than werkzeug's ``Authorization``. Callbacks are
plain functions (the dependency runs in FastAPI's thread pool); coroutine callbacks are refused.

The security schemes are declared for OpenAPI (``HTTPBasic``, ``HTTPBearer``, another
``HTTPBase`` scheme, ``APIKeyHeader`` for a custom header; a ``MultiAuth``'s all of them, as
alternatives), but only declared: the header is read here, as Flask-HTTPAuth read it, since
FastAPI's ``HTTPBasic`` answers an unreadable header with its own 401.

Where a decorator of the project's sits above the check on a view (Flask ran it first, refused
requests included), ``@auth.guard(role=...)`` keeps the check a decorator: its view's signature
gains a keyword-only ``httpauth_request: Request`` and the schemes' declarations (FastAPI fills
them; the view does not see them),
and a refusal is the view's return value, as Flask-HTTPAuth's was. No user is handed to the view.
"""

import binascii
import functools
import inspect
from base64 import b64decode
from typing import Annotated, Any, Callable, NamedTuple

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBearer
from fastapi.security.http import HTTPBase
from starlette.datastructures import Headers
from starlette.responses import Response

from .json_response import FlaskJSONResponse
from .refusals import Refused, answer_refused  # noqa: F401 (answer_refused: for an app of its own, module doc)

DEFAULT_REALM = "Authentication Required"
GUARD_REQUEST = "httpauth_request"  # the parameter a guarded view's signature gains


class Credentials(NamedTuple):
    """What the request's header gave: a scheme and a username and password, or a token."""

    scheme: str
    username: str | None = None
    password: str | None = None
    token: str | None = None


def _declared(scheme_class: type, **options: Any) -> Any:
    """A ``scheme_class`` scheme shown in OpenAPI under its own name, never asked: reading the
    header is this module's job."""

    class Declared(scheme_class):  # type: ignore[misc, valid-type]
        async def __call__(self, request: Request) -> None:  # type: ignore[override]
            return None

    return Declared(scheme_name=scheme_class.__name__, auto_error=False, **options)


def _no_coroutine(f: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(f):
        raise TypeError(f"{f.__name__}: the auth dependency calls its callbacks synchronously; make it a plain def")
    return f


def _call(f: Callable[..., Any], *args: Any, request: Request) -> Any:
    """``f(*args)``, with ``request=`` where ``f`` declares it."""
    if "request" in inspect.signature(f).parameters:
        return f(*args, request=request)
    return f(*args)


def _as_response(value: Any) -> Response:
    """A Flask view's return value as the response Flask's ``make_response`` made of it: a
    response, a str (text/html) or a dict or list (``jsonify``), alone or in a tuple with a
    status and/or headers."""
    status, headers = None, None
    if isinstance(value, tuple):
        if len(value) == 3:
            value, status, headers = value
        elif len(value) == 2 and isinstance(value[1], (dict, list)):
            value, headers = value
        elif len(value) == 2:
            value, status = value
        else:
            raise TypeError("an error_handler's tuple is (body, status), (body, headers) or (body, status, headers)")
    if isinstance(value, Response):
        response = value
        if status is not None:
            response.status_code = int(status)
    elif isinstance(value, (str, bytes)):
        response = Response(value, status_code=200 if status is None else int(status), media_type="text/html")
    elif isinstance(value, (dict, list)):
        response = FlaskJSONResponse(value, status_code=200 if status is None else int(status))
    else:
        raise TypeError(f"an error_handler returned {type(value).__name__}, not a response Flask could make")
    for name, header in (headers.items() if isinstance(headers, dict) else headers or ()):
        response.headers[name] = str(header)
    return response


class HTTPAuth:
    """What Basic and token auth share: roles, the error handler and the dependency."""

    def __init__(self, scheme: str, realm: str | None = None, header: str | None = None) -> None:
        self.scheme = scheme
        self.realm = realm or DEFAULT_REALM
        self.header = header
        self.get_user_roles_callback: Callable[..., Any] | None = None
        self.auth_error_callback: Callable[..., Any] = lambda status: ("Unauthorized Access", status)
        self._dependencies: dict[tuple[Any, ...], Callable[..., Any]] = {}

    # -- callbacks, registered as with Flask-HTTPAuth -------------------------------------------
    def get_user_roles(self, f: Callable[..., Any]) -> Callable[..., Any]:
        self.get_user_roles_callback = _no_coroutine(f)
        return f

    def error_handler(self, f: Callable[..., Any]) -> Callable[..., Any]:
        self.auth_error_callback = _no_coroutine(f)
        return f

    # -- the check --------------------------------------------------------------------------------
    def authenticate_header(self) -> str:
        return f'{self.scheme} realm="{self.realm}"'

    def credentials(self, headers: Headers) -> Credentials | None:
        raise NotImplementedError

    def authenticate(self, credentials: Credentials | None, request: Request) -> Any:
        raise NotImplementedError

    def is_compatible_auth(self, headers: Headers) -> bool:
        """Whether ``MultiAuth`` picks this object for a request with these headers."""
        if self.header is None or self.header == "Authorization":
            parts = headers.get("Authorization", "").split(None, 1)
            return len(parts) == 2 and parts[0] == self.scheme
        return self.header in headers

    def authorize(self, role: Any, user: Any, credentials: Credentials | None, request: Request) -> bool:
        if role is None:
            return True
        roles = role if isinstance(role, (list, tuple)) else [role]
        if self.get_user_roles_callback is None:
            raise ValueError("get_user_roles callback is not defined")
        found = _call(self.get_user_roles_callback, credentials if user is True else user, request=request)
        if found is None:
            user_roles: set[Any] = set()
        elif not isinstance(found, (list, tuple)):
            user_roles = {found}
        else:
            user_roles = set(found)
        for wanted in roles:
            if isinstance(wanted, (list, tuple)):
                if set(wanted) <= user_roles:
                    return True
            elif wanted in user_roles:
                return True
        return False

    def refusal(self, status: int, request: Request) -> Response:
        """The error handler's answer for ``status``, with the challenge header."""
        handler = self.auth_error_callback
        try:
            value = _call(handler, status, request=request)
        except TypeError:  # a handler without the status parameter, as Flask-HTTPAuth allows
            value = _call(handler, request=request)
        response = _as_response(value)
        if not isinstance(value, (tuple, Response)) and response.status_code == 200:
            response.status_code = 401
        if "WWW-Authenticate" not in response.headers:
            response.headers["WWW-Authenticate"] = self.authenticate_header()
        return response

    def current_user_of(self, request: Request, role: Any = None, optional: bool | None = None) -> Any:
        """The user the request authenticates as; raises ``Refused`` with the answer."""
        if request.method == "OPTIONS":
            return None
        credentials = self.credentials(request.headers)
        user = self.authenticate(credentials, request)
        status = None
        if user in (False, None):
            status = 401
        elif not self.authorize(role, user, credentials, request):
            status = 403
        if status and not optional:
            raise Refused(self.refusal(status, request))
        if user is True:
            return credentials.username if credentials else None
        return user

    # -- the dependency ---------------------------------------------------------------------------
    def security_scheme(self) -> Any:
        """The scheme declared for OpenAPI."""
        if self.header not in (None, "Authorization"):
            return _declared(APIKeyHeader, name=self.header)
        if self.scheme.lower() == "basic":
            return _declared(HTTPBasic, realm=self.realm)
        if self.scheme.lower() == "bearer":
            return _declared(HTTPBearer)
        return _declared(HTTPBase, scheme=self.scheme)

    def login_required(self, role: Any = None, optional: bool | None = None) -> Callable[..., Any]:
        """The dependency that returns the user, refusing as ``@login_required(...)`` did. The
        same arguments give the same dependency, so a view and its router share one check."""
        return _dependency(self, [self], role, optional)

    def guard(self, role: Any = None, optional: bool | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """The check as a decorator of the view (module doc), for a view whose decorators above
        it ran before Flask-HTTPAuth's check and see its refusals."""
        return _guard(self, [self], role, optional)


def _declarations(schemes: list[HTTPAuth], prefix: str) -> list[inspect.Parameter]:
    """Keyword-only parameters that depend on the objects' declared schemes (OpenAPI shows them)."""
    return [
        inspect.Parameter(f"{prefix}{index}", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[Any, Depends(auth.security_scheme())])
        for index, auth in enumerate(schemes)
    ]


def _guard(owner: Any, schemes: list[HTTPAuth], role: Any, optional: bool | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(view)
        if GUARD_REQUEST in signature.parameters:
            raise TypeError(f"{view.__name__} already has a {GUARD_REQUEST} parameter")

        declared = _declarations(schemes, f"{GUARD_REQUEST}_scheme_")

        def answer(kwargs: dict[str, Any]) -> Response | None:
            for parameter in declared:
                kwargs.pop(parameter.name, None)
            try:
                owner.current_user_of(kwargs.pop(GUARD_REQUEST), role=role, optional=optional)
            except Refused as refused:
                return refused.response
            return None

        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def checked(*args: Any, **kwargs: Any) -> Any:
                refused = answer(kwargs)
                return refused if refused is not None else await view(*args, **kwargs)
        else:

            @functools.wraps(view)
            def checked(*args: Any, **kwargs: Any) -> Any:
                refused = answer(kwargs)
                return refused if refused is not None else view(*args, **kwargs)

        request = inspect.Parameter(GUARD_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
        parameters = list(signature.parameters.values())
        at = next((i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD), len(parameters))
        checked.__signature__ = signature.replace(parameters=[*parameters[:at], request, *declared, *parameters[at:]])  # type: ignore[attr-defined]
        return checked

    return decorator


def _dependency(owner: Any, schemes: list[HTTPAuth], role: Any, optional: bool | None) -> Callable[..., Any]:
    key = (repr(role), optional)
    if key in owner._dependencies:
        return owner._dependencies[key]

    def current_user(request: Request, **declared: Any) -> Any:
        return owner.current_user_of(request, role=role, optional=optional)

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    parameters += _declarations(schemes, "credentials_")
    current_user.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    owner._dependencies[key] = current_user
    return current_user


class HTTPBasicAuth(HTTPAuth):
    """Flask-HTTPAuth's ``HTTPBasicAuth``: ``verify_password(username, password)`` decides."""

    def __init__(self, scheme: str | None = None, realm: str | None = None) -> None:
        super().__init__(scheme or "Basic", realm)
        self.verify_password_callback: Callable[..., Any] | None = None

    def verify_password(self, f: Callable[..., Any]) -> Callable[..., Any]:
        self.verify_password_callback = _no_coroutine(f)
        return f

    def credentials(self, headers: Headers) -> Credentials | None:
        value = headers.get(self.header or "Authorization")
        if value is None:
            return None
        try:
            scheme, encoded = value.encode("utf-8").split(b" ", 1)
            raw_username, raw_password = b64decode(encoded).split(b":", 1)
        except (ValueError, TypeError, binascii.Error):
            return None
        try:
            username, password = raw_username.decode("utf-8"), raw_password.decode("utf-8")
        except UnicodeDecodeError:
            username, password = raw_username.decode("latin1"), raw_password.decode("latin1")
        return Credentials(scheme.decode("utf-8"), username=username, password=password)

    def authenticate(self, credentials: Credentials | None, request: Request) -> Any:
        if self.verify_password_callback is None:  # Flask-HTTPAuth's default get_password knows nobody
            return None
        username = credentials.username if credentials else ""
        password = credentials.password if credentials else ""
        return _call(self.verify_password_callback, username, password, request=request)


class HTTPTokenAuth(HTTPAuth):
    """Flask-HTTPAuth's ``HTTPTokenAuth``: ``verify_token(token)`` decides."""

    def __init__(self, scheme: str = "Bearer", realm: str | None = None, header: str | None = None) -> None:
        super().__init__(scheme, realm, header)
        self.verify_token_callback: Callable[..., Any] | None = None

    def verify_token(self, f: Callable[..., Any]) -> Callable[..., Any]:
        self.verify_token_callback = _no_coroutine(f)
        return f

    def credentials(self, headers: Headers) -> Credentials | None:
        if self.header not in (None, "Authorization"):
            value = headers.get(self.header)
            return None if value is None else Credentials(self.scheme, token=value)
        found = _authorization(headers.get("Authorization"))
        if found is None or found.scheme.lower() != self.scheme.lower():
            return None
        return found

    def authenticate(self, credentials: Credentials | None, request: Request) -> Any:
        token = credentials.token if credentials else None
        if token and self.verify_token_callback:
            return _call(self.verify_token_callback, token, request=request)
        return None


def _authorization(value: str | None) -> Credentials | None:
    """``Authorization`` as werkzeug 3 reads it for Flask (``request.authorization``), and
    Flask-HTTPAuth's own split where werkzeug gives nothing."""
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    rest = rest.strip(" \t")
    if scheme.lower() == "basic":
        try:
            username, _, password = b64decode(rest, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeError):
            parts = value.split(None, 1)  # Flask-HTTPAuth's fallback: a token under this scheme
            return Credentials(parts[0], token=parts[1]) if len(parts) == 2 else None
        return Credentials("basic", username=username, password=password)
    if "=" in rest.rstrip("="):
        return Credentials(scheme.lower())  # parameters, no token
    return Credentials(scheme.lower(), token=rest)


class MultiAuth:
    """Flask-HTTPAuth's ``MultiAuth``: the first object the request's credentials fit decides."""

    def __init__(self, main_auth: HTTPAuth, *additional_auths: HTTPAuth) -> None:
        self.main_auth = main_auth
        self.additional_auths = additional_auths
        self._dependencies: dict[tuple[Any, ...], Callable[..., Any]] = {}

    def selected(self, headers: Headers) -> HTTPAuth:
        if self.main_auth.is_compatible_auth(headers):
            return self.main_auth
        return next((a for a in self.additional_auths if a.is_compatible_auth(headers)), self.main_auth)

    def current_user_of(self, request: Request, role: Any = None, optional: bool | None = None) -> Any:
        return self.selected(request.headers).current_user_of(request, role=role, optional=optional)

    def login_required(self, role: Any = None, optional: bool | None = None) -> Callable[..., Any]:
        """The dependency that returns the user (``HTTPAuth.login_required``)."""
        return _dependency(self, [self.main_auth, *self.additional_auths], role, optional)

    def guard(self, role: Any = None, optional: bool | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """The check as a decorator of the view (``HTTPAuth.guard``)."""
        return _guard(self, [self.main_auth, *self.additional_auths], role, optional)
