"""The JSON body of a native view as a Pydantic model, with the answers the view gave before.

A Flask view that reads keys of ``request.get_json()`` is converted to receive a model::

    def create_item(data: Annotated[CreateItemBody | None, FlaskJson()] = None):
        if data is None or not isinstance(data.name, str):   # was: not isinstance(data, dict) ...
            return {"error": "name is required"}, 400

FastAPI documents the body with the model (OpenAPI), but the value comes from Flask: inside
Flask's request context, after the app's ``before_request`` hooks and right before the view (its
decorators included) is called, the parameter becomes what the view's
``request.get_json(force=..., silent=...)`` (followed by ``or {}`` with ``or_empty=True``) gave:

- a JSON object: the model, each field the value as sent (``model_construct``: the view goes on
  checking types itself, with its own answers), a missing key the field's default, and
  ``model_fields_set`` the keys that were sent;
- anything else (a list, a number, ``null``, and with ``silent`` a body that is not JSON): None.

So every answer is the one the view gave. Where no model can be proven faithful (the view
indexes keys no check of its own proved sent, or uses the body whole), the view takes the value
itself: ``data: Annotated[Any, FlaskJson()] = None`` is exactly what ``get_json`` returned (``or
{}``), any JSON value, so ``data["name"]`` raises the KeyError (a dict) or TypeError (a list) of
Flask's view and ``{"echo": data}`` answers the same bytes; OpenAPI documents it as a JSON body of
any schema (the runtime gives FastAPI the parameter as ``Body()``). A list body reaches the view's own check. Flask's
own ``get_json`` raises its 415 (not a JSON content type) and 400 (malformed or empty), through
the app's error handlers and a custom ``request_class``'s ``on_json_loading_failed``; it does so
before the view's decorators run, so the converter reads a body that way only where nothing
comes first in the view (a ``silent`` read never raises). FastAPI parses nothing (it would answer
malformed JSON with 422 before the view) and never refuses the body (the parameter's default is
None). Without ``FlaskJson`` (``--native-validation``) the model is an ordinary FastAPI body,
validated by FastAPI with its 422.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass
from typing import Any, Union

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic_core import core_schema

try:
    from types import UnionType
except ImportError:  # pragma: no cover
    UnionType = Union  # type: ignore[misc,assignment]

# What a native route's request gives FastAPI for a body that Flask reads (routing).
UNREAD = object()


@dataclass(frozen=True)
class FlaskJson:
    """``Annotated[Model | None, FlaskJson(...)] = None``: the body as ``request.get_json(force,
    silent)`` (``or {}``) read it (see the module doc)."""

    force: bool = False
    silent: bool = False
    or_empty: bool = False
    # the body is read where the view calls ``.read()`` on the parameter (a ``BodyReader``), not
    # before the view: where a helper read it after checks of the view's own that answer first
    # (a 404), and the read may answer by itself (413 over MAX_CONTENT_LENGTH, 415, 400)
    deferred: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        # FastAPI's value is replaced inside Flask's request context: accept it as it is
        return core_schema.no_info_wrap_validator_function(_as_it_is, handler(source))

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        # The body is documented as the object the view reads, not as "or null"
        json_schema = handler(schema)
        options = [s for s in json_schema.get("anyOf", ()) if s != {"type": "null"}]
        return options[0] if len(options) == 1 and len(json_schema) == 1 else json_schema

    def read(self, model: type[BaseModel] | None, flask_request: Any = None) -> Any:
        """The model of the body, None when not an object: read by Flask's request of the
        request context, or by ``flask_request`` (``fastpath``, which has no context); with
        ``deferred``, a ``BodyReader`` that reads it so when asked."""
        if self.deferred:
            return BodyReader(lambda: self._read_now(model, flask_request))
        return self._read_now(model, flask_request)

    def _read_now(self, model: type[BaseModel] | None, flask_request: Any) -> Any:
        if flask_request is None:
            from flask import request as flask_request  # the bridge's: only it has Flask

        return self.model_of(flask_request.get_json(force=self.force, silent=self.silent), model)

    def model_of(self, value: Any, model: type[BaseModel] | None) -> Any:
        """The model of what ``get_json`` gave (``or {}`` with ``or_empty``), None when that is no
        object (``native`` reads the body itself, without Flask); with no model (``Any``), the
        value itself."""
        if self.or_empty:
            value = value or {}
        if model is None:
            return value
        if not isinstance(value, dict):
            return None
        sent = {}
        for name, field in model.model_fields.items():
            key = field.alias or name
            if key in value:
                sent[name] = value[key]
        return model.model_construct(set(sent), **sent)


class BodyReader:
    """What a ``FlaskJson(deferred=True)`` parameter holds: ``read()`` gives the model (or None)
    then, answering 413, 415 or 400 at that point as ``request.get_json`` did; read once."""

    def __init__(self, read: Any) -> None:
        self._read = read
        self._value: Any = UNREAD

    def read(self) -> Any:
        if self._value is UNREAD:
            self._value = self._read()
        return self._value


def _as_it_is(value: Any, handler: Any) -> Any:
    return value


def json_parameters(signature: inspect.Signature) -> dict[str, tuple[FlaskJson, type[BaseModel] | None]]:
    """The parameters of a view's signature that are FlaskJson bodies: name -> (how, model), the
    model None for ``Annotated[Any, FlaskJson()]`` (the value as ``get_json`` gave it)."""
    found = {}
    for name, parameter in signature.parameters.items():
        annotation = parameter.annotation
        if typing.get_origin(annotation) is not typing.Annotated:
            continue
        value_type, *metadata = typing.get_args(annotation)
        markers = [m for m in metadata if isinstance(m, FlaskJson)]
        if not markers:
            continue
        if parameter.default is inspect.Parameter.empty:
            # a required body would let FastAPI refuse an empty one before Flask reads it
            raise TypeError(f"FlaskJson: {name} needs a default (None)")
        if value_type is Any:
            found[name] = (markers[0], None)
            continue
        options = typing.get_args(value_type) if typing.get_origin(value_type) in (Union, UnionType) else (value_type,)
        models = [t for t in options if t is not type(None)]
        if len(models) != 1 or not (isinstance(models[0], type) and issubclass(models[0], BaseModel)):
            raise TypeError(f"FlaskJson: {name} must be annotated as a Pydantic model (or the model | None), or Any")
        found[name] = (markers[0], models[0])
    return found


def as_bodies(parameters: list[inspect.Parameter], bodies: dict[str, tuple[FlaskJson, Any]]) -> list[inspect.Parameter]:
    """The parameters FastAPI reads: a FlaskJson value of no model (``Annotated[Any,
    FlaskJson()]``), which FastAPI would take for a query parameter, marked as the JSON body
    (``Body()``: documented as ``application/json`` of any schema)."""
    from fastapi import Body

    return [
        p.replace(annotation=typing.Annotated[p.annotation, Body()])
        if p.name in bodies and bodies[p.name][1] is None else p
        for p in parameters
    ]
