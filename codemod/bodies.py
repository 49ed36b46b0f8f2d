"""The JSON body a native view reads, and whether it can arrive as a Pydantic model instead.

Pure, like ``codemod/reads.py``, whose walk of the view it shares. The shapes it proves:

    data = request.get_json()                      # also request.json, force=True
    data = request.get_json(silent=True) or {}     # silent, with or without ``or {}``
    if not isinstance(data, dict) [or ...]:        # the view's check that it is an object
        <return, raise or abort>
    ... data.get("k"[, literal]) ... data["k"] ... "k" in data ...

``data`` becomes ``data: Annotated[ViewBody | None, FlaskJson(...)] = None``, which the runtime
fills with what that statement gave (the model of an object, None for anything else), so:
``isinstance(data, dict)`` becomes ``data is not None``; ``data.get("k")`` and ``data["k"]``
become ``data.k`` (the value as sent, the ``.get`` default when missing); ``"k" in data`` becomes
``"k" in data.model_fields_set``. Each is exact only where Flask's view would have raised the same
way on a body that is no object: ``data.get`` anywhere (an AttributeError either way),
``data["k"]`` and ``in`` only where the object check has passed, and ``data["k"]`` only where a
check refused a body without ``k`` (else Flask's KeyError, a 500, would be a default now). Any
other use of ``data`` (passed on, iterated, tested for truth or None) keeps the view as it was.

A read that is not ``silent`` answers a bad body with Flask's 415 or 400 before the view's
decorators run: only where nothing comes before it in the view and no decorator is under the
route. The field types come from the view's own checks (``isinstance``, literal defaults): the
OpenAPI schema documents them, and ``--native-validation`` makes them FastAPI's (strict, with
the keys a check refuses to do without required).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from codemod.facts import literal
from codemod.reads import Names, Tree, _bound, is_literal, literal_type, request_references

ABORT = frozenset({"flask.abort", "werkzeug.exceptions.abort", "flask.helpers.abort"})
ISINSTANCE = "builtins.isinstance"
JSON_TYPES = {
    "builtins.str": "str", "builtins.int": "int", "builtins.float": "float",
    "builtins.bool": "bool", "builtins.list": "list", "builtins.dict": "dict",
}
# names a field cannot take: BaseModel's own attributes (and its protected "model_" prefix)
RESERVED = frozenset({
    "construct", "copy", "dict", "fields", "from_orm", "json", "parse_file", "parse_obj", "parse_raw",
    "schema", "schema_json", "update_forward_refs", "validate",
})


@dataclass
class Field:
    key: str
    name: str
    types: list[str] = field(default_factory=list)  # from the view's checks; empty: Any
    default: cst.BaseExpression | None = None  # the literal default of .get("k", d)
    required: bool = False  # a check of the view refuses a body without it
    gets: set[str | None] = field(default_factory=set)  # the defaults its .get reads give (code)


@dataclass
class Body:
    variable: str
    reference: cst.CSTNode | None  # Flask's request in the read (None: the read is a helper's)
    statement: cst.SimpleStatementLine  # ``data = request.get_json(...)``: it goes
    force: bool
    silent: bool
    or_empty: bool
    fields: dict[str, Field] = field(default_factory=dict)  # by key
    key_reads: dict[cst.CSTNode, str] = field(default_factory=dict)  # data.get("k") / data["k"] -> field name
    presence: dict[cst.Comparison, str] = field(default_factory=dict)  # ``"k" in data`` -> field name
    checks: dict[cst.CSTNode, bool] = field(default_factory=dict)  # isinstance check -> negated
    inlined: cst.If | None = None  # the helper's object check, in place of ``data = helper()``


class _NotProven(Exception):
    pass


def plan_body(
    function: cst.FunctionDef, tree: Tree, names: Names, decorated: bool, references: list[cst.CSTNode],
    converted: set[cst.CSTNode], taken: set[str], helper_of: Callable[[cst.Call], cst.FunctionDef | None],
) -> Body | None:
    """The body plan of a view (see the module doc); None where it keeps Flask's read.
    ``helper_of``: the module-level function a call without arguments calls, if any."""
    readers = [r for r in references if _reader(tree, r) is not None]
    if len(readers) > 1 or (readers and readers[0] in tree.nested):
        return None
    planner = _Planner(function, tree, names)
    try:
        if readers:
            return planner.direct(readers[0], decorated, converted, taken)
        return planner.through_helper(helper_of, decorated, converted, taken)
    except _NotProven:
        return None


def _reader(tree: Tree, reference: cst.CSTNode) -> cst.BaseExpression | None:
    """``request.json`` or the ``request.get_json(...)`` call around a reference."""
    attribute = tree.up(reference)
    if not isinstance(attribute, cst.Attribute) or attribute.value is not reference:
        return None
    if attribute.attr.value == "json":
        return attribute
    call = tree.up(attribute)
    if attribute.attr.value == "get_json" and isinstance(call, cst.Call) and call.func is attribute:
        return call
    return None


def _shape(tree: Tree, read: cst.BaseExpression) -> tuple[bool, bool, bool, cst.Assign, cst.SimpleStatementLine]:
    """(force, silent, or_empty, the assignment, its statement) of ``name = <read> [or {}]``, a
    statement of the function's own body."""
    force = silent = False
    if isinstance(read, cst.Call):
        bound = _bound(read, ("force", "silent", "cache"))
        if bound is None or "cache" in bound or not all(m.matches(v, m.Name("True") | m.Name("False")) for v in bound.values()):
            raise _NotProven
        force = m.matches(bound.get("force"), m.Name("True"))
        silent = m.matches(bound.get("silent"), m.Name("True"))
    value, or_empty = read, False
    parent = tree.up(read)
    if m.matches(parent, m.BooleanOperation(operator=m.Or(), right=m.Dict([]))) and parent.left is read:  # type: ignore[union-attr]
        value, or_empty, parent = parent, True, tree.up(parent)  # type: ignore[assignment,arg-type]
    statement = tree.up(parent) if parent is not None else None
    if not (
        isinstance(parent, cst.Assign) and parent.value is value and len(parent.targets) == 1
        and isinstance(parent.targets[0].target, cst.Name)
        and isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
        and statement in tree.statements
    ):
        raise _NotProven
    return force, silent, or_empty, parent, statement


class _Planner:
    def __init__(self, function: cst.FunctionDef, tree: Tree, names: Names) -> None:
        self.function, self.tree, self.names = function, tree, names

    def direct(self, reference: cst.CSTNode, decorated: bool, converted: set[cst.CSTNode], taken: set[str]) -> Body:
        """``data = request.get_json(...)`` in the view itself."""
        read = _reader(self.tree, reference)
        assert read is not None
        force, silent, or_empty, assign, statement = _shape(self.tree, read)
        body = Body(assign.targets[0].target.value, reference, statement, force, silent, or_empty)  # type: ignore[attr-defined]
        return self._finish(body, assign, read, decorated, converted, taken)

    def through_helper(
        self, helper_of: Callable[[cst.Call], cst.FunctionDef | None], decorated: bool, converted: set[cst.CSTNode], taken: set[str],
    ) -> Body:
        """``data = read_object()`` of a helper of the module that is just the read, the object
        check and ``return data``: the view takes the body, and the helper's check where the
        call was."""
        found = []
        for statement in self.tree.statements:
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
            if m.matches(small, m.Assign([m.AssignTarget(m.Name())], m.Call(args=[]))):
                helper = helper_of(small.value)  # type: ignore[union-attr,arg-type]
                if helper is not None:
                    found.append((statement, small, helper))
        if len(found) != 1:
            raise _NotProven
        statement, assign, helper = found[0]
        inner = Tree(helper)
        readers = [r for r in request_references(inner, self.names) if _reader(inner, r) is not None]
        if len(readers) != 1 or readers[0] in inner.nested:
            raise _NotProven
        read = _reader(inner, readers[0])
        force, silent, or_empty, own, first = _shape(inner, read)  # type: ignore[arg-type]
        variable = own.targets[0].target.value  # type: ignore[attr-defined]
        statements = [s for s in inner.statements if not _docstring(s)]
        if len(statements) != 3 or statements[0] is not first:
            raise _NotProven
        check, returned = statements[1], statements[2]
        if not (
            m.matches(returned, m.SimpleStatementLine([m.Return(m.Name(variable))]))
            and isinstance(check, cst.If) and check.orelse is None and self._exits(check.body)
            and self._object_check(check.test, variable)
            and not any(n.value == variable for n in m.findall(check.body, m.Name()))  # type: ignore[union-attr]
        ):
            raise _NotProven
        # the check's code runs in the view: its names must mean there what they meant in the helper
        own_names = {n.value for n in self.tree.identifiers() if _is_target(self.tree, n)} | _params(self.function)
        if {n.value for n in m.findall(check.body, m.Name())} & own_names:  # type: ignore[union-attr]
            raise _NotProven
        target = assign.targets[0].target.value  # type: ignore[attr-defined]
        body = Body(target, None, statement, force, silent, or_empty)  # type: ignore[arg-type]
        body.inlined = check.with_changes(test=_is_none(target), leading_lines=statement.leading_lines)
        return self._finish(body, assign, assign.value, decorated, converted, taken)  # type: ignore[arg-type]

    def _finish(
        self, body: Body, assign: cst.Assign, read: cst.BaseExpression, decorated: bool, converted: set[cst.CSTNode], taken: set[str],
    ) -> Body:
        tree = self.tree
        if not body.silent and (decorated or not tree.quiet_before(read, converted)):
            raise _NotProven  # Flask's 415/400 would come before something that answered first
        self.variable = body.variable
        if self.variable in taken:
            raise _NotProven
        self.at = tree.statements.index(body.statement)
        self.target = assign.targets[0].target
        self.aliases = self._aliases()
        self.guards = self._guards()
        if body.inlined is not None:  # the helper's check, now the statement itself
            self.guards.append((self.at, [], {"object": 0}))
        for use in tree.identifiers():
            if use.value == self.variable and use is not self.target:
                self._use(use, body)
        for key, entry in body.fields.items():
            entry.types = list(dict.fromkeys(entry.types))
            entry.required = any(key in proven for _, _, proven in self.guards)
        return body

    def _object_check(self, test: cst.BaseExpression, variable: str) -> bool:
        checked = self._isinstance(test.expression) if m.matches(test, m.UnaryOperation(m.Not())) else None  # type: ignore[attr-defined]
        return checked is not None and m.matches(checked[0], m.Name(variable)) and checked[1] == ["dict"]

    # -- the view's checks ---------------------------------------------------------------------
    def _guards(self) -> list[tuple[int, list[cst.BaseExpression], dict[str, int]]]:
        """Top-level ``if a or b ...: <exit>`` after the read: (statement, its operands, {what it
        proves: from which operand on}), "object" for the object check, a key for its presence."""
        found = []
        for index in range(self.at + 1, len(self.tree.statements)):
            statement = self.tree.statements[index]
            if not (isinstance(statement, cst.If) and statement.orelse is None and self._exits(statement.body)):
                continue
            operands = _or_operands(statement.test)
            proven: dict[str, int] = {}
            for position, operand in enumerate(operands):
                for fact in self._refusals(operand, index):
                    proven.setdefault(fact, position + 1)
            found.append((index, operands, proven))
        return found

    def _exits(self, block: cst.BaseSuite) -> bool:
        last = block.body[-1] if block.body else None
        small = last.body[-1] if isinstance(last, cst.SimpleStatementLine) and last.body else last
        if isinstance(block, cst.SimpleStatementSuite):
            small = block.body[-1] if block.body else None
        if isinstance(small, (cst.Return, cst.Raise)):
            return True
        return isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and bool(self.names(small.value.func) & ABORT)

    def _refusals(self, operand: cst.BaseExpression, index: int) -> list[str]:
        """What an operand of a refusing check rules out: "object" for ``not isinstance(data,
        dict)``; a key for ``not isinstance(data.get("k"), T)``, ``"k" not in data``,
        ``data.get("k") is None`` (or the same of a variable holding ``data.get("k")``)."""
        if m.matches(operand, m.UnaryOperation(m.Not())):
            inner = operand.expression  # type: ignore[attr-defined]
            checked = self._isinstance(inner)
            if checked is None:
                return []
            subject, types = checked
            if m.matches(subject, m.Name(self.variable)) and types == ["dict"]:
                return ["object"]
            key = self._key_of(subject, index)
            return [key] if key is not None and types and "Any" not in types else []
        if isinstance(operand, cst.Comparison) and len(operand.comparisons) == 1:
            target = operand.comparisons[0]
            if isinstance(target.operator, cst.NotIn) and m.matches(target.comparator, m.Name(self.variable)):
                key = literal(operand.left)
                return [key] if key is not None else []
            if isinstance(target.operator, cst.Is) and m.matches(target.comparator, m.Name("None")):
                key = self._key_of(operand.left, index)
                return [key] if key is not None else []
        return []

    def _isinstance(self, node: cst.BaseExpression) -> tuple[cst.BaseExpression, list[str]] | None:
        if not (isinstance(node, cst.Call) and ISINSTANCE in self.names(node.func) and len(node.args) == 2):
            return None
        kinds = node.args[1].value
        elements = [e.value for e in kinds.elements] if isinstance(kinds, cst.Tuple) else [kinds]
        types = [next((JSON_TYPES[n] for n in self.names(e) if n in JSON_TYPES), "Any") for e in elements]
        return node.args[0].value, types

    def _key_of(self, node: cst.BaseExpression, index: int) -> str | None:
        """The key ``data.get("k")`` or ``data["k"]`` reads, or that a variable holds (one
        assigned it at the top level, not assigned again since); None for a ``.get`` with a
        default, which is no proof the key was sent."""
        read: cst.CSTNode = node
        if isinstance(node, cst.Name):
            if node.value not in self.aliases:
                return None
            _, start, end, read = self.aliases[node.value]
            if not start < self.tree.position[node] < end:
                return None
        if isinstance(read, cst.Call) and len(read.args) == 2 and not m.matches(read.args[1].value, m.Name("None")):
            return None
        return _key_read(read, self.variable)

    def _aliases(self) -> dict[str, tuple[str, int, int, cst.CSTNode]]:
        """Variables assigned ``data.get("k")`` / ``data["k"]`` at the top level: name -> (key,
        from where, until where it is assigned again (source positions), the read)."""
        found: dict[str, tuple[str, int, int, cst.CSTNode]] = {}
        for statement in self.tree.statements[self.at + 1 :]:
            if not m.matches(statement, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name())])])):
                continue
            assign = statement.body[0]  # type: ignore[attr-defined]
            key = _key_read(assign.value, self.variable)
            name = assign.targets[0].target.value
            if key is None or name in found:
                continue
            start = self.tree.position[assign.targets[0].target]
            rebound = [
                self.tree.position[n] for n in self.tree.identifiers()
                if n.value == name and self.tree.position[n] > start and _is_target(self.tree, n)
            ]
            found[name] = (key, start, min(rebound, default=len(self.tree.order)), assign.value)
        return found

    def _proven(self, node: cst.CSTNode, fact: str) -> bool:
        """Whether a refusing check has ruled out ``fact`` where ``node`` runs."""
        top = self.tree.top[node]
        for index, operands, proven in self.guards:
            if fact not in proven:
                continue
            if index < top:
                return True
            if index == top:
                after = operands[proven[fact]:]
                if any(o is node or o in self.tree.ancestors(node) for o in after):
                    return True
        return False

    # -- each use of the variable --------------------------------------------------------------
    def _use(self, name: cst.Name, body: Body) -> None:
        tree = self.tree
        if tree.top[name] <= self.at:
            raise _NotProven  # the name means something else before the read
        parent = tree.up(name)
        if isinstance(parent, cst.Attribute) and parent.value is name and parent.attr.value == "get":
            call = tree.up(parent)
            if not (isinstance(call, cst.Call) and call.func is parent):
                raise _NotProven
            key = _key_read(call, self.variable)
            if key is None:
                raise _NotProven
            default = call.args[1].value if len(call.args) == 2 and not m.matches(call.args[1].value, m.Name("None")) else None
            entry = self._field(body, key, call)
            given = cst.Module([]).code_for_node(default) if default is not None else None
            if entry.gets and given not in entry.gets:
                raise _NotProven  # two defaults for one key: one field cannot have both
            entry.gets.add(given)
            entry.default = default
            kind = literal_type(default) if not isinstance(default, (cst.List, cst.Dict)) else type(default).__name__.lower()
            if kind is not None:
                entry.types.append(kind)
            return
        if isinstance(parent, cst.Subscript) and parent.value is name:
            key = _key_read(parent, self.variable)
            if key is None or isinstance(tree.up(parent), (cst.AssignTarget, cst.AugAssign, cst.Del)):
                raise _NotProven
            if not (self._proven(parent, "object") and self._proven(parent, key)):
                raise _NotProven  # Flask's TypeError / KeyError (500) would be a value now
            self._field(body, key, parent)
            return
        if isinstance(parent, cst.ComparisonTarget) and parent.comparator is name and isinstance(parent.operator, (cst.In, cst.NotIn)):
            comparison = tree.up(parent)
            key = literal(comparison.left) if isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1 else None
            if key is None or not self._proven(comparison, "object"):  # type: ignore[arg-type]
                raise _NotProven
            body.presence[comparison] = self._field(body, key, None).name  # type: ignore[index]
            return
        call = tree.up(name, 2)
        if isinstance(parent, cst.Arg) and isinstance(call, cst.Call) and call.args[0] is parent:
            checked = self._isinstance(call)
            if checked is not None and checked[1] == ["dict"]:
                around = tree.up(call)
                negated = m.matches(around, m.UnaryOperation(m.Not()))
                body.checks[around if negated else call] = negated  # type: ignore[index]
                return
        raise _NotProven

    def _field(self, body: Body, key: str, read: cst.CSTNode | None) -> Field:
        entry = body.fields.get(key)
        if entry is None:
            entry = body.fields[key] = Field(key, _field_name(key, {f.name for f in body.fields.values()}))
        if read is not None:
            body.key_reads[read] = entry.name
            entry.types += self._evidence(read)
        return entry

    def _evidence(self, read: cst.CSTNode) -> list[str]:
        """The types an ``isinstance`` check of the read (or of a variable holding it) names."""
        tree = self.tree
        arg, call = tree.up(read), tree.up(read, 2)
        checked = self._isinstance(call) if isinstance(arg, cst.Arg) and isinstance(call, cst.Call) else None
        if checked is not None and checked[0] is read:
            return checked[1]
        statement = tree.statements[tree.top[read]]
        assign = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
        if not (isinstance(assign, cst.Assign) and assign.value is read and isinstance(assign.targets[0].target, cst.Name)):
            return []
        alias = self.aliases.get(assign.targets[0].target.value)
        if alias is None:
            return []
        _, start, end, _ = alias
        found: list[str] = []
        for node in tree.order[start:end]:
            checked = self._isinstance(node) if isinstance(node, cst.Call) else None
            if checked is not None and m.matches(checked[0], m.Name(assign.targets[0].target.value)):
                found += checked[1]
        return found


def _or_operands(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or) and not test.lpar:
        return [*_or_operands(test.left), *_or_operands(test.right)]
    return [test]


def _key_read(node: cst.CSTNode, variable: str) -> str | None:
    """"k" for ``data.get("k"[, literal])`` and ``data["k"]``."""
    if isinstance(node, cst.Call) and m.matches(node.func, m.Attribute(m.Name(variable), m.Name("get"))):
        if not 1 <= len(node.args) <= 2 or any(a.keyword is not None or a.star for a in node.args):
            return None
        if len(node.args) == 2 and not _default(node.args[1].value):
            return None
        return literal(node.args[0].value)
    if isinstance(node, cst.Subscript) and m.matches(node.value, m.Name(variable)) and len(node.slice) == 1:
        index = node.slice[0].slice
        return literal(index.value) if isinstance(index, cst.Index) else None
    return None


def _docstring(statement: cst.BaseStatement) -> bool:
    return m.matches(statement, m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())]))


def _params(function: cst.FunctionDef) -> set[str]:
    params = function.params
    found = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    return found | {p.name.value for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)}


def _is_none(variable: str) -> cst.Comparison:
    return cst.Comparison(cst.Name(variable), [cst.ComparisonTarget(cst.Is(), cst.Name("None"))])


def _default(node: cst.BaseExpression) -> bool:
    """A default a model field can have: a literal, or an empty list or dict (Pydantic copies
    those for each instance)."""
    return is_literal(node) or m.matches(node, m.List([]) | m.Dict([]))


def _is_target(tree: Tree, name: cst.Name) -> bool:
    parent = tree.up(name)
    return isinstance(parent, (cst.AssignTarget, cst.AugAssign, cst.AnnAssign, cst.For, cst.AsName, cst.NamedExpr))


def _field_name(key: str, taken: set[str]) -> str:
    """The key as a field name where it can be one; else a name near it (the model gives the
    key as the field's alias). A field cannot start with "_" (a private attribute to Pydantic),
    nor be a keyword or shadow BaseModel's own names."""
    name = re.sub(r"\W", "_", key).lstrip("_") or "field"
    if name[0].isdigit():
        name = f"field_{name}"
    if keyword.iskeyword(name) or name in RESERVED or name.startswith("model_"):
        name = f"{name}_"
    candidate, index = name, 2
    while candidate in taken:
        candidate, index = f"{name}{index}", index + 1
    return candidate
