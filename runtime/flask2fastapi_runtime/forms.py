"""Form fields and uploaded files of native routes, read as Flask read them.

A converted view declares what it read from ``request.form`` and ``request.files`` as FastAPI
parameters (``title: Annotated[str, Form()]``, ``doc: UploadFile``), which FastAPI documents as
a ``multipart/form-data`` body and validates. The values still come from werkzeug's form parser,
through the Flask app's own request class, so each parameter gets what the view's read got:

- a single read gives the first value of a repeated key (Starlette's FormData gives the last);
  ``getlist`` every value, in order;
- Flask's limits answer as they did, 413 through the app's error handlers and hooks:
  ``MAX_CONTENT_LENGTH``, and from Flask 3.1 ``MAX_FORM_MEMORY_SIZE`` and ``MAX_FORM_PARTS``
  (read from the app's config, as Flask's request reads them inside the app context);
- a body that is no form (JSON, text, none) has no fields, and malformed multipart none either;
- a text field and a file part of the same name are Flask's ``request.form`` and
  ``request.files``: a ``Form()`` parameter reads only the first, an ``UploadFile`` one only the
  second (``fields`` says which names are which);
- an empty value is the empty string: FastAPI takes ``""`` for a form field that was not sent,
  so it is handed over as ``b""``, which its check does not match and Pydantic's ``str``
  validation makes ``""`` again (``int``/``float`` with ``OrDefault`` fail on it as on ``""``);
- a file is a Starlette ``UploadFile`` over the werkzeug ``FileStorage``'s stream, with its
  filename and part headers (so ``content_type``); its size is left unknown, as werkzeug leaves
  it, so that the newest FastAPI does not take a part without filename or bytes for no file
  (Flask gave the view that part; the converter writes Flask's truth test of it,
  ``bool(f.filename)``, where the view tested it).

FastAPI reads the form before the view runs, where Flask parsed it at the view's first read:
the converter converts form reads only where nothing that could answer comes first. The parse
runs on a copy of the body, so Flask code that still reads ``request.form`` in the request
cycle reads it too. FastAPI closes the files after the response.
"""

from __future__ import annotations

import inspect
import io
import weakref
from collections.abc import Iterable, ItemsView, ValuesView
from typing import TYPE_CHECKING, Any, NamedTuple, Union, get_args, get_origin

from starlette.datastructures import FormData, Headers, UploadFile
from starlette.exceptions import HTTPException

if TYPE_CHECKING:
    import flask

try:
    from types import UnionType
except ImportError:  # pragma: no cover
    UnionType = Union  # type: ignore[misc,assignment]

# Flask's request properties that read the app's config inside its context, and their keys
# (Flask 3.0 has the first only; the others are werkzeug's class attributes there).
LIMITS = {
    "max_content_length": "MAX_CONTENT_LENGTH",
    "max_form_memory_size": "MAX_FORM_MEMORY_SIZE",
    "max_form_parts": "MAX_FORM_PARTS",
}
CONFIG = "flask2fastapi_config"


class Fields(NamedTuple):
    """The names a route's form parameters read: text fields and files."""

    text: frozenset[str]
    files: frozenset[str]


class FirstValues(FormData):
    """Form data whose single-value reads give the first of a repeated key, as werkzeug's
    MultiDict does; ``getlist`` and ``multi_items`` give every value."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self._first: dict[str, Any] = {}
        for key, value in pairs:
            self._first.setdefault(key, value)

    def __getitem__(self, key: Any) -> Any:
        return self._first[key]

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        return self._first.values()

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        return self._first.items()


def is_upload(annotation: Any) -> bool:
    """``UploadFile``, ``UploadFile | None``, ``list[UploadFile]``: what FastAPI reads as a file
    without a ``File()`` marker."""
    options = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    for option in options:
        if get_origin(option) in (list, tuple, set, frozenset):
            option = next(iter(get_args(option)), None)
        if isinstance(option, type) and issubclass(option, UploadFile):
            return True
    return False


def form_data(flask_app: flask.Flask, environ: dict[str, Any], fields: Fields) -> FirstValues:
    """The form of the request ``environ`` as the Flask app's request class parses it (module
    doc); a limit it exceeds raises its status as Starlette's HTTPException, which the bridge
    has Flask answer (``errors``)."""
    from werkzeug.exceptions import HTTPException as WerkzeugHTTPException  # the bridge's: it has Flask

    body = environ["wsgi.input"].getvalue()  # the bridge's BytesIO (wsgi.environ_for)
    flask_request = limited(flask_app.request_class)({**environ, "wsgi.input": io.BytesIO(body)})
    setattr(flask_request, CONFIG, flask_app.config)
    try:
        form, files = flask_request.form, flask_request.files
    except WerkzeugHTTPException as error:  # RequestEntityTooLarge
        raise HTTPException(error.code or 400, error.description) from error
    pairs: list[tuple[str, Any]] = [
        (key, value if value != "" else b"")
        for key, value in form.items(multi=True)
        if key not in fields.files or key in fields.text
    ]
    pairs += [
        (key, _upload(storage))
        for key, storage in files.items(multi=True)
        if key not in fields.text or key in fields.files
    ]
    return FirstValues(pairs)


def _upload(storage: Any) -> UploadFile:
    headers = Headers(raw=[(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in storage.headers.items()])
    return UploadFile(storage.stream, filename=storage.filename, headers=headers)


_LIMITED: weakref.WeakKeyDictionary[type, type] = weakref.WeakKeyDictionary()


def limited(request_class: type) -> type:
    """``request_class`` with Flask's limit properties reading the config set on the request,
    as they read ``current_app.config`` inside the app context (which the form is read
    outside of: pushing one would run the app's teardown_appcontext functions)."""
    import flask  # the bridge's: it has Flask

    found = _LIMITED.get(request_class)
    if found is None:
        own = {}
        for name, key in LIMITS.items():
            flask_property = inspect.getattr_static(flask.Request, name, None)
            if isinstance(flask_property, property) and inspect.getattr_static(request_class, name, None) is flask_property:
                own[name] = property(lambda self, key=key: getattr(self, CONFIG)[key])
        found = _LIMITED[request_class] = type(request_class.__name__, (request_class,), own)
    return found


def read_fields(parameters: Iterable[tuple[str, Any, list[Any]]]) -> Fields:
    """The text field and file names of form parameters ``(name, annotation, markers)``."""
    from fastapi import params as fastapi_params

    text, files = set(), set()
    for name, annotation, markers in parameters:
        marker = next((m for m in markers if isinstance(m, fastapi_params.Form)), None)
        key = (marker.alias if marker is not None else None) or name
        if isinstance(marker, fastapi_params.File) or is_upload(annotation):
            files.add(key)
        else:
            text.add(key)
    return Fields(frozenset(text), frozenset(files))
