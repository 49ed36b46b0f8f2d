"""Routes whose whole path can run on the event loop become ``async def``, awaiting their I/O.

Targets https://fastapi.tiangolo.com/async/ and SQLAlchemy's asyncio extension
(https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html). codemod/async_plan.py decides,
for the whole program, which functions become async; this transform writes it:

- the function becomes ``async def`` (a guard dependency is written async by request_state);
- each call of the request's session that does I/O is awaited (``await db.scalar(...)``,
  ``(await db.scalars(...)).all()``, ``await db.commit()``); ``db.add(...)`` is not I/O;
- each call of a function that became async is awaited, across modules;
- ``time.sleep(s)`` becomes ``await asyncio.sleep(s)``;
- a relationship read the plan can tie to a model becomes ``await obj.awaitable_attrs.rel``, and
  a model method that reads one is preceded by that await (it loads it); the declarative base
  gets SQLAlchemy's ``AsyncAttrs``.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ParentNodeProvider

from codemod.async_facts import SLEEP
from codemod.transform import Example, Transform

# AsyncSession's methods that are coroutines (the others, add/add_all/expunge..., are not)
SESSION_IO = frozenset({
    "execute", "scalar", "scalars", "get", "get_one", "commit", "rollback", "flush", "refresh",
    "delete", "merge", "close", "stream", "stream_scalars", "connection", "run_sync", "reset", "invalidate",
})
_PARENS = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}


class AsyncRoutesTransform(Transform):
    NAME = "async_routes"
    DESCRIPTION = "views whose path can run on the event loop -> async def, awaiting the async session and each other"
    METADATA_DEPENDENCIES = (ParentNodeProvider,)
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, current_app, g
            from sqlalchemy import select
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

            app = Flask(__name__)


            class Base(DeclarativeBase):
                pass


            class Item(Base):
                __tablename__ = "items"
                id: Mapped[int] = mapped_column(primary_key=True)


            def get_db() -> Session:
                if "db" not in g:
                    g.db = current_app.extensions["factory"]()
                return g.db


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)
            app.extensions["factory"] = sessionmaker(expire_on_commit=False)


            def count_items():
                return len(get_db().scalars(select(Item)).all())


            @app.get("/items")
            def items():
                return {"count": count_items()}
            """,
            """\
            from flask import Flask, current_app, g
            from sqlalchemy import select
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
            from collections.abc import AsyncIterator
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.async_db import async_session
            from pydantic import BaseModel
            from sqlalchemy.ext.asyncio import AsyncSession
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            class Base(DeclarativeBase):
                pass


            class Item(Base):
                __tablename__ = "items"
                id: Mapped[int] = mapped_column(primary_key=True)


            def get_db() -> Session:
                if "db" not in g:
                    g.db = current_app.extensions["factory"]()
                return g.db


            async def provide_async_db(request: Request) -> AsyncIterator[AsyncSession]:
                \"\"\"The request's async db session, on the database of the one get_db opens, closed after the response.\"\"\"
                db = async_session(request.app.extensions["factory"])
                try:
                    yield db
                finally:
                    await db.close()


            AsyncDbDep = Annotated[AsyncSession, Depends(provide_async_db)]


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)
            app.extensions["factory"] = sessionmaker(expire_on_commit=False)


            async def count_items(db):
                return len((await db.scalars(select(Item))).all())


            class ItemsResponse(BaseModel):
                \"\"\"What items answers with (documents its 200 answer in OpenAPI).\"\"\"

                count: Any


            @api.get("/items", response_model=ItemsResponse)
            async def items(db: AsyncDbDep):
                return {"count": await count_items(db=db)}
            """,
            title="a view and its helper on the request's session become async, over an AsyncSession",
        ),
        Example(
            """\
            import requests
            from flask import Flask

            app = Flask(__name__)


            def fetch():
                return requests.get("https://example.org", timeout=5).text


            @app.get("/page")
            def page():
                return {"page": fetch()}
            """,
            """\
            import requests
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            def fetch():
                return requests.get("https://example.org", timeout=5).text


            class PageResponse(BaseModel):
                \"\"\"What page answers with (documents its 200 answer in OpenAPI).\"\"\"

                page: Any


            @api.get("/page", response_model=PageResponse)
            def page():
                return {"page": fetch()}
            """,
            title="a view whose path makes an HTTP request with requests stays def (the thread pool)",
        ),
        Example(
            """\
            import time

            from sqlalchemy.orm import DeclarativeBase


            class Base(DeclarativeBase):
                pass


            def pause():
                time.sleep(0.1)
            """,
            title="code that no route reaches stays as it is: a sleep, a declarative base",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.async_plan
        self.params = {r.param for r in self.plan.resources.values()}
        self.module = context.full_module_name or ""
        self.stack: list[str | None] = []  # the functions we are in (qualified when module-level)
        self.loaded: set[tuple[str, str]] = set()  # preloads written in the current function

    # -- where we are ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        module_level = not self.stack and isinstance(self.get_metadata(ParentNodeProvider, node, None), cst.Module)
        self.stack.append(f"{self.module}.{node.name.value}" if module_level else None)
        if module_level:
            self.loaded = set()

    def _async_owner(self) -> str | None:
        """The async function whose own body we are in (a guard's wrapper counts as the guard's)."""
        if not self.stack or self.stack[0] not in self.plan.functions:
            return None
        if len(self.stack) == 1 or (len(self.stack) == 2 and self.stack[0] in self.plan.guards):
            return self.stack[0]
        return None

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.stack.append(None)

    def leave_Lambda(self, original_node: cst.Lambda, updated_node: cst.Lambda) -> cst.Lambda:
        self.stack.pop()
        return updated_node

    # -- expressions ----------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node):
        owner = self._async_owner()
        if owner is None or not isinstance(updated_node, cst.Call):
            return updated_node
        names = self.qualified_names(original_node.func)
        if SLEEP in names:
            self.consume(original_node.func)
            sleep = self.import_reference(original_node.func, "asyncio", "sleep", replaces=False)
            return cst.Await(updated_node.with_changes(func=sleep), **_PARENS)
        func = updated_node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in self.params and func.attr.value in SESSION_IO:
            return cst.Await(updated_node, **_PARENS)
        if names & (self.plan.functions - self.plan.guards):
            return cst.Await(updated_node, **_PARENS)
        return updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node):
        owner = self._async_owner()
        if owner is None or not isinstance(original_node.value, cst.Name) or not isinstance(updated_node, cst.Attribute):
            return updated_node
        if (owner, original_node.value.value, original_node.attr.value) not in self.plan.awaitables:
            return updated_node
        loaded = cst.Attribute(cst.Attribute(updated_node.value, cst.Name("awaitable_attrs")), original_node.attr)
        return cst.Await(loaded, **_PARENS)

    # -- statements: an await that stands alone needs no parentheses ----------------------------
    # (an earlier transform may have made the node another kind: it is left as it is)
    def leave_Assign(self, original_node: cst.Assign, updated_node):
        return _bare_value(updated_node, cst.Assign)

    def leave_Return(self, original_node: cst.Return, updated_node):
        return _bare_value(updated_node, cst.Return)

    def leave_Expr(self, original_node: cst.Expr, updated_node):
        return _bare_value(updated_node, cst.Expr)

    def leave_Arg(self, original_node: cst.Arg, updated_node):
        return _bare_value(updated_node, cst.Arg)

    def leave_Element(self, original_node: cst.Element, updated_node):
        return _bare_value(updated_node, cst.Element)

    def leave_DictElement(self, original_node: cst.DictElement, updated_node):
        return _bare_value(updated_node, cst.DictElement)

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node):
        owner = self._async_owner()
        wanted = self.plan.preloads.get(owner or "", frozenset())
        if not wanted or not isinstance(updated_node, cst.SimpleStatementLine):
            return updated_node
        before = []
        for local, relationship in sorted(wanted):
            if (local, relationship) in self.loaded:
                continue
            if m.findall(original_node, m.Call(func=m.Attribute(value=m.Name(local)))):
                self.loaded.add((local, relationship))
                loaded = cst.Attribute(cst.Attribute(cst.Name(local), cst.Name("awaitable_attrs")), cst.Name(relationship))
                before.append(cst.SimpleStatementLine([cst.Expr(cst.Await(loaded))], leading_lines=updated_node.leading_lines))
        if not before:
            return updated_node
        return cst.FlattenSentinel([*before, updated_node.with_changes(leading_lines=[])])

    # -- definitions ----------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node):
        qualified = self.stack.pop()
        if qualified is None or qualified not in self.plan.functions or qualified in self.plan.guards:
            return updated_node
        if not isinstance(updated_node, cst.FunctionDef):
            return updated_node
        return updated_node.with_changes(asynchronous=cst.Asynchronous())

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        qualified = f"{self.module}.{original_node.name.value}"
        if qualified not in self.plan.bases or any(self.qualified_names(b.value) & {"sqlalchemy.ext.asyncio.AsyncAttrs"} for b in original_node.bases):
            return updated_node
        mixin = self.import_reference(original_node, "sqlalchemy.ext.asyncio", "AsyncAttrs", replaces=False)
        first = cst.Arg(mixin, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated_node.with_changes(bases=[first, *updated_node.bases])


def _bare_value(node, kind: type):
    """``(await x)`` -> ``await x`` where it stands as a whole value."""
    value = getattr(node, "value", None) if isinstance(node, kind) else None
    if isinstance(value, cst.Await) and value.lpar:
        return node.with_changes(value=value.with_changes(lpar=[], rpar=[]))
    return node
