"""Views of a Flask-SQLAlchemy project whose database work can run on an ``AsyncSession`` become
``async def`` (codemod/flask_sqlalchemy_async.py decides which; the others stay as they were).

- the view takes ``db_session: AsyncDbSessionDep``; its ``db.session.x(...)`` calls become
  ``db_session.x(...)``, awaited where they do I/O (``await db_session.flush()``; ``add`` is not);
- next to ``db = SQLAlchemy()``, the dependency: an ``AsyncSession`` over the engine ``db`` made
  for the app, with ``db.session``'s options (the runtime's ``async_db.flask_sqlalchemy_session``),
  closed after the response; what the request did not commit is rolled back then, as
  Flask-SQLAlchemy's session removed at the end of the app context did.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
from codemod.flask_sqlalchemy_async import FlaskSqlaResource
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME
from transforms._views import with_parameter
from transforms.async_routes import SESSION_IO
from codemod.names import Parents

_PARENS = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}


class FlaskSqlalchemyAsyncTransform(Transform):
    NAME = "flask_sqlalchemy_async"
    DESCRIPTION = "views using only Flask-SQLAlchemy's db.session -> async def over an AsyncSession dependency"
    PREFILTER = (b"SQLAlchemy", b".session.")
    EXAMPLES = (
        Example(
            """\
            from functools import wraps

            from flask import Flask, g, jsonify, request
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            db = SQLAlchemy(app)


            class Item(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                name = db.Column(db.String(40))


            def key_required(view):
                @wraps(view)
                def wrapped(*args, **kwargs):
                    if request.headers.get("X-Key") != "k":
                        return jsonify(error="unauthorized"), 401
                    g.user = "ann"
                    return view(*args, **kwargs)

                return wrapped


            @app.get("/items")
            def items():
                return jsonify(count=db.session.scalar(db.select(db.func.count(Item.id))))


            @app.post("/items")
            @key_required
            def add_item():
                db.session.add(Item(name=g.user))
                db.session.commit()
                return {"name": g.user}, 201
            """,
            """\
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy
            from collections.abc import AsyncIterator
            from fastapi import Depends, Request
            from fastapi.security import APIKeyHeader
            from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse
            from flask2fastapi_runtime.async_db import flask_sqlalchemy_session
            from flask2fastapi_runtime.refusals import GuardRefused
            from pydantic import BaseModel
            from sqlalchemy.ext.asyncio import AsyncSession
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            db = SQLAlchemy(app)


            async def provide_async_db_session(request: Request) -> AsyncIterator[AsyncSession]:
                \"\"\"The request's async session on db's database, closed (what it did not commit rolled back) after the response.\"\"\"
                session = flask_sqlalchemy_session(db, request.app)
                try:
                    yield session
                finally:
                    await session.close()


            AsyncDbSessionDep = Annotated[AsyncSession, Depends(provide_async_db_session)]


            class Item(db.Model):
                id = db.Column(db.Integer, primary_key=True)
                name = db.Column(db.String(40))


            # declares the scheme for OpenAPI; the checks below read the header themselves
            key_required_scheme = APIKeyHeader(name="X-Key", auto_error=False)


            def key_required(request: Request, credentials: Annotated[str | None, Depends(key_required_scheme)]):
                if request.headers.get("X-Key") != "k":
                    raise GuardRefused(FlaskJSONResponse({"error": "unauthorized"}, status_code=401))
                user = "ann"
                return user


            CurrentUser = Annotated[Any, Depends(key_required)]


            class ItemsResponse(BaseModel):
                \"\"\"What items answers with (documents its 200 answer in OpenAPI).\"\"\"

                count: Any


            @api.get("/items", response_model=ItemsResponse)
            async def items(db_session: AsyncDbSessionDep):
                return {"count": await db_session.scalar(db.select(db.func.count(Item.id)))}


            @api.post("/items", status_code=201)
            async def add_item(user: CurrentUser, db_session: AsyncDbSessionDep):
                db_session.add(Item(name=user))
                await db_session.commit()
                return {"name": user}
            """,
            title="a view on db.session alone goes async, one behind a guard made a dependency too; the dependency goes next to db",
        ),
        Example(
            """\
            from flask_sqlalchemy import SQLAlchemy

            db = SQLAlchemy()


            def count(model):
                return db.session.scalar(db.select(db.func.count()).select_from(model))
            """,
            None,
            title="no route: a function of a script or a CLI command keeps db.session, and no dependency is written",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.flask_sqlalchemy_plan
        self.module = context.full_module_name or ""
        self.current: FlaskSqlaResource | None = None  # the resource of the async view we are in
        self.depth = 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1
        module_level = self.depth == 1 and isinstance(self.get_metadata(Parents, node, None), cst.Module)
        qualified = f"{self.module}.{node.name.value}"
        if module_level and qualified in self.plan.views:
            resource = self.plan.resources[self.plan.views[qualified]]
            # ``s = db.session`` then ``s.commit()``: the facts see no db.session call there,
            # and the view would use both sessions: it stays as it was
            if not self._held_elsewhere(node, resource):
                self.current = resource

    def _held_elsewhere(self, function: cst.FunctionDef, resource: FlaskSqlaResource) -> bool:
        """Whether ``db.session`` appears other than as the receiver of a method call."""
        called = {
            id(c.func.value) for c in findall(function, m.Call(func=m.Attribute()))  # type: ignore[attr-defined]
        }
        return any(
            id(a) not in called and self.names(a, f"{resource.db}.session")
            for a in findall(function, m.Attribute(attr=m.Name("session")))
        )

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node):
        self.depth -= 1
        resource = self.current
        if self.depth or resource is None or not isinstance(updated_node, cst.FunctionDef):
            return updated_node
        self.current = None
        alias = self._alias(original_node, resource)
        # (laid out as a def, as async_routes lays out the views it makes async)
        updated_node = with_parameter(updated_node.with_changes(asynchronous=None), resource.param, alias)
        return updated_node.with_changes(asynchronous=cst.Asynchronous())

    def leave_Call(self, original_node: cst.Call, updated_node):
        resource = self.current
        if resource is None or self.depth != 1 or not isinstance(updated_node, cst.Call):
            return updated_node
        func = original_node.func
        if not isinstance(func, cst.Attribute) or not self.names(func.value, f"{resource.db}.session"):
            return updated_node
        call = updated_node.with_changes(func=cst.Attribute(cst.Name(resource.param), func.attr))
        return cst.Await(call, **_PARENS) if func.attr.value in SESSION_IO else call

    def _alias(self, anchor: cst.CSTNode, resource: FlaskSqlaResource) -> cst.BaseExpression:
        module, _, _ = resource.db.rpartition(".")
        if module == self.module:
            return cst.Name(resource.alias)
        return self.import_reference(anchor, module, resource.alias, replaces=False)

    # -- the dependency, next to ``db = SQLAlchemy()`` ------------------------------------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node):
        if self.depth or len(original_node.body) != 1 or not isinstance(original_node.body[0], cst.Assign):
            return updated_node
        targets = original_node.body[0].targets
        if len(targets) != 1 or not isinstance(targets[0].target, cst.Name):
            return updated_node
        resource = self.plan.resources.get(f"{self.module}.{targets[0].target.value}")
        if resource is None:
            return updated_node
        return cst.FlattenSentinel([updated_node, *self._dependency(original_node, resource)])

    def _dependency(self, anchor: cst.CSTNode, resource: FlaskSqlaResource) -> list[cst.BaseStatement]:
        request = self.import_reference(anchor, "fastapi", "Request", replaces=False)
        depends = self.import_reference(anchor, "fastapi", "Depends", replaces=False)
        plain = self.run.project.plain_sqlalchemy.db == resource.db  # over plain SQLAlchemy's sessionmaker (flask_sqlalchemy.py)
        if plain:
            opener = self.import_reference(anchor, f"{RUNTIME}.async_db", "async_session", replaces=False)
        else:
            opener = self.import_reference(anchor, f"{RUNTIME}.async_db", "flask_sqlalchemy_session", replaces=False)
        session_type = self.import_reference(anchor, "sqlalchemy.ext.asyncio", "AsyncSession", replaces=False)
        iterator = self.import_reference(anchor, "collections.abc", "AsyncIterator", replaces=False)
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        db = resource.db.rpartition(".")[2]
        opened = "request.app.state.sessionmaker" if plain else f"{db}, request.app"
        source = f'''
async def {resource.dependency}(request: {request.value}) -> {iterator.value}[{session_type.value}]:
    """The request's async session on {db}'s database, closed (what it did not commit rolled back) after the response."""
    session = {opener.value}({opened})
    try:
        yield session
    finally:
        await session.close()


{resource.alias} = {annotated.value}[{session_type.value}, {depends.value}({resource.dependency})]
'''
        statements = list(cst.parse_module(source).body)
        blank = [cst.EmptyLine(), cst.EmptyLine()]
        return [s.with_changes(leading_lines=blank) for s in statements]
