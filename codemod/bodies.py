"""The JSON body a native view reads, and whether it can arrive as a Pydantic model instead.

Pure, like ``codemod/reads.py``; ``codemod/view_tree.py`` walks the view and
``codemod/body_checks.py`` reads its checks. The shapes it proves:

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
other use of ``data`` (passed on, iterated, tested for truth or None) takes no model.

Where no model is proven (``raw=True``, views only), the view takes the value ``get_json`` gave
as it is, ``data: Annotated[Any, FlaskJson(...)] = None`` (``Body.raw``), and its code is left
as it was: ``data["name"]`` raises Flask's KeyError (a dict) or TypeError (a list) and ``data``
used whole is the same value. The read must be one Flask surely made and made first: ``data =
<read> [or {}]`` with ``data`` not bound before it, or the read inline in a statement of the
view's own body, evaluated whatever the values (``return {"echo": request.get_json()}``,
``Author(name=request.get_json()["name"])``; not under ``and``/``or``, ``if``-``else``, a lambda
or a comprehension), which becomes a parameter of a name the view does not use. Nothing that
could answer or fail may come before it, nor a decorator under the route, ``silent`` or not (a
silent read still answers werkzeug's 413 over MAX_CONTENT_LENGTH). Where something could
(``author = Author.query.get_or_404(author_id)`` first), the read stays where it was and answers
there: ``body: Annotated[Any, FlaskJson(deferred=True)] = None`` and ``body.read()`` in place of
``request.get_json() [or {}]`` (``Body.deferred``), for a read of the view's own code (not of a
function defined in it, which could run after the view).

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

from codemod.body_checks import OBJECT, Checks, exits, isinstance_of, key_read
from codemod.facts import literal
from codemod.find import findall
from codemod.view_tree import Names, Tree, bound, literal_type, parameter_names, request_references

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
    statement: cst.SimpleStatementLine | None  # ``data = request.get_json(...)``: it goes (None: inline)
    force: bool
    silent: bool
    or_empty: bool
    fields: dict[str, Field] = field(default_factory=dict)  # by key
    key_reads: dict[cst.CSTNode, str] = field(default_factory=dict)  # data.get("k") / data["k"] -> field name
    presence: dict[cst.Comparison, str] = field(default_factory=dict)  # ``"k" in data`` -> field name
    checks: dict[cst.CSTNode, bool] = field(default_factory=dict)  # isinstance check -> negated
    helper: str | None = None  # ``data = helper()``: the helper, whose object check takes its place
    raw: bool = False  # no model: the value get_json gave (``Annotated[Any, FlaskJson()]``)
    inline: cst.BaseExpression | None = None  # raw: the read in place (``<read> [or {}]``), which becomes the name
    deferred: bool = False  # raw: ``inline`` becomes ``<variable>.read()``, the read where it was


class _NotProven(Exception):
    pass


def plan_body(
    function: cst.FunctionDef, tree: Tree, names: Names, decorated: bool, references: list[cst.CSTNode],
    converted: set[cst.CSTNode], taken: set[str], helper_of: Callable[[cst.Call], cst.FunctionDef | None],
    raw: bool = False,
) -> Body | None:
    """The body plan of a view (see the module doc); None where it keeps Flask's read.
    ``helper_of``: the module-level function a call without arguments calls, if any; ``raw``:
    the value itself where no model is proven."""
    readers = [r for r in references if _reader(tree, r) is not None]
    if len(readers) > 1 or (readers and readers[0] in tree.nested):
        return None
    planner = _Planner(function, tree, names)
    try:
        if readers:
            return planner.direct(readers[0], decorated, converted, taken)
        return planner.through_helper(helper_of, decorated, converted, taken)
    except _NotProven:
        pass
    if not (raw and readers):
        return None
    try:
        return _Planner(function, tree, names).raw(readers[0], decorated, converted, taken)
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


def _options(read: cst.BaseExpression) -> tuple[bool, bool]:
    """(force, silent) of ``request.get_json(...)`` (literal True/False only), or of ``request.json``."""
    if not isinstance(read, cst.Call):
        return False, False
    arguments = bound(read, ("force", "silent", "cache"))
    if arguments is None or "cache" in arguments or not all(m.matches(v, m.Name("True") | m.Name("False")) for v in arguments.values()):
        raise _NotProven
    return m.matches(arguments.get("force"), m.Name("True")), m.matches(arguments.get("silent"), m.Name("True"))


def _or_empty(tree: Tree, read: cst.BaseExpression) -> cst.BaseExpression | None:
    """``<read> or {}`` around the read, if it is."""
    parent = tree.up(read)
    if m.matches(parent, m.BooleanOperation(operator=m.Or(), right=m.Dict([]))) and parent.left is read:  # type: ignore[union-attr]
        return parent  # type: ignore[return-value]
    return None


def _shape(tree: Tree, read: cst.BaseExpression) -> tuple[bool, bool, bool, cst.Assign, cst.SimpleStatementLine]:
    """(force, silent, or_empty, the assignment, its statement) of ``name = <read> [or {}]``, a
    statement of the function's own body."""
    force, silent = _options(read)
    value, or_empty = read, False
    parent = tree.up(read)
    around = _or_empty(tree, read)
    if around is not None:
        value, or_empty, parent = around, True, tree.up(around)
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
            and isinstance(check, cst.If) and check.orelse is None and exits(check.body, self.names)
            and self._object_check(check.test, variable)
            and not any(n.value == variable for n in findall(check.body, m.Name()))  # type: ignore[union-attr]
        ):
            raise _NotProven
        # the check's code runs in the view: its names must mean there what they meant in the helper
        own_names = {n.value for n in self.tree.identifiers() if self.tree.is_target(n)} | parameter_names(self.function)
        if {n.value for n in findall(check.body, m.Name())} & own_names:  # type: ignore[union-attr]
            raise _NotProven
        target = assign.targets[0].target.value  # type: ignore[attr-defined]
        body = Body(target, None, statement, force, silent, or_empty)  # type: ignore[arg-type]
        body.helper = helper.name.value
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
        self.checks = Checks(tree, self.names, self.variable, self.at)
        if body.helper is not None:  # the helper's check, now the statement itself
            self.checks.assume_object()
        for use in tree.identifiers():
            if use.value == self.variable and use is not self.target:
                self._use(use, body)
        for key, entry in body.fields.items():
            entry.types = list(dict.fromkeys(entry.types))
            entry.required = self.checks.required(key)
        return body

    def raw(self, reference: cst.CSTNode, decorated: bool, converted: set[cst.CSTNode], taken: set[str]) -> Body:
        """The value itself (module doc): ``data = <read> [or {}]`` or the read inline."""
        tree = self.tree
        read = _reader(tree, reference)
        assert read is not None
        if read in tree.nested:
            raise _NotProven
        force, silent = _options(read)
        value = _or_empty(tree, read) or read
        used = {n.value for n in tree.identifiers()} | parameter_names(self.function) | taken
        if not silent and (decorated or not _first_to_answer(tree, read, converted)):
            # Flask's 415/400 would come before something that answered first: read there (a
            # silent read never answers, so it may come first, as in ``_finish``)
            variable = _free(("body", "json_body", "payload"), used)
            return Body(variable, reference, None, force, silent, value is not read, raw=True, inline=value, deferred=True)  # type: ignore[arg-type]
        try:
            force, silent, or_empty, assign, statement = _shape(tree, read)
        except _NotProven:
            try:
                inline = self._unconditional(value)
            except _NotProven:  # a read that may not happen: where it was
                variable = _free(("body", "json_body", "payload"), used)
                return Body(variable, reference, None, force, silent, value is not read, raw=True, inline=value, deferred=True)  # type: ignore[arg-type]
            variable = _free(("data", "payload", "json_body"), used)
            return Body(variable, reference, None, force, silent, value is not read, raw=True, inline=inline)  # type: ignore[arg-type]
        variable = assign.targets[0].target.value  # type: ignore[attr-defined]
        at = tree.statements.index(statement)
        if variable in taken or findall(self.function, m.Global() | m.Nonlocal()):
            raise _NotProven
        for use in tree.identifiers():
            if use.value == variable and use is not assign.targets[0].target and tree.top[use] <= at:
                raise _NotProven  # the name means something else before the read
        return Body(variable, reference, statement, force, silent, or_empty, raw=True)

    def _unconditional(self, value: cst.BaseExpression) -> cst.BaseExpression:
        """``value`` where a simple statement of the view's own body evaluates it whatever the
        values: no ``and``/``or`` (but as their first operand), ``if``-``else``, lambda or
        comprehension around it."""
        tree, child = self.tree, value
        node = tree.up(value)
        while node is not None and node not in tree.statements:
            if isinstance(node, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.IndentedBlock)):
                raise _NotProven
            if isinstance(node, cst.BooleanOperation) and node.left is not child:
                raise _NotProven
            if isinstance(node, cst.IfExp) and node.test is not child:
                raise _NotProven
            child, node = node, tree.up(node)
        if not isinstance(node, cst.SimpleStatementLine) or len(node.body) != 1:
            raise _NotProven
        return value

    def _object_check(self, test: cst.BaseExpression, variable: str) -> bool:
        checked = isinstance_of(test.expression, self.names) if m.matches(test, m.UnaryOperation(m.Not())) else None  # type: ignore[attr-defined]
        return checked is not None and m.matches(checked[0], m.Name(variable)) and checked[1] == ["dict"]

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
            key = key_read(call, self.variable)
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
            key = key_read(parent, self.variable)
            if key is None or isinstance(tree.up(parent), (cst.AssignTarget, cst.AugAssign, cst.Del)):
                raise _NotProven
            if not (self.checks.proven(parent, OBJECT) and self.checks.proven(parent, key)):
                raise _NotProven  # Flask's TypeError / KeyError (500) would be a value now
            self._field(body, key, parent)
            return
        if isinstance(parent, cst.ComparisonTarget) and parent.comparator is name and isinstance(parent.operator, (cst.In, cst.NotIn)):
            comparison = tree.up(parent)
            key = literal(comparison.left) if isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1 else None
            if key is None or not self.checks.proven(comparison, OBJECT):  # type: ignore[arg-type]
                raise _NotProven
            body.presence[comparison] = self._field(body, key, None).name  # type: ignore[index]
            return
        call = tree.up(name, 2)
        if isinstance(parent, cst.Arg) and isinstance(call, cst.Call) and call.args[0] is parent:
            checked = self.checks.isinstance_of(call)
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
            entry.types += self.checks.evidence(read)
        return entry

def _first_to_answer(tree: Tree, read: cst.CSTNode, converted: set[cst.CSTNode]) -> bool:
    """Nothing before the read could answer or fail (``quiet_before``), nor return."""
    before, around = tree.order[: tree.position[read]], tree.ancestors(read)
    return tree.quiet_before(read, converted) and not any(
        isinstance(n, cst.Return) and n not in tree.nested and n not in around for n in before
    )


def _free(names: tuple[str, ...], used: set[str]) -> str:
    """The first of ``names`` not used, else the first numbered."""
    return next(n for n in (*names, *(f"{names[0]}{i}" for i in range(2, 100))) if n not in used)


def _docstring(statement: cst.BaseStatement) -> bool:
    return m.matches(statement, m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())]))


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
