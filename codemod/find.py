"""``findall``: libcst.matchers.findall, from an index of the tree instead of a walk per call.

A profile of a conversion (bench/README.md) put a third of the time in ``m.findall``: about 120
calls in the transforms and the facts, many of them on the whole module (each transform's
``visit_Module``) and each a full traversal with a matcher test on every node. Here a tree is
walked once into its nodes in visiting order, with each node's span in that order; a call on the
tree, or on any node of it (a function of a module already indexed), filters that slice, testing
the matcher only on nodes of its class. The answer is the same list, in the same order, as
``m.findall``'s (tests/test_find.py); calls this cannot answer the same way (a metadata resolver,
a wrapper, a sentinel) go to ``m.findall``.
"""

from __future__ import annotations

import bisect
import collections
from dataclasses import fields
from typing import Callable, Sequence

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
# what m.findall tests each node with (m.matches refuses MatchIfTrue and DoesNotMatch at the top)
from libcst.matchers._matcher_base import _attribute_matches, _construct_metadata_fetcher_null, _matches

# Indexed trees kept (most recently used last): a module's transforms ask about it in turn.
KEPT = 8
_INDEXES: collections.OrderedDict[int, "_Index"] = collections.OrderedDict()
# matchers that are no node's class (their class name names none)
_SPECIAL = tuple(c for c in (m.OneOf, m.AllOf, m.TypeOf, m.MatchIfTrue, m.MatchMetadata, m.MatchMetadataIfTrue) if isinstance(c, type))


class _Index(Visitor):
    """Every node of a tree in visiting order, and each node's span (start, end) in it."""

    def __init__(self, tree: cst.CSTNode) -> None:
        super().__init__()
        self.tree = tree
        self.order: list[cst.CSTNode] = []
        self.starts: list[int] = []
        self.span: dict[cst.CSTNode, tuple[int, int]] = {}
        self.classes: dict[str, tuple[list[int], list[cst.CSTNode]]] | None = None
        tree.visit(self)

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.starts.append(len(self.order))
        self.order.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.span[original_node] = (self.starts.pop(), len(self.order))

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None

    def of_class(self, name: str, start: int, end: int) -> list[cst.CSTNode]:
        """The nodes of the class ``name`` among order[start:end], in that order: each class's
        nodes and their places are listed once per index (a module's transforms ask about
        the whole module, each for a class or two, and a walk of all its nodes per question
        cost a profile of the speed corpus 5% of the run)."""
        if self.classes is None:
            self.classes = {}
            for place, node in enumerate(self.order):
                places, nodes = self.classes.setdefault(type(node).__name__, ([], []))
                places.append(place)
                nodes.append(node)
        places, nodes = self.classes.get(name, ([], []))
        return nodes[bisect.bisect_left(places, start):bisect.bisect_left(places, end)]


def _indexed(tree: cst.CSTNode) -> tuple[_Index, int, int]:
    """The index that holds ``tree``, and the span of its nodes in the index's order."""
    for key, index in reversed(_INDEXES.items()):
        span = index.span.get(tree)
        if span is not None:
            _INDEXES.move_to_end(key)
            return index, span[0], span[1]
    index = _Index(tree)
    _INDEXES[id(tree)] = index
    while len(_INDEXES) > KEPT:
        _INDEXES.popitem(last=False)
    return index, 0, len(index.order)


def _class_name(matcher: object) -> str | None:
    """The class of node a plain matcher can match (None: any, or it cannot tell)."""
    if isinstance(matcher, m.BaseMatcherNode) and not isinstance(matcher, _SPECIAL):
        return type(matcher).__name__
    return None


def findall(tree, matcher, *, metadata_resolver=None) -> Sequence[cst.CSTNode]:
    """``m.findall(tree, matcher)``, answered from the tree's index."""
    if metadata_resolver is not None or not isinstance(tree, cst.CSTNode) or isinstance(matcher, (m.AtLeastN, m.AtMostN)):
        return m.findall(tree, matcher, metadata_resolver=metadata_resolver)
    name = _class_name(matcher)
    index, start, end = _indexed(tree)
    nodes = index.order[start:end] if name is None else index.of_class(name, start, end)
    fetch = _construct_metadata_fetcher_null()
    test = _test(matcher, fetch) if name is not None else None
    if test is not None:
        return [node for node in nodes if test(node)]
    return [node for node in nodes if _matches(node, matcher, fetch) is not None]


def _test(matcher: m.BaseMatcherNode, fetch) -> Callable[[cst.CSTNode], bool] | None:
    """A plain node matcher (``m.Call(func=m.Name())``) as a test of a node of its class, with
    LibCST's answer: its fields that are strings, booleans or None compared as LibCST compares
    them, those that are plain node matchers tested so in turn where the value is a node, the
    rest (sequences, wildcards, OneOf...) left to LibCST's own ``_attribute_matches``. LibCST
    tests each field through several generic calls: 7% of a conversion of the speed corpus went
    to the matcher tests of ``findall``. None where the matcher wants metadata."""
    checks: list[Callable[[cst.CSTNode], bool]] = []
    for spec in fields(matcher):
        wanted = getattr(matcher, spec.name)
        if spec.name == "_metadata" or isinstance(wanted, m.DoNotCareSentinel):
            continue
        if spec.name == "metadata":
            return None
        checks.append(_field_test(spec.name, wanted, fetch))
    name = type(matcher).__name__
    return lambda node: node.__class__.__name__ == name and all(check(node) for check in checks)


def _field_test(field_name: str, wanted, fetch) -> Callable[[cst.CSTNode], bool]:
    if isinstance(wanted, bool):
        return lambda node: getattr(node, field_name) is wanted
    if wanted is None:
        return lambda node: getattr(node, field_name) is None
    if isinstance(wanted, str):
        return lambda node: getattr(node, field_name) == wanted
    inner = _test(wanted, fetch) if _class_name(wanted) is not None else None

    def test(node: cst.CSTNode) -> bool:
        value = getattr(node, field_name)
        if inner is not None and isinstance(value, cst.CSTNode):
            return inner(value)
        return _attribute_matches(value, wanted, fetch) is not None

    return test
