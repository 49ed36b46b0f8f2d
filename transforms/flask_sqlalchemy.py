"""Flask-SQLAlchemy becomes plain SQLAlchemy 2.0 where codemod/flask_sqlalchemy_plain.py proves
it safe for the whole project (https://fastapi.tiangolo.com/tutorial/sql-databases/).

- ``db = SQLAlchemy()`` -> the models' ``Base`` (a ``DeclarativeBase`` writing itself as
  ``db.Model`` did), a yield dependency ``get_session`` over the app's ``sessionmaker`` (closed
  after the response: what the request did not commit is rolled back, as when Flask-SQLAlchemy
  removed its session) and ``DbSession``, its ``Annotated`` alias (where a sync view or hook still
  takes them: flask_sqlalchemy_async's views take the AsyncSession);
- ``db.init_app(app)`` -> the engine Flask-SQLAlchemy made from the same config, and its
  ``sessionmaker``, on the FastAPI app's ``state``; ``db.create_all()`` -> ``Base.metadata.create_all``;
- ``class M(db.Model)`` -> ``class M(Base)`` with the table name Flask-SQLAlchemy gave it;
  ``db.Column`` and the other re-exports -> sqlalchemy's own names; ``db.Table(name, ...)`` ->
  ``Table(name, Base.metadata, ...)``;
- a view that queries takes ``db: DbSession``: ``db.session.add(x)`` -> ``db.add(x)``;
  ``Model.query.filter_by(...).first()`` -> ``db.scalars(select(Model).filter_by(...).limit(1)).first()``
  (SQLAlchemy's 2.0 migration guide's forms; ``.unique()`` before ``all()`` / ``one()``, as the
  legacy Query gave each object once);
  ``db.get_or_404`` / ``first_or_404`` / ``one_or_404`` / ``paginate`` -> the runtime's (sqla.py),
  given the session (``paginate`` also the query string where the page is not given); a model's
  classmethod that queries takes the session from the view that calls it;
- a query built over statements in a local (``query = Model.query.order_by(...)``, ``query =
  query.filter_by(...)``) holds its ``select()``, and its terminal runs it (``db.scalars(query)``);
  ``db.session.query(Model)...`` is the same legacy Query as ``Model.query``;
- an after_request hook that queried ``db.session`` (RequestHooks middleware) opens a session of
  its own, ``with contextmanager(get_session)(request) as db:``, where no view leaves a change
  uncommitted that Flask-SQLAlchemy's shared session would have shown it (codemod/sqla_flow.py).
"""

from __future__ import annotations

import re

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.flask_sqlalchemy_plain import CORE_NAMES, HELPERS, KEYED, ORM_NAMES, PlainSqlaPlan
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME
from transforms._views import with_parameter
from codemod.names import Parents

SESSION = "db"  # the parameter the session comes in as (the name the project's code used for the extension)
SQLA_RUNTIME = f"{RUNTIME}.sqla"


def table_name(class_name: str) -> str:
    """Flask-SQLAlchemy's table name for a model without ``__tablename__``: CamelCase in
    snake_case (``BookEdition`` -> ``book_edition``, ``HTTPLog`` -> ``http_log``)."""
    return re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))", r"_\1", class_name).lower().lstrip("_")


class FlaskSqlalchemyTransform(Transform):
    NAME = "flask_sqlalchemy"
    DESCRIPTION = "Flask-SQLAlchemy -> plain SQLAlchemy 2.0: a DeclarativeBase, a session dependency, select()"
    PREFILTER = (b"SQLAlchemy", b".Model", b".query", b".session", b"init_app", b"create_all", b"_or_404", b"paginate")
    EXAMPLES = (
        Example(
            """\
            from flask import Flask, jsonify
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
            db = SQLAlchemy()
            db.init_app(app)


            class TodoItem(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                done = db.Column(db.Boolean, default=False)


            @app.get("/todos/<int:todo_id>")
            def todo(todo_id):
                return jsonify(done=db.get_or_404(TodoItem, todo_id).done)


            @app.get("/open")
            def open_items():
                return jsonify(count=TodoItem.query.filter_by(done=False).count())
            """,
            """\
            from flask import Flask
            from collections.abc import AsyncIterator
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge, async_sqla
            from flask2fastapi_runtime.async_db import async_session
            from flask2fastapi_runtime.sqla import engine_from_config, model_repr
            from pydantic import BaseModel
            from sqlalchemy import Boolean, Column, Integer, func, select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import DeclarativeBase, sessionmaker
            from typing import Annotated, Any

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


            class TodoItem(Base):
                __tablename__ = "todo_item"

                id = Column(Integer, primary_key=True)
                done = Column(Boolean, default=False)


            class TodoResponse(BaseModel):
                \"\"\"What todo answers with (documents its 200 answer in OpenAPI).\"\"\"

                done: Any


            @api.get("/todos/{todo_id}", response_model=TodoResponse)
            async def todo(todo_id: int, db_session: AsyncDbSessionDep):
                return {"done": (await async_sqla.get_or_404(db_session, TodoItem, todo_id)).done}


            class OpenItemsResponse(BaseModel):
                \"\"\"What open_items answers with (documents its 200 answer in OpenAPI).\"\"\"

                count: Any


            @api.get("/open", response_model=OpenItemsResponse)
            async def open_items(db_session: AsyncDbSessionDep):
                return {"count": await db_session.scalar(select(func.count()).select_from(select(TodoItem).filter_by(done=False).subquery()))}
            """,
            title="the models, the engine, the session dependency and the queries, in one module",
        ),
        Example(
            """\
            from flask import Flask, request
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
            db = SQLAlchemy()
            db.init_app(app)


            class Note(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                author = db.Column(db.String(40))


            @app.get("/notes")
            def notes():
                author = request.args.get("author")
                query = Note.query.order_by(Note.id)
                if author:
                    query = query.filter_by(author=author)
                return {"ids": [note.id for note in query.all()], "total": query.count()}


            @app.delete("/notes/<int:note_id>")
            def delete_note(note_id):
                db.session.delete(db.get_or_404(Note, note_id))
                db.session.commit()
                return {}


            @app.after_request
            def count_header(response):
                response.headers["X-Notes"] = str(db.session.query(Note).count())
                return response
            """,
            """\
            from flask import Flask
            from collections.abc import AsyncIterator, Iterator
            from contextlib import contextmanager
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge, RequestHooks, ResponseHead, async_sqla
            from flask2fastapi_runtime.async_db import async_session
            from flask2fastapi_runtime.sqla import engine_from_config, model_repr
            from pydantic import BaseModel
            from sqlalchemy import Column, Integer, String, func, select
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"


            class Base(DeclarativeBase):
                \"\"\"The models' base (Flask-SQLAlchemy's db.Model), which writes a model as it did: <Model 1>.\"\"\"

                __repr__ = model_repr


            def get_session(request: Request) -> Iterator[Session]:
                \"\"\"The request's session, closed after the response (what it did not commit is rolled back).\"\"\"
                with request.app.state.sessionmaker() as session:
                    yield session


            DbSession = Annotated[Session, Depends(get_session)]


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


            class Note(Base):
                __tablename__ = "note"

                id = Column(Integer, primary_key=True)
                author = Column(String(40))


            class NotesResponse(BaseModel):
                \"\"\"What notes answers with (documents its 200 answer in OpenAPI).\"\"\"

                ids: list
                total: Any


            @api.get("/notes", response_model=NotesResponse)
            async def notes(author: str | None = None, *, db_session: AsyncDbSessionDep):
                query = select(Note).order_by(Note.id)
                if author:
                    query = query.filter_by(author=author)
                return {"ids": [note.id for note in (await db_session.scalars(query)).unique().all()], "total": await db_session.scalar(select(func.count()).select_from(query.subquery()))}


            @api.delete("/notes/{note_id}")
            async def delete_note(note_id: int, db_session: AsyncDbSessionDep):
                await db_session.delete(await async_sqla.get_or_404(db_session, Note, note_id))
                await db_session.commit()
                return {}


            def count_header(request: Request, response: ResponseHead):
                with contextmanager(get_session)(request) as db:
                    response.headers["X-Notes"] = str(db.scalar(select(func.count()).select_from(Note)))
                    return response


            api.add_middleware(RequestHooks, after=[count_header])
            """,
            title="a query built over statements in a local (a select() there), db.session.query(...), and an after_request hook that queries: RequestHooks middleware with a session of its own",
        ),
        Example(
            """\
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            db = SQLAlchemy()
            db.init_app(app)


            class Note(db.Model):
                id = db.Column(db.Integer, primary_key=True)


            @app.post("/notes")
            def add_note():
                db.session.add(Note())
                return {}


            @app.after_request
            def count_header(response):
                response.headers["X-Notes"] = str(db.session.query(Note).count())
                return response
            """,
            """\
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy
            from collections.abc import AsyncIterator
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge, RequestHooks, ResponseHead
            from flask2fastapi_runtime.async_db import flask_sqlalchemy_session
            from sqlalchemy.ext.asyncio import AsyncSession
            from typing import Annotated

            app = Flask(__name__)
            api = FlaskBridge(app)
            db = SQLAlchemy()


            async def provide_async_db_session(request: Request) -> AsyncIterator[AsyncSession]:
                \"\"\"The request's async session on db's database, closed (what it did not commit rolled back) after the response.\"\"\"
                session = flask_sqlalchemy_session(db, request.app)
                try:
                    yield session
                finally:
                    await session.close()


            AsyncDbSessionDep = Annotated[AsyncSession, Depends(provide_async_db_session)]
            db.init_app(app)


            class Note(db.Model):
                id = db.Column(db.Integer, primary_key=True)


            @api.post("/notes")
            async def add_note(db_session: AsyncDbSessionDep):
                db_session.add(Note())
                return {}


            def count_header(request: Request, response: ResponseHead):
                with app.app_context():
                    response.headers["X-Notes"] = str(db.session.query(Note).count())
                    return response


            api.add_middleware(RequestHooks, after=[count_header])
            """,
            title="the hook's own session would not see what a view left uncommitted (Flask's shared session did): the project keeps Flask-SQLAlchemy",
        ),
        Example(
            """\
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            def count(model):
                return db.session.scalar(db.select(db.func.count()).select_from(model))
            """,
            None,
            title="db.session outside a view (a script's function): the project keeps Flask-SQLAlchemy",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan: PlainSqlaPlan = run.project.plain_sqlalchemy
        self.module = context.full_module_name or ""
        self.functions: list[str | None] = [None]  # the qualified function (or Class.method) we are in
        self.classes: list[str] = []
        self.needs_request: set[str] = set()

    # -- where we are -------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(f"{self.classes[-1] if self.classes else self.module}.{node.name.value}")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        outer = self.functions[-1]
        if outer is None:
            outer = f"{self.classes[-1] if self.classes else self.module}.{node.name.value}"
        self.functions.append(outer)

    def _user(self) -> bool:
        """Whether the function we are in takes the session (and is not an async view: those
        take the AsyncSession of flask_sqlalchemy_async)."""
        function = self.functions[-1]
        if function in self.run.project.flask_sqlalchemy_plan.views:  # its sync forms: flask_sqlalchemy_awaits makes them async
            return self.run.project.flask_sqlalchemy_plan.plain
        return function in self.plan.session_users

    def _db(self, node: cst.CSTNode | None) -> bool:
        return node is not None and self.plan.db is not None and self.names(node, self.plan.db)

    def _local(self, anchor: cst.CSTNode, name: str) -> cst.BaseExpression:
        """``Base`` / ``DbSession``: defined in db's module, imported elsewhere."""
        if self.module == self.plan.module:
            return cst.Name(name)
        return self.import_reference(anchor, self.plan.module, name, replaces=False)

    # -- names --------------------------------------------------------------------------------
    def visit_Name(self, node: cst.Name) -> None:
        # every use of db converts (the plan proved it): its import goes with the last one
        if self.plan.db is not None and self.names(node, self.plan.db):
            self.consume(node)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node):
        if (  # ``query = Model.query``: the statement the query local holds
            self.plan.query_locals and original_node.attr.value == "query" and self._user()
            and self.names(original_node.value, *self.plan.models) and self._query_local_value(original_node)
        ):
            return cst.Call(self.import_reference(original_node, "sqlalchemy", "select", replaces=False), [cst.Arg(updated_node.value)])
        if self.plan.db is None or not self._db(original_node.value):
            return updated_node
        attr = original_node.attr.value
        if attr in CORE_NAMES or attr in ORM_NAMES:
            self.consume(original_node.value)
            return self.import_reference(original_node, "sqlalchemy" if attr in CORE_NAMES else "sqlalchemy.orm", attr, replaces=False)
        if attr == "session" and self._user():
            self.consume(original_node.value)
            return cst.Name(SESSION)
        if attr == "engine" and self._user():
            self.consume(original_node.value)
            return cst.Call(cst.Attribute(cst.Name(SESSION), cst.Name("get_bind")))
        if attr == "Model" and self.classes:
            self.consume(original_node.value)
            return self._local(original_node, "Base")
        return updated_node

    # -- calls --------------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node):
        if self.plan.db is None or not isinstance(updated_node, cst.Call):
            return updated_node
        func = original_node.func
        if isinstance(func, cst.Attribute) and self._db(func.value):
            return self._db_call(original_node, updated_node, func.attr.value)
        if not self._user() or not isinstance(func, cst.Attribute):
            return updated_node
        query = self._query(original_node, updated_node)
        if query is not None:
            return query
        if func.attr.value == "paginate":  # a lazy="dynamic" relationship's query
            return self._helper(original_node, updated_node, "paginate", updated_node.func.value)
        if self.names(func, *self.plan.session_methods):
            return updated_node.with_changes(args=[cst.Arg(cst.Name(SESSION)), *updated_node.args])
        return updated_node

    def _db_call(self, original: cst.Call, updated: cst.Call, attr: str):
        if attr in HELPERS and self._user():
            self.consume(original.func)
            return self._helper(original, updated, attr, None)
        if attr == "Table" and updated.args:
            metadata = cst.Arg(cst.Attribute(self._local(original, "Base"), cst.Name("metadata")), comma=updated.args[0].comma)
            return updated.with_changes(args=[updated.args[0], metadata, *updated.args[1:]])
        if attr in {"create_all", "drop_all"} and not updated.args:
            self.consume(original.func)
            metadata = cst.Attribute(self._local(original, "Base"), cst.Name("metadata"))
            return cst.Call(cst.Attribute(metadata, cst.Name(attr)), [cst.Arg(self._engine())])
        return updated

    def _engine(self) -> cst.BaseExpression:
        return cst.Attribute(cst.Attribute(cst.Name(self.plan.bridge), cst.Name("state")), cst.Name("engine"))

    def _helper(self, original: cst.Call, updated: cst.Call, helper: str, first: cst.BaseExpression | None) -> cst.Call:
        """``helper(db, [first,] *args)`` of the runtime; ``paginate`` without its page or
        per_page also reads the request's query string, as Flask-SQLAlchemy read request.args."""
        space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        given = list(updated.args)
        closing = given[-1].whitespace_after_arg if given else cst.SimpleWhitespace("")
        args = [cst.Arg(cst.Name(SESSION), comma=space), *([cst.Arg(first, comma=space)] if first is not None else []), *given]
        if helper == "paginate" and not {"page", "per_page"} <= {a.keyword.value for a in given if a.keyword is not None}:
            self.needs_request.add(self.functions[-1] or "")
            query = cst.Attribute(cst.Name("request"), cst.Name("query_params"))
            args.append(cst.Arg(query, keyword=cst.Name("args"), equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        # the layout of the call it replaces: its first line break, and the one before ``)``
        args = [a.with_changes(comma=space, whitespace_after_arg=cst.SimpleWhitespace("")) for a in args[:-1]] + [
            args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=closing)
        ]
        function = self.import_reference(original, SQLA_RUNTIME, helper, replaces=False)
        return cst.Call(function, args, whitespace_before_args=updated.whitespace_before_args)

    def _query(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression | None:
        """``Model.query.<steps>.<terminal>(...)`` in its ``select()`` form (None: not one); also
        ``db.session.query(Model).<steps>...``, the same legacy Query, and a chain from a query
        local (its statement), or the chain given to one (``query = Model.query.order_by(...)``)."""
        steps: list[tuple[str, list[cst.Arg]]] = []
        node_o: cst.BaseExpression = original
        node_u: cst.BaseExpression = updated
        first_args: list[cst.Arg] = []  # the original arguments of the first step
        while isinstance(node_o, cst.Call) and isinstance(node_o.func, cst.Attribute) and isinstance(node_u, cst.Call) and isinstance(node_u.func, cst.Attribute):
            steps.insert(0, (node_o.func.attr.value, list(node_u.args)))  # type: ignore[attr-defined]
            first_args = list(node_o.args)
            node_o, node_u = node_o.func.value, node_u.func.value  # type: ignore[attr-defined]
        start: cst.BaseExpression | None = None  # a query local: the statement it holds
        if m.matches(node_o, m.Attribute(attr=m.Name("query"))) and (self.names(node_o.value, *self.plan.models) or self._own_class(node_o.value)):  # type: ignore[attr-defined]
            model_u = node_u.value  # type: ignore[attr-defined]
        elif (
            m.matches(node_o, m.Attribute(attr=m.Name("session"))) and self._db(node_o.value) and steps and steps[0][0] == "query"  # type: ignore[attr-defined]
            and len(first_args) == 1 and m.matches(first_args[0], m.Arg(keyword=None, star="")) and self.names(first_args[0].value, *self.plan.models)
        ):
            model_u, steps = steps[0][1][0].value, steps[1:]
        elif isinstance(node_o, cst.Name) and self.qualified_names(node_o) & self.plan.query_locals:
            model_u, start = None, node_u
        else:
            return None
        if not steps or (start is not None and self._query_local_value(original)):
            return None  # ``query = query.filter_by(...)``: a select() already
        session = cst.Name(SESSION)

        def built(kind: str, chain: list[tuple[str, list[cst.Arg]]]) -> cst.BaseExpression:
            statement = start if start is not None else cst.Call(self.import_reference(original, "sqlalchemy", kind, replaces=False), [cst.Arg(model_u)])
            for name, step_args in chain:
                statement = cst.Call(cst.Attribute(statement, cst.Name(name)), step_args)
            return statement

        if self._query_local_value(original):
            return built("select", steps)
        (*chain, (terminal, args)) = steps
        if terminal in KEYED and chain:
            return None
        if terminal == "get":
            return cst.Call(cst.Attribute(session, cst.Name("get")), [cst.Arg(model_u), *args])
        if terminal in {"get_or_404", "first_or_404", "paginate"}:
            return self._helper(original, updated.with_changes(args=args), terminal, model_u if terminal == "get_or_404" else built("select", chain))
        if terminal == "first":  # Query.first() ran with LIMIT 1
            limited = cst.Call(cst.Attribute(built("select", chain), cst.Name("limit")), [cst.Arg(cst.Integer("1"))])
            scalars = cst.Call(cst.Attribute(session, cst.Name("scalars")), [cst.Arg(limited)])
            return cst.Call(cst.Attribute(scalars, cst.Name(terminal)), args)
        if terminal in {"all", "one", "one_or_none"}:
            # the legacy Query gave each object once (a joined eager load repeats it); select() does not
            scalars = cst.Call(cst.Attribute(session, cst.Name("scalars")), [cst.Arg(built("select", chain))])
            unique = cst.Call(cst.Attribute(scalars, cst.Name("unique")))
            return cst.Call(cst.Attribute(unique, cst.Name(terminal)), args)
        if terminal == "count":
            count = cst.Call(cst.Attribute(self.import_reference(original, "sqlalchemy", "func", replaces=False), cst.Name("count")))
            counted = cst.Call(self.import_reference(original, "sqlalchemy", "select", replaces=False), [cst.Arg(count)])
            source = model_u if not chain and start is None else cst.Call(cst.Attribute(built("select", chain), cst.Name("subquery")))
            return cst.Call(cst.Attribute(session, cst.Name("scalar")), [cst.Arg(cst.Call(cst.Attribute(counted, cst.Name("select_from")), [cst.Arg(source)]))])
        if terminal == "delete":
            return cst.Call(cst.Attribute(session, cst.Name("execute")), [cst.Arg(built("delete", chain))])
        return None

    def _query_local_value(self, node: cst.BaseExpression) -> bool:
        """Whether ``node`` is the whole value given to a query local (``query = ...``)."""
        parent = self.get_metadata(Parents, node, None)
        return (
            m.matches(parent, m.Assign([m.AssignTarget(m.Name())])) and parent.value is node  # type: ignore[union-attr]
            and bool(self.qualified_names(parent.targets[0].target) & self.plan.query_locals)  # type: ignore[union-attr]
        )

    def _own_class(self, node: cst.BaseExpression) -> bool:
        """``cls`` in a classmethod of a model that takes the session."""
        return isinstance(node, cst.Name) and node.value == "cls" and self.functions[-1] in self.plan.session_methods

    # -- statements and definitions --------------------------------------------------------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node):
        if self.plan.db is None or not m.matches(original_node, m.SimpleStatementLine([m.Expr(m.Call(m.Attribute(attr=m.Name("init_app")), [m.Arg()]))])):
            return updated_node
        call = original_node.body[0].value  # type: ignore[attr-defined]
        if not self._db(call.func.value):
            return updated_node
        self.consume(call.func)
        app = call.args[0].value
        state = cst.Attribute(cst.Name(self.plan.bridge), cst.Name("state"))
        engine = cst.Call(
            self.import_reference(original_node, SQLA_RUNTIME, "engine_from_config", replaces=False),
            [cst.Arg(cst.Attribute(app, cst.Name("config"))), cst.Arg(cst.Attribute(app, cst.Name("instance_path")))],
        )
        maker = cst.Call(self.import_reference(original_node, "sqlalchemy.orm", "sessionmaker", replaces=False), [cst.Arg(self._engine())])
        return cst.FlattenSentinel([
            updated_node.with_changes(body=[cst.Assign([cst.AssignTarget(cst.Attribute(state, cst.Name("engine")))], engine)]),
            cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Attribute(state, cst.Name("sessionmaker")))], maker)]),
        ])

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node):
        function = self.functions.pop()
        if self.plan.db is None or self.functions[-1] is not None or not isinstance(updated_node, cst.FunctionDef):
            return updated_node
        if function in self.plan.session_methods:
            session = self.import_reference(original_node, "sqlalchemy.orm", "Session", replaces=False)
            params = list(updated_node.params.params)
            param = cst.Param(cst.Name(SESSION), cst.Annotation(session), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            return updated_node.with_changes(params=updated_node.params.with_changes(params=[params[0], param, *params[1:]]))
        if function not in self.plan.session_users:
            return updated_node
        if function in self.plan.hook_users:
            return self._own_session(original_node, updated_node)
        if function in self.needs_request:
            updated_node = with_parameter(updated_node, "request", self.import_reference(original_node, "fastapi", "Request", replaces=False))
        if function in self.run.project.flask_sqlalchemy_plan.views:
            return updated_node  # it takes the AsyncSession (flask_sqlalchemy_async)
        return with_parameter(updated_node, SESSION, self._local(original_node, "DbSession"))

    def _own_session(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """A hook that queried ``db.session`` (RequestHooks middleware, which hands it Starlette's
        request as ``request``): its body in ``with contextmanager(get_session)(request) as db:``,
        a session of its own, as the view's dependency opens one (codemod/sqla_flow.py: the views
        leave nothing uncommitted that Flask's shared session would have shown it)."""
        manager = self.import_reference(original, "contextlib", "contextmanager", replaces=False)
        opener = cst.Call(cst.Call(manager, [cst.Arg(self._local(original, "get_session"))]), [cst.Arg(cst.Name("request"))])
        statements = list(updated.body.body)  # type: ignore[attr-defined]
        docstring = statements[:1] if statements and m.matches(statements[0], m.SimpleStatementLine([m.Expr(m.SimpleString())])) else []
        block = cst.With([cst.WithItem(opener, asname=cst.AsName(cst.Name(SESSION)))], cst.IndentedBlock(statements[len(docstring):]))
        return updated.with_changes(body=updated.body.with_changes(body=[*docstring, block]))

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node):
        qualified = self.classes.pop()
        if qualified not in self.plan.models or not isinstance(updated_node, cst.ClassDef):
            return updated_node
        if findall(original_node.body, m.AssignTarget(m.Name("__tablename__"))):
            return updated_node
        body = list(updated_node.body.body)
        at = 1 if body and m.matches(body[0], m.SimpleStatementLine([m.Expr(m.SimpleString() | m.ConcatenatedString())])) else 0
        name = cst.SimpleString(f'"{table_name(original_node.name.value)}"')
        # after the docstring, as its own paragraph
        line = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name("__tablename__"))], name)])
        if at < len(body):
            line = line.with_changes(leading_lines=body[at].leading_lines if at else [])
            body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(indent=False), *(l for l in body[at].leading_lines if l.comment)])
        return updated_node.with_changes(body=updated_node.body.with_changes(body=[*body[:at], line, *body[at:]]))

    # -- the module of db ---------------------------------------------------------------------
    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if self.plan.db is None or self.module != self.plan.module:
            return updated_node
        name = self.plan.db.rpartition(".")[2]
        body = list(updated_node.body)
        index = next(
            (i for i, s in enumerate(body) if m.matches(s, m.SimpleStatementLine([m.Assign([m.AssignTarget(m.Name(name))], m.Call())]))),
            None,
        )
        if index is None:
            return updated_node
        for maker in findall(original_node, m.Assign([m.AssignTarget(m.Name(name))], m.Call())):
            self.consume(maker.value.func)  # type: ignore[attr-defined]
        after = body[index + 1:]
        # two blank lines after the definitions (and the async session's, flask_sqlalchemy_async's)
        resource = self.run.project.flask_sqlalchemy_plan.resources.get(self.plan.db)
        written = m.OneOf(*(m.Name(n) for n in (resource.dependency, resource.alias))) if resource is not None else None
        first = 0
        while written is not None and first < len(after) and m.matches(after[first], m.FunctionDef(written) | m.SimpleStatementLine([m.Assign([m.AssignTarget(written)])])):
            first += 1
        if first < len(after) and not any(line.comment is None for line in after[first].leading_lines):
            after[first] = after[first].with_changes(leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *after[first].leading_lines])
        return updated_node.with_changes(body=[*body[:index], *self._definitions(original_node, body[index]), *after])

    def _definitions(self, anchor: cst.CSTNode, replaced: cst.BaseStatement) -> list[cst.BaseStatement]:
        ref = {
            (module, name): self.import_reference(anchor, module, name, replaces=False).value
            for module, name in [
                ("sqlalchemy.orm", "DeclarativeBase"), (SQLA_RUNTIME, "model_repr"),
            ]
        }
        source = f'''
class Base({ref["sqlalchemy.orm", "DeclarativeBase"]}):
    """The models' base (Flask-SQLAlchemy's db.Model), which writes a model as it did: <Model 1>."""

    __repr__ = {ref[SQLA_RUNTIME, "model_repr"]}
'''
        if self._sync_session_taken():
            source += self._sync_session(anchor)
        statements = list(cst.parse_module(source).body)
        blank = [cst.EmptyLine(), cst.EmptyLine()]
        comments = [line for line in replaced.leading_lines if line.comment]
        return [s.with_changes(leading_lines=[*blank, *(comments if not i else ())]) for i, s in enumerate(statements)]

    def _sync_session_taken(self) -> bool:
        """Whether a view or hook takes the sync session (not every one became async)."""
        views = set(self.run.project.flask_sqlalchemy_plan.views)
        return bool(self.plan.hook_users or self.plan.session_users - self.plan.session_methods - views)

    def _sync_session(self, anchor: cst.CSTNode) -> str:
        """``get_session`` and ``DbSession``, its ``Annotated`` alias."""
        ref = {
            (module, name): self.import_reference(anchor, module, name, replaces=False).value
            for module, name in [
                ("sqlalchemy.orm", "Session"), ("fastapi", "Request"), ("fastapi", "Depends"), ("collections.abc", "Iterator"), ("typing", "Annotated"),
            ]
        }
        return f'''


def get_session(request: {ref["fastapi", "Request"]}) -> {ref["collections.abc", "Iterator"]}[{ref["sqlalchemy.orm", "Session"]}]:
    """The request's session, closed after the response (what it did not commit is rolled back)."""
    with request.app.state.sessionmaker() as session:
        yield session


DbSession = {ref["typing", "Annotated"]}[{ref["sqlalchemy.orm", "Session"]}, {ref["fastapi", "Depends"]}(get_session)]
'''
