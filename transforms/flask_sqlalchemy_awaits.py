"""In the views of a project leaving Flask-SQLAlchemy that codemod/flask_sqlalchemy_async.py made
``async def``, the plain SQLAlchemy forms transforms/flask_sqlalchemy.py wrote run on the
AsyncSession (https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html):

- ``db.scalars(select(...))`` -> ``await db_session.scalars(select(...))`` (each session call
  that does I/O awaited, ``db.add(x)`` -> ``db_session.add(x)``);
- the runtime's ``get_or_404(db, ...)`` / ``first_or_404`` / ``one_or_404`` / ``paginate`` ->
  ``await`` their async twins (flask2fastapi_runtime.async_sqla) on ``db_session``;
- an object whose columns the view reads again after its commit expired them gets one
  ``await db_session.refresh(obj)`` right after the commit (codemod/commit_expiry.py: in the order
  the view runs; a read before the commit is left as it is);
- an expression that may load on attribute access (a model method, a relationship, the engine,
  an expired value a refresh cannot be proven to load the same: the plan's ``sync_attrs``,
  commit_expiry's ``run_sync``) runs as it did, on the AsyncSession's sync session:
  ``await db_session.run_sync(lambda db: author.to_dict())``.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.commit_expiry import Expiry, commit_expiry
from codemod.transform import Example, Transform
from transforms._awaits import BareAwaits, bare_await
from transforms._flask import RUNTIME
from transforms.async_routes import SESSION_IO
from transforms.flask_sqlalchemy import SESSION, SQLA_RUNTIME
from codemod.names import Parents

HELPERS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})
_PARENS = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}


class FlaskSqlalchemyAwaitsTransform(BareAwaits, Transform):
    NAME = "flask_sqlalchemy_awaits"
    DESCRIPTION = "plain SQLAlchemy's session calls in async views -> awaited on the AsyncSession, lazy loads in run_sync"
    PREFILTER = (b"SQLAlchemy",)
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
            db = SQLAlchemy()
            db.init_app(app)


            class Shelf(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                name = db.Column(db.String(30))
                books = db.relationship("Book")

                def to_dict(self):
                    return {"id": self.id, "name": self.name, "books": len(self.books)}


            class Book(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                shelf_id = db.Column(db.Integer, db.ForeignKey("shelf.id"))


            @app.get("/shelves/<int:shelf_id>")
            def shelf(shelf_id):
                return jsonify(db.get_or_404(Shelf, shelf_id).to_dict())


            @app.post("/shelves/<int:shelf_id>/books")
            def add_book(shelf_id):
                shelf = Shelf.query.get_or_404(shelf_id)
                book = Book(shelf_id=shelf.id)
                db.session.add(book)
                db.session.commit()
                return jsonify(id=book.id, shelf=shelf.name, total=Book.query.count()), 201
            """,
            """\
            from flask import Flask
            from collections.abc import AsyncIterator
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge, async_sqla
            from flask2fastapi_runtime.async_db import async_session
            from flask2fastapi_runtime.sqla import engine_from_config, get_or_404, model_repr
            from sqlalchemy import Column, ForeignKey, Integer, String, func, select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import DeclarativeBase, relationship, sessionmaker
            from typing import Annotated

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"


            class Base(DeclarativeBase):
                \"\"\"The models' base (Flask-SQLAlchemy's db.Model), which writes a model as it did: <Model 1>.\"\"\"

                __repr__ = model_repr


            async def provide_async_db_session(request: Request) -> AsyncIterator[AsyncSession]:
                \"\"\"The request's async session on db's database, closed (what it did not commit rolled back) after the response.\"\"\"
                session = async_session(request.app.state.sessionmaker)
                try:
                    yield session
                finally:
                    await session.close()


            AsyncDbSessionDep = Annotated[AsyncSession, Depends(provide_async_db_session)]


            api.state.engine = engine_from_config(app.config, app.instance_path)
            api.state.sessionmaker = sessionmaker(api.state.engine)


            class Shelf(Base):
                __tablename__ = "shelf"

                id = Column(Integer, primary_key=True)
                name = Column(String(30))
                books = relationship("Book")

                def to_dict(self):
                    return {"id": self.id, "name": self.name, "books": len(self.books)}


            class Book(Base):
                __tablename__ = "book"

                id = Column(Integer, primary_key=True)
                shelf_id = Column(Integer, ForeignKey("shelf.id"))


            @api.get("/shelves/{shelf_id}")
            async def shelf(shelf_id: int, db_session: AsyncDbSessionDep):
                return await db_session.run_sync(lambda db: get_or_404(db, Shelf, shelf_id).to_dict())


            @api.post("/shelves/{shelf_id}/books", status_code=201)
            async def add_book(shelf_id: int, db_session: AsyncDbSessionDep):
                shelf = await async_sqla.get_or_404(db_session, Shelf, shelf_id)
                book = Book(shelf_id=shelf.id)
                db_session.add(book)
                await db_session.commit()
                await db_session.refresh(book)
                await db_session.refresh(shelf)
                return {"id": book.id, "shelf": shelf.name, "total": await db_session.scalar(select(func.count()).select_from(Book))}
            """,
            title="session calls awaited, db.get_or_404 its async twin, a model method in run_sync; the commit expired book and shelf: one refresh each right after it (shelf.id before the commit is read as it is)",
        ),
        Example(
            """\
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            class Shelf(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                name = db.Column(db.String(30))


            def rename(shelf_id, name):
                shelf = db.session.get(Shelf, shelf_id)
                shelf.name = name
                db.session.commit()
                return shelf.name
            """,
            None,
            title="no route: a function of a script keeps db.session and reads what its commit expired on access",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.flask_sqlalchemy_plan
        self.module = context.full_module_name or ""
        self.view: str | None = None  # the async view we are in
        self.depth = 0
        self.region: cst.CSTNode | None = None  # the expression that runs in run_sync
        self.twins: set[str] = set()  # the helpers whose async twins it called
        self.expiry = Expiry()  # what the view's commits expired

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1
        qualified = f"{self.module}.{node.name.value}"
        if self.depth == 1 and self.plan.plain and qualified in self.plan.views:
            self.view = qualified
            # what may load on access runs in run_sync anyway: the column reads are left
            candidates = frozenset(r for r in self.plan.sync_reads.get(qualified, frozenset()) if r[1] not in self.plan.sync_attrs)
            self.expiry = commit_expiry(node, candidates, self.plan.loaded.get(qualified, frozenset()), self._session_call)

    def _session_call(self, call: cst.Call) -> str | None:
        """``"commit"`` for ``db.session.commit()`` of the view's db, and so on."""
        func = call.func
        if m.matches(func, m.Attribute(m.Attribute(attr=m.Name("session")), m.Name())) and self.names(func.value.value, self.plan.views[self.view]):  # type: ignore[attr-defined,index]
            return func.attr.value  # type: ignore[attr-defined]
        return None

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node):
        self.depth -= 1
        if not self.depth:
            self.view = None
        return updated_node

    def _param(self) -> str:
        return self.plan.resources[self.plan.views[self.view]].param  # type: ignore[index]

    # -- what runs in run_sync --------------------------------------------------------------------
    def _loads(self, node: cst.CSTNode) -> bool:
        """Whether the chain's spine (``a.b(...).c``, as the project wrote it) reads what may load
        on access, or the engine."""
        db = self.plan.views.get(self.view or "", "")
        while isinstance(node, (cst.Attribute, cst.Call)):
            if isinstance(node, cst.Attribute):
                if node.attr.value in self.plan.sync_attrs or node in self.expiry.run_sync:
                    return True
                if node.attr.value in {"engine", "inspect"} and self.names(node.value, db):
                    return True
                node = node.value
            else:
                node = node.func
        return False

    def _chain_top(self, node: cst.CSTNode) -> bool:
        parent = self.get_metadata(Parents, node, None)
        return not (isinstance(parent, cst.Attribute) and parent.value is node) and not (isinstance(parent, cst.Call) and parent.func is node)

    def _enter(self, node: cst.CSTNode) -> None:
        if self.view is not None and self.region is None and self._chain_top(node) and self._loads(node) and not findall(node, m.Await()):
            self.region = node

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._enter(node)

    def visit_Call(self, node: cst.Call) -> None:
        self._enter(node)

    def _leave_region(self, original: cst.CSTNode, updated: cst.BaseExpression) -> cst.BaseExpression:
        self.region = None
        body = updated.with_changes(lpar=[], rpar=[])
        function = cst.Lambda(cst.Parameters([cst.Param(cst.Name(SESSION))]), body)
        call = cst.Call(cst.Attribute(cst.Name(self._param()), cst.Name("run_sync")), [cst.Arg(function)])
        return cst.Await(call, **_PARENS)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node):
        if self.region is original_node:
            return self._leave_region(original_node, updated_node)
        return updated_node

    # -- awaited calls ------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node):
        if self.region is original_node:
            return self._leave_region(original_node, updated_node)
        if self.view is None or self.region is not None or not isinstance(updated_node, cst.Call):
            return updated_node
        return self._awaited(original_node, updated_node)

    def _awaited(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """The call as flask_sqlalchemy wrote it, on the AsyncSession; along its spine too
        (``db.scalars(...).first()``: the inner call is flask_sqlalchemy's, with no original)."""
        func = updated.func
        if m.matches(func, m.Attribute(m.Name(SESSION), m.Name())):
            call = updated.with_changes(func=func.with_changes(value=cst.Name(self._param())))  # type: ignore[attr-defined]
            return cst.Await(call, **_PARENS) if func.attr.value in SESSION_IO else call  # type: ignore[attr-defined]
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
            inner = self._awaited(original, func.value)
            if inner is not func.value:
                return updated.with_changes(func=func.with_changes(value=inner))
        return self._helper(original, updated)

    def _helper(self, original: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        func = updated_node.func
        if m.matches(func, m.Name()) and func.value in HELPERS and updated_node.args and m.matches(updated_node.args[0].value, m.Name(SESSION)):  # type: ignore[attr-defined]
            self.twins.add(func.value)  # type: ignore[attr-defined]
            module = self.import_reference(original, RUNTIME, "async_sqla", replaces=False)
            first = updated_node.args[0].with_changes(value=cst.Name(self._param()))
            twin = cst.Attribute(module, cst.Name(func.value))  # type: ignore[attr-defined]
            return cst.Await(updated_node.with_changes(func=twin, args=[first, *updated_node.args[1:]]), **_PARENS)
        return updated_node

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        # the sync helpers flask_sqlalchemy imported for what became their async twins
        for helper in self.twins:
            attributes = {id(a.attr) for a in findall(updated_node, m.Attribute())}  # type: ignore[attr-defined]
            if not any(id(n) not in attributes for n in findall(updated_node, m.Name(helper))):
                self.run.support_imports.discard((SQLA_RUNTIME, helper, None))
        return updated_node

    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node):
        """``await db_session.refresh(review)`` right after the commit for each object the view
        reads again after it (codemod/commit_expiry.py)."""
        wanted = self.expiry.refresh.get(original_node) if self.view is not None else None
        if not wanted or not isinstance(updated_node, cst.SimpleStatementLine):
            return updated_node
        refresh = cst.Attribute(cst.Name(self._param()), cst.Name("refresh"))
        lines = [cst.SimpleStatementLine([cst.Expr(cst.Await(cst.Call(refresh, [cst.Arg(cst.Name(local))])))]) for local in wanted]
        return cst.FlattenSentinel([updated_node, *lines])

    def leave_ListComp(self, original_node: cst.ListComp, updated_node):
        return bare_await(updated_node, cst.ListComp, "elt")
