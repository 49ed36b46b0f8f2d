"""Which attribute reads of a view a ``session.commit()`` before them expired, in the order the
view runs its statements (SQLAlchemy's ``expire_on_commit``: every object of the session loads its
columns again on the next read after a commit, which an AsyncSession cannot do on access).

A read is expired when a commit runs before it and the local it reads was bound before that
commit (``review = StarReview(...)``; ``latest = ...`` after the commit holds what it loaded then).
An engineer writes one ``await session.refresh(obj)`` right after the commit for each object read
again. That loads what the first read would have loaded (what the view sets on the object after it
stays set, as it did), and only where:

- the read surely runs when the commit did: it stands in a later simple statement of the commit's
  own block (not in a branch of an ``if`` expression, an ``and``/``or``, a comprehension or a
  lambda);
- the object is surely in the session and not None: added with ``session.add(obj)`` before the
  commit, or loaded by a query, and between the commit and the read the view uses ``obj`` only as
  ``obj.attr`` (no ``if obj is None``, no ``f(obj)``: a guard a refresh of None would not pass);
  never deleted or expunged.

Any other expired read (a commit in a loop, a read in another block) runs as it did, in
``run_sync``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from codemod.state import target_names

# expressions whose parts may run or not: a read there is not sure to run with its statement
_BRANCHES = (cst.IfExp, cst.BooleanOperation, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_LOOPS = (cst.For, cst.While)


@dataclass
class Expiry:
    """What the commits of one view expired."""

    refresh: dict[cst.SimpleStatementLine, list[str]] = field(default_factory=dict)  # commit -> locals to refresh after it
    run_sync: set[cst.Attribute] = field(default_factory=set)  # the other expired reads


@dataclass
class _Read:
    node: cst.Attribute
    local: str
    at: int
    statement: cst.SimpleStatementLine | None  # its simple statement line, when it surely runs with it
    block: cst.CSTNode | None


class _Reader(cst.CSTVisitor):
    def __init__(self, candidates: frozenset[tuple[str, str]], session_call: Callable[[cst.Call], str | None]) -> None:
        self.candidates = candidates
        self.session_call = session_call
        self.at = 0  # the position of what we see, in the order the view runs it
        self.bound: dict[str, list[int]] = {}
        self.commits: list[tuple[int, cst.CSTNode | None, cst.SimpleStatementLine | None]] = []
        self.added: dict[str, list[int]] = {}
        self.gone: set[str] = set()  # deleted or expunged
        self.reads: list[_Read] = []
        self.used: dict[str, list[int]] = {}  # local -> where it is used other than as ``local.attr``
        self.named: set[int] = set()  # ids of the names that are no use of a local: ``name.attr``, ``f(name=)``
        self.looped = False  # a commit in a loop: the order is not the text's
        self.loops = 0
        self.branches = 0
        self.blocks: list[cst.CSTNode] = []
        self.line: cst.SimpleStatementLine | None = None
        self.own: list[set[str]] = []  # the names each comprehension we are in binds

    def _tick(self) -> int:
        self.at += 1
        return self.at

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return not self.blocks  # the view's own body only (a nested function runs at another time)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.append(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self.blocks.pop()

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.line = node

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine) -> None:
        self.line = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.loops += isinstance(node, _LOOPS)
        self.branches += isinstance(node, _BRANCHES)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)
        self.loops -= isinstance(original_node, _LOOPS)
        self.branches -= isinstance(original_node, _BRANCHES)

    def _bind(self, target: cst.BaseExpression) -> None:
        for name in target_names(target):
            self.bound.setdefault(name, []).append(self._tick())

    # a binding happens after its value ran: on leaving the statement
    def leave_Assign(self, original_node: cst.Assign) -> None:
        for target in original_node.targets:
            self._bind(target.target)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        self._bind(original_node.target)

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._bind(original_node.target)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self._bind(original_node.target)

    def visit_For_body(self, node: cst.For) -> None:
        self._bind(node.target)

    def _comprehension(self, node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp) -> None:
        # its targets are its own (they bind nothing outside it), bound anew as its element runs:
        # no commit comes between, so its reads of them are never expired
        names: set[str] = set()
        for_in: cst.CompFor | None = node.for_in
        while for_in is not None:
            names.update(target_names(for_in.target))
            for_in = for_in.inner_for_in
        self.own.append(names)

    def _comprehension_left(self, original_node: cst.CSTNode) -> None:
        self.own.pop()

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension
    leave_ListComp = leave_SetComp = leave_DictComp = leave_GeneratorExp = _comprehension_left

    def leave_AsName(self, original_node: cst.AsName) -> None:
        self._bind(original_node.name)  # type: ignore[arg-type]

    def leave_Call(self, original_node: cst.Call) -> None:
        kind = self.session_call(original_node)
        if kind == "commit":
            self.looped |= self.loops > 0
            block = self.blocks[-1] if self.blocks else None
            line = self.line if self.branches == 0 else None
            self.commits.append((self._tick(), block, line))
        elif kind in ("add", "delete", "expunge") and original_node.args and isinstance(original_node.args[0].value, cst.Name):
            name = original_node.args[0].value.value
            if kind == "add":
                self.added.setdefault(name, []).append(self._tick())
            else:
                self.gone.add(name)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.named.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.named:
            self.used.setdefault(node.value, []).append(self._tick())

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.named.add(id(node.attr))
        if not isinstance(node.value, cst.Name):
            return
        local = node.value.value
        self.named.add(id(node.value))
        if (local, node.attr.value) in self.candidates and not any(local in own for own in self.own):
            sure = self.line if self.branches == 0 else None
            self.reads.append(_Read(node, local, self._tick(), sure, self.blocks[-1] if self.blocks else None))


def commit_expiry(
    function: cst.FunctionDef, candidates: frozenset[tuple[str, str]], loaded: frozenset[str],
    session_call: Callable[[cst.Call], str | None],
) -> Expiry:
    """The expired reads among ``candidates`` (``(local, attr)`` reads that may hold a model) of
    ``function``; ``loaded``: the locals that hold what a query loaded; ``session_call``: the
    session method a call is (``"commit"``, ``"add"``...), or None."""
    reader = _Reader(candidates, session_call)
    function.visit(reader)
    expiry = Expiry()
    for read in reader.reads:
        if reader.looped:
            expiry.run_sync.add(read.node)  # the order is not the text's: every read may follow a commit
            continue
        commits = [c for c in reader.commits if c[0] < read.at]
        bound = [b for b in reader.bound.get(read.local, []) if b < read.at]
        if not commits or (bound and bound[-1] > commits[-1][0]):
            continue  # nothing committed since it was bound
        at, block, line = commits[-1]
        since = bound[-1] if bound else 0
        held = read.local in loaded or any(since < a < at for a in reader.added.get(read.local, []))
        guarded = any(at < u < read.at for u in reader.used.get(read.local, []))
        sure = line is not None and read.statement is not None and read.statement is not line and read.block is block
        if not (sure and held) or guarded or read.local in reader.gone:
            expiry.run_sync.add(read.node)
            continue
        wanted = expiry.refresh.setdefault(line, [])  # type: ignore[arg-type]
        if read.local not in wanted:
            wanted.append(read.local)
    return expiry
