"""Flask behaviours that flask2fastapi keeps, so the converted app answers as the original did.

Written by flask2fastapi. It is yours: edit it, or delete it once no module imports it.

- ``FLASK_ERRORS``: Flask answers a missing required query or form value with 400 and a URL
  whose converter does not match with 404, where FastAPI answers 422. Pass it to
  ``FastAPI(exception_handlers=FLASK_ERRORS)``.
- ``Lenient``: ``request.args.get("page", 1, type=int)`` gives the default when the value does
  not convert; ``page: Annotated[int, Lenient] = 1`` does the same.
- ``get_json`` / ``get_json_silent`` / ``get_json_force``: ``request.get_json()`` and its
  variants as dependencies: 415 for a body that is not JSON, 400 for malformed JSON (None
  instead with ``silent``; ``force`` ignores the content type).
- ``FileStorage``: an uploaded file with Flask's synchronous API (read, save, stream, filename).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from fastapi import HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError, WrapValidator
from pydantic_core import PydanticUseDefault


def _or_default(value: Any, handler: Any) -> Any:
    try:
        return handler(value)
    except ValidationError:
        raise PydanticUseDefault() from None


Lenient = WrapValidator(_or_default)


async def _flask_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    status = 404 if any(e.get("loc", ("",))[0] == "path" for e in error.errors()) else 400
    title = "Not Found" if status == 404 else "Bad Request"
    return JSONResponse({"detail": title}, status_code=status)


FLASK_ERRORS = {RequestValidationError: _flask_validation_error}


def _is_json(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


async def _load(request: Request, force: bool, silent: bool) -> Any:
    if not (force or _is_json(request)):
        if silent:
            return None
        raise HTTPException(status_code=415, detail="Unsupported Media Type")
    try:
        return json.loads(await request.body())
    except ValueError:
        if silent:
            return None
        raise HTTPException(status_code=400, detail="Bad Request") from None


async def get_json(request: Request) -> Any:
    """``request.get_json()`` / ``request.json``."""
    return await _load(request, force=False, silent=False)


async def get_json_silent(request: Request) -> Any:
    """``request.get_json(silent=True)``."""
    return await _load(request, force=False, silent=True)


async def get_json_force(request: Request) -> Any:
    """``request.get_json(force=True)``."""
    return await _load(request, force=True, silent=False)


async def get_json_force_silent(request: Request) -> Any:
    """``request.get_json(force=True, silent=True)``."""
    return await _load(request, force=True, silent=True)


class FileStorage:
    """An upload with the synchronous API of Flask's FileStorage, over FastAPI's UploadFile:
    ``request.files["doc"]`` becomes ``doc: UploadFile`` read through ``FileStorage(doc)``."""

    def __init__(self, upload: UploadFile) -> None:
        self.upload = upload
        self.filename = upload.filename
        self.content_type = upload.content_type
        self.mimetype = (upload.content_type or "").split(";")[0].strip()
        self.stream = upload.file

    def read(self, size: int = -1) -> bytes:
        return self.upload.file.read(size)

    def save(self, destination: Any, buffer_size: int = 16384) -> None:
        self.upload.file.seek(0)
        if isinstance(destination, (str, os.PathLike)):
            with open(destination, "wb") as target:
                shutil.copyfileobj(self.upload.file, target, buffer_size)
        else:
            shutil.copyfileobj(self.upload.file, destination, buffer_size)


def json_body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a view's JSON body with ``model``. Documentation only: the
    view still receives the body as it came (``get_json``) and validates it itself, as it did
    in Flask, so its own error answers stay the same."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
