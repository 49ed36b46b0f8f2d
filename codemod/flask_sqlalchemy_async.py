"""Which views of a Flask-SQLAlchemy project become ``async def`` over an ``AsyncSession``.

A Flask-SQLAlchemy project has no session getter of its own: its views reach the request's
session as ``db.session`` (``db = SQLAlchemy()``, scoped to the app context). A view whose
database work is all 2.x-style calls of that session (``db.session.execute(db.select(...))``,
``scalars``, ``scalar``, ``get``, ``add``, ``flush``, ``commit``...) can run them on an
``AsyncSession`` over the same engine (the runtime's ``async_db.flask_sqlalchemy_session``,
given to the view by a ``provide_async_<db>_session`` dependency next to ``db``), each I/O call
awaited. Everything else of Flask-SQLAlchemy has no faithful async form here, and keeps its view
sync (the thread pool) with the reason in the report:

- the legacy query (``Author.query.filter_by(...)``, ``db.session.query(...)``) and its
  ``paginate`` / ``get_or_404``; the extension's ``db.get_or_404``, ``db.first_or_404``,
  ``db.one_or_404`` and ``db.paginate`` (they run on ``db.session``, and abort through Flask);
  any other ``db.<x>`` that reaches the engine (``db.inspect(db.engine)``, ``db.create_all()``);
- a model method called on an object (``author.to_dict()`` may read a relationship, and a
  classmethod may run a query): the plan does not follow model code;
- a relationship read (``book.tags``; a ``backref=`` counts), which an async session cannot load
  on attribute access;
- an attribute read of an ORM object in a view that commits: Flask-SQLAlchemy's session expires
  every loaded value on commit (``expire_on_commit`` stays as the project set it), and reading one
  again would load it on access;
- a call of a project function, or a blocking call (codemod/blocking.py);
- a decorator other than the route's.

A view that does not use ``db.session`` is left to the general async plan (codemod/async_plan.py);
the reason here is the report's where it queries some other way (``db.get_or_404``).

Where the whole project leaves Flask-SQLAlchemy for plain SQLAlchemy (codemod/flask_sqlalchemy_plain.py
proved every use has a ``select()`` form), most of that list has an async form, and a view that
touches the db or a model goes async unless it calls a project function, a blocking call, or a
decorator stops it (transforms/flask_sqlalchemy_awaits.py writes it):

- the legacy query's ``select()`` forms and ``db.session`` calls are awaited on the AsyncSession;
  ``db.get_or_404`` and friends, and ``db.paginate`` of a ``select()``, are the runtime's async
  twins (async_sqla.py);
- what may load on attribute access runs as it did, on the AsyncSession's sync session inside
  ``await db_session.run_sync(lambda db: ...)`` (SQLAlchemy runs it in a greenlet, its I/O on the
  async driver): a model method or a classmethod (``author.to_dict()``, ``BookEdition.by_title``),
  a relationship (``book.reviews.order_by(...)``, a dynamic one's legacy Query), the engine
  (``db.inspect(db.engine)``), and in a view that commits, an attribute of a local that may hold
  a model (expired by the commit: ``sync_reads``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codemod.async_facts import AsyncFacts, ModelFacts, blocking_kind
from codemod.state import FunctionFacts

EXTENSION = frozenset({"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"})
# ``db.session`` methods an AsyncSession has: the I/O ones are awaited (async_routes.SESSION_IO)
SESSION_METHODS = frozenset({
    "execute", "scalar", "scalars", "get", "get_one", "commit", "rollback", "flush", "refresh",
    "delete", "merge", "add", "add_all", "expunge", "expunge_all", "expire", "expire_all",
})
# ``db.<x>`` that only build SQL (Flask-SQLAlchemy re-exports sqlalchemy's namespaces on db)
EXPRESSIONS = frozenset({
    "select", "func", "and_", "or_", "not_", "desc", "asc", "text", "literal", "case", "cast", "null",
    "true", "false", "exists", "update", "delete", "insert", "literal_column", "column", "tuple_", "distinct",
})
NO_ASYNC_FORM = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete"})


@dataclass(frozen=True)
class FlaskSqlaResource:
    db: str  # the SQLAlchemy() object, qualified
    param: str  # the async views' parameter
    dependency: str  # the yield dependency written next to ``db``
    alias: str  # its Annotated alias


@dataclass
class FlaskSqlaPlan:
    resources: dict[str, FlaskSqlaResource] = field(default_factory=dict)  # by db, qualified
    views: dict[str, str] = field(default_factory=dict)  # async view -> the db it takes
    reasons: dict[str, str] = field(default_factory=dict)  # view using db.session -> why it stays sync
    plain: bool = False  # the project leaves for plain SQLAlchemy: its sync forms have async ones
    # attributes that may load on access (model methods, relationships): run_sync wraps them
    sync_attrs: frozenset[str] = frozenset()
    # async view -> (local, attr) reads a commit expired (run_sync wraps them too)
    sync_reads: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    # async view -> its locals that hold what a query loaded (in the session: refresh() can load them)
    loaded: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def functions(self) -> frozenset[str]:
        return frozenset(self.views)


def extension_objects(made_by: dict[str, frozenset[str]]) -> list[str]:
    """The project's ``db = SQLAlchemy()`` objects, qualified."""
    return sorted(name for name, called in made_by.items() if called & EXTENSION)


def resource_for(db: str) -> FlaskSqlaResource:
    name = db.rpartition(".")[2]
    camel = "".join(p.capitalize() for p in name.split("_"))
    return FlaskSqlaResource(db, f"{name}_session", f"provide_async_{name}_session", f"Async{camel}SessionDep")


def uses_session(function: FunctionFacts, dbs: list[str]) -> str | None:
    """The db whose ``db.session`` the function calls (None: none)."""
    return next((db for db in dbs if any(c.startswith(f"{db}.session.") for c in function.calls)), None)


def plan_flask_sqlalchemy(
    functions: dict[str, FunctionFacts], facts: dict[str, AsyncFacts], models: dict[str, ModelFacts],
    dbs: list[str], native_views: set[str], stopped: str | None, plain: bool = False,
) -> FlaskSqlaPlan:
    """``stopped``: why no view can be async at all (a Flask before_request hook stays), or None;
    ``plain``: the project leaves Flask-SQLAlchemy for plain SQLAlchemy (module doc)."""
    flask_models = models_of(models, dbs)
    relationships = {r for model in flask_models.values() for r in model.relationships | model.backrefs}
    methods = {m for model in flask_models.values() for m in model.params}
    plan = FlaskSqlaPlan(plain=plain, sync_attrs=frozenset(relationships | methods) if plain else frozenset())
    for view in sorted(native_views):
        function = functions.get(view)
        if function is None or not function.sync:
            continue
        db = uses_session(function, dbs)
        fa = facts.get(view, AsyncFacts())
        why = _problem(function, fa, db or dbs[0], dbs, flask_models, relationships, functions, plain)
        if plain and db is None and touches(function, dbs, flask_models):
            db = dbs[0]
        if plain and db is not None and why is None:
            plan.sync_reads[view], plan.loaded[view] = expired_reads(function, fa, db, flask_models)
        if db is None:
            # no db.session: only a reason, where the view queries some other way (db.get_or_404)
            if why is not None and touches(function, dbs, flask_models):
                plan.reasons[view] = why
            continue
        why = why or stopped
        if why is None:
            plan.views[view] = db
            plan.resources[db] = resource_for(db)
        else:
            plan.reasons[view] = why
    return plan


def models_of(models: dict[str, ModelFacts], dbs: list[str]) -> dict[str, ModelFacts]:
    """The project's models of Flask-SQLAlchemy's ``db.Model``."""
    return {q: model for q, model in models.items() if any(b in {f"{db}.Model" for db in dbs} for b in model.bases)}


def sync_users(functions: dict[str, FunctionFacts], models: dict[str, ModelFacts], dbs: list[str]) -> frozenset[str]:
    """The functions whose own code reaches Flask-SQLAlchemy's sync session (``db.session``,
    ``db.get_or_404``, ``Model.query``...): on the event loop each would block it, so the general
    async plan leaves them sync; this plan may still give a view the AsyncSession."""
    flask_models = models_of(models, dbs)
    return frozenset(name for name, function in functions.items() if dbs and touches(function, dbs, flask_models))


def touches(function: FunctionFacts, dbs: list[str], models: dict[str, ModelFacts]) -> bool:
    """Whether the view calls Flask-SQLAlchemy's db (other than to build SQL) or a model's class."""
    return any(
        (c.startswith(f"{db}.") and c.removeprefix(f"{db}.").split(".")[0] not in EXPRESSIONS) for c in function.calls for db in dbs
    ) or any(c.startswith(f"{model}.") for c in function.calls for model in models)


def _problem(
    function: FunctionFacts, fa: AsyncFacts, db: str, dbs: list[str], models: dict[str, ModelFacts],
    relationships: set[str], functions: dict[str, FunctionFacts], plain: bool = False,
) -> str | None:
    short = db.rpartition(".")[2]
    for names in function.decorators:
        if not any(n.rpartition(".")[2] in ROUTE_DECORATORS for n in names):
            return f"decorated by {sorted(names)[0].rpartition('.')[2] if names else 'a decorator'}, which the plan does not follow"
    if plain:
        return _plain_problem(function, fa, functions)
    for call in sorted(function.calls):
        for other in dbs:
            if not call.startswith(f"{other}."):
                continue
            rest = call.removeprefix(f"{other}.").split(".")
            if other != db and rest[0] == "session":
                return f"uses two Flask-SQLAlchemy objects' sessions ({short} and {other.rpartition('.')[2]})"
            if rest[0] == "session":
                if len(rest) < 2 or rest[1] not in SESSION_METHODS:
                    what = rest[1] if len(rest) > 1 else "session"
                    return f"calls {short}.session.{what}(), which has no async form here (the legacy Query)" if what == "query" else f"calls {short}.session.{what}(), which has no async form here"
                continue
            if rest[0] in NO_ASYNC_FORM:
                return f"calls {short}.{rest[0]}(), Flask-SQLAlchemy's helper on the sync session, which has no async form here"
            if rest[0] not in EXPRESSIONS:
                return f"calls {short}.{'.'.join(rest)}(), which uses the sync engine"
        for model in models:
            if not call.startswith(f"{model}."):
                continue
            rest = call.removeprefix(f"{model}.").split(".")
            label = model.rpartition(".")[2]
            if rest[0] == "query":
                return f"uses {label}.query, the legacy Query, which has no async form here"
            if len(rest) == 1 and rest[0] in models[model].params:
                return f"calls {label}.{rest[0]}(), a model method the plan does not follow (it may query)"
        if call in functions:
            return f"calls {call.rpartition('.')[2]}(), a project function (helpers of Flask-SQLAlchemy views stay sync)"
    for call in fa.blocking:
        return f"calls {call} ({blocking_kind(call)})"
    commits = f"{db}.session.commit" in function.calls
    model_methods = {m for model in models.values() for m in model.params}
    for read in fa.reads:
        if read.local.startswith("g."):
            continue
        held = {t.removeprefix("call:") for t in read.types} & set(models)
        unknown = not read.types
        if read.given is not None:
            if held or (unknown and read.attr in model_methods):
                return f"calls {read.local}.{read.attr}(), a model method that may load relationships on access"
            continue
        if (held or unknown) and read.attr in relationships:
            return f"reads {read.local}.{read.attr}, a relationship an async session cannot load on access"
        if commits and (held or unknown):
            return (
                f"reads {read.local}.{read.attr} in a view that commits: Flask-SQLAlchemy's session expires "
                "loaded values on commit, and an async session cannot load them again on access"
            )
    return None


def _plain_problem(function: FunctionFacts, fa: AsyncFacts, functions: dict[str, FunctionFacts]) -> str | None:
    """Why a view of a project on plain SQLAlchemy stays sync (module doc): every use of the db
    and the models has an async form or runs in run_sync."""
    for call in sorted(function.calls):
        if call in functions:
            return f"calls {call.rpartition('.')[2]}(), a project function (helpers of Flask-SQLAlchemy views stay sync)"
    for call in fa.blocking:
        return f"calls {call} ({blocking_kind(call)})"
    return None


# the queries that give one model (or None)
_ONE = tuple(f".{name}" for name in ("get", "get_or_404", "first", "first_or_404", "one", "one_or_404", "one_or_none"))


def expired_reads(
    function: FunctionFacts, fa: AsyncFacts, db: str, models: dict[str, ModelFacts],
) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """In a view that commits, the attribute reads of locals that may hold a model (a model made
    or loaded there, or of unknown kind): a commit before them may have expired them, and reading
    one loads it (codemod/commit_expiry.py tells which, in order); and the locals among them a
    query loaded."""
    if f"{db}.session.commit" not in function.calls:
        return frozenset(), frozenset()
    found, held = set(), set()
    for read in fa.reads:
        if read.given is not None or read.local.startswith("g."):
            continue
        kinds = {t.removeprefix("call:") for t in read.types}
        loaded = any(
            k.startswith((f"{db}.", *(f"{model}." for model in models))) and not k.endswith((".paginate", ".count"))
            for k in kinds
        )
        if not read.types or kinds & set(models) or loaded:
            found.add((read.local, read.attr))
        if kinds and all(k.startswith((f"{db}.", *(f"{model}." for model in models))) and k.endswith(_ONE) for k in kinds):
            held.add(read.local)
    return frozenset(found), frozenset(held)
