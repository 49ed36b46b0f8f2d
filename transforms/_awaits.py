"""What the transforms that write ``await`` share (async_routes, http_client, sqlite_client)."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst


def bare_await(node, kind: type, attribute: str = "value"):
    """``(await x)`` -> ``await x`` where it stands as a whole value (``y = await x``,
    ``return await x``, an argument, a ``for``'s iterable); a node an earlier transform made
    another kind is left as it is."""
    value = getattr(node, attribute, None) if isinstance(node, kind) else None
    if isinstance(value, cst.Await) and value.lpar:
        return node.with_changes(**{attribute: value.with_changes(lpar=[], rpar=[])})
    return node


def functions_in(module: cst.Module) -> Iterator[cst.FunctionDef]:
    """Every function of the module, nested ones and methods included."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef):
            yield node
        stack.extend(node.children)
