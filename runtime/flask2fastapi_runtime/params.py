"""Query, header and cookie parameters of native routes, read as Flask read them.

A converted view declares what it read from ``request.args``, ``request.headers`` and
``request.cookies`` as FastAPI parameters, which FastAPI parses and documents. Two things Flask
did differently are kept here:

- ``request.args.get("page", 1, type=int)`` gives the default when the value does not convert
  (``?page=abc``); a FastAPI ``page: int = 1`` answers 422. ``page: Annotated[int, OrDefault] = 1``
  converts the value as Flask did (``int(value)``; ``float(value)`` for a ``float``) and gives the
  default when that raises, while OpenAPI still documents an integer.
- Of a repeated query key (``?page=1&page=2``) Flask reads the first value and Starlette the last;
  of a repeated header Flask reads the values joined by commas (the WSGI environ's form) and
  Starlette the first; of a repeated cookie Flask the first and Starlette the last. A native
  route's parameters are read from Flask's own request object for the request (the readers
  below, used by the routing module's request class for the sources ``read_sources`` finds in
  the view's signature), so each parameter gets the value the view's ``request.args.get(...)``
  got. List parameters (``tag: list[str] = Query()``, what ``getlist`` became) get every value,
  in order.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, ItemsView, Iterable, Iterator, ValuesView
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import params as fastapi_params
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import PydanticUseDefault, core_schema
from starlette.datastructures import Headers, QueryParams
from fastapi.security import SecurityScopes
from starlette.background import BackgroundTasks
from starlette.requests import HTTPConnection
from starlette.responses import Response

from . import forms

try:  # Python 3.10+: X | Y is a types.UnionType
    from types import UnionType
except ImportError:  # pragma: no cover
    UnionType = Union  # type: ignore[misc,assignment]

# The conversions ``type=`` did in Flask, by the annotation they document.
_CONVERSIONS: dict[Any, Callable[[Any], Any]] = {int: int, float: float}


class _OrDefault:
    """``Annotated[int, OrDefault] = 1``: the value converted as Flask's ``type=int`` did, the
    parameter's default where that fails (see the module doc)."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        convert = _conversion(source)

        def validate(value: Any, inner: core_schema.ValidatorFunctionWrapHandler) -> Any:
            try:
                value = convert(value)
            except (TypeError, ValueError):  # what werkzeug's MultiDict.get catches
                raise PydanticUseDefault() from None
            return inner(value)

        return core_schema.no_info_wrap_validator_function(validate, handler(source))

    def __repr__(self) -> str:
        return "OrDefault"


OrDefault = _OrDefault()


def _conversion(annotation: Any) -> Callable[[Any], Any]:
    """``int`` for ``int`` and ``int | None``; likewise ``float``."""
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    found = {_CONVERSIONS[t] for t in options if t in _CONVERSIONS}
    if len(found) != 1 or not set(options) <= {*_CONVERSIONS, type(None)}:
        raise TypeError(f"OrDefault converts int or float (or either | None), not {annotation!r}")
    return found.pop()


class FirstValues(QueryParams):
    """Query parameters whose single-value reads give the first of a repeated key, as werkzeug's
    MultiDict does; ``getlist`` and ``multi_items`` give every value."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        self._first: dict[str, str] = {}
        for key, value in pairs:
            self._first.setdefault(key, value)

    def __getitem__(self, key: Any) -> str:
        return self._first[key]

    def values(self) -> ValuesView[str]:  # type: ignore[override]
        return self._first.values()

    def items(self) -> ItemsView[str, str]:  # type: ignore[override]
        return self._first.items()


def query_params(flask_request: Any) -> FirstValues:
    """A Flask request's query parameters, with the values its ``args.get`` gives."""
    return FirstValues(list(flask_request.args.items(multi=True)))


def headers(flask_request: Any) -> Headers:
    """A Flask request's headers, with the values its ``headers.get`` gives (a repeated header's
    values joined, as the WSGI environ holds them)."""
    return Headers(raw=[(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in flask_request.headers.items()])


def cookies(flask_request: Any) -> dict[str, str]:
    """A Flask request's cookies, as its ``cookies.get`` gives them (the first of a name)."""
    return flask_request.cookies.to_dict()


# Parameters FastAPI fills by their type, not from the query.
_BY_TYPE = (BaseModel, HTTPConnection, Response, BackgroundTasks, SecurityScopes)
READERS: dict[str, Callable[[Any], Any]] = {"query_params": query_params, "headers": headers, "cookies": cookies}
# and the form (text fields and files), which ``forms`` reads from the request's body
SOURCES = frozenset({*READERS, "form"})


class _Unreadable(Exception):
    """A dependency whose signature cannot be read."""


def read_sources(signature: inspect.Signature, path_names: Iterable[str]) -> frozenset[str]:
    """What FastAPI reads a view's parameters, and its dependencies' parameters, from, of
    ``SOURCES``: Header() and Cookie() parameters, Form(), File() and UploadFile ones (the form),
    and the query for any other one that is neither in the path nor a body. A ``request:
    Request`` (a security scheme's own too) reads its query, headers and cookies as Flask's request
    gave them: converted code reads ``request.headers.get("Authorization")`` where Flask's did."""
    try:
        return frozenset(source for source, *_ in _parameters(signature, frozenset(path_names), set()))
    except _Unreadable:  # FastAPI will say what it cannot read; here: read them all
        return SOURCES


def form_fields(signature: inspect.Signature, path_names: Iterable[str]) -> forms.Fields:
    """The text field and file names that a view's form parameters (its dependencies' too) read;
    none known when a dependency cannot be read."""
    try:
        found = [(name, annotation, markers) for source, name, annotation, markers in _parameters(
            signature, frozenset(path_names), set()
        ) if source == "form"]
    except _Unreadable:
        found = []
    return forms.read_fields(found)


def _parameters(
    signature: inspect.Signature, path_names: frozenset[str], seen: set[int]
) -> Iterator[tuple[str, str, Any, list[Any]]]:
    """``(source, name, annotation, markers)`` of each parameter of ``signature`` and of its
    dependencies that FastAPI reads from one of ``SOURCES``."""
    for name, parameter in signature.parameters.items():
        if name in path_names:
            continue
        annotation, markers = parameter.annotation, [parameter.default]
        if get_origin(annotation) is Annotated:
            annotation, *metadata = get_args(annotation)
            markers += metadata
        depends = next((m for m in markers if isinstance(m, fastapi_params.Depends)), None)
        if depends is not None:
            dependency = depends.dependency or annotation  # Depends() names the annotation's class
            if id(dependency) not in seen:
                seen.add(id(dependency))
                try:
                    inner = inspect.signature(dependency, eval_str=True)
                except Exception:
                    raise _Unreadable() from None
                yield from _parameters(inner, path_names, seen)
        elif any(isinstance(m, fastapi_params.Header) for m in markers):
            yield "headers", name, annotation, markers
        elif any(isinstance(m, fastapi_params.Cookie) for m in markers):
            yield "cookies", name, annotation, markers
        elif any(isinstance(m, fastapi_params.Form) for m in markers) or forms.is_upload(annotation):
            yield "form", name, annotation, markers
        elif _is_connection(annotation):
            # code converted from Flask reads ``request.headers.get(...)`` & co. on it: it gets
            # what Flask's request gave (a repeated header's values joined, the first of a key)
            for source in READERS:
                yield source, name, annotation, markers
        elif not (any(isinstance(m, (fastapi_params.Body, fastapi_params.Path)) for m in markers) or _not_query(annotation)):
            yield "query_params", name, annotation, markers


def _is_connection(annotation: Any) -> bool:
    """Starlette's request (``request: Request``), which FastAPI gives by type."""
    return isinstance(annotation, type) and issubclass(annotation, HTTPConnection)


def _not_query(annotation: Any) -> bool:
    """A body (a Pydantic model), or what FastAPI gives by type: the request, the response."""
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    return any(isinstance(t, type) and issubclass(t, _BY_TYPE) for t in options)
