"""The request's sqlite3 connection in a function that becomes async -> awaited calls of the async one.

Targets https://fastapi.tiangolo.com/async/ (a blocking sqlite3 call in an ``async def`` stalls
every request the event loop serves) and the runtime's async_sqlite module: the async twin of a
``get_db()`` getter gives an ``AsyncSqlite``, whose ``execute`` answers with a cursor read whole.
So the conversion is an ``await`` on each call of the connection that does I/O; what reads the
answer (``fetchone()``, ``lastrowid``, a ``for`` loop) stays as it is.

A function converts when the whole-program plan makes it async (``Project.async_functions``) and
the getter it reaches the connection through has an async twin of the sqlite3 kind
(``Project.async_plan.resources``); request_state hands it that twin. The plan makes no function
async that uses the connection in a way the async one has no faithful form for
(codemod/sqlite_io.py says which, and the plan reads the same facts): meeting one here would
mean the two disagree, and the file fails rather than mix sync calls into async code.
"""

from __future__ import annotations

import libcst as cst

from codemod.async_plan import SQLITE3
from codemod.sqlite_io import analyse
from codemod.transform import Example, Transform
from transforms._awaits import bare_await, functions_in

_PARENS = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}


class SqliteClientTransform(Transform):
    NAME = "sqlite_client"
    DESCRIPTION = "the request's sqlite3 connection in async functions -> awaited calls of the runtime's async connection"
    PREFILTER = (b"sqlite3",)
    EXAMPLES = (
        Example(
            """\
            import sqlite3

            from flask import Flask, g

            app = Flask(__name__)


            def get_db():
                if "db" not in g:
                    g.db = sqlite3.connect("notes.db")
                    g.db.row_factory = sqlite3.Row
                return g.db


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)


            @app.post("/notes/<text>")
            def add_note(text):
                db = get_db()
                cursor = db.execute("INSERT INTO notes (text) VALUES (?)", (text,))
                db.commit()
                return {"id": cursor.lastrowid}


            @app.get("/notes/<int:id>")
            def note(id):
                return dict(get_db().execute("SELECT * FROM notes WHERE id = ?", (id,)).fetchone())
            """,
            """\
            import sqlite3

            from flask import Flask
            from collections.abc import AsyncIterator
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.async_sqlite import AsyncSqlite, async_sqlite
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            async def provide_async_db(request: Request) -> AsyncIterator[AsyncSqlite]:
                \"\"\"The request's async db connection, closed after the response.\"\"\"
                db = async_sqlite("notes.db")
                db.row_factory = sqlite3.Row
                try:
                    yield db
                finally:
                    await db.close()


            AsyncDbDep = Annotated[AsyncSqlite, Depends(provide_async_db)]


            class AddNoteResponse(BaseModel):
                \"\"\"What add_note answers with (documents its 200 answer in OpenAPI).\"\"\"

                id: Any


            @api.post("/notes/{text}", response_model=AddNoteResponse)
            async def add_note(text: str, db: AsyncDbDep):
                cursor = await db.execute("INSERT INTO notes (text) VALUES (?)", (text,))
                await db.commit()
                return {"id": cursor.lastrowid}


            @api.get("/notes/{id}")
            async def note(id: int, db: AsyncDbDep):
                return dict((await db.execute("SELECT * FROM notes WHERE id = ?", (id,))).fetchone())
            """,
            title="the views on the request's connection become async: each call that does I/O is awaited, what reads its answer stays",
        ),
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
        for function in functions_in(node):
            if not names(function.name) & project.async_functions:
                continue
            analysis = analyse(function, names, getters)
            if analysis.problem is not None:
                raise RuntimeError(f"the async plan made {function.name.value} async, whose sqlite3 use has no async form: {analysis.problem[1]}")
            self.awaits.update(analysis.awaits)

    # -- writing --------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if original_node not in self.awaits or not isinstance(updated_node, cst.Call):
            return updated_node  # not ours, or an earlier transform made something else of it
        return cst.Await(updated_node, **_PARENS)

    # an await that is a whole value needs no parentheses
    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign) -> cst.Assign:
        return bare_await(updated_node, cst.Assign, "value")

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign) -> cst.AnnAssign:
        return bare_await(updated_node, cst.AnnAssign, "value")

    def leave_Return(self, original_node: cst.Return, updated_node: cst.Return) -> cst.Return:
        return bare_await(updated_node, cst.Return, "value")

    def leave_Expr(self, original_node: cst.Expr, updated_node: cst.Expr) -> cst.Expr:
        return bare_await(updated_node, cst.Expr, "value")

    def leave_Arg(self, original_node: cst.Arg, updated_node: cst.Arg) -> cst.Arg:
        return bare_await(updated_node, cst.Arg, "value")

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        return bare_await(updated_node, cst.For, "iter")

    def leave_CompFor(self, original_node: cst.CompFor, updated_node: cst.CompFor) -> cst.CompFor:
        return bare_await(updated_node, cst.CompFor, "iter")
