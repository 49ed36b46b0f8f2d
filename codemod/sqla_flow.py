"""Where a view may leave changes in its Flask-SQLAlchemy session that it did not commit.

Flask-SQLAlchemy gave a request one session, scoped to its app context: an after_request hook
that queried ``db.session`` ran in the view's session, and saw what the view had added and not
committed (the query flushed it first). As RequestHooks middleware the hook opens a session of
its own (codemod/flask_sqlalchemy_plain.py), which sees what is committed. The two agree where no
view leaves a change uncommitted: each write of the view's session is followed, in its own block,
by ``db.session.commit()`` with nothing between but other writes. A write is a call that changes
the session (``add``, ``delete``, ``execute``...), an attribute set on a local object (a loaded
row that the next flush would update) or a change of a collection of one
(``author.books.append(book)``). Anything else between a write and its commit may raise, and
leave the write pending for the hook (Flask ran after_request hooks on error answers too).
"""

from __future__ import annotations

from typing import Callable

import libcst as cst
import libcst.matchers as m

from codemod.find import findall

Names = Callable[[cst.CSTNode], set[str]]

SESSION_WRITES = frozenset({
    "add", "add_all", "delete", "merge", "flush", "execute",
    "bulk_save_objects", "bulk_insert_mappings", "bulk_update_mappings",
})
# methods that change a collection (a relationship's list or set) of a local object
MUTATORS = frozenset({"append", "extend", "insert", "remove", "add", "discard", "update", "pop", "clear"})
OBJECT = ""  # a write to a local object: any session's commit flushes it


def pending_writes(function: cst.FunctionDef, names: Names) -> frozenset[str]:
    """What the function may leave uncommitted: the objects whose ``session`` it wrote
    (``pkg.models.db``), and ``OBJECT`` for a local object it changed (module doc)."""
    pending: set[str] = set()
    for block in findall(function, m.IndentedBlock()):
        open_: set[str] = set()
        for statement in block.body:  # type: ignore[attr-defined]
            committed = _commit(statement, names)
            if committed is not None:
                open_ -= {committed, OBJECT}
                continue
            # a compound statement's own blocks are blocks of their own (a write in one is committed there)
            written = _writes(statement, names) if isinstance(statement, cst.SimpleStatementLine) else set()
            if open_ and not (written and _only_writes(statement)):
                pending |= open_  # something else runs before the commit
                open_ = set()
            open_ |= written
        pending |= open_
    return frozenset(pending)


def _session_call(node: cst.CSTNode, names: Names) -> tuple[str, str] | None:
    """``x.session.method(...)`` -> (x qualified, method)."""
    if not m.matches(node, m.Call(func=m.Attribute(value=m.Attribute(attr=m.Name("session")), attr=m.Name()))):
        return None
    owner = node.func.value.value  # type: ignore[attr-defined]
    found = names(owner)
    return (next(iter(found)), node.func.attr.value) if len(found) == 1 else None  # type: ignore[attr-defined]


def _commit(statement: cst.CSTNode, names: Names) -> str | None:
    if not m.matches(statement, m.SimpleStatementLine([m.Expr(m.Call(args=[]))])):
        return None
    call = _session_call(statement.body[0].value, names)  # type: ignore[attr-defined]
    return call[0] if call is not None and call[1] == "commit" else None


def _writes(statement: cst.CSTNode, names: Names) -> set[str]:
    found: set[str] = set()
    for call in findall(statement, m.Call()):
        session = _session_call(call, names)
        if session is not None and session[1] in SESSION_WRITES:
            found.add(session[0])
        elif m.matches(call, m.Call(func=m.Attribute(value=m.Attribute(value=m.Name()), attr=m.Name()))) and call.func.attr.value in MUTATORS:  # type: ignore[attr-defined]
            if _local(call.func.value.value, names):  # type: ignore[attr-defined]
                found.add(OBJECT)
    targets = [t.target for t in findall(statement, m.AssignTarget())] + [
        s.target for s in findall(statement, m.AugAssign() | m.AnnAssign())  # type: ignore[attr-defined]
    ]
    for target in targets:
        if isinstance(target, cst.Attribute) and _local(_root(target), names):
            found.add(OBJECT)
    return found


def _only_writes(statement: cst.CSTNode) -> bool:
    """One write and nothing else that could raise first: a call's arguments or an assigned
    value without calls."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return False
    small = statement.body[0]
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        return not any(findall(a, m.Call()) for a in small.value.args)
    if isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)) and small.value is not None:
        return not findall(small.value, m.Call())
    return False


def _root(node: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.func if isinstance(node, cst.Call) else node.value
    return node


def _local(node: cst.BaseExpression, names: Names) -> bool:
    """A variable of the function (a row it loaded), not a module's or Flask's object."""
    if not isinstance(node, cst.Name):
        return False
    found = names(node)
    return bool(found) and all("<locals>" in q for q in found)
