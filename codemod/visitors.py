"""Base classes for the converter's own LibCST visitors and transformers.

Around every child of every node, LibCST asks its visitor for a ``visit_<Node>_<attribute>`` and a
``leave_<Node>_<attribute>`` method (``on_visit_attribute`` / ``on_leave_attribute``: a ``getattr``
of a formatted name each time, some ten million per conversion of the example chatbot and the
fixtures). None of these classes defines such a method, so they answer without looking: about a
tenth of a conversion's CPU (bench/README.md). A class that needs attribute hooks derives from
LibCST's own classes instead (tests/test_visitors.py checks that none of these has one).
"""

from __future__ import annotations

import libcst as cst


class Visitor(cst.CSTVisitor):
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


class Transformer(cst.CSTTransformer):
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None
