"""What each module does with Flask-SQLAlchemy's ``db``: the facts that
codemod/flask_sqlalchemy_plain.py plans the move to plain SQLAlchemy from.

Every dotted name a function uses (``db.session.add``, ``Author.query.filter_by``), qualified
through calls, with what of it is called and whether it is a statement of its own or the whole
value given to a local; the ``db = SQLAlchemy(...)`` objects; the models' classmethods; the
locals used other than as the root of such a chain; and what each function may leave
uncommitted (codemod/sqla_flow.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
from codemod.visitors import Visitor
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper
from codemod.names import FullNames

from codemod.find import findall
from codemod.flask_sqlalchemy_async import EXTENSION
from codemod.sqla_flow import pending_writes


@dataclass(frozen=True)
class SqlaUse:
    dotted: str  # qualified, through calls (``pkg.models.Author.query.filter_by.first``)
    owner: str | None  # the module-level function, or ``pkg.mod.Class.method``; None: module or class body
    kind: str  # "call", "base" or "attr"
    called: frozenset[str] = frozenset()  # the parts of ``dotted`` that are called (``x.get_or_404`` of ``x.get_or_404(1).y``)
    statement: bool = False  # the call is a statement of its own (its value is not used)
    assigned_to: str | None = None  # the local it is the whole value of (``query = Model.query.order_by(...)``)


@dataclass
class SqlaFileFacts:
    uses: list[SqlaUse] = field(default_factory=list)
    makers: dict[str, int] = field(default_factory=dict)  # db = SQLAlchemy(...) -> its arguments
    classmethods: set[str] = field(default_factory=set)  # pkg.mod.Class.method
    binds: bool = False  # SQLALCHEMY_BINDS is named
    own_db: set[str] = field(default_factory=set)  # functions binding a name ``db`` of their own (the session's parameter)
    bare: set[str] = field(default_factory=set)  # locals read or bound other than as a chain's root or value
    pending: dict[str, frozenset[str]] = field(default_factory=dict)  # function -> what it may leave uncommitted (sqla_flow.py)

    def merge(self, other: SqlaFileFacts) -> None:
        self.uses += other.uses
        self.makers.update(other.makers)
        self.classmethods |= other.classmethods
        self.binds |= other.binds
        self.own_db |= other.own_db
        self.bare |= other.bare
        self.pending.update(other.pending)


def file_facts(wrapper: MetadataWrapper, module: str, source: bytes) -> SqlaFileFacts:
    reader = file_reader(module)
    wrapper.visit(reader)
    return file_read(reader, source)


def file_reader(module: str) -> _Uses:
    """The visitor of file_facts, for a walk shared with others (codemod/visitors.py)."""
    return _Uses(module)


def file_read(reader: _Uses, source: bytes) -> SqlaFileFacts:
    """The facts of a file ``reader`` (from file_reader) has walked."""
    reader.facts.binds = b"SQLALCHEMY_BINDS" in source
    return reader.facts


class _Uses(Visitor):
    METADATA_DEPENDENCIES = (FullNames,)

    def __init__(self, module: str) -> None:
        self.module = module
        self.facts = SqlaFileFacts()
        self.owners: list[str | None] = [None]
        self.classes: list[str] = []
        self.cls: list[str | None] = [None]  # the class parameter of the classmethod we are in
        self.statements: set[int] = set()  # the calls that are expression statements
        self.assigned: dict[int, str] = {}  # a chain that is the whole value of ``local = ...`` -> the local

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        qualified = f"{self.module}.{node.name.value}" if not self.classes else f"{self.classes[-1]}.{node.name.value}"
        self.classes.append(qualified)
        for base in node.bases:
            if not self._record(base.value, "base"):
                base.visit(self)
        for part in (*node.keywords, *node.decorators, node.body):
            part.visit(self)
        return False

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        owner = self.owners[-1]
        cls = None
        if owner is None:
            owner = f"{self.classes[-1]}.{node.name.value}" if self.classes else f"{self.module}.{node.name.value}"
            if self.classes and any(get_full_name_for_node(d.decorator) == "classmethod" for d in node.decorators):
                self.facts.classmethods.add(owner)
                cls = node.params.params[0].name.value if node.params.params else None
        self.owners.append(owner)
        self.cls.append(cls or self.cls[-1])
        names = {p.name.value for p in (*node.params.params, *node.params.kwonly_params, *node.params.posonly_params)}
        if "db" in names or findall(node.body, m.AssignTarget(m.Name("db")) | m.For(target=m.Name("db"))):
            self.facts.own_db.add(owner)
        if len(self.owners) == 2:  # a module-level function, or a class's method
            self.facts.pending[owner] = pending_writes(node, self._qualified)
        for decorator in node.decorators:
            decorator.visit(self)
        node.params.visit(self)
        node.body.visit(self)
        return False

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.owners.pop()
        self.cls.pop()

    def visit_Assign(self, node: cst.Assign) -> bool:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if self.owners[-1] is None and isinstance(node.value, cst.Call) and isinstance(target, cst.Name):
            made = {q.name for q in self.get_metadata(FullNames, node.value.func, set())}
            if made & EXTENSION:
                self.facts.makers[f"{self.module}.{target.value}"] = len(node.value.args)
        local = self._qualified(target) if isinstance(target, cst.Name) and self.owners[-1] is not None else set()
        if len(local) != 1 or not isinstance(node.value, (cst.Call, cst.Attribute)) or _head(node.value) is None:
            return True
        self.assigned[id(node.value)] = next(iter(local))  # (the target is no bare use of the local)
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        found = self._qualified(node)
        if len(found) == 1 and "<locals>" in next(iter(found)):
            self.facts.bare.add(next(iter(found)))

    def _qualified(self, node: cst.CSTNode) -> set[str]:
        return {q.name for q in self.get_metadata(FullNames, node, set())}

    def visit_Expr(self, node: cst.Expr) -> None:
        self.statements.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> bool:
        if not self._record(node.func, "call", id(node) in self.statements, self.assigned.get(id(node))):
            node.func.visit(self)
        for arg in node.args:
            arg.visit(self)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # the dotted name is one use; calls inside it (``x.f(a).g``) were read by _record
        return not self._record(node, "attr", assigned_to=self.assigned.get(id(node)))

    def _record(self, node: cst.BaseExpression, kind: str, statement: bool = False, assigned_to: str | None = None) -> bool:
        """Record the use ``node`` names; False where it names none (visit it as usual)."""
        dotted = get_full_name_for_node(node)
        root = _head(node)
        if dotted is None or root is None or ("." not in dotted and kind != "base"):
            return False
        head, _, rest = dotted.partition(".")
        if head == self.cls[-1] and self.classes:
            qualified = self.classes[-1]
        else:
            names = self.get_metadata(FullNames, root, set())
            if len(names) != 1:
                return False
            qualified = next(iter(names)).name
        prefix = len(head)
        called = frozenset(f"{qualified}{c[prefix:]}" for c in _called(node, kind))
        self.facts.uses.append(SqlaUse(f"{qualified}.{rest}" if rest else qualified, self.owners[-1], kind, called, statement, assigned_to))
        for part in _inner_calls(node):
            part.visit(self)
        return True


def _head(node: cst.BaseExpression) -> cst.Name | None:
    while isinstance(node, (cst.Attribute, cst.Call)):
        node = node.value if isinstance(node, cst.Attribute) else node.func
    return node if isinstance(node, cst.Name) else None


def _called(node: cst.BaseExpression, kind: str) -> list[str]:
    """The dotted names called along a chain (the chain itself too, where ``kind`` is "call")."""
    found = [get_full_name_for_node(node) or ""] if kind == "call" else []
    while isinstance(node, (cst.Attribute, cst.Call)):
        if isinstance(node, cst.Call):
            found.append(get_full_name_for_node(node.func) or "")
            node = node.func
        else:
            node = node.value
    return found


def _inner_calls(node: cst.BaseExpression) -> list[cst.CSTNode]:
    """The arguments of the calls inside a chain (``x.filter_by(a=f(b)).first``): uses of their own."""
    found: list[cst.CSTNode] = []
    while isinstance(node, (cst.Attribute, cst.Call)):
        if isinstance(node, cst.Call):
            found += node.args
            node = node.func
        else:
            node = node.value
    return found
