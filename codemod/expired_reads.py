"""Which ORM objects a view reads after its session's ``commit()``, where an async session can
load them again first.

A session whose factory expires loaded values on commit (Flask-SQLAlchemy's, and plain
SQLAlchemy's default) loads an object's columns again on the first attribute read after the
commit, a SELECT of its row. An ``AsyncSession`` cannot load on attribute access (it raises
``MissingGreenlet``), but ``await session.refresh(obj)`` right before the statement with that
first read runs the same SELECT at the same point of the view. That holds where the code shows
the object is in the session (given to ``session.add(obj)`` before the commit, never to
``session.delete``), the view commits once, as a statement of its own body, and every read of the
object after it is in a simple statement of that body: the refresh then runs exactly where the
load on access would have, on every path (codemod/flask_sqlalchemy_async.py plans it,
transforms/flask_sqlalchemy_async.py writes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m

SESSION_CALL = m.Call(func=m.Attribute(value=m.Attribute(attr=m.Name("session"))))


@dataclass(frozen=True)
class CommitFacts:
    added: frozenset[str]  # locals given to ``<x>.session.add(local)`` before the commit
    deleted: frozenset[str]  # locals given to ``<x>.session.delete(local)`` anywhere
    read_after: frozenset[str]  # locals whose attributes are read after the commit
    # one commit, a statement of the body, and every read after it in a simple statement of the body
    simple: bool


def commit_facts(function: cst.FunctionDef) -> CommitFacts | None:
    """The facts of ``function``'s ``<x>.session.commit()`` (None: it calls none)."""
    commits = [c for c in m.findall(function.body, SESSION_CALL) if _method(c) == "commit"]  # type: ignore[arg-type]
    if not commits:
        return None
    body = list(function.body.body) if isinstance(function.body, cst.IndentedBlock) else []
    at = next((i for i, s in enumerate(body) if _is_commit(s)), None)
    simple = len(commits) == 1 and at is not None
    added: set[str] = set()
    deleted: set[str] = set()
    for call in m.findall(function.body, SESSION_CALL):
        local = _argument(call)  # type: ignore[arg-type]
        if local is not None and _method(call) == "delete":  # type: ignore[arg-type]
            deleted.add(local)
    read_after: set[str] = set()
    for index, statement in enumerate(body):
        if at is not None and index < at:
            added |= {a for c in m.findall(statement, SESSION_CALL) if _method(c) == "add" for a in [_argument(c)] if a}  # type: ignore[arg-type]
            continue
        if index == at:
            continue
        read = {a.value.value for a in m.findall(statement, m.Attribute(value=m.Name()))}  # type: ignore[attr-defined]
        read_after |= read
        if read and not isinstance(statement, cst.SimpleStatementLine):
            simple = False
    return CommitFacts(frozenset(added), frozenset(deleted), frozenset(read_after), simple)


def _is_commit(statement: cst.BaseStatement) -> bool:
    return m.matches(statement, m.SimpleStatementLine(body=[m.Expr(value=SESSION_CALL)])) and _method(
        statement.body[0].value  # type: ignore[attr-defined]
    ) == "commit"


def _method(call: cst.Call) -> str:
    return call.func.attr.value  # type: ignore[attr-defined]


def _argument(call: cst.Call) -> str | None:
    if len(call.args) == 1 and isinstance(call.args[0].value, cst.Name) and call.args[0].keyword is None:
        return call.args[0].value.value
    return None
