"""Which parts of an exchange change from run to run, and the differences no such change explains.

The original is recorded twice (``--runs N``: N times). Every place where two views of an exchange
(codemod/exchange_view.py) differ is a JSON pointer (RFC 6901) into the view, so a value is masked
at the finest grain its form allows: one header, one cookie's value or attribute, one leaf of a
JSON body (``/response/body/created_at``), one form field or query parameter, one token of a
text body (a CSRF value in a page). A body kept as bytes or a digest is one value.

- A pointer whose value differed is *masked*: any value passes there, but it must be present (a
  dropped ``X-Request-ID`` is still caught). A part present in one recording only is *optional*:
  it may be absent too. A list (or a text) whose length differed is masked whole.
- Masks carry over: a pointer masked in one request of a route (its Flask rule and method) is
  masked in every request of that route, list indices and all (``/response/body/3/created_at``
  masks ``/response/body/*/created_at``), and a header masked anywhere is masked everywhere (hooks
  set headers app-wide). A token of a text body is masked only in its own request: positions in
  another text mean nothing. So a value that happened to be the same in both runs (a duration rounded
  to 0.06 ms twice) is still masked where the same value changed elsewhere.
- The runs start at least two seconds apart, so a time of whole seconds (a signed session
  cookie's, a token's ``iat``) differs between them; what changes more slowly (today's date) is
  not seen: record again then.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

from codemod.exchange_view import text_of

MISSING = object()
HEADERS = ("/request/headers/", "/response/headers/")


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def differences(before: Any, after: Any, pointer: str = "") -> Iterator[tuple[str, Any, Any]]:
    """Each place where two views differ: (pointer, value before, value after); MISSING marks a
    key one of them lacks. Lists of the same length are compared item by item."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            yield from differences(before.get(key, MISSING), after.get(key, MISSING), f"{pointer}/{escape(str(key))}")
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (one, other) in enumerate(zip(before, after)):
            yield from differences(one, other, f"{pointer}/{index}")
    elif before != after or type(before) is not type(after):
        yield pointer, before, after


def masks(first: dict[str, Any], second: dict[str, Any]) -> tuple[list[str], list[str]]:
    """From two views of the same exchange of the original: (masked, optional) pointers."""
    masked, optional = [], []
    for pointer, one, other in differences(first, second):
        (optional if one is MISSING or other is MISSING else masked).append(pointer)
    return masked, optional


def general(pointers: Iterable[str]) -> set[str]:
    """Pointers with their list indices as ``*`` (module doc); a token of a text body is where it
    is in that text only, and carries over nowhere."""
    return {
        "/".join("*" if part.isdigit() else part for part in parts)
        for parts in (pointer.split("/") for pointer in pointers)
        if parts[2:4] != ["body", "text"]
    }


def headers_of(pointers: Iterable[str]) -> set[str]:
    return {p for p in pointers if p.startswith(HEADERS)}


def unmasked(before: Any, after: Any, masked: Iterable[str], optional: Iterable[str]) -> list[tuple[str, Any, Any]]:
    """The differences between the original's view and the converted's that no mask explains."""
    masked, optional = [p.split("/") for p in masked], [p.split("/") for p in optional]
    found = []
    for pointer, one, other in differences(before, after):
        parts = pointer.split("/")
        if any(_within(parts, p) for p in optional):
            continue
        if other is not MISSING and any(_within(parts, p) for p in masked):
            continue
        if other is MISSING and any(_within(parts, p) and len(parts) > len(p) for p in masked):
            continue  # a part of a masked value (a masked list of another length) may be absent
        found.append((pointer, one, other))
    return found


def _within(parts: list[str], prefix: list[str]) -> bool:
    return len(parts) >= len(prefix) and all(p == q or q == "*" for p, q in zip(parts, prefix))


def show(value: Any) -> str:
    """A value in a difference, short."""
    value = text_of(value)
    text = "(absent)" if value is MISSING else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."
