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

import collections
from typing import Sequence

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
# what m.findall tests each node with (m.matches refuses MatchIfTrue and DoesNotMatch at the top)
from libcst.matchers._matcher_base import _construct_metadata_fetcher_null, _matches

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


def _nodes(tree: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """The nodes of ``tree`` in visiting order, from an index that holds it."""
    for key, index in reversed(_INDEXES.items()):
        span = index.span.get(tree)
        if span is not None:
            _INDEXES.move_to_end(key)
            return index.order[span[0]:span[1]]
    index = _Index(tree)
    _INDEXES[id(tree)] = index
    while len(_INDEXES) > KEPT:
        _INDEXES.popitem(last=False)
    return index.order


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
    nodes = _nodes(tree)
    if name is not None:
        nodes = [node for node in nodes if type(node).__name__ == name]
    fetch = _construct_metadata_fetcher_null()
    return [node for node in nodes if _matches(node, matcher, fetch) is not None]

