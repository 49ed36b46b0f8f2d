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

import contextlib
from typing import Any, Callable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

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


def visit_together(wrapper: MetadataWrapper, visitors: Sequence[Visitor]) -> list[Exception | None]:
    """``wrapper.visit(v)`` for each of ``visitors`` (this module's Visitors), in one walk of the
    tree: each gets the calls of its hooks it would get on a walk of its own, in the same order
    (one whose visit of a node says False skips that node's children, and still leaves it). The
    facts pass walked each file five times, once per facts visitor. Returns, per visitor, the
    exception its metadata or one of its hooks raised (None: it ran to the end); a visitor that
    raised gets no more calls, and the others go on, as they would on walks of their own."""
    errors: list[Exception | None] = [None] * len(visitors)
    with contextlib.ExitStack() as stack:
        for index, visitor in enumerate(visitors):
            try:
                stack.enter_context(visitor.resolve(wrapper))
            except Exception as error:
                errors[index] = error
        wrapper.module.visit(_Together(visitors, errors))
    return errors


class _Together(Visitor):
    """The walk of visit_together: per node type, the visitors with a hook for it (from their
    classes' tables), and which visitor skips the children of which node."""

    def __init__(self, visitors: Sequence[Visitor], errors: list[Exception | None]) -> None:
        super().__init__()
        self.visitors, self.errors = visitors, errors
        self.skipping: dict[int, cst.CSTNode] = {}  # visitor -> the node whose children it skips
        self.visits: dict[type, list[tuple[int, Callable[..., Any]]]] = {}
        self.leaves: dict[type, list[tuple[int, Callable[..., Any]]]] = {}

    def _hooks(self, table: dict, prefix: str, node_type: type) -> list[tuple[int, Callable[..., Any]]]:
        """(visitor, hook) of each visitor with a ``<prefix>_<node type>`` hook, found once per walk."""
        if node_type in table:
            return table[node_type]
        found = []
        for index, visitor in enumerate(self.visitors):
            cls = type(visitor)
            hooks = cls._f2f_visits if prefix == "visit" else cls._f2f_leaves
            hook = hooks[node_type] if node_type in hooks else _hook(cls, hooks, prefix, node_type)
            if hook is not None:
                found.append((index, hook))
        table[node_type] = found
        return found

    def on_visit(self, node: cst.CSTNode) -> bool:
        for index, hook in self._hooks(self.visits, "visit", type(node)):
            if self.errors[index] is None and index not in self.skipping and self._call(index, hook, node) is False:
                self.skipping[index] = node
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        for index, hook in self._hooks(self.leaves, "leave", type(original_node)):
            held = self.skipping.get(index)
            if self.errors[index] is None and (held is None or held is original_node):
                self._call(index, hook, original_node)
        if self.skipping:
            for index in [i for i, held in self.skipping.items() if held is original_node]:
                del self.skipping[index]

    def _call(self, index: int, hook: Callable[..., Any], node: cst.CSTNode) -> Any:
        """The visitor's hook on ``node``; an exception is the visitor's end, not the walk's."""
        try:
            return hook(self.visitors[index], node)
        except Exception as error:
            self.errors[index] = error
            return None
