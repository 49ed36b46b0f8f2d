"""The answers of Flask's ``send_file`` and ``send_from_directory``, without Flask.

Starlette's ``FileResponse`` sends a file, but not as Flask did: its ETag is an MD5 of other
values, it answers no ``If-Modified-Since``, ``If-None-Match`` or ``If-Match``, and it serves a
multi-part answer for several ranges where werkzeug refuses them. A converted view that sent a
file keeps Flask's answer, byte for byte, with:

- ``file_response(request, file, ...)``: a path (relative ones under ``root``, the directory
  Flask's ``app.root_path`` was) or a binary file object, with ``send_file``'s options
  (``media_type`` for ``mimetype``). The same headers: the type guessed from the name, with
  ``; charset=utf-8`` for text types; ``Content-Disposition`` (``filename*`` for a non-ASCII
  name); ``Content-Length``; ``Last-Modified``; werkzeug's ETag (``"mtime-size-adler32(path)"``);
  ``Cache-Control: no-cache``, or ``public, max-age=N`` and ``Expires`` for a ``max_age``;
  ``Accept-Ranges: bytes``. For GET and HEAD the same conditional answers: 304 (412 where
  ``If-Match`` was sent), one byte range (206), and 416 for a range it cannot serve, raised as
  an ``HTTPException`` with werkzeug's ``Content-Range: bytes */N`` so the app's handlers answer it.
- ``safe_path(directory, name, root=...)``: the file ``name`` names inside ``directory``, as
  werkzeug's ``safe_join`` allowed it (no ``..`` out of the folder, no absolute path, no
  backslash), else ``HTTPException(404)``; a name that is no file is a 404 too.

What is not kept: Flask's ``SEND_FILE_MAX_AGE_DEFAULT`` and ``USE_X_SENDFILE`` settings (the
converter leaves ``send_file`` alone in an app that may set them) and a ``Date`` header.
"""

from __future__ import annotations

import io
import mimetypes
import os
import posixpath
import re
import string
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import formatdate, parsedate_to_datetime
from typing import IO, Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import StreamingResponse

__all__ = ["FileSent", "file_response", "safe_path"]

CHUNK = 64 * 1024
# werkzeug's get_content_type: the types that get a charset besides text/*
CHARSET_TYPES = frozenset({
    "application/ecmascript", "application/javascript", "application/sql", "application/xml",
    "application/xml-dtd", "application/xml-external-parsed-entity",
})
TOKEN = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~")
# what a 304 does not carry (werkzeug's remove_entity_headers; Expires stays)
ENTITY = frozenset({
    "allow", "content-encoding", "content-language", "content-length", "content-md5", "content-range",
    "content-type", "last-modified",
})
ETAG = re.compile(r'[ \t]*([Ww]/)?(?:"([^"]*)"|([^" \t,]+))[ \t]*(?:,|\Z)', re.ASCII)
PLAIN_INT = re.compile(r"-?[0-9]+", re.ASCII)


def safe_path(directory: str | os.PathLike[str], name: str, root: str | os.PathLike[str] | None = None) -> str:
    """The path of the file ``name`` in ``directory`` (under ``root``), or a 404 (module doc)."""
    if name != "":
        name = posixpath.normpath(name)
    alternative = os.path.altsep if os.path.altsep not in (None, "/") else "\\"
    if alternative in name or os.path.isabs(name) or name.startswith("/") or name == ".." or name.startswith("../"):
        raise HTTPException(status_code=404)
    path = posixpath.join(os.fspath(directory) or ".", name)
    if root is not None:
        path = os.path.join(root, path)
    if not os.path.isfile(path):
        raise HTTPException(status_code=404)
    return path


def file_response(
    request: Request,
    file: str | os.PathLike[str] | IO[bytes],
    *,
    root: str | os.PathLike[str] | None = None,
    media_type: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | Callable[[str | None], int | None] | None = None,
) -> FileSent:
    """What ``send_file(file, ...)`` answered to ``request`` (module doc)."""
    path: str | None = None
    size: int | None = None
    mtime: float | None = None
    handle: IO[bytes] | None = None
    if isinstance(file, (str, os.PathLike)):
        path = os.path.join(root, file) if root is not None else os.path.abspath(file)
        stat = os.stat(path)
        size, mtime = stat.st_size, stat.st_mtime
    else:
        handle = file
        if isinstance(file, io.BytesIO):
            size = file.getbuffer().nbytes
        elif isinstance(file, io.TextIOBase):
            raise ValueError("Files must be opened in binary mode or use BytesIO.")
    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    if callable(max_age):  # Flask's send_file takes a function of the path too
        max_age = max_age(path)
    headers: dict[str, str] = {}
    if media_type is None:
        if download_name is None:
            raise TypeError("No name to guess the media type from: pass download_name or media_type.")
        media_type, encoding = mimetypes.guess_type(download_name)
        media_type = media_type or "application/octet-stream"
        if encoding is not None and not as_attachment:  # a .tar.gz saved as it is
            headers["content-encoding"] = encoding
    if download_name is not None:
        headers["content-disposition"] = _disposition("attachment" if as_attachment else "inline", download_name)
    elif as_attachment:
        raise TypeError("No name for the attachment: pass download_name or a path.")
    headers["content-type"] = _content_type(media_type)
    if size is not None:
        headers["content-length"] = str(size)
    modified = last_modified if last_modified is not None else mtime
    if modified is not None:
        headers["last-modified"] = _http_date(modified)
    if max_age is not None and max_age > 0:
        headers["cache-control"] = f"public, max-age={max_age}"
    else:
        headers["cache-control"] = "no-cache" if max_age is None else f"no-cache, max-age={max_age}"
    if max_age is not None:
        headers["expires"] = _http_date(int(time.time() + max_age))
    if isinstance(etag, str):
        headers["etag"] = f'"{etag}"'
    elif etag and path is not None:
        headers["etag"] = f'"{mtime}-{size}-{zlib.adler32(path.encode()) & 0xFFFFFFFF}"'
    part = Part(200, headers, 0, size, size)
    if conditional and request.method in ("GET", "HEAD"):
        _make_conditional(part, request)
    silent = request.method == "HEAD" or part.status == 304
    body = iter(()) if silent else _chunks(path, handle, part.start, part.length)
    return FileSent(body, status_code=part.status, headers=part.headers)


class FileSent(StreamingResponse):
    """A file, or a part of it, as Flask sent it: read as it is sent, in a thread."""


@dataclass
class Part:
    """The answer being made: its status, headers, and the bytes of the file it sends."""

    status: int
    headers: dict[str, str]
    start: int
    length: int | None  # None: to the end of a file object of unknown size
    size: int | None


def _chunks(path: str | None, handle: IO[bytes] | None, start: int, length: int | None) -> Iterator[bytes]:
    handle = open(path, "rb") if handle is None else handle  # type: ignore[arg-type]
    with handle:
        if start:
            handle.seek(start)
        left = length
        while left is None or left > 0:
            chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def _make_conditional(sent: Part, request: Request) -> None:
    """werkzeug's ``make_conditional(accept_ranges=True, complete_length=size)``."""
    headers, head = request.headers, sent.headers
    head["accept-ranges"] = "bytes"
    if sent.size and "range" in headers and ("if-range" not in headers or not _modified(headers, head, False)):
        part = _range(headers["range"], sent.size)
        if part is None:
            raise HTTPException(status_code=416, headers={"Content-Range": f"bytes */{sent.size}"})
        sent.status, sent.start, sent.length = 206, part[0], part[1] - part[0]
        head["content-length"] = str(sent.length)
        head["content-range"] = f"bytes {part[0]}-{part[1] - 1}/{sent.size}"
    elif not _modified(headers, head, True):
        strong, weak, star = _etags(headers.get("if-match"))
        if strong or weak or star:
            sent.status = 412
        else:
            sent.status = 304
            sent.headers = {k: v for k, v in head.items() if k not in ENTITY}


def _modified(headers: Any, head: dict[str, str], ignore_if_range: bool) -> bool:
    """werkzeug's ``is_resource_modified`` of the file's ETag and Last-Modified."""
    unmodified = False
    last_modified = _parse_date(head.get("last-modified"))
    if_range: tuple[datetime | None, str | None] | None = None
    if not ignore_if_range and "range" in headers:
        value = headers.get("if-range")
        date = _parse_date(value)
        if_range = (None, None) if not value else (date, None) if date is not None else (None, _unquote(value))
    since = if_range[0] if if_range is not None and if_range[0] is not None else _parse_date(headers.get("if-modified-since"))
    if since and last_modified and last_modified <= since:
        unmodified = True
    etag = _unquote(head["etag"]) if head.get("etag") else None
    if etag:
        if if_range is not None and if_range[1] is not None:
            unmodified = if_range[1] == etag
        else:
            strong, weak, star = _etags(headers.get("if-none-match"))
            if strong or weak or star:
                unmodified = star or etag in strong or etag in weak
            strong, weak, star = _etags(headers.get("if-match"))
            if strong or weak or star:
                unmodified = etag not in strong
    return not unmodified


def _etags(value: str | None) -> tuple[set[str], set[str], bool]:
    """An ``If-Match`` / ``If-None-Match`` value: its strong tags, weak tags, and ``*``."""
    if not value:
        return set(), set(), False
    if value == "*":
        return set(), set(), True
    strong: set[str] = set()
    weak: set[str] = set()
    position = 0
    while True:
        found = ETAG.match(value, position)
        if found is None:
            position = value.find(",", position) + 1  # skip what is no tag, to the next comma
            if position == 0:
                break
            continue
        is_weak, tag, unquoted = found.groups()
        position = found.end()
        (weak if is_weak else strong).add(tag or unquoted)
    return strong, weak, False


def _unquote(etag: str) -> str:
    etag = etag.strip()
    if etag.startswith(("W/", "w/")):
        etag = etag[2:]
    return etag[1:-1] if etag[:1] == etag[-1:] == '"' else etag


def _range(value: str, length: int) -> tuple[int, int] | None:
    """The one byte range of a ``Range`` value that ``length`` bytes satisfy, as werkzeug
    reads it (None: malformed, several ranges, another unit, or out of the file)."""
    if "=" not in value:
        return None
    units, _, ranges = value.partition("=")
    parsed: list[tuple[int, int | None]] = []
    last_end: int | None = 0
    for item in ranges.split(","):
        item = item.strip(" \t")
        if "-" not in item:
            return None
        if item.startswith("-"):
            if last_end is None or (begin := _plain_int(item)) in (None, 0):
                return None
            parsed.append((begin, None))  # type: ignore[arg-type]
            last_end = None
            continue
        first, _, last = item.partition("-")
        begin = _plain_int(first)
        if begin is None or last_end is None or begin < last_end:
            return None
        end = None
        if last.strip(" \t"):
            stop = _plain_int(last)
            if stop is None or begin >= stop + 1:
                return None
            end = stop + 1
        parsed.append((begin, end))
        last_end = end
    if units.strip(" \t").lower() != "bytes" or len(parsed) != 1:
        return None
    start, stop = parsed[0]
    if stop is None:
        stop = length
        if start < 0:
            start += length
    if not 0 <= start < length or start >= stop:
        return None
    return start, min(stop, length)


def _plain_int(value: str) -> int | None:
    value = value.strip(" \t")
    return int(value) if PLAIN_INT.fullmatch(value) else None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return date.replace(tzinfo=timezone.utc) if date.tzinfo is None else date


def _http_date(value: datetime | int | float) -> str:
    if isinstance(value, datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).timestamp()
    return formatdate(int(value), usegmt=True)


def _content_type(media_type: str) -> str:
    if "charset" not in media_type and (
        media_type.startswith("text/") or media_type in CHARSET_TYPES or media_type.endswith("+xml")
    ):
        return f"{media_type}; charset=utf-8"
    return media_type


def _disposition(kind: str, name: str) -> str:
    try:
        name.encode("ascii")
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        return f"{kind}; filename={_quoted(simple)}; filename*=UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"
    return f"{kind}; filename={_quoted(name)}"


def _quoted(value: str) -> str:
    """werkzeug's ``quote_header_value``: a token as it is, anything else in quotes."""
    if value and set(value) <= TOKEN:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
