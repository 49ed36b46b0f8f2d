"""The checks a view makes of the JSON body it read, and what each proves where.

A top-level ``if a or b ...: <return, raise or abort>`` after the read refuses a body for which
any operand holds, so the statements after it (and the operands after the one that proves it)
run only with a body that passed: ``not isinstance(data, dict)`` proves an object;
``not isinstance(data.get("k"), T)``, ``"k" not in data``, ``data.get("k") is None`` and
``not data.get("k")`` prove that ``k`` was sent (also through a variable holding ``data.get("k")``). ``codemod/bodies.py``
converts ``data["k"]`` only where both are proven, and makes ``k`` required under
``--native-validation`` where a check proves it. Pure.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.facts import literal
from codemod.view_tree import Names, Tree, is_literal, literal_type

ABORT = frozenset({"flask.abort", "werkzeug.exceptions.abort", "flask.helpers.abort"})
ISINSTANCE = "builtins.isinstance"
JSON_TYPES = {
    "builtins.str": "str", "builtins.int": "int", "builtins.float": "float",
    "builtins.bool": "bool", "builtins.list": "list", "builtins.dict": "dict",
}
OBJECT = "object"  # the fact the object check proves (every other fact is a key)


class Checks:
    """The checks of the variable ``variable``, read at top-level statement ``at``."""

    def __init__(self, tree: Tree, names: Names, variable: str, at: int) -> None:
        self.tree, self.names, self.variable, self.at = tree, names, variable, at
        self.aliases = self._aliases()
        # (statement, its operands, {fact: the operand after which it holds})
        self.guards: list[tuple[int, list[cst.BaseExpression], dict[str, int]]] = self._guards()

    def assume_object(self) -> None:
        """An object check stands at the read's own statement (a helper's, put there)."""
        self.guards.append((self.at, [], {OBJECT: 0}))

    def proven(self, node: cst.CSTNode, fact: str) -> bool:
        """Whether a refusing check has ruled ``fact`` in where ``node`` runs."""
        top = self.tree.top[node]
        for index, operands, proven in self.guards:
            if fact not in proven:
                continue
            if index < top:
                return True
            if index == top:
                around = self.tree.ancestors(node)
                if any(o is node or o in around for o in operands[proven[fact]:]):
                    return True
        return False

    def required(self, key: str) -> bool:
        """Whether a check refuses a body without ``key`` (anywhere in the view)."""
        return any(key in proven for _, _, proven in self.guards)

    def isinstance_of(self, node: cst.CSTNode | None) -> tuple[cst.BaseExpression, list[str]] | None:
        return isinstance_of(node, self.names)

    def evidence(self, read: cst.CSTNode) -> list[str]:
        """The types the view's uses of ``read`` (or of a variable holding it) show: an
        ``isinstance`` check names them; a comparison with a literal has its type (a number
        compared by order, int or float)."""
        tree = self.tree
        holder = next((name for name, alias in self.aliases.items() if alias[3] is read), None)
        if holder is None:
            return self._shown(read)
        _, start, end, _ = self.aliases[holder]
        found: list[str] = []
        for node in tree.order[start:end]:
            if isinstance(node, cst.Name) and node.value == holder and not tree.is_target(node):
                found += self._shown(node)
        return found

    def _shown(self, value: cst.CSTNode) -> list[str]:
        tree = self.tree
        parent = tree.up(value)
        checked = self.isinstance_of(tree.up(value, 2)) if isinstance(parent, cst.Arg) else None
        if checked is not None and checked[0] is value:
            return checked[1]
        if isinstance(parent, cst.ComparisonTarget):
            comparison, others = tree.up(parent), []
            if isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1:
                others, operator = [comparison.left], parent.operator
        elif isinstance(parent, cst.Comparison) and parent.left is value and len(parent.comparisons) == 1:
            others, operator = [parent.comparisons[0].comparator], parent.comparisons[0].operator
        else:
            return []
        kind = literal_type(others[0]) if others and is_literal(others[0]) else None
        if kind is None:
            return []
        ordered = isinstance(operator, (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual))
        if isinstance(operator, (cst.Equal, cst.NotEqual)) or (ordered and kind in ("int", "float")):
            return ["int", "float"] if ordered else [kind]
        return []

    # -- the refusing checks ---------------------------------------------------------------------
    def _guards(self) -> list[tuple[int, list[cst.BaseExpression], dict[str, int]]]:
        found = []
        for index in range(self.at + 1, len(self.tree.statements)):
            statement = self.tree.statements[index]
            if not (isinstance(statement, cst.If) and statement.orelse is None and exits(statement.body, self.names)):
                continue
            operands = _or_operands(statement.test)
            proven: dict[str, int] = {}
            for position, operand in enumerate(operands):
                for fact in self._refusals(operand):
                    proven.setdefault(fact, position + 1)
            found.append((index, operands, proven))
        return found

    def _refusals(self, operand: cst.BaseExpression) -> list[str]:
        """What an operand of a refusing check rules in (see the module doc)."""
        if m.matches(operand, m.UnaryOperation(m.Not())):
            checked = self.isinstance_of(operand.expression)  # type: ignore[attr-defined]
            if checked is None:  # ``not data.get("k")``: a body without k is refused (None is falsy)
                key = self._key_of(operand.expression)  # type: ignore[attr-defined]
                return [key] if key is not None else []
            subject, types = checked
            if m.matches(subject, m.Name(self.variable)) and types == ["dict"]:
                return [OBJECT]
            key = self._key_of(subject)
            return [key] if key is not None and "Any" not in types else []
        if isinstance(operand, cst.Comparison) and len(operand.comparisons) == 1:
            target = operand.comparisons[0]
            if isinstance(target.operator, cst.NotIn) and m.matches(target.comparator, m.Name(self.variable)):
                key = literal(operand.left)
                return [key] if key is not None else []
            if isinstance(target.operator, cst.Is) and m.matches(target.comparator, m.Name("None")):
                key = self._key_of(operand.left)
                return [key] if key is not None else []
        return []

    def _key_of(self, node: cst.BaseExpression) -> str | None:
        """The key ``data.get("k")`` or ``data["k"]`` reads, or that a variable holds where
        ``node`` is (assigned it at the top level, not assigned again since); None for a
        ``.get`` with a default, which is no proof the key was sent."""
        read: cst.CSTNode = node
        if isinstance(node, cst.Name):
            if node.value not in self.aliases:
                return None
            _, start, end, read = self.aliases[node.value]
            if not start < self.tree.position[node] < end:
                return None
        if isinstance(read, cst.Call) and len(read.args) == 2 and not m.matches(read.args[1].value, m.Name("None")):
            return None
        return key_read(read, self.variable)

    def _aliases(self) -> dict[str, tuple[str, int, int, cst.CSTNode]]:
        """Variables assigned ``data.get("k")`` / ``data["k"]`` at the top level: name -> (key,
        from where, until where it is assigned again (source positions), the read)."""
        found: dict[str, tuple[str, int, int, cst.CSTNode]] = {}
        tree = self.tree
        for statement in tree.statements[self.at + 1 :]:
            if not m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())])])):
                continue
            assign = statement.body[0]  # type: ignore[attr-defined]
            key = key_read(assign.value, self.variable)
            name = assign.targets[0].target.value
            if key is None or name in found:
                continue
            start = tree.position[assign.targets[0].target]
            rebound = [tree.position[n] for n in tree.identifiers() if n.value == name and tree.position[n] > start and tree.is_target(n)]
            found[name] = (key, start, min(rebound, default=len(tree.order)), assign.value)
        return found


def isinstance_of(node: cst.CSTNode | None, names: Names) -> tuple[cst.BaseExpression, list[str]] | None:
    """(subject, JSON types) of ``isinstance(subject, T | (T, U))``; "Any" for other types."""
    if not (isinstance(node, cst.Call) and ISINSTANCE in names(node.func) and len(node.args) == 2):
        return None
    kinds = node.args[1].value
    elements = [e.value for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
    types = [next((JSON_TYPES[n] for n in names(e) if n in JSON_TYPES), "Any") for e in elements]
    return node.args[0].value, types


def exits(block: cst.BaseSuite, names: Names) -> bool:
    """A block that ends in ``return``, ``raise`` or Flask's ``abort(...)``."""
    if isinstance(block, cst.SimpleStatementSuite):
        small = block.body[-1] if block.body else None
    else:
        last = block.body[-1] if block.body else None
        small = last.body[-1] if isinstance(last, cst.SimpleStatementLine) and last.body else last
    if isinstance(small, (cst.Return, cst.Raise)):
        return True
    return isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and bool(names(small.value.func) & ABORT)


def default_allowed(node: cst.BaseExpression) -> bool:
    """A default a model field can have: a literal, or an empty list or dict (Pydantic copies
    those for each instance)."""
    return is_literal(node) or m.matches(node, m.List([]) | m.Dict([]))


def key_read(node: cst.CSTNode, variable: str) -> str | None:
    """"k" for ``data.get("k"[, default])`` and ``data["k"]``."""
    if isinstance(node, cst.Call) and m.matches(node.func, m.Attribute(m.Name(variable), m.Name("get"))):
        if not 1 <= len(node.args) <= 2 or any(a.keyword is not None or a.star for a in node.args):
            return None
        if len(node.args) == 2 and not default_allowed(node.args[1].value):
            return None
        return literal(node.args[0].value)
    if isinstance(node, cst.Subscript) and m.matches(node.value, m.Name(variable)) and len(node.slice) == 1:
        index = node.slice[0].slice
        return literal(index.value) if isinstance(index, cst.Index) else None
    return None


def _or_operands(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or) and not test.lpar:
        return [*_or_operands(test.left), *_or_operands(test.right)]
    return [test]
