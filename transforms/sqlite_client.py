"""The request's sqlite3 connection in a function that becomes async -> awaited calls of the async one.

Targets https://fastapi.tiangolo.com/async/ (a blocking sqlite3 call in an ``async def`` stalls
every request the event loop serves) and the runtime's async_sqlite module: the async twin of a
``get_db()`` getter gives an ``AsyncSqlite``, whose ``execute`` answers with a cursor read whole.
So the conversion is an ``await`` on each call of the connection that does I/O; what reads the
answer (``fetchone()``, ``lastrowid``, a ``for`` loop) stays as it is.

A function converts when the whole-program plan makes it async (``Project.async_functions``) and
the getter it reaches the connection through has an async twin (``Project.async_plan.resources``);
then request_state hands it that twin. Where a use has no faithful async form
(codemod/sqlite_io.py says which), the function is flagged and left as it is: the plan keeps such
a function sync once it reads the same facts.
"""

from __future__ import annotations

import libcst as cst

from codemod.findings import Code
from codemod.async_plan import SQLITE3
from codemod.sqlite_io import Analysis, analyse
from codemod.transform import Example, Transform

_PARENS = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}


class SqliteClientTransform(Transform):
    NAME = "sqlite_client"
    DESCRIPTION = "the request's sqlite3 connection in async functions -> awaited calls of the runtime's async connection"
    PREFILTER = (b"sqlite3",)
    FINDINGS = {
        "blocking": Code(
            "F2F272",
            "sqlite3 stays blocking in {function}: {reason}",
            "A function that becomes async uses the request's sqlite3 connection in a way the async "
            "connection (flask2fastapi_runtime.async_sqlite) has no faithful form for: a cursor object "
            "(db.cursor()), the connection as a context manager, a callback registered on it, the "
            "connection handed to code that would use it synchronously, a cursor's description. "
            "Rewrite that use with the awaited calls by hand, or keep the function synchronous.",
        ),
    }
    EXAMPLES = (
        Example(
            """\
            async def count_notes(owner):
                return get_db().execute("SELECT COUNT(*) FROM notes WHERE owner = ?", (owner,)).fetchone()[0]
            """,
            title="a function the plan does not make async (here: no getter with an async twin) stays as it is",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.awaits: set[cst.Call] = set()

    def visit_Module(self, node: cst.Module) -> None:
        project = self.run.project
        getters = frozenset(g for g, twin in project.async_plan.resources.items() if twin.kind == SQLITE3)
        if not getters:
            return
        names = self.qualified_names
        for function in _functions(node):
            if not names(function.name) & project.async_functions:
                continue
            analysis = analyse(function, names, getters)
            if analysis.problem is not None:
                where, reason = analysis.problem
                self.flag(where, "blocking", function=function.name.value, reason=reason)
            else:
                self._take(analysis)

    def _take(self, analysis: Analysis) -> None:
        self.awaits.update(analysis.awaits)

    # -- writing --------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node not in self.awaits or not isinstance(updated_node, cst.Call):
            return updated_node  # not ours, or an earlier transform made something else of it
        return cst.Await(updated_node, **_PARENS)

    # an await that is a whole value needs no parentheses
    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        return _bare(updated_node, cst.Assign, "value")

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        return _bare(updated_node, cst.AnnAssign, "value")

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        return _bare(updated_node, cst.Return, "value")

    def leave_Expr(self, original_node: cst.Expr, updated_node: cst.Expr) -> cst.Expr:
        return _bare(updated_node, cst.Expr, "value")

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return _bare(updated_node, cst.Arg, "value")

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        return _bare(updated_node, cst.For, "iter")

    def leave_CompFor(self, original_node: cst.CompFor, updated_node: cst.CompFor) -> cst.CompFor:
        return _bare(updated_node, cst.CompFor, "iter")


def _bare(node, kind: type, attribute: str):
    """``(await x)`` -> ``await x`` where it stands as the node's whole ``attribute``."""
    value = getattr(node, attribute, None) if isinstance(node, kind) else None
    if isinstance(value, cst.Await) and value.lpar:
        return node.with_changes(**{attribute: value.with_changes(lpar=[], rpar=[])})
    return node


def _functions(module: cst.Module):
    stack: list[cst.CSTNode] = [module]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.FunctionDef):
            yield node
        stack.extend(node.children)
