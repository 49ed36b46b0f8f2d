"""Routes whose whole path can run on the event loop become ``async def``, awaiting their I/O.

Targets https://fastapi.tiangolo.com/async/ and SQLAlchemy's asyncio extension
(https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html). codemod/async_plan.py decides,
for the whole program, which functions become async; this transform writes it:

- the function becomes ``async def`` (a guard dependency is written async by request_state);
- each call of the request's session that does I/O is awaited (``await db.scalar(...)``,
  ``(await db.scalars(...)).all()``, ``await db.commit()``); ``db.add(...)`` is not I/O;
- each call of a function that became async is awaited, across modules;
- ``time.sleep(s)`` becomes ``await asyncio.sleep(s)`` (by the module's name: a test swapping
  ``mod.time.sleep`` can swap ``mod.asyncio.sleep``);
- a generator the plan makes async becomes an async generator: called without ``await``, iterated
  with ``async for`` (also where a local holds it, or the awaited result of a function returning
  one), ``yield from`` written as a loop, ``-> Iterator[T]`` as ``-> AsyncIterator[T]``;
- a streamed body's generator defined in an async view becomes an async generator; where it used
  the request's session (Flask's ``stream_with_context`` kept ``g`` for it) it opens the async one
  of its own with the view's dependency, and the view takes the request for that;
- a relationship read the plan can tie to a model becomes ``await obj.awaitable_attrs.rel``, and
  a model method that reads one is preceded by that await (it loads it); the declarative base
  gets SQLAlchemy's ``AsyncAttrs``.
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from codemod.async_facts import SLEEP, streamed_generators
from codemod.async_plan import SQLALCHEMY
from codemod.find import findall
from codemod.transform import Example, Transform
from transforms._awaits import BareAwaits
from codemod.names import Parents

# AsyncSession's methods that are coroutines (the others, add/add_all/expunge..., are not)
SESSION_IO = frozenset({
    "execute", "scalar", "scalars", "get", "get_one", "commit", "rollback", "flush", "refresh",
    "delete", "merge", "close", "stream", "stream_scalars", "connection", "run_sync", "reset", "invalidate",
})
_PARENS = {"lpar": [cst.LeftParen()], "rpar": [cst.RightParen()]}
# what a generator's return annotation may say: it becomes collections.abc.AsyncIterator
ITERATOR_TYPES = frozenset({
    "collections.abc.Iterator", "collections.abc.Iterable", "collections.abc.Generator",
    "typing.Iterator", "typing.Iterable", "typing.Generator",
})
STREAMED = "<streamed>"
FACTORY_VIEW = "<factory view>"  # a view an app factory defines that goes async (AsyncPlan.factory_views)
REQUEST_PARAM = "http_request"  # request_state's name for the view's Request parameter  # the stack's mark for a streamed generator of an async view


class AsyncRoutesTransform(BareAwaits, Transform):
    NAME = "async_routes"
    DESCRIPTION = "views whose path can run on the event loop -> async def, awaiting the async session and each other"
    METADATA_DEPENDENCIES = (Parents,)
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
            from flask import Flask
            from sqlalchemy import select
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
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


            async def provide_async_db(request: Request) -> AsyncIterator[AsyncSession]:
                \"\"\"The request's async db session, closed after the response.\"\"\"
                db = async_session(request.app.extensions["factory"])
                try:
                    yield db
                finally:
                    await db.close()


            AsyncDbDep = Annotated[AsyncSession, Depends(provide_async_db)]
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
            title="a view and its helper on the request's session become async, over an AsyncSession; the sync getter nothing calls any more goes, with its teardown",
        ),
        Example(
            """\
            import urllib.request
            from flask import Flask

            app = Flask(__name__)


            def fetch():
                return urllib.request.urlopen("https://example.org", timeout=5).read()


            @app.get("/page")
            def page():
                return {"page": fetch()}
            """,
            """\
            import urllib.request
            from flask import Flask
            from flask2fastapi_runtime import FlaskBridge
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            def fetch():
                return urllib.request.urlopen("https://example.org", timeout=5).read()


            class PageResponse(BaseModel):
                \"\"\"What page answers with (documents its 200 answer in OpenAPI).\"\"\"

                page: Any


            @api.get("/page", response_model=PageResponse)
            def page():
                return {"page": fetch()}
            """,
            title="a view whose path makes an HTTP request with urllib (no async form here) stays def (the thread pool)",
        ),
        Example(
            """\
            import time

            from flask import Flask, Response, stream_with_context

            app = Flask(__name__)


            def words(text):
                time.sleep(0.01)
                yield from text.split()


            def chunks(text):
                return words(text)


            @app.get("/words")
            def streamed():
                parts = chunks("a b c")

                def generate():
                    for part in parts:
                        yield part + "\\n"

                return Response(stream_with_context(generate()), mimetype="text/plain")
            """,
            """\
            from flask import Flask
            import asyncio
            from fastapi.responses import StreamingResponse
            from flask2fastapi_runtime import FlaskBridge

            app = Flask(__name__)
            api = FlaskBridge(app)


            async def words(text):
                await asyncio.sleep(0.01)
                for item in text.split():
                    yield item


            async def chunks(text):
                return words(text)


            @api.get("/words")
            async def streamed():
                parts = await chunks("a b c")

                async def generate():
                    async for part in parts:
                        yield part + "\\n"

                return StreamingResponse(generate(), media_type="text/plain")
            """,
            title="a generator that sleeps becomes an async generator; what returns one is awaited, and the streamed body iterates it with async for",
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
        # the parameters holding an AsyncSession (a sqlite3 connection's calls are
        # transforms/sqlite_client.py's to await, from what it reads of the connection's uses)
        self.params = {r.param for r in self.plan.resources.values() if r.kind == SQLALCHEMY}
        self.module = context.full_module_name or ""
        self.stack: list[str | None] = []  # the functions we are in (qualified when module-level)
        self.loaded: set[tuple[str, str]] = set()  # preloads written in the current function
        # streamed generators of the async view we are in, and the locals of it that hold an
        # async iterator (``fragments = await llm.stream(history)``)
        self.streamed: set[cst.FunctionDef] = set()
        self.iterators: set[str] = set()
        self.getters = {r.getter: r for r in self.plan.resources.values()}
        self.nodes: list[cst.FunctionDef] = []  # the functions we are in, as written
        self.opens_session = False  # a streamed generator of the view opens the async session

    # -- where we are ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.nodes.append(node)
        module_level = not self.stack and isinstance(self.get_metadata(Parents, node, None), cst.Module)
        if module_level:
            qualified = f"{self.module}.{node.name.value}"
            self.stack.append(qualified)
            self.loaded = set()
            self.iterators = set()
            self.streamed = set(streamed_generators(node)) if qualified in self.plan.functions else set()
        elif len(self.stack) == 1 and node.decorators and f"{self.module}.{node.name.value}" in self.plan.factory_views:
            self.stack.append(FACTORY_VIEW)  # nothing in it to await (codemod/hook_calls.py)
        else:
            self.stack.append(STREAMED if node in self.streamed else None)

    def _async_owner(self) -> str | None:
        """The async function whose own body we are in (a guard's wrapper counts as the guard's,
        a streamed generator's body as its view's)."""
        if not self.stack or self.stack[0] not in self.plan.functions:
            return None
        if all(s == STREAMED for s in self.stack[1:]) or (len(self.stack) == 2 and self.stack[0] in self.plan.guards):
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
            # asyncio.sleep, by the module's name: a test that swapped time.sleep through the
            # module (``monkeypatch.setattr(llm.time, "sleep", ...)``) can swap it the same way
            self.consume(original_node.func)
            self.run.support_imports.add(("asyncio", None, None))  # type: ignore[arg-type]
            sleep = cst.Attribute(cst.Name("asyncio"), cst.Name("sleep"))
            return cst.Await(updated_node.with_changes(func=sleep), **_PARENS)
        if self.stack[-1] == STREAMED and names & set(self.getters) and not original_node.args:
            self.consume(original_node.func)
            return cst.Name(self.getters[sorted(names & set(self.getters))[0]].param)
        func = updated_node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in self.params and func.attr.value in SESSION_IO:
            return cst.Await(updated_node, **_PARENS)
        if names & self.plan.generators:
            return updated_node  # an async generator: called, then iterated with ``async for``
        if names & (self.plan.functions - self.plan.guards):
            return cst.Await(updated_node, **_PARENS)
        return updated_node

    # -- iteration over async generators --------------------------------------------------------
    def _async_iterable(self, node: cst.BaseExpression) -> bool:
        """``gen(...)``, ``await returns_gen(...)`` or a local assigned one of them."""
        if isinstance(node, cst.Await):
            node = node.expression
            return isinstance(node, cst.Call) and bool(self.qualified_names(node.func) & self.plan.iterables)
        if isinstance(node, cst.Call):
            return bool(self.qualified_names(node.func) & (self.plan.generators | self.plan.iterables))
        return isinstance(node, cst.Name) and node.value in self.iterators

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._async_owner() is None or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        value = node.value
        if isinstance(value, cst.Call) and self._async_iterable(value):
            self.iterators.add(node.targets[0].target.value)

    def leave_For(self, original_node: cst.For, updated_node):
        if self._async_owner() is None or original_node.asynchronous is not None or not isinstance(updated_node, cst.For):
            return updated_node
        if not self._async_iterable(original_node.iter):
            return updated_node
        return updated_node.with_changes(asynchronous=cst.Asynchronous())

    def _yield_from(self, original_node: cst.SimpleStatementLine, updated_node):
        """``yield from xs`` in a generator that becomes async -> ``[async] for x in xs: yield x``
        (an async generator cannot ``yield from``)."""
        if len(original_node.body) != 1 or not m.matches(original_node.body[0], m.Expr(m.Yield(value=m.From()))):
            return None
        if self.stack[-1] not in self.plan.generators and self.stack[-1] != STREAMED:
            return None
        source = updated_node.body[0].value.value.item  # type: ignore[attr-defined]
        used = {n.value for n in findall(self.nodes[-1], m.Name())}  # type: ignore[union-attr]
        item = next(n for n in ("item", *(f"item_{i}" for i in range(2, 100))) if n not in used)
        loop = cst.For(
            target=cst.Name(item), iter=source,
            body=cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(cst.Yield(cst.Name(item)))])]),
            asynchronous=cst.Asynchronous() if self._async_iterable(original_node.body[0].value.value.item) else None,  # type: ignore[attr-defined]
            leading_lines=updated_node.leading_lines,
        )
        return loop

    def leave_Attribute(self, original_node: cst.Attribute, updated_node):
        owner = self._async_owner()
        if owner is None or not isinstance(original_node.value, cst.Name) or not isinstance(updated_node, cst.Attribute):
            return updated_node
        if (owner, original_node.value.value, original_node.attr.value) not in self.plan.awaitables:
            return updated_node
        loaded = cst.Attribute(cst.Attribute(updated_node.value, cst.Name("awaitable_attrs")), original_node.attr)
        return cst.Await(loaded, **_PARENS)

    # -- statements (an await that stands alone needs no parentheses: BareAwaits) ---------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node):
        if isinstance(updated_node, cst.SimpleStatementLine):
            loop = self._yield_from(original_node, updated_node)
            if loop is not None:
                return loop
        owner = self._async_owner()
        wanted = self.plan.preloads.get(owner or "", frozenset())
        if not wanted or not isinstance(updated_node, cst.SimpleStatementLine):
            return updated_node
        before = []
        for local, relationship in sorted(wanted):
            if (local, relationship) in self.loaded:
                continue
            if findall(original_node, m.Call(func=m.Attribute(value=m.Name(local)))):
                self.loaded.add((local, relationship))
                loaded = cst.Attribute(cst.Attribute(cst.Name(local), cst.Name("awaitable_attrs")), cst.Name(relationship))
                before.append(cst.SimpleStatementLine([cst.Expr(cst.Await(loaded))], leading_lines=updated_node.leading_lines))
        if not before:
            return updated_node
        return cst.FlattenSentinel([*before, updated_node.with_changes(leading_lines=[])])

    # -- definitions ----------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node):
        qualified = self.stack.pop()
        self.nodes.pop()
        if qualified == STREAMED and isinstance(updated_node, cst.FunctionDef):
            return self._streamed(original_node, updated_node)
        if qualified == FACTORY_VIEW and isinstance(updated_node, cst.FunctionDef):
            return updated_node.with_changes(asynchronous=cst.Asynchronous())
        if qualified is None or qualified not in self.plan.functions or qualified in self.plan.guards:
            return updated_node
        if not isinstance(updated_node, cst.FunctionDef):
            return updated_node
        if qualified in self.plan.generators or qualified in self.plan.iterables:
            updated_node = self._async_iterator_returned(original_node, updated_node)
        if self.opens_session:
            self.opens_session = False
            updated_node = self._with_request(original_node, updated_node)
        return updated_node.with_changes(asynchronous=cst.Asynchronous())

    def _with_request(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """The view takes the request (``http_request: Request``) its streamed generator opens the
        session with, unless it does already."""
        params = updated.params
        if any(p.name.value == REQUEST_PARAM for p in (*params.params, *params.kwonly_params)):
            return updated
        request = self.import_reference(original, "fastapi", "Request", replaces=False)
        param = cst.Param(cst.Name(REQUEST_PARAM), cst.Annotation(request))
        if params.star_arg == cst.MaybeSentinel.DEFAULT and any(p.default is not None for p in params.params):
            return updated.with_changes(params=params.with_changes(star_arg=cst.ParamStar(), kwonly_params=[*params.kwonly_params, param]))
        if params.star_arg != cst.MaybeSentinel.DEFAULT:
            return updated.with_changes(params=params.with_changes(kwonly_params=[*params.kwonly_params, param]))
        return updated.with_changes(params=params.with_changes(params=[*params.params, param]))

    def _async_iterator_returned(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """``-> Iterator[str]`` -> ``-> AsyncIterator[str]``."""
        if original.returns is None:
            return updated
        annotation = original.returns.annotation
        base = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        if not self.qualified_names(base) & ITERATOR_TYPES:
            return updated
        made = self.import_reference(base, "collections.abc", "AsyncIterator", replaces=False)
        self.consume(base)
        new = updated.returns.annotation  # type: ignore[union-attr]
        if isinstance(new, cst.Subscript):
            slices = new.slice[:1] if isinstance(new.slice, (list, tuple)) and new.slice else new.slice
            first = slices[0].with_changes(comma=cst.MaybeSentinel.DEFAULT) if slices else None  # Generator[T, None, None] -> AsyncIterator[T]
            new = new.with_changes(value=made, slice=[first] if first is not None else new.slice)
        else:
            new = made
        return updated.with_changes(returns=updated.returns.with_changes(annotation=new))  # type: ignore[union-attr]

    def _streamed(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        """A streamed generator of an async view becomes an async generator; where it used the
        request's session (Flask's ``stream_with_context`` kept ``g`` for it), it opens the async
        one of its own, as the view's dependency does, for as long as it runs."""
        updated = updated.with_changes(asynchronous=cst.Asynchronous())
        # the getter called here, or threaded (by request_state) to a function called here
        threaded = self.run.project.state.threaded
        called = set().union(*(self.qualified_names(c.func) for c in findall(original, m.Call())))
        used = [r for g, r in sorted(self.getters.items()) if g in called or any(g in threaded.get(c, ()) for c in called)]
        if not used:
            return updated
        resource = used[0]
        module = resource.getter.rpartition(".")[0]
        self.opens_session = True
        opener = cst.Call(
            cst.Call(self.import_reference(original, "contextlib", "asynccontextmanager", replaces=False), [cst.Arg(self.import_reference(original, module, resource.dependency, replaces=False))]),
            [cst.Arg(cst.Name(REQUEST_PARAM))],
        )
        # the getter's calls other transforms wrote (``_store_exchange(..., db=get_db())``)
        local_getters = {c.func.value for c in findall(original, m.Call(func=m.Name())) if self.qualified_names(c.func) & set(self.getters)}  # type: ignore[attr-defined]
        body = m.replace(updated.body, m.Call(func=m.Name(m.MatchIfTrue(lambda n: n in local_getters)), args=[]), lambda *_: cst.Name(resource.param))
        block = cst.With(
            items=[cst.WithItem(opener, asname=cst.AsName(cst.Name(resource.param)))],
            body=body,  # type: ignore[arg-type]
            asynchronous=cst.Asynchronous(),
        )
        return updated.with_changes(body=cst.IndentedBlock([block]))
    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        qualified = f"{self.module}.{original_node.name.value}"
        if qualified not in self.plan.bases or any(self.qualified_names(b.value) & {"sqlalchemy.ext.asyncio.AsyncAttrs"} for b in original_node.bases):
            return updated_node
        mixin = self.import_reference(original_node, "sqlalchemy.ext.asyncio", "AsyncAttrs", replaces=False)
        first = cst.Arg(mixin, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return updated_node.with_changes(bases=[first, *updated_node.bases])
