"""Per-request state on ``flask.g`` into FastAPI dependencies: the current user and resources.

Targets https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/ and
https://fastapi.tiangolo.com/tutorial/security/ . ``codemod/state.py`` plans, for the whole
program, which guards and getters can move; this transform writes it:

- a getter ``get_db()`` (``g.db`` opened on first use, closed by a teardown) gets a yield
  dependency next to it, ``provide_db``, and an alias ``DbDep = Annotated[Session,
  Depends(provide_db)]``. The getter stays for code that runs outside a path operation;
- a guard decorator that checks the request and stores the user on ``g`` becomes a dependency
  that returns the user (``CurrentUser = Annotated[Any, Depends(login_required)]``), raises
  ``HTTPException`` where it called ``abort`` and declares its security scheme (HTTPBearer,
  HTTPBasic, APIKeyHeader) so that the OpenAPI docs show it. Its other attributes go to
  ``request.state``;
- views take ``user: CurrentUser`` and ``db: DbDep`` (or ``dependencies=[Depends(guard)]`` when
  they do not read the user) and lose the decorator; the functions on their path take the state
  as keyword arguments, passed on by their callers. Code that cannot take a parameter passes the
  getter's value (``db=get_db()``);
- the streamed body of a sync view that used the connection after the view returned opens its
  own for as long as it runs, ``with open_db(http_request) as db:`` (codemod/sync_streams.py);
  once nothing calls the getter any more (every user takes a dependency's connection or opens
  its own), the getter, its teardown and the teardown's registration go.
"""

from __future__ import annotations

import libcst as cst
from codemod.visitors import Transformer
import libcst.matchers as m

from codemod.async_facts import streamed_generators
from codemod.async_plan import SQLITE3
from codemod.blueprint_handlers import blueprint_handler_sets
from codemod.find import findall
from codemod.state import ABORT, APP_WIDE_HOOKS, G, HOOK_KINDS, REQUEST, REQUEST_RENAMED, REQUEST_TOKEN, Guard, HookFacts, Resource, refusal
from codemod.transform import Example, Transform
from transforms._flask import RUNTIME, bridge_reference, kwarg, string_literal
from transforms._views import native_plans, with_parameter, with_route_options
from transforms.responses import _unwrapped
from codemod.names import Parents

SCHEMES = {
    "bearer": ("HTTPBearer", "HTTPAuthorizationCredentials"),
    "basic": ("HTTPBasic", "HTTPBasicCredentials"),
}


class RequestStateTransform(Transform):
    NAME = "request_state"
    DESCRIPTION = "g-kept user and resources -> dependencies (Depends), threaded as parameters"
    EXAMPLES = (
        Example(
            """\
            import functools
            import sqlite3

            from flask import Flask, abort, g, request

            app = Flask(__name__)


            def get_db():
                if "db" not in g:
                    g.db = sqlite3.connect("app.db")
                return g.db


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)


            KEYS = {"k-ann": ("ann",)}


            def login_required(view):
                @functools.wraps(view)
                def wrapped(*args, **kwargs):
                    key = request.headers.get("X-Api-Key")
                    if key is None:
                        abort(401, description="missing key")
                    g.user = KEYS.get(key)
                    if g.user is None:
                        abort(401)
                    return view(*args, **kwargs)

                return wrapped


            def greeting():
                return f"hello {g.user[0]}"


            @app.get("/me")
            @login_required
            def me():
                return {"greeting": greeting()}


            @app.post("/ping")
            @login_required
            def ping():
                get_db().execute("INSERT INTO pings DEFAULT VALUES")
                return {}
            """,
            """\
            from flask import Flask
            from collections.abc import AsyncIterator
            from fastapi import Depends, HTTPException, Request
            from fastapi.security import APIKeyHeader
            from flask2fastapi_runtime import FlaskBridge
            from flask2fastapi_runtime.async_sqlite import AsyncSqlite, async_sqlite
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            async def provide_async_db(request: Request) -> AsyncIterator[AsyncSqlite]:
                \"\"\"The request's async db connection, closed after the response.\"\"\"
                db = async_sqlite("app.db")
                try:
                    yield db
                finally:
                    await db.close()


            AsyncDbDep = Annotated[AsyncSqlite, Depends(provide_async_db)]


            KEYS = {"k-ann": ("ann",)}


            # declares the scheme for OpenAPI; the checks below read the header themselves
            login_required_scheme = APIKeyHeader(name="X-Api-Key", auto_error=False)


            def login_required(request: Request, credentials: Annotated[str | None, Depends(login_required_scheme)]):
                key = request.headers.get("X-Api-Key")
                if key is None:
                    raise HTTPException(status_code=401, detail="missing key")
                user = KEYS.get(key)
                if user is None:
                    raise HTTPException(status_code=401)
                return user


            CurrentUser = Annotated[Any, Depends(login_required)]


            def greeting(user):
                return f"hello {user[0]}"


            class MeResponse(BaseModel):
                \"\"\"What me answers with (documents its 200 answer in OpenAPI).\"\"\"

                greeting: Any


            @api.get("/me", response_model=MeResponse)
            async def me(user: CurrentUser):
                return {"greeting": greeting(user=user)}


            @api.post("/ping", dependencies=[Depends(login_required)])
            async def ping(db: AsyncDbDep):
                await db.execute("INSERT INTO pings DEFAULT VALUES")
                return {}
            """,
            title="a g-kept sqlite3 connection (its async twin: the views become async) and a guard storing the user become dependencies; a helper gets the user passed in",
        ),
        Example(
            """\
            from flask import Flask, g, request

            app = Flask(__name__)
            STATS = {"requests": 0}


            @app.before_request
            def load_user():
                if request.headers.get("X-User"):
                    g.user = request.headers["X-User"]


            @app.before_request
            def closed():
                if request.path.startswith("/closed"):
                    return {"error": "closed"}, 503


            @app.after_request
            def stamp(response):
                response.headers["X-User"] = g.get("user", "nobody")
                return response


            @app.teardown_request
            def count(error):
                STATS["requests"] += 1


            def visitor():
                return g.user if "user" in g else None


            @app.route("/me")
            def me():
                return {"user": visitor()}
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge, RequestHooks, ResponseHead
            from pydantic import BaseModel
            from typing import Any

            app = Flask(__name__)
            api = FlaskBridge(app)
            STATS = {"requests": 0}


            async def load_user(request: Request):
                if request.headers.get("X-User"):
                    request.state.user = request.headers["X-User"]


            async def closed(request: Request):
                if request.url.path.startswith("/closed"):
                    return {"error": "closed"}, 503


            async def stamp(request: Request, response: ResponseHead):
                response.headers["X-User"] = getattr(request.state, "user", "nobody")
                return response


            async def count(request: Request):
                STATS["requests"] += 1


            api.add_middleware(RequestHooks, before=[load_user, closed], after=[stamp], teardown=[count])


            def visitor(request):
                return request.state.user if hasattr(request.state, "user") else None


            class MeResponse(BaseModel):
                \"\"\"What me answers with (documents its 200 answer in OpenAPI).\"\"\"

                user: Any


            @api.get("/me", response_model=MeResponse)
            def me(request: Request):
                return {"user": visitor(request=request)}
            """,
            title="the app's hooks become RequestHooks middleware: a before hook may answer, a teardown hook that does not read the exception takes the request; g.get and 'in g' read request.state",
        ),
        Example(
            """\
            from flask import Flask, g


            def init_app(app):
                @app.before_request
                def start():
                    g.seen = "yes"

                @app.after_request
                def stamp(response):
                    response.headers["X-Seen"] = g.get("seen", "no")
                    return response


            app = Flask(__name__)
            init_app(app)
            """,
            """\
            from flask import Flask
            from fastapi import Request
            from flask2fastapi_runtime import FlaskBridge, RequestHooks, ResponseHead, bridge_of


            def init_app(app):
                async def start(request: Request):
                    request.state.seen = "yes"

                async def stamp(request: Request, response: ResponseHead):
                    response.headers["X-Seen"] = getattr(request.state, "seen", "no")
                    return response

                bridge_of(app).add_middleware(RequestHooks, before=[start], after=[stamp])


            app = Flask(__name__)
            api = FlaskBridge(app)
            init_app(app)
            """,
            title="hooks registered on a function's app parameter, every call of which passes the app: the app's bridge runs them",
        ),
        Example(
            """\
            from flask import Flask, g


            def init_app(app):
                @app.after_request
                def stamp(response):
                    response.headers["X-Seen"] = g.get("seen", "no")
                    return response


            def make(name):
                return Flask(name)


            app = Flask(__name__)
            init_app(app)
            init_app(make("other"))
            """,
            """\
            from flask import Flask, g
            from flask2fastapi_runtime import FlaskBridge


            def init_app(app):
                @app.after_request
                def stamp(response):
                    response.headers["X-Seen"] = g.get("seen", "no")
                    return response


            def make(name):
                return Flask(name)


            app = Flask(__name__)
            api = FlaskBridge(app)
            init_app(app)
            init_app(make("other"))
            """,
            title="stay Flask's: hooks on a parameter that some call gives another app",
        ),
        Example(
            """\
            from functools import wraps

            from flask import Flask, abort, g, jsonify, request

            app = Flask(__name__)


            def token_required(view):
                @wraps(view)
                def wrapped(*args, **kwargs):
                    if request.headers.get("Authorization") != "Bearer ok":
                        return jsonify(error="unauthorized"), 401
                    g.user, g.role = "ann", "admin"
                    return view(*args, **kwargs)

                return wrapped


            def admin_required(view):
                @wraps(view)
                def wrapped(*args, **kwargs):
                    if g.role != "admin":
                        abort(403)
                    return view(*args, **kwargs)

                return wrapped


            @app.delete("/notes/<int:note_id>")
            @token_required
            @admin_required
            def delete_note(note_id):
                return {"deleted": note_id, "by": g.user}
            """,
            """\
            from flask import Flask
            from fastapi import Depends, HTTPException, Request
            from flask2fastapi_runtime import FlaskBridge, FlaskJSONResponse
            from flask2fastapi_runtime.refusals import GuardRefused
            from pydantic import BaseModel
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            def token_required(request: Request):
                if request.headers.get("Authorization") != "Bearer ok":
                    raise GuardRefused(FlaskJSONResponse({"error": "unauthorized"}, status_code=401))
                user, request.state.role = "ann", "admin"
                return user


            CurrentUser = Annotated[Any, Depends(token_required)]


            def admin_required(request: Request, user: CurrentUser):
                if request.state.role != "admin":
                    raise HTTPException(status_code=403)


            class DeleteNoteResponse(BaseModel):
                \"\"\"What delete_note answers with (documents its 200 answer in OpenAPI).\"\"\"

                deleted: int
                by: Any


            @api.delete("/notes/{note_id}", dependencies=[Depends(admin_required)], response_model=DeleteNoteResponse)
            def delete_note(note_id: int, user: CurrentUser):
                return {"deleted": note_id, "by": user}
            """,
            title="a guard that answers with JSON in the view's place raises it (GuardRefused); one checking what it stored (g.role) becomes a dependency on its dependency",
        ),
        Example(
            """\
            import psycopg2
            from flask import Flask, Response, current_app, g, stream_with_context

            app = Flask(__name__)


            def get_db():
                if "db" not in g:
                    g.db = psycopg2.connect(current_app.config["DSN"])
                return g.db


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)


            def log(what):
                db = get_db()
                db.cursor().execute("INSERT INTO log (what) VALUES (%s)", (what,))
                db.commit()


            @app.post("/ping")
            def ping():
                log("ping")
                return {}


            @app.get("/stream")
            def stream():
                def generate():
                    yield "start\\n"
                    log("streamed")
                    yield "end\\n"

                return Response(stream_with_context(generate()), mimetype="text/plain")
            """,
            """\
            import psycopg2
            from flask import Flask, Response, stream_with_context
            from contextlib import contextmanager
            from fastapi import Depends, Request
            from flask2fastapi_runtime import FlaskBridge
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            async def provide_db(request: Request):
                \"\"\"The request's db, closed after the response.\"\"\"
                db = psycopg2.connect(request.app.config["DSN"])
                try:
                    yield db
                finally:
                    db.close()


            DbDep = Annotated[Any, Depends(provide_db)]


            @contextmanager
            def open_db(request: Request):
                \"\"\"The db of a streamed body that runs after its view returned, closed when it ends.\"\"\"
                db = psycopg2.connect(request.app.config["DSN"])
                try:
                    yield db
                finally:
                    db.close()


            def log(what, db):
                db.cursor().execute("INSERT INTO log (what) VALUES (%s)", (what,))
                db.commit()


            @api.post("/ping")
            def ping(db: DbDep):
                log("ping", db=db)
                return {}


            @api.get("/stream")
            def stream(http_request: Request):
                def generate():
                    with open_db(http_request) as db:
                        yield "start\\n"
                        log("streamed", db=db)
                        yield "end\\n"

                return Response(stream_with_context(generate()), mimetype="text/plain")
            """,
            title="a streamed body of a sync view that used the request's connection opens one of its own for as long as it runs (Flask's stream_with_context kept g for it); nothing calls the getter any more: it retires with its teardown",
        ),
        Example(
            """\
            import psycopg2
            from flask import Flask, Response, g, stream_with_context

            app = Flask(__name__)


            def get_db():
                if "db" not in g:
                    g.db = psycopg2.connect("dbname=app")
                return g.db


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)


            def log(what):
                get_db().cursor().execute("INSERT INTO log (what) VALUES (%s)", (what,))


            @app.get("/stream")
            def stream():
                log("opened")

                def generate():
                    yield "start\\n"
                    log("streamed")

                return Response(stream_with_context(generate()), mimetype="text/plain")
            """,
            """\
            import psycopg2
            from flask import Flask, Response, g, stream_with_context
            from fastapi import Depends
            from flask2fastapi_runtime import FlaskBridge
            from typing import Annotated, Any

            app = Flask(__name__)
            api = FlaskBridge(app)


            def get_db():
                if "db" not in g:
                    g.db = psycopg2.connect("dbname=app")
                return g.db


            async def provide_db():
                \"\"\"The request's db, closed after the response (get_db keeps it on flask.g).\"\"\"
                db = psycopg2.connect("dbname=app")
                try:
                    yield db
                finally:
                    db.close()


            DbDep = Annotated[Any, Depends(provide_db)]


            def close_db(error=None):
                db = g.pop("db", None)
                if db is not None:
                    db.close()


            app.teardown_appcontext(close_db)


            def log(what, db):
                db.cursor().execute("INSERT INTO log (what) VALUES (%s)", (what,))


            @api.get("/stream")
            def stream(db: DbDep):
                log("opened", db=db)

                def generate():
                    yield "start\\n"
                    log("streamed", db=get_db())

                return Response(stream_with_context(generate()), mimetype="text/plain")
            """,
            title="a view that uses the connection itself and streams a body that uses it too: the body keeps the getter's (on Flask's g, which stream_with_context keeps for it), and the getter stays",
        ),
        Example(
            """\
            from functools import wraps

            from flask import g, request


            def get_db():
                if "db" not in g:
                    g.db = object()
                return g.db


            def token_required(view):
                @wraps(view)
                def wrapped(*args, **kwargs):
                    if request.headers.get("Authorization") != "Bearer ok":
                        return "unauthorized", 401
                    g.user = "ann"
                    return view(*args, **kwargs)

                return wrapped
            """,
            title="a getter without a teardown, and a guard that refuses with a response other than JSON, stay as they are",
        ),
    )

    def __init__(self, context, run) -> None:
        super().__init__(context, run)
        self.plan = run.project.state
        self.async_plan = run.project.async_plan
        self._retirements: dict[str, bool] = {}  # getter -> whether it goes (asked per call site)
        self._startup: dict[str, frozenset[str]] = {}  # getter -> its start-up users (asked per function)
        self._reused: set[cst.CSTNode] = set()  # names of a retired getter a start-up user keeps
        self.functions: list[tuple[str | None, cst.FunctionDef]] = []  # (qualified or None, node)
        self.module = context.full_module_name or ""
        self._hook_stack: list[str] = []  # the converted hooks defined in a factory we are in
        # per function: a converted exception handler defined in a function (``init_app(app)``),
        # which has Starlette's request as ``request``
        self._nested_sources: list[bool] = []

    # -- where we are ---------------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        qualified = f"{self.module}.{node.name.value}" if not self.functions and self._module_level(node) else None
        if self.functions and self.functions[-1][0] is not None:
            nested = f"{self.functions[-1][0]}.{node.name.value}"
            if nested in self.plan.hook_functions:
                self._hook_stack.append(nested)
            elif len(self.functions) == 1 and nested in self.plan.views:
                qualified = nested  # a factory's view: planned as a module-level one
        self._nested_sources.append(bool(self.functions) and bool(self.qualified_names(node.name) & self.plan.request_sources))
        self.functions.append((qualified, node))

    def _in_hook(self) -> str | None:
        """The converted hook whose body we are in (its own, or a module-level hook's)."""
        if self._hook_stack:
            return self._hook_stack[-1]
        owner = self.functions[0][0] if len(self.functions) == 1 else None
        return owner if owner in self.plan.hook_functions else None

    def _in_async_stream(self, getter: str) -> bool:
        """Whether we are in a streamed generator of a view the async plan makes async, which
        async_routes has open the getter's async twin for as long as it runs."""
        if len(self.functions) != 2 or getter not in self.async_plan.resources:
            return False
        view, node = self.functions[0]
        return view in self.async_plan.functions and self.functions[1][1] in streamed_generators(node)

    def _in_sync_stream(self, getter: str) -> bool:
        """Whether we are in a streamed generator of a sync view that opens the getter's resource
        itself for as long as it runs (codemod/sync_streams.py; ``_stream_opening``)."""
        if len(self.functions) != 2:
            return False
        view, node = self.functions[0]
        return getter in self.run.project.sync_streams.get(view or "", ()) and self.functions[1][1] in streamed_generators(node)

    def _module_level(self, node: cst.FunctionDef) -> bool:
        return isinstance(self.get_metadata(Parents, node, None), cst.Module)

    def _owner(self) -> str | None:
        """The planned function whose own body (not a nested function's) we are in: a
        module-level function, or a factory's view."""
        if len(self.functions) == 2 and self.functions[1][0] is not None:
            return self.functions[1][0]
        if len(self.functions) != 1:
            return None
        return self.functions[0][0]

    def _tokens(self, owner: str | None) -> dict[str, bool]:
        """State the function has at hand (getter/guard -> True), None outside such functions."""
        guard = self._in_guard()
        if guard is not None:  # the dependency takes the resources its checks use, and the request
            facts = self.run.project.functions[guard].guard
            tokens = {g: True for g in (facts.calls if facts else ()) if g in self.plan.resources}
            if facts and facts.outside_reads & self.plan.hook_attributes:  # what the hooks keep (g.user)
                tokens[REQUEST_TOKEN] = True
            return tokens
        hook = self._in_hook()
        if hook is not None or (owner is not None and owner in self.plan.request_sources):
            return {REQUEST_TOKEN: True} if self.plan.hooks else {}  # its own request parameter
        if owner is None:
            return {}
        if owner in self.plan.views:
            return {t: True for t, takes in self.plan.views[owner].items() if takes}
        return {t: True for t in self.plan.threaded.get(owner, ())}

    def _enclosing_tokens(self) -> dict[str, bool]:
        """State a nested function sees through its closure: the user, not resources (which the
        dependency may have closed by the time a nested function, a streamed body, runs); a
        converted exception handler defined in a function has its own request."""
        if self._nested_sources and self._nested_sources[-1]:
            return {REQUEST_TOKEN: True} if self.plan.hooks else {}
        outer = self.functions[0][0] if self.functions else None
        if len(self.functions) > 2 and self.functions[1][0] is not None:
            outer = self.functions[1][0]  # in a factory's view
        return {t: v for t, v in self._tokens(outer).items() if t in self.plan.guards or t == REQUEST_TOKEN}

    # -- expressions ----------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        names = self.qualified_names(original_node.func)
        owner = self._owner()
        here = self._tokens(owner) if owner is not None or self._in_guard() else self._enclosing_tokens()
        hook = self._in_hook()
        func = original_node.func
        if (  # g.get("request_id"[, default]) -> getattr(request.state, "request_id", default)
            isinstance(func, cst.Attribute) and func.attr.value == "get" and self.qualified_names(func.value) & G
            and original_node.args and _literal(original_node.args[0].value) in self.plan.hook_attributes
            and (hook is not None or REQUEST_TOKEN in here) and len(original_node.args) <= 2
        ):
            self.consume(func.value)
            state = cst.Attribute(cst.Name(self._request_name(hook)), cst.Name("state"))
            default = updated_node.args[1].value if len(updated_node.args) == 2 else cst.Name("None")
            return cst.Call(cst.Name("getattr"), [
                cst.Arg(state, comma=_COMMA), cst.Arg(updated_node.args[0].value, comma=_COMMA), cst.Arg(default),
            ])
        if (  # getattr(g, "x"[, default]) / hasattr(g, "x") -> the same of request.state
            m.matches(func, m.Name("getattr") | m.Name("hasattr")) and 2 <= len(original_node.args) <= 3
            and self.qualified_names(original_node.args[0].value) & G
            and _literal(original_node.args[1].value) in self.plan.hook_attributes
            and (hook is not None or REQUEST_TOKEN in here)
        ):
            self.consume(original_node.args[0].value)
            state = cst.Attribute(cst.Name(self._request_name(hook)), cst.Name("state"))
            return updated_node.with_changes(args=[updated_node.args[0].with_changes(value=state), *updated_node.args[1:]])
        for getter in names & set(self.plan.resources):
            if (getter in here or self._in_sync_stream(getter)) and not original_node.args:
                self.consume(original_node.func)
                return cst.Name(self.plan.resources[getter].param)
        for called in sorted(names & set(self.plan.threaded)):
            extra = []
            given = {a.keyword.value for a in updated_node.args if a.keyword is not None}
            for token in self.plan.threaded[called]:
                param = self.plan.token_param(token)
                if param in given:
                    continue
                if token in here:
                    extra.append(kwarg(param, cst.Name(self._local(token, owner))))
                elif token in self.plan.resources and (self._retired(token) or self._in_async_stream(token) or self._in_sync_stream(token)):
                    # a streamed generator: it opens the resource as ``param`` (async_routes for an
                    # async view's, _stream_opening for a sync one's)
                    extra.append(kwarg(param, cst.Name(param)))
                elif token in self.plan.resources:
                    extra.append(kwarg(param, cst.Call(self._getter(original_node, token))))
            if extra:
                args = list(updated_node.args)
                if args:
                    # the new ones go on the last one's line; what came after it (the line break
                    # before ``)`` of a call written over several lines) comes after them
                    return updated_node.with_changes(args=_appended_args(updated_node, extra))
                return updated_node.with_changes(args=_with_commas(extra))
        return updated_node

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        """``"x" in g`` -> ``hasattr(request.state, "x")`` (``not in``: ``not hasattr(...)``):
        Starlette's State has no ``in``, and Flask's g, left in its place, would no longer hold
        what the converted hooks keep."""
        if len(original_node.comparisons) != 1 or not isinstance(original_node.comparisons[0].operator, (cst.In, cst.NotIn)):
            return updated_node
        target = original_node.comparisons[0]
        owner = self._owner()
        here = self._tokens(owner) if owner is not None or self._in_guard() else self._enclosing_tokens()
        hook = self._in_hook()
        if (
            not self.qualified_names(target.comparator) & G or _literal(original_node.left) not in self.plan.hook_attributes
            or not (hook is not None or REQUEST_TOKEN in here)
        ):
            return updated_node
        self.consume(target.comparator)
        state = cst.Attribute(cst.Name(self._request_name(hook)), cst.Name("state"))
        test: cst.BaseExpression = cst.Call(cst.Name("hasattr"), [cst.Arg(state, comma=_COMMA), cst.Arg(updated_node.left)])
        if isinstance(target.operator, cst.NotIn):
            test = cst.UnaryOperation(cst.Not(), test)
        return test.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        # the request of a guard or a hook is now its Request parameter
        if (self._in_guard() or self._in_hook()) and self.qualified_names(original_node) & REQUEST:
            self.consume(original_node)
        return updated_node

    def _request_name(self, hook: str | None) -> str:
        owner = self.functions[0][0] if self.functions else None
        if hook is not None or owner in self.plan.request_sources or self._in_guard() or self._nested_sources[-1:] == [True]:
            return "request"  # its own Request parameter
        return self.plan.request_param

    def _local(self, token: str, owner: str | None) -> str:
        """The name a piece of state goes by where it is passed on."""
        if token == REQUEST_TOKEN:
            return self._request_name(self._in_hook())
        return self.plan.token_param(token)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        hook = self._in_hook()
        if hook is not None and self.qualified_names(original_node.value) & REQUEST:
            renamed = REQUEST_RENAMED.get(original_node.attr.value)
            if renamed is not None:  # request.path -> request.url.path
                value: cst.BaseExpression = updated_node.value
                for part in renamed:
                    value = cst.Attribute(value, cst.Name(part))
                return value
            return updated_node
        if not self.qualified_names(original_node.value) & G:
            return updated_node
        attribute = original_node.attr.value
        owner = self._owner()
        here = self._tokens(owner) if owner is not None else self._enclosing_tokens()
        if attribute in self.plan.hook_attributes and (hook is not None or REQUEST_TOKEN in here):
            self.consume(original_node)
            return cst.Attribute(cst.Attribute(cst.Name(self._request_name(hook)), cst.Name("state")), cst.Name(attribute))
        inside = self._in_guard()
        building = inside is not None and self.plan.guards[inside].base  # the guard it builds on
        for token, guard in self.plan.guards.items():
            if attribute == guard.primary and (token in here or inside == token or building == token):
                self.consume(original_node)
                return cst.Name(guard.param)
            if attribute in guard.others and (owner in self.plan.state_readers or inside == token or building == token):
                self.consume(original_node)
                name = "request" if token in (inside, building) else self.plan.request_param
                return cst.Attribute(cst.Attribute(cst.Name(name), cst.Name("state")), cst.Name(attribute))
        return updated_node

    # -- statements -----------------------------------------------------------------------------
    def leave_SimpleStatementLine(self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine):
        if len(updated_node.body) != 1:
            return updated_node
        if self._retired_registration(original_node):
            self._consume_all(original_node)
            return cst.RemovalSentinel.REMOVE
        small = updated_node.body[0]
        popped = self._state_pop(original_node)
        if popped is not None:
            return popped
        # ``db = get_db()`` became ``db = db``: nothing left to do
        original_small = original_node.body[0]
        if (
            m.matches(small, m.Assign([m.AssignTarget(m.Name())], m.Name()))
            and small.targets[0].target.value == small.value.value  # type: ignore[attr-defined]
            and isinstance(original_small, cst.Assign) and isinstance(original_small.value, cst.Call)
            and self.qualified_names(original_small.value.func) & set(self.plan.resources)
        ):
            return cst.RemovalSentinel.REMOVE
        guard = self._in_guard()
        if guard is None:
            return updated_node
        original = original_node.body[0]
        if isinstance(original, cst.Expr) and isinstance(original.value, cst.Call) and self.qualified_names(original.value.func) & ABORT:
            self.consume(original.value.func)
            return updated_node.with_changes(body=[self._raise(original.value, updated_node.body[0].value)])  # type: ignore[attr-defined]
        if isinstance(original, cst.Return) and refusal(original.value, self.qualified_names) is not None:
            return updated_node.with_changes(body=[self._refusal(original, updated_node.body[0])])  # type: ignore[arg-type]
        return updated_node

    def _state_pop(self, line: cst.SimpleStatementLine) -> cst.If | None:
        """``g.pop("member", None)`` as a statement, of what the hooks keep: Starlette's State
        has no ``pop``, so ``if hasattr(request.state, "member"): del request.state.member``."""
        pop = m.Expr(m.Call(func=m.Attribute(attr=m.Name("pop")), args=[m.Arg(keyword=None), m.Arg(m.Name("None"), keyword=None)]))
        if not m.matches(line.body[0], pop):
            return None
        call = line.body[0].value  # type: ignore[attr-defined]
        owner = self._owner()
        here = self._tokens(owner) if owner is not None or self._in_guard() else self._enclosing_tokens()
        hook = self._in_hook()
        attribute = _literal(call.args[0].value)
        if not self.qualified_names(call.func.value) & G or attribute not in self.plan.hook_attributes:
            return None
        if not attribute.isidentifier() or not (hook is not None or REQUEST_TOKEN in here):
            return None
        self.consume(call.func.value)
        state = cst.Attribute(cst.Name(self._request_name(hook)), cst.Name("state"))
        test = cst.Call(cst.Name("hasattr"), [cst.Arg(state, comma=_COMMA), cst.Arg(call.args[0].value)])
        delete = cst.SimpleStatementLine([cst.Del(cst.Attribute(state, cst.Name(attribute)))])
        return cst.If(test, cst.IndentedBlock([delete]), leading_lines=line.leading_lines)

    def _refusal(self, original: cst.Return, updated: cst.Return) -> cst.Raise:
        """``return jsonify(...), 401`` in a guard's checks -> ``raise GuardRefused(FlaskJSONResponse({...},
        status_code=401))``: the same JSON, answered in the view's place (runtime refusals)."""
        value, status = updated.value, None
        if isinstance(value, cst.Tuple):
            value, status = value.elements[0].value, value.elements[1].value
        if isinstance(value, cst.Call):
            self.consume(refusal(original.value, self.qualified_names)[0].func)  # type: ignore[index,union-attr]
            value = _unwrapped(value)
        response = self.import_reference(original, RUNTIME, "FlaskJSONResponse", replaces=False)
        args = [cst.Arg(value, comma=_COMMA)] + ([kwarg("status_code", status)] if status is not None else [])
        if status is None:
            args = [cst.Arg(value)]
        refused = self.import_reference(original, f"{RUNTIME}.refusals", "GuardRefused", replaces=False)
        return cst.Raise(cst.Call(refused, [cst.Arg(cst.Call(response, args))]))

    def _retired_registration(self, statement: cst.SimpleStatementLine) -> bool:
        """``app.teardown_appcontext(close_db)`` of a retired getter's teardown."""
        registration = m.SimpleStatementLine([m.Expr(m.Call(
            func=m.Attribute(attr=m.Name("teardown_appcontext") | m.Name("teardown_request")), args=[m.Arg(keyword=None)],
        ))])
        if not m.matches(statement, registration):
            return False
        registered = self.qualified_names(statement.body[0].value.args[0].value)  # type: ignore[attr-defined]
        return any(r.teardown in registered and self._retired(g) for g, r in self.plan.resources.items())

    def _raise(self, original: cst.Call, updated: cst.Call) -> cst.Raise:
        exception = self.import_reference(original.func, "fastapi", "HTTPException", replaces=False)
        args = [kwarg("status_code", updated.args[0].value)]
        detail = next((a.value for a in updated.args[1:] if a.keyword is None or a.keyword.value == "description"), None)
        if detail is not None:
            args.append(kwarg("detail", detail))
        return cst.Raise(cst.Call(exception, args))

    def _in_guard(self) -> str | None:
        if not self.functions:
            return None
        qualified = self.functions[0][0]
        return qualified if qualified in self.plan.guards else None

    # -- functions ------------------------------------------------------------------------------
    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef):
        qualified, _ = self.functions.pop()
        self._nested_sources.pop()
        hook = None
        if qualified in self.plan.hook_functions:  # a module-level hook
            hook = qualified
        elif self._hook_stack and self._hook_stack[-1].endswith("." + original_node.name.value) and self.functions and len(self.functions) == 1:
            hook = self._hook_stack.pop()  # a hook defined in a factory
        if hook is not None:
            return self._hook(original_node, updated_node, self.plan.hook_functions[hook])
        if len(self.functions) == 1 and self.functions[0][0] in self.run.project.sync_streams and original_node in streamed_generators(self.functions[0][1]):
            return self._stream_opening(original_node, updated_node, self.functions[0][0])  # type: ignore[arg-type]
        if len(self.functions) == 1 and qualified is not None and qualified in self.plan.views and native_plans(self, original_node):
            return self._view(original_node, updated_node, qualified)  # a factory's view
        if self.functions or qualified is None:
            return updated_node
        if qualified in self.plan.guards:
            return self._dependency_of_guard(original_node, updated_node, self.plan.guards[qualified])
        if qualified in self.plan.views and native_plans(self, original_node):
            return self._stream_request(original_node, self._view(original_node, updated_node, qualified), qualified)
        if qualified in self.run.project.sync_streams:
            return self._stream_request(original_node, updated_node, qualified)
        if qualified in self.plan.threaded:
            for token in self.plan.threaded[qualified]:
                updated_node = with_parameter(updated_node, self.plan.token_param(token), None)
            return updated_node
        getter = self.plan.resources.get(qualified)
        if getter is not None:
            added = self._resource_dependency(original_node, getter) if self._sync_users(qualified) else []
            if any(qualified in used for used in self.run.project.sync_streams.values()):
                added += self._resource_dependency(original_node, getter, opener=True)
            twin = self.async_plan.resources.get(qualified)
            if twin is not None:
                added += self._async_dependency(original_node, getter, twin)
            if added and self._retired(qualified):
                self._consume_all(original_node)
                first = added[0]
                return cst.FlattenSentinel([first.with_changes(leading_lines=original_node.leading_lines), *added[1:]])  # type: ignore[attr-defined]
            return cst.FlattenSentinel([updated_node, *added])
        for getter in sorted(self.plan.resources):
            if qualified in self._startup_users(getter) and self._retired(getter):
                return self._opening_itself(original_node, updated_node, getter)
        teardown_of = {r.teardown: g for g, r in self.plan.resources.items()}
        if qualified in teardown_of and self._retired(teardown_of[qualified]):
            self._consume_all(original_node)
            return cst.RemovalSentinel.REMOVE
        return updated_node

    def _retired(self, getter: str) -> bool:
        if getter not in self._retirements:
            self._retirements[getter] = self._retires(getter)
        return self._retirements[getter]

    def _retires(self, getter: str) -> bool:
        """Whether the sync getter and its teardown go, with the teardown's registration: no code
        is left that calls the getter (every caller's call became a dependency's value: the async
        twin's of a view or helper the plan made async, the sync one's of a view or helper that
        takes it; a streamed generator opens its own, of an async view or a sync one) or may call
        it unseen (a file the facts pass did not read, module code, a callback, a string naming it)."""
        project = self.run.project
        twin = getter in self.async_plan.resources
        threaded = {f for f, tokens in self.plan.threaded.items() if getter in tokens}
        takers = threaded | {f for f, tokens in self.plan.views.items() if tokens.get(getter)}
        streams = project.sync_streams
        resource = self.plan.resources[getter]
        for name in (getter, resource.teardown):
            short = name.rpartition(".")[2]
            if short in project.unseen_calls or short in project.named or short in project.named_in_tests or name in project.called_outside:
                return False
        if getter in project.referenced:
            return False
        startup = self._startup_users(getter)
        async_ = self.async_plan.functions if twin else frozenset()
        for f in project.functions.values():
            if resource.teardown in f.calls | f.nested_calls:
                return False
            if getter in f.calls and f.qualified not in async_ | takers | startup:
                return False
            streamed = project.async_facts.get(f.qualified)
            if getter in streams.get(f.qualified, ()):
                # its streamed generator opens the resource: no other nested code may use it
                if (f.nested_calls - (streamed.streamed if streamed else frozenset())) & (threaded | {getter}):
                    return False
                continue
            replaced = f.qualified in self.async_plan.guards or (streamed is not None and getter in streamed.streamed)
            if getter in f.nested_calls and (f.qualified not in async_ or not replaced):
                return False
            if f.nested_calls & threaded and f.qualified not in async_:
                return False  # its nested code would be handed a connection it does not have
        return True

    def _startup_users(self, getter: str) -> frozenset[str]:
        """Functions of the getter's module that only app factories call (at start-up, in the app
        context the factory opens: ``with app.app_context(): init_db()``; no request reaches
        them), whose first statement takes the getter's value (``conn = get_db()``) and which
        call it nowhere else. Each can open the resource itself and close it as the teardown did,
        at its end rather than the context's (nothing else in that context uses it: the getter
        retires only when nothing else calls it). Asked for every function of the file, and
        the project's facts do not change: computed once per getter."""
        if getter in self._startup:
            return self._startup[getter]
        project = self.run.project
        module = getter.rpartition(".")[0]
        found = set()
        for f in project.functions.values():
            if f.opens_with is None or f.opens_with[1] != getter or f.module != module or getter in f.nested_calls:
                continue
            if f.qualified in self.plan.views or f.qualified in self.plan.threaded or f.qualified in self.async_plan.functions:
                continue
            short = f.qualified.rpartition(".")[2]
            if short in project.unseen_calls or short in project.named or short in project.named_in_tests:
                continue
            if f.qualified in project.called_outside or f.qualified in project.referenced:
                continue
            callers = {c.qualified for c in project.functions.values() if f.qualified in c.calls | c.nested_calls}
            if callers and callers <= project.factories:
                found.add(f.qualified)
        self._startup[getter] = frozenset(found)
        return self._startup[getter]

    def _opening_itself(self, original: cst.FunctionDef, updated: cst.FunctionDef, getter: str) -> cst.FunctionDef:
        """A start-up user of a retired getter (``_startup_users``): ``conn = get_db()`` becomes
        the getter's opening code on ``conn``, and the rest runs in ``try``, the teardown's
        closing code in ``finally``."""
        resource = self.plan.resources[getter]
        getter_node, teardown = self._sibling(getter), self._sibling(resource.teardown)
        facts = self.run.project.functions[f"{self.module}.{original.name.value}"]
        if getter_node is None or teardown is None or facts.opens_with is None or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        local = facts.opens_with[0]
        names = self.qualified_names
        kept: list[cst.CSTNode] = []

        class OnLocal(Transformer):
            def leave_Attribute(inner, original_node, updated_node):  # noqa: N805
                if names(original_node.value) & G and original_node.attr.value == resource.attribute:
                    return cst.Name(local)
                return updated_node

            def leave_Name(inner, original_node, updated_node):  # noqa: N805
                if not names(original_node) & G:
                    kept.append(original_node)
                return updated_node

        opening = [st.visit(OnLocal()) for st in getter_node.body.body[-2].body.body]  # type: ignore[attr-defined]  (the if's block)
        # the retired getter's names go with it (_consume_all); those its opening code keeps
        # here (sqlite3, current_app) are used again, and their imports stay, whichever of the
        # two functions comes first
        self._reused.update(kept)
        self.run.consumed.difference_update(kept)
        check = teardown.body.body[-1]  # type: ignore[attr-defined]
        closing = [st.visit(_Renamer(_popped_local(teardown), local)) for st in check.body.body]  # type: ignore[attr-defined]
        statements = list(updated.body.body)
        docstring = 1 if statements and m.matches(statements[0], m.SimpleStatementLine([m.Expr(m.SimpleString())])) else 0
        taken = statements[docstring]
        self._consume_all(original.body.body[docstring])
        opening[0] = opening[0].with_changes(leading_lines=taken.leading_lines)
        rest = [statements[docstring + 1].with_changes(leading_lines=())] + statements[docstring + 2:] if len(statements) > docstring + 1 else [cst.SimpleStatementLine([cst.Pass()])]
        block = cst.Try(cst.IndentedBlock(rest), finalbody=cst.Finally(cst.IndentedBlock(closing)))
        return updated.with_changes(body=updated.body.with_changes(body=[*statements[:docstring], *opening, block]))

    def _consume_all(self, node: cst.CSTNode) -> None:
        """Every name of ``node``, which goes: the imports only it used go too."""
        for found in findall(node, m.Name() | m.Attribute()):
            self.consume(found)
        self.run.consumed.difference_update(self._reused)

    def _view(self, original: cst.FunctionDef, updated: cst.FunctionDef, qualified: str) -> cst.FunctionDef:
        state = self.plan.views[qualified]
        listed = []
        for token, takes in state.items():
            if takes:
                updated = with_parameter(updated, self.plan.token_param(token), self._alias(original, token, qualified))
            else:
                module, _, name = token.rpartition(".")
                if module == self.module:
                    guard: cst.BaseExpression = cst.Name(name)
                else:
                    guard = self.import_reference(original, module, name, replaces=False)
                listed.append(self._depends(original, guard))
        if qualified in self.plan.state_readers:
            request = self.import_reference(original, "fastapi", "Request", replaces=False)
            updated = with_parameter(updated, self.plan.request_param, request)
        if listed:
            updated = with_route_options(self, original, updated, [kwarg("dependencies", cst.List([cst.Element(d) for d in listed]))])
        guards = set(self.plan.guards)
        for decorator in original.decorators:
            if self.qualified_names(decorator.decorator) & guards:
                self.consume(decorator.decorator)
        kept = [d for o, d in zip(original.decorators, updated.decorators) if not self.qualified_names(o.decorator) & guards]
        return updated.with_changes(decorators=kept)

    def _hook(self, original: cst.FunctionDef, updated: cst.FunctionDef, hook: HookFacts):
        """A converted hook: Starlette's request (and the response head) as parameters, no
        decorator; after the app's last hook, the middleware that runs them all. A teardown hook
        takes the request in place of the exception it did not read (codemod/state.hook_facts).
        A blueprint's hook converts alike, in its module; the app's middleware lists it, imported,
        under ``blueprints={"name": BlueprintHooks(...)}``, which RequestHooks runs for the
        blueprint's views only."""
        request = self.import_reference(original, "fastapi", "Request", replaces=False)
        params = [cst.Param(cst.Name("request"), cst.Annotation(request))]
        if hook.kind == "after":
            head = self.import_reference(original, RUNTIME, "ResponseHead", replaces=False)
            name = original.params.params[0].name.value
            params.append(cst.Param(cst.Name(name), cst.Annotation(head)))
        for decorator in original.decorators:
            self.consume(decorator.decorator)
        decorators = [
            d for o, d in zip(original.decorators, updated.decorators)
            if not (isinstance(o.decorator, cst.Attribute) and o.decorator.attr.value in {*HOOK_KINDS, *APP_WIDE_HOOKS})
        ]
        leading = list(updated.leading_lines)
        if original.decorators and not decorators:  # the comment above the decorator stays above the def
            leading = [*leading, *updated.decorators[0].leading_lines]
        function = updated.with_changes(params=cst.Parameters(_with_commas(params)), decorators=decorators, leading_lines=leading)
        if hook.qualified in self.plan.app_context_hooks:
            function = _in_app_context(function, original, blueprint=hook.blueprint is not None or hook.app_wide)
        elif hook.loop_safe:  # nothing it calls can block: RequestHooks awaits it on the loop
            function = function.with_changes(asynchronous=cst.Asynchronous())
        hooks = self.plan.hooks[hook.app]
        if hook is not [h for h in hooks if not h.app_wide][-1]:  # after the app's own last hook
            return function
        app = next(o.decorator.value for o in original.decorators if isinstance(o.decorator, cst.Attribute) and o.decorator.attr.value in HOOK_KINDS)
        bridge = bridge_reference(self, app, app)
        middleware = self.import_reference(original, RUNTIME, "RequestHooks", replaces=False)
        kinds = ("before", "after", "teardown")

        def named(h: HookFacts) -> cst.BaseExpression:
            """A hook of the app's (its name), or a blueprint's (imported from its module)."""
            if h.blueprint is None and not h.app_wide:
                return cst.Name(h.qualified.rpartition(".")[2])
            module, _, name = h.qualified.rpartition(".")
            return cst.Name(name) if module == self.module else self.import_reference(original, module, name, replaces=False)

        listed = {kind: cst.List([cst.Element(named(h)) for h in hooks if h.kind == kind]) for kind in kinds}
        args = [cst.Arg(middleware)] + [kwarg(kind, listed[kind]) for kind in kinds if listed[kind].elements]
        own = self.plan.blueprint_hooks.get(hook.app, {})
        handled = blueprint_handler_sets(self.run.project)  # a blueprint's converted error handlers
        own = {**own, **{name: [] for name in sorted(handled) if name not in own}}
        if own:
            # a blueprint's hooks, imported from its module: RequestHooks runs them for its views
            blueprint_hooks = self.import_reference(original, RUNTIME, "BlueprintHooks", replaces=False)

            entries = []
            for name, bp_hooks in own.items():
                lists = {kind: cst.List([cst.Element(named(h)) for h in bp_hooks if h.kind == kind]) for kind in kinds}
                options = [kwarg(kind, lists[kind]) for kind in kinds if lists[kind].elements]
                if name in handled:  # what its hooks raise is answered by its handlers first, as in Flask
                    module, _, variable = handled[name].rpartition(".")
                    mapping = cst.Name(variable) if module == self.module else self.import_reference(original, module, variable, replaces=False)
                    options.append(kwarg("handlers", mapping))
                made = cst.Call(blueprint_hooks, _with_commas(options))
                entries.append(cst.DictElement(string_literal(name), made))
            args.append(kwarg("blueprints", cst.Dict(_with_commas(entries))))
        call = cst.Call(cst.Attribute(bridge, cst.Name("add_middleware")), _with_commas(args))
        blank = [cst.EmptyLine(indent=False)] * (1 if self.functions else 2)  # in a factory, or at module level
        return cst.FlattenSentinel([function, cst.SimpleStatementLine([cst.Expr(call)], leading_lines=blank)])

    def _guard_alias(self, anchor: cst.CSTNode, guard: Guard) -> cst.BaseExpression:
        """What a dependency declares to depend on ``guard``'s: its alias, else Annotated[None,
        Depends(guard)] (a guard that only checks returns nothing)."""
        module, _, name = guard.guard.rpartition(".")
        if guard.alias:
            return cst.Name(guard.alias) if module == self.module else self.import_reference(anchor, module, guard.alias, replaces=False)
        function = cst.Name(name) if module == self.module else self.import_reference(anchor, module, name, replaces=False)
        return self._annotated(anchor, cst.Name("None"), function)

    def _depends(self, anchor: cst.CSTNode, dependency: cst.BaseExpression) -> cst.Call:
        depends = self.import_reference(anchor, "fastapi", "Depends", replaces=False)
        return cst.Call(depends, [cst.Arg(dependency)])

    def _alias(self, anchor: cst.CSTNode, token: str, user: str | None = None) -> cst.BaseExpression:
        """The Annotated alias of a piece of state, imported from where it is defined; for a
        function that becomes async (``user``), the async session's (codemod/async_plan.py)."""
        if token == REQUEST_TOKEN:
            return self.import_reference(anchor, "fastapi", "Request", replaces=False)
        if token in self.async_plan.resources and user in self.async_plan.functions:
            alias, owner = self.async_plan.resources[token].alias, token
        elif token in self.plan.resources:
            alias, owner = self.plan.resources[token].alias, token
        else:
            alias, owner = self.plan.guards[token].alias, token
        module = owner.rpartition(".")[0]
        if module == self.module:
            return cst.Name(alias)
        return self.import_reference(anchor, module, alias, replaces=False)

    # -- the dependencies -----------------------------------------------------------------------
    def _resource_dependency(self, getter: cst.FunctionDef, resource: Resource, opener: bool = False) -> list[cst.BaseStatement]:
        """The yield dependency opening the resource as the getter did, closing it as the teardown
        did, and its alias; ``opener``: the context manager a sync view's streamed body opens it
        with instead (codemod/sync_streams.py), the same code run in the thread that streams it."""
        teardown = self._sibling(resource.teardown)
        local = resource.param
        opening = list(getter.body.body[-2].body.body)  # type: ignore[attr-defined]  (the if's block)
        uses_app = False

        class Rename(Transformer):
            def leave_Attribute(inner, original_node, updated_node):  # noqa: N805
                nonlocal uses_app
                if self.qualified_names(original_node) & G or not isinstance(original_node.value, (cst.Name, cst.Attribute)):
                    return updated_node
                if self.qualified_names(original_node.value) & G and original_node.attr.value == resource.attribute:
                    return cst.Name(local)
                if {n for n in self.qualified_names(original_node.value)} & {"flask.current_app", "flask.globals.current_app"}:
                    uses_app = True  # (not consumed: the getter keeps its own current_app)
                    return updated_node.with_changes(value=cst.Attribute(cst.Name("request"), cst.Name("app")))
                return updated_node

            def leave_Call(inner, original_node, updated_node):  # noqa: N805
                # FastAPI opens it in one thread and the view uses it in another (never at the
                # same time): what FastAPI's SQL tutorial passes to SQLite for that reason
                if "sqlite3.connect" in self.qualified_names(original_node.func) and not any(
                    a.keyword is not None and a.keyword.value == "check_same_thread" for a in updated_node.args
                ):
                    args = [*updated_node.args[:-1], updated_node.args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))] if updated_node.args else []
                    return updated_node.with_changes(args=[*args, kwarg("check_same_thread", cst.Name("False"))])
                return updated_node

        statements = [s.visit(Rename()) for s in opening]
        # names the copies refer to (``sqlite3``) keep their imports, should the getter go
        self.run.reused |= {n.value for st in statements for n in findall(st, m.Name())} - {local, "request"}  # type: ignore[union-attr]
        closing: list[cst.BaseStatement] = []
        if teardown is not None:
            popped = _popped_local(teardown)
            check = teardown.body.body[-1]  # type: ignore[attr-defined]
            closing = [s.visit(_Renamer(popped, local)) for s in check.body.body]  # type: ignore[attr-defined]
        returns = None
        if getter.returns is not None:
            iterator = self.import_reference(getter, "collections.abc", "Iterator" if opener else "AsyncIterator", replaces=False)
            returns = cst.Annotation(cst.Subscript(iterator, [cst.SubscriptElement(cst.Index(getter.returns.annotation))]))
        params = []
        if uses_app or opener:  # (the streamed body hands its view's request to any opener)
            params.append(cst.Param(cst.Name("request"), cst.Annotation(self.import_reference(getter, "fastapi", "Request", replaces=False))))
        kept = "" if self._retired(resource.getter) else f" ({getter.name.value} keeps it on flask.g)"
        docstring = (
            f"The {resource.attribute} of a streamed body that runs after its view returned, closed when it ends{kept}."
            if opener else f"The request's {resource.attribute}, closed after the response{kept}."
        )
        body = [
            _docstring(docstring),
            *statements,
            cst.Try(
                cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(cst.Yield(cst.Name(local)))])]),
                finalbody=cst.Finally(cst.IndentedBlock(closing or [cst.SimpleStatementLine([cst.Pass()])])),
            ),
        ]
        # async: FastAPI opens and closes it on the event loop, so a request holds its connection
        # only inside the one thread-pool call that runs the view; a sync generator would take a
        # thread-pool call to close it, and requests holding connections while they wait for a
        # thread can exhaust the pool (../shared/MEASURED.md)
        function = cst.FunctionDef(
            cst.Name(resource.dependency), cst.Parameters(params), cst.IndentedBlock(body), returns=returns,
            asynchronous=cst.Asynchronous(), leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        if opener:
            manager = cst.Decorator(self.import_reference(getter, "contextlib", "contextmanager", replaces=False))
            return [function.with_changes(name=cst.Name(resource.opener), asynchronous=None, decorators=[manager])]
        annotated = self._annotated(getter, getter.returns.annotation if getter.returns is not None else None, cst.Name(resource.dependency))
        alias = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(resource.alias))], annotated)], leading_lines=[cst.EmptyLine(), cst.EmptyLine()]
        )
        return [function, alias]

    def _stream_opening(self, original: cst.FunctionDef, updated: cst.FunctionDef, view: str) -> cst.FunctionDef:
        """A sync view's streamed generator that used the request's resource (Flask's
        ``stream_with_context`` kept ``g`` for it): its body in ``with open_db(request) as db:``,
        the connection its own for as long as it runs (codemod/sync_streams.py)."""
        items = []
        for getter in sorted(self.run.project.sync_streams[view]):
            resource = self.plan.resources[getter]
            module, _, _ = getter.rpartition(".")
            opener = cst.Name(resource.opener) if module == self.module else self.import_reference(original, module, resource.opener, replaces=False)
            opened = cst.Call(opener, [cst.Arg(cst.Name(self._stream_request_name(view)))])
            items.append(cst.WithItem(opened, asname=cst.AsName(cst.Name(resource.param)), comma=_COMMA))
        items[-1] = items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return updated.with_changes(body=cst.IndentedBlock([cst.With(items, updated.body)]))  # type: ignore[arg-type]

    def _stream_request_name(self, view: str) -> str:
        """The name of Starlette's request in a view whose streamed body opens a resource: the
        one it takes already, else ``http_request`` (as an async view's, transforms/async_routes.py)."""
        if self.plan.views.get(view, {}).get(REQUEST_TOKEN) or view in self.plan.state_readers:
            return self.plan.request_param
        return "http_request"

    def _stream_request(self, original: cst.FunctionDef, updated: cst.FunctionDef, view: str) -> cst.FunctionDef:
        """A view whose streamed body opens a resource takes the request it opens it with."""
        if view not in self.run.project.sync_streams:
            return updated
        request = self.import_reference(original, "fastapi", "Request", replaces=False)
        return with_parameter(updated, self._stream_request_name(view), request)

    def _sync_users(self, getter: str) -> bool:
        """Whether any function keeps taking the sync session from its dependency."""
        async_ = self.async_plan.functions if getter in self.async_plan.resources else frozenset()
        views = {v for v, tokens in self.plan.views.items() if tokens.get(getter)}
        threaded = {f for f, tokens in self.plan.threaded.items() if getter in tokens}
        functions = self.run.project.functions
        guards = {g for g in self.plan.guards if functions[g].guard is not None and getter in functions[g].guard.calls}  # type: ignore[union-attr]
        return bool((views | threaded | guards) - async_)

    def _async_dependency(self, getter: cst.FunctionDef, resource: Resource, twin) -> list[cst.BaseStatement]:
        """The async twin of the session dependency: an AsyncSession over the database of the
        project's own session factory (the runtime's async_db), closed after the response."""
        if twin.kind == SQLITE3:
            return self._async_sqlite_dependency(getter, resource, twin)
        opening = list(getter.body.body[-2].body.body)  # type: ignore[attr-defined]  (the if's block)
        assign = opening[-1].body[0] if len(opening) == 1 and isinstance(opening[-1], cst.SimpleStatementLine) else None
        factory_call = assign.value if isinstance(assign, cst.Assign) else None
        if not isinstance(factory_call, cst.Call) or factory_call.args:
            return []
        request = self.import_reference(getter, "fastapi", "Request", replaces=False)
        session = self.import_reference(getter, f"{RUNTIME}.async_db", "async_session", replaces=False)
        async_type = self.import_reference(getter, "sqlalchemy.ext.asyncio", "AsyncSession", replaces=False)
        iterator = self.import_reference(getter, "collections.abc", "AsyncIterator", replaces=False)

        class ToRequestApp(Transformer):
            def leave_Attribute(inner, original_node, updated_node):  # noqa: N805
                if self.qualified_names(original_node.value) & {"flask.current_app", "flask.globals.current_app"}:
                    return updated_node.with_changes(value=cst.Attribute(cst.Name("request"), cst.Name("app")))
                return updated_node

        factory = factory_call.func.visit(ToRequestApp())
        local = twin.param
        docstring = (
            f"The request's async {resource.attribute} session, closed after the response."
            if self._retired(resource.getter) else
            f"The request's async {resource.attribute} session, on the database of the one {getter.name.value} opens, closed after the response."
        )
        opening = [cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(local))], cst.Call(session, [cst.Arg(factory)]))])]
        return self._async_twin(getter, twin, docstring, opening, async_type, request, iterator)

    def _async_twin(self, getter: cst.FunctionDef, twin, docstring: str, opening: list[cst.BaseStatement], async_type, request, iterator) -> list[cst.BaseStatement]:
        """``async def <dependency>(request)``: ``opening``, then the resource yielded and closed
        (awaited) after the response; and its ``Annotated`` alias."""
        local = twin.param
        close = cst.SimpleStatementLine([cst.Expr(cst.Await(cst.Call(cst.Attribute(cst.Name(local), cst.Name("close")))))])
        body = [
            _docstring(docstring),
            *opening,
            cst.Try(
                cst.IndentedBlock([cst.SimpleStatementLine([cst.Expr(cst.Yield(cst.Name(local)))])]),
                finalbody=cst.Finally(cst.IndentedBlock([close])),
            ),
        ]
        returns = cst.Annotation(cst.Subscript(iterator, [cst.SubscriptElement(cst.Index(async_type))]))
        function = cst.FunctionDef(
            cst.Name(twin.dependency), cst.Parameters([cst.Param(cst.Name("request"), cst.Annotation(request))]),
            cst.IndentedBlock(body), returns=returns, asynchronous=cst.Asynchronous(), leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        alias = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(twin.alias))], self._annotated(getter, async_type, cst.Name(twin.dependency)))],
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        return [function, alias]

    def _async_sqlite_dependency(self, getter: cst.FunctionDef, resource: Resource, twin) -> list[cst.BaseStatement]:
        """The async twin of a sqlite3 getter, written from its opening block (the plan checked
        its form: codemod/sqlite_io.opening_problem): ``sqlite3.connect(...)`` ->
        ``async_sqlite(...)``, the runtime's AsyncSqlite on the same database with the same
        options; settings kept (``db.row_factory = sqlite3.Row``), calls awaited; closed after
        the response."""
        opening = list(getter.body.body[-2].body.body)  # type: ignore[attr-defined]  (the if's block)
        request = self.import_reference(getter, "fastapi", "Request", replaces=False)
        connect = self.import_reference(getter, f"{RUNTIME}.async_sqlite", "async_sqlite", replaces=False)
        async_type = self.import_reference(getter, f"{RUNTIME}.async_sqlite", "AsyncSqlite", replaces=False)
        iterator = self.import_reference(getter, "collections.abc", "AsyncIterator", replaces=False)
        local = twin.param
        names = self.qualified_names

        class Rename(Transformer):
            def leave_Attribute(inner, original_node, updated_node):  # noqa: N805
                if names(original_node.value) & G and original_node.attr.value == resource.attribute:
                    return cst.Name(local)
                if names(original_node.value) & {"flask.current_app", "flask.globals.current_app"}:
                    return updated_node.with_changes(value=cst.Attribute(cst.Name("request"), cst.Name("app")))
                return updated_node

            def leave_Call(inner, original_node, updated_node):  # noqa: N805
                if "sqlite3.connect" in names(original_node.func):
                    return updated_node.with_changes(func=connect)
                return updated_node

            def leave_Expr(inner, original_node, updated_node):  # noqa: N805
                return updated_node.with_changes(value=cst.Await(updated_node.value)) if isinstance(updated_node.value, cst.Call) else updated_node

        statements = [s.visit(Rename()) for s in opening]
        # names the copies refer to (``sqlite3.Row``) keep their imports, should the getter go
        self.run.reused |= {n.value for st in statements for n in findall(st, m.Name())} - {local, "request"}  # type: ignore[union-attr]
        docstring = (
            f"The request's async {resource.attribute} connection, closed after the response."
            if self._retired(resource.getter) else
            f"The request's async {resource.attribute} connection, on the database {getter.name.value} opens, closed after the response."
        )
        return self._async_twin(getter, twin, docstring, statements, async_type, request, iterator)

    def _annotated(self, anchor: cst.CSTNode, type_: cst.BaseExpression | None, dependency: cst.BaseExpression) -> cst.Subscript:
        annotated = self.import_reference(anchor, "typing", "Annotated", replaces=False)
        if type_ is None:
            type_ = self.import_reference(anchor, "typing", "Any", replaces=False)
        return cst.Subscript(annotated, [
            cst.SubscriptElement(cst.Index(type_), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
            cst.SubscriptElement(cst.Index(self._depends(anchor, dependency))),
        ])

    def _sibling(self, qualified: str) -> cst.FunctionDef | None:
        module, _, name = qualified.rpartition(".")
        if module != self.module:
            return None
        root = self._root
        return next((s for s in root.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)

    def visit_Module(self, node: cst.Module) -> None:
        self._root = node
        # the names this module already calls each getter by (``from .db import get_db``)
        self._getters: dict[str, str] = {}
        if self.plan.resources:
            for name in findall(node, m.Call(func=m.Name())):
                for qualified in self.qualified_names(name.func) & set(self.plan.resources):  # type: ignore[attr-defined]
                    self._getters.setdefault(qualified, name.func.value)  # type: ignore[attr-defined]

    def _getter(self, anchor: cst.CSTNode, token: str) -> cst.Name:
        if token in self._getters:
            self.run.reused.add(self._getters[token])
            return cst.Name(self._getters[token])
        module, _, name = token.rpartition(".")
        return self.import_reference(anchor, module, name, replaces=False)

    def _dependency_of_guard(self, original: cst.FunctionDef, updated: cst.FunctionDef, guard: Guard) -> cst.FlattenSentinel:
        wrapper = next(s for s in updated.body.body if isinstance(s, cst.FunctionDef))  # type: ignore[attr-defined]
        original_wrapper = next(s for s in original.body.body if isinstance(s, cst.FunctionDef))  # type: ignore[attr-defined]
        for name in findall(original_wrapper.decorators[0], m.Name()):
            self.consume(name)  # @functools.wraps(view) goes with the wrapper
        checks = [s for s in wrapper.body.body][:-1]  # type: ignore[attr-defined]
        docstring = updated.body.body[0] if m.matches(updated.body.body[0], m.SimpleStatementLine([m.Expr(m.SimpleString())])) else None  # type: ignore[index]
        request = self.import_reference(original, "fastapi", "Request", replaces=False)
        params = [cst.Param(cst.Name("request"), cst.Annotation(request))]
        facts = self.run.project.functions[guard.guard].guard
        for getter in sorted(facts.calls & set(self.plan.resources)) if facts else ():
            resource = self.plan.resources[getter]
            params.append(cst.Param(cst.Name(resource.param), cst.Annotation(self._alias(original, getter, guard.guard))))
        if guard.base is not None:  # its base's dependency runs first, and gives the user
            base = self.plan.guards[guard.base]
            params.append(cst.Param(cst.Name(base.param or "_"), cst.Annotation(self._guard_alias(original, base))))
        statements: list[cst.BaseStatement] = []
        if guard.scheme is not None:
            scheme_class, credentials = SCHEMES.get(guard.scheme, ("APIKeyHeader", None))
            scheme = self.import_reference(original, "fastapi.security", scheme_class, replaces=False)
            options = [kwarg("auto_error", cst.Name("False"))]
            if credentials is None:
                options.insert(0, kwarg("name", string_literal(guard.scheme)))
            scheme_name = f"{guard.guard.rpartition('.')[2]}_scheme"
            statements.append(cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(scheme_name))], cst.Call(scheme, options))],
                leading_lines=[cst.EmptyLine(comment=cst.Comment("# declares the scheme for OpenAPI; the checks below read the header themselves"))],
            ))
            type_ = self.import_reference(original, "fastapi.security", credentials, replaces=False) if credentials else cst.Name("str")
            optional = cst.BinaryOperation(type_, cst.BitOr(), cst.Name("None"))
            params.append(cst.Param(cst.Name("credentials"), cst.Annotation(self._annotated(original, optional, cst.Name(scheme_name)))))
        body: list[cst.BaseStatement] = [docstring] if docstring is not None else []
        body += checks  # leave_Attribute made ``g.user = ...`` into ``user = ...`` already
        if guard.primary is not None:
            body.append(cst.SimpleStatementLine([cst.Return(cst.Name(guard.param))]))
        function = updated.with_changes(
            params=_one_per_line(params) if len(params) > 2 else cst.Parameters(params),
            whitespace_before_params=_NEWLINE if len(params) > 2 else cst.SimpleWhitespace(""),
            body=updated.body.with_changes(body=body), decorators=[],
            leading_lines=updated.leading_lines if not statements else [cst.EmptyLine(), cst.EmptyLine()],
            # its checks await the async session (transforms/async_routes.py wrote the awaits)
            asynchronous=cst.Asynchronous() if guard.guard in self.async_plan.guards else None,
        )
        if statements:
            statements[0] = statements[0].with_changes(leading_lines=[*updated.leading_lines, *statements[0].leading_lines])
        if guard.primary is None:  # nothing to give a view: no alias
            return cst.FlattenSentinel([*statements, function])
        alias = cst.SimpleStatementLine(
            [cst.Assign([cst.AssignTarget(cst.Name(guard.alias))], self._annotated(original, None, cst.Name(original.name.value)))],
            leading_lines=[cst.EmptyLine(), cst.EmptyLine()],
        )
        return cst.FlattenSentinel([*statements, function, alias])


_NEWLINE = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace("    "))


def _one_per_line(params: list[cst.Param]) -> cst.Parameters:
    """Parameters written one per line, with a trailing comma (as black writes a long signature)."""
    newline = _NEWLINE
    last = cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace(""))
    written = [p.with_changes(comma=cst.Comma(whitespace_after=newline)) for p in params[:-1]]
    written.append(params[-1].with_changes(comma=cst.Comma(whitespace_after=last)))
    return cst.Parameters(written)


_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _with_commas(items: list) -> list:
    """Arguments or parameters separated by ", " (the last without a comma)."""
    return [item.with_changes(comma=_COMMA) for item in items[:-1]] + items[-1:]


def _appended_args(call: cst.Call, extra: list[cst.Arg]) -> list[cst.Arg]:
    """The call's arguments and then ``extra``, laid out as the call is: one per line after a
    trailing comma (as black writes them), else on the line of the last argument, the line break
    before ``)`` of a call written over several lines staying before ``)``."""
    args = list(call.args)
    last = args[-1]
    if isinstance(last.comma, cst.Comma) and isinstance(last.comma.whitespace_after, cst.ParenthesizedWhitespace):
        before = args[-2].comma if len(args) > 1 else None
        line = before.whitespace_after if isinstance(before, cst.Comma) else call.whitespace_before_args
        if isinstance(line, cst.ParenthesizedWhitespace):
            each = cst.Comma(whitespace_after=line)
            return [*args[:-1], last.with_changes(comma=each), *(a.with_changes(comma=each) for a in extra[:-1]), extra[-1].with_changes(comma=last.comma)]
    ending = last.comma if isinstance(last.comma, cst.Comma) else cst.MaybeSentinel.DEFAULT
    written = [last.with_changes(comma=_COMMA, whitespace_after_arg=cst.SimpleWhitespace("")), *_with_commas(extra)]
    written[-1] = written[-1].with_changes(comma=ending, whitespace_after_arg=last.whitespace_after_arg)
    return [*args[:-1], *written]


def _literal(node: cst.BaseExpression) -> str | None:
    value = node.evaluated_value if isinstance(node, cst.SimpleString) else None
    return value if isinstance(value, str) else None


def _popped_local(teardown: cst.FunctionDef) -> str:
    first = [s for s in teardown.body.body if not m.matches(s, m.SimpleStatementLine([m.Expr(m.SimpleString())]))][0]  # type: ignore[attr-defined]
    small = first.body[0]  # type: ignore[attr-defined]
    target = small.targets[0].target if isinstance(small, cst.Assign) else small.target
    return target.value


class _Renamer(Transformer):
    def __init__(self, old: str, new: str) -> None:
        super().__init__()
        self.old, self.new = old, new

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        return updated_node.with_changes(value=self.new) if updated_node.value == self.old else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.Attribute:
        return updated_node.with_changes(attr=original_node.attr)  # x.session is no variable


def _docstring(text: str) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine([cst.Expr(cst.SimpleString(f'"""{text}"""'))])


def _in_app_context(function: cst.FunctionDef, original: cst.FunctionDef, blueprint: bool = False) -> cst.FunctionDef:
    """The hook's body in ``with app.app_context():`` (the app its decorator named): as middleware
    it runs outside Flask's request, and what it calls (``db.create_all()``) needs the app's context.
    A blueprint's hook names no app: it opens the context of the app serving the request,
    ``request.app`` (a FlaskBridge hands ``app_context`` to its Flask app)."""
    app: cst.BaseExpression
    if blueprint:
        app = cst.Attribute(cst.Name("request"), cst.Name("app"))
    else:
        app = next(o.decorator.value for o in original.decorators if isinstance(o.decorator, cst.Attribute) and o.decorator.attr.value in HOOK_KINDS)
    opener = cst.Call(cst.Attribute(app, cst.Name("app_context")))
    body = function.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else list(body.body)
    # the body's first comment lines stay at the top of the function
    header = statements[0].leading_lines if statements else []
    if statements:
        statements[0] = statements[0].with_changes(leading_lines=[])
    block = cst.With([cst.WithItem(opener)], cst.IndentedBlock(statements), leading_lines=header)
    return function.with_changes(body=cst.IndentedBlock([block]))
