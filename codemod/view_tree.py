"""A view's body as a tree to reason about: its nodes in source order, their parents, the
top-level statement each is in, the names it uses, and what could run before a node.

Shared by ``codemod/reads.py`` and ``codemod/bodies.py``, which decide from it which reads of
Flask's request can change form; pure, like them.
"""

from __future__ import annotations

from typing import Callable

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m

from codemod.facts import literal
from codemod.find import findall

Names = Callable[[cst.CSTNode], set[str]]

REQUEST = frozenset({"flask.request", "flask.globals.request"})
NESTED = (cst.FunctionDef, cst.Lambda, cst.ClassDef)


class Tree(Visitor):
    """The nodes of a function's body in source order, with parents, the top-level statement
    each is in, and whether it is inside a nested function, lambda or class."""

    def __init__(self, function: cst.FunctionDef) -> None:
        super().__init__()
        self.parent: dict[cst.CSTNode, cst.CSTNode] = {}
        self.position: dict[cst.CSTNode, int] = {}
        self.top: dict[cst.CSTNode, int] = {}
        self.nested: set[cst.CSTNode] = set()
        self.order: list[cst.CSTNode] = []
        self._stack: list[cst.CSTNode] = []
        self._depth = 0
        self.statements = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
        for index, statement in enumerate(self.statements):
            start = len(self.order)
            statement.visit(self)
            for node in self.order[start:]:
                self.top[node] = index

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parent[node] = self._stack[-1]
        self.position[node] = len(self.order)
        self.order.append(node)
        if self._depth:
            self.nested.add(node)
        if isinstance(node, NESTED):
            self._depth += 1
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()
        if isinstance(original_node, NESTED):
            self._depth -= 1

    def up(self, node: cst.CSTNode, levels: int = 1) -> cst.CSTNode | None:
        for _ in range(levels):
            node = self.parent.get(node)  # type: ignore[assignment]
            if node is None:
                return None
        return node

    def ancestors(self, node: cst.CSTNode) -> set[cst.CSTNode]:
        found = set()
        while node in self.parent:
            node = self.parent[node]
            found.add(node)
        return found

    def identifiers(self) -> list[cst.Name]:
        """Every Name that is a variable (not an attribute, a keyword argument or an import)."""
        found = []
        for node in self.order:
            if not isinstance(node, cst.Name):
                continue
            parent = self.parent.get(node)
            if isinstance(parent, cst.Attribute) and parent.attr is node:
                continue
            if isinstance(parent, cst.Arg) and parent.keyword is node:
                continue
            if isinstance(parent, (cst.ImportAlias, cst.AsName)):
                continue
            found.append(node)
        return found

    def is_target(self, name: cst.Name) -> bool:
        """Whether ``name`` is assigned here (``name = ...``, ``for name in``, ``as name``)."""
        parent = self.parent.get(name)
        return isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.AsName, cst.NamedExpr))

    def quiet_before(self, node: cst.CSTNode, allowed: set[cst.CSTNode]) -> bool:
        """Nothing that could answer or fail comes before ``node``: no call, subscript or
        attribute (other than those in ``allowed``, and those around ``node``, which run after
        it), no await or yield."""
        around = self.ancestors(node)
        for other in self.order[: self.position[node]]:
            if other in around or other in allowed or any(a in allowed for a in self.ancestors(other)):
                continue
            if isinstance(other, (cst.Call, cst.Subscript, cst.Attribute, cst.Await, cst.Yield, cst.Raise, cst.Del)):
                return False
        return True


def is_literal(node: cst.BaseExpression) -> bool:
    """A default that can stand in a signature: a number, a string, None, True or False."""
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    if isinstance(node, cst.Name):
        return node.value in ("None", "True", "False")
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return literal(node) is not None  # no bytes, no f-string
    return isinstance(node, (cst.Integer, cst.Float))


def literal_type(node: cst.BaseExpression | None) -> str | None:
    """The type of a literal default ("int", "str"...), None for None or no default."""
    if node is None:
        return None
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    if isinstance(node, cst.Name):
        return {"True": "bool", "False": "bool"}.get(node.value)
    if isinstance(node, cst.Integer):
        return "int"
    if isinstance(node, cst.Float):
        return "float"
    return "str"


def pure(node: cst.CSTNode) -> bool:
    """An expression that only reads: no call, await, yield, lambda or walrus."""
    return not findall(node, m.Call() | m.Await() | m.Yield() | m.Lambda() | m.NamedExpr())


def bound(call: cst.Call, parameters: tuple[str, ...]) -> dict[str, cst.BaseExpression] | None:
    """The arguments of ``call`` by parameter name; None with a star argument or an unknown name."""
    bound: dict[str, cst.BaseExpression] = {}
    positional = [a for a in call.args if a.keyword is None]
    if any(a.star for a in call.args) or len(positional) > len(parameters):
        return None
    bound.update(zip(parameters, (a.value for a in positional)))
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value not in parameters or arg.keyword.value in bound:
                return None
            bound[arg.keyword.value] = arg.value
    return bound


def request_references(tree: Tree, names: Names) -> list[cst.CSTNode]:
    """The nodes of the body that refer to Flask's request (``request``, ``flask.request``)."""
    found: list[cst.CSTNode] = []
    inside: set[cst.CSTNode] = set()
    for node in tree.order:
        if not isinstance(node, (cst.Name, cst.Attribute)) or tree.parent.get(node) in inside:
            continue
        parent = tree.parent.get(node)
        if isinstance(node, cst.Name) and isinstance(parent, cst.Attribute) and parent.attr is node:
            continue
        if names(node) & REQUEST:
            found.append(node)
            inside.add(node)
    return found


def parameter_names(function: cst.FunctionDef) -> set[str]:
    params = function.params
    found = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    return found | {p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)}
