"""Base classes for the converter's own LibCST visitors and transformers.

LibCST finds a visitor's hooks by name as it goes: for every node, a ``getattr`` of
``visit_<Node>`` and ``leave_<Node>`` (formatted each time, and LibCST's base classes declare
each one as a stub that does nothing); around every child of every node, of
``visit_<Node>_<attribute>`` and ``leave_<Node>_<attribute>``. That is some ten million lookups
when the example chatbot and the fixtures convert. These classes find a node type's hooks once
per class and skip the stubs, and answer the attribute hooks without looking, since none of the
classes defines one (tests/test_visitors.py checks that; a class that needs them derives from
LibCST's own classes). About a tenth of a conversion's CPU (bench/README.md).
"""

from __future__ import annotations

from typing import Any, Callable

import libcst as cst

_STUBS = "libcst._typed_visitor"  # the module of LibCST's do-nothing hook declarations


def _hook(cls: type, table: dict[type, Any], prefix: str, node_type: type) -> Callable[..., Any] | None:
    found = getattr(cls, f"{prefix}_{node_type.__name__}", None)
    table[node_type] = hook = None if found is None or getattr(found, "__module__", None) == _STUBS else found
    return hook


class _Hooks:
    """The lookups shared by Visitor and Transformer: a table per class, node type -> hook."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._f2f_visits: dict[type, Any] = {}
        cls._f2f_leaves: dict[type, Any] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        cls = type(self)
        try:
            visit = cls._f2f_visits[type(node)]
        except KeyError:
            visit = _hook(cls, cls._f2f_visits, "visit", type(node))
        return visit is None or visit(self, node) is not False

    def _f2f_leave_hook(self, node: cst.CSTNode) -> Callable[..., Any] | None:
        cls = type(self)
        try:
            return cls._f2f_leaves[type(node)]
        except KeyError:
            return _hook(cls, cls._f2f_leaves, "leave", type(node))

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


class Visitor(_Hooks, cst.CSTVisitor):
    def on_leave(self, original_node: cst.CSTNode) -> None:
        leave = self._f2f_leave_hook(original_node)
        if leave is not None:
            leave(self, original_node)


class Transformer(_Hooks, cst.CSTTransformer):
    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        leave = self._f2f_leave_hook(original_node)
        return updated_node if leave is None else leave(self, original_node, updated_node)
