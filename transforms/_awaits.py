"""What the transforms that write ``await`` share (async_routes, http_client, sqlite_client,
flask_sqlalchemy_awaits)."""

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


class BareAwaits:
    """A transform's leave hooks that write ``await x`` without parentheses where it stands as a
    whole value: an assignment's, a return's, an expression statement, an argument, a list or
    dict element (an earlier transform may have made the node another kind: it is left as it is).
    Mixed in before Transform."""

    def leave_Assign(self, original_node: cst.Assign, updated_node):
        return bare_await(updated_node, cst.Assign)

    def leave_Return(self, original_node: cst.Return, updated_node):
        return bare_await(updated_node, cst.Return)

    def leave_Expr(self, original_node: cst.Expr, updated_node):
        return bare_await(updated_node, cst.Expr)

    def leave_Arg(self, original_node: cst.Arg, updated_node):
        return bare_await(updated_node, cst.Arg)

    def leave_Element(self, original_node: cst.Element, updated_node):
        return bare_await(updated_node, cst.Element)

    def leave_DictElement(self, original_node: cst.DictElement, updated_node):
        return bare_await(updated_node, cst.DictElement)


def functions_in(module: cst.Module) -> Iterator[cst.FunctionDef]:
    """Every function of the module, nested ones and methods included."""
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef):
            yield node
        stack.extend(node.children)
