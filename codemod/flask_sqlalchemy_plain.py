"""Whether a Flask-SQLAlchemy project can leave the extension for plain SQLAlchemy 2.0, and how.

``transforms/flask_sqlalchemy.py`` writes the conversion; this module proves it safe for the whole
project at once (models, views and the app factory change together, or nothing does). It holds
where every use of the one ``db = SQLAlchemy()`` object (no options) is one of:

- ``db.Model`` as the only base of a model class (its table keeps Flask-SQLAlchemy's name);
- ``db.<x>`` for a name of ``sqlalchemy`` / ``sqlalchemy.orm`` the extension re-exports
  (``db.Column``, ``db.select``, ``db.relationship``...);
- ``db.init_app(app)``, ``db.create_all()`` / ``db.drop_all()`` where the app is made (its
  factory and the hooks defined in it, or module level);
- in a native view: ``db.session.<method>(...)``, ``db.engine``, ``db.get_or_404`` /
  ``first_or_404`` / ``one_or_404`` / ``paginate``;
- ``Model.query.<chain>.<terminal>(...)`` in a native view or in a classmethod of the model that
  views call as ``Model.method(...)``, with a chain of ``filter_by``, ``filter``, ``where``,
  ``order_by``, ``limit``, ``offset`` and a terminal that has a ``select()`` form; in a view, the
  chain may be built over statements in a local that holds nothing else (``query =
  Model.query.order_by(...)``, ``query = query.filter_by(...)``, ``query.all()``), and
  ``db.session.query(Model)`` may stand for ``Model.query`` (plain SQLAlchemy's Session has it);
- ``db.session`` in an after_request hook of the app that becomes RequestHooks middleware (the
  project checks it does): the hook opens a session of its own, where no view that takes the
  session may leave a change uncommitted (codemod/sqla_flow.py).

Anything else (an option of ``SQLAlchemy(...)``, ``SQLALCHEMY_BINDS``, ``db.session`` in a script
or a test, a model inheriting another) keeps the whole project on Flask-SQLAlchemy, with the
reason in ``problem``.
"""

from __future__ import annotations

from dataclasses import dataclass

from codemod.flask_sqlalchemy_async import SESSION_METHODS
from codemod.sqla_flow import OBJECT
from codemod.sqla_uses import SqlaFileFacts, SqlaUse

# db.<x> Flask-SQLAlchemy takes from sqlalchemy (else sqlalchemy.orm): what the converter imports
CORE_NAMES = frozenset({
    "Column", "Table", "ForeignKey", "ForeignKeyConstraint", "UniqueConstraint", "CheckConstraint", "Index",
    "PrimaryKeyConstraint", "Integer", "BigInteger", "SmallInteger", "String", "Text", "Unicode", "UnicodeText",
    "Boolean", "Float", "Numeric", "DateTime", "Date", "Time", "Interval", "LargeBinary", "JSON", "Enum", "Uuid",
    "select", "insert", "update", "delete", "func", "and_", "or_", "not_", "desc", "asc", "text", "literal",
    "case", "cast", "null", "true", "false", "exists", "literal_column", "column", "tuple_", "distinct", "inspect",
    "MetaData",
})
ORM_NAMES = frozenset({"relationship", "backref", "mapped_column", "Mapped", "column_property", "joinedload",
                       "selectinload", "subqueryload", "aliased", "validates", "synonym", "deferred"})
HELPERS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})
CHAIN = frozenset({"filter_by", "filter", "where", "order_by", "limit", "offset"})
# Query terminals with a select() form; get / get_or_404 only right after ``query``
TERMINALS = frozenset({"first", "all", "count", "one", "one_or_none", "first_or_404", "paginate", "delete"})
KEYED = frozenset({"get", "get_or_404"})


@dataclass(frozen=True)
class PlainSqlaPlan:
    db: str | None = None  # the converted db object, qualified; None: the project keeps Flask-SQLAlchemy
    problem: str | None = None
    bridge: str = "api"  # the FastAPI app of the factory that calls db.init_app(app)
    models: frozenset[str] = frozenset()
    session_users: frozenset[str] = frozenset()  # functions that take the session (views, classmethods)
    session_methods: frozenset[str] = frozenset()  # model classmethods among them, called Model.method(db, ...)
    # after_request hooks among them: as RequestHooks middleware, each opens a session of its own
    hook_users: frozenset[str] = frozenset()
    # locals of views holding a query built over statements (``query = Model.query.order_by(...)``,
    # ``query = query.filter_by(...)``, ``query.all()``): a select() there
    query_locals: frozenset[str] = frozenset()

    @property
    def module(self) -> str:
        return (self.db or "").rpartition(".")[0]


def plan_plain(
    facts: SqlaFileFacts, dbs: list[str], models: dict, apps: dict, native_views: set[str], after_hooks: frozenset[str] = frozenset(),
) -> PlainSqlaPlan:
    """``models``: the project's ModelFacts; ``apps``: its AppFacts; ``native_views``: the views
    that become FastAPI routes (only their code can take the session as a parameter);
    ``after_hooks``: the after_request hooks that become RequestHooks middleware, where they
    are the project's one app's (the project checks that they do)."""
    if not dbs:
        return PlainSqlaPlan()
    if len(dbs) != 1:
        return PlainSqlaPlan(problem="the project has more than one SQLAlchemy() object")
    db = dbs[0]
    if facts.makers.get(db) != 0:
        return PlainSqlaPlan(problem=f"{db.rpartition('.')[2]} = SQLAlchemy(...) takes arguments (its app or options)")
    if facts.binds:
        return PlainSqlaPlan(problem="SQLALCHEMY_BINDS: models pick their engine by __bind_key__")
    flask_models = {q for q, model in models.items() if f"{db}.Model" in model.bases}
    inheriting = sorted(q for q in flask_models if models[q].bases != {f"{db}.Model"})
    if inheriting:
        return PlainSqlaPlan(problem=f"{inheriting[0].rpartition('.')[2]} has a base other than db.Model")
    # the function that makes each app (None: a module-level app)
    factories = {(app.rpartition(".<locals>.")[0] if ".<locals>." in app else None): facts for app, facts in apps.items()}
    session_methods: set[str] = set()
    for use in facts.uses:  # classmethods with cls.query / Model.query: they take the session
        owner = use.owner or ""
        if owner in facts.classmethods and owner.rpartition(".")[0] in flask_models and _query_of(use.dotted, flask_models):
            session_methods.add(owner)
    users: set[str] = set()
    bridge = None
    locals_ = _query_locals(facts, flask_models, native_views)
    for use in facts.uses:
        why, user = _check(use, db, flask_models, native_views, session_methods, factories, locals_, after_hooks)
        if why is not None:
            return PlainSqlaPlan(problem=why)
        if user:
            users.add(use.owner)  # type: ignore[arg-type]
        if use.dotted == f"{db}.init_app":
            bridge = factories[use.owner].bridge  # type: ignore[index]
    if bridge is None:
        return PlainSqlaPlan(problem=f"{db.rpartition('.')[2]}.init_app(app) is not called in an app factory")
    taken = sorted((users | session_methods) & facts.own_db)
    if taken:  # the session comes in as ``db``
        return PlainSqlaPlan(problem=f"{taken[0].rpartition('.')[2]} has a db of its own")
    hooks = users & after_hooks
    # a hook's own session sees what the views committed; Flask's shared session, what they left
    # pending too (codemod/sqla_flow.py): the views leave nothing pending
    leaving = sorted(v for v in users - hooks if facts.pending.get(v, frozenset()) & {db, OBJECT})
    if hooks and leaving:
        hook, view = sorted(hooks)[0].rpartition(".")[2], leaving[0].rpartition(".")[2]
        return PlainSqlaPlan(problem=f"the hook {hook} queries {_short(db)}.session, and {view} may leave a change uncommitted that Flask's shared session showed it")
    return PlainSqlaPlan(
        db, None, bridge, frozenset(flask_models), frozenset(users | session_methods), frozenset(session_methods),
        frozenset(hooks), frozenset(locals_),
    )


def _short(qualified: str) -> str:
    return qualified.rpartition(".")[2]


def _query_locals(facts: SqlaFileFacts, models: set[str], views: set[str]) -> set[str]:
    """Locals of views that only ever hold a query: every value they are given is
    ``Model.query.<steps>`` or ``<local>.<steps>`` (steps of CHAIN), and every other use of them is
    the root of such a chain (no bare use: a query passed on or iterated stays a legacy Query)."""
    given: dict[str, list[SqlaUse]] = {}
    for use in facts.uses:
        if use.assigned_to is not None:
            given.setdefault(use.assigned_to, []).append(use)
    found = set()
    for local, values in given.items():
        if local in facts.bare or not any(v.owner in views and _query_of(v.dotted, models) is not None for v in values):
            continue
        if all(_chain_value(v, local, models) for v in values):
            found.add(local)
    return found


def _chain_value(use: SqlaUse, local: str, models: set[str]) -> bool:
    """``Model.query.<steps>`` or ``<local>.<steps>``, steps of CHAIN (called, where there are any)."""
    chain = _query_of(use.dotted, models)
    if chain is None and use.dotted.startswith(f"{local}."):
        chain = use.dotted.removeprefix(f"{local}.").split(".")
        if not chain:
            return False
    return chain is not None and set(chain) <= CHAIN and (use.kind == "call" or not chain)


def _query_of(dotted: str, models: set[str]) -> list[str] | None:
    """The method chain after ``Model.query`` (None: not a query of a model)."""
    for model in models:
        if dotted.startswith(f"{model}.query"):
            return dotted.removeprefix(f"{model}.query").split(".")[1:]
    return None


def _check(
    use: SqlaUse, db: str, models: set[str], views: set[str], methods: set[str], factories: dict,
    locals_: set[str] = frozenset(), hooks: frozenset[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[str | None, bool]:
    """Why the use keeps Flask-SQLAlchemy (None: it converts), and whether its owner takes the
    session (a hook: opens one)."""
    short = db.rpartition(".")[2]
    in_view = use.owner in views
    if use.assigned_to in locals_ or any(use.dotted.startswith(f"{local}.") for local in locals_):
        return _local_query(use, locals_, models)
    if use.dotted == db or use.dotted.startswith(f"{db}."):
        rest = use.dotted.removeprefix(f"{db}").lstrip(".").split(".")
        head = rest[0]
        if head == "Model":
            return (None, False) if use.kind == "base" else (f"uses {short}.Model other than as a model's base", False)
        if head in CORE_NAMES | ORM_NAMES:
            return None, False
        if head == "session" and len(rest) >= 2 and rest[1] in SESSION_METHODS and f"{db}.session.{rest[1]}" in use.called and (in_view or use.owner in hooks):
            return None, True
        if head == "session" and len(rest) >= 2 and rest[1] == "query" and f"{db}.session.query" in use.called and (in_view or use.owner in hooks):
            # the legacy Query of plain SQLAlchemy's Session: the methods it has (not Flask-SQLAlchemy's *_or_404, paginate)
            chain = rest[2:]
            if not chain or use.kind != "call" or not set(chain[:-1]) <= CHAIN or chain[-1] not in TERMINALS - {"first_or_404", "paginate"}:
                return f"calls {short}.session.query(...){''.join('.' + c for c in chain)}, which has no plain form here", False
            if chain[-1] == "delete" and not use.statement:
                return "uses the count .query...delete() returns", False
            return None, True
        if head in HELPERS and f"{db}.{head}" in use.called and in_view:
            return None, True
        if head == "engine" and in_view:
            return None, True
        if head == "init_app" and use.kind == "call" and use.owner in factories:
            return None, False
        if head in {"create_all", "drop_all"} and use.kind == "call" and use.owner in factories:
            return None, False
        where = f" in {use.owner.rpartition('.')[2]}" if use.owner else " at module level"
        return f"uses {short}.{'.'.join(rest[:2]) if head == 'session' else head}{where}", False
    chain = _query_of(use.dotted, models)
    if chain is not None:
        if use.owner not in views and use.owner not in methods:
            return f"uses {use.dotted.rpartition('.query')[0].rpartition('.')[2]}.query outside a view", False
        if not chain or use.kind != "call":
            return "uses a model's query other than by calling a method of it", False
        *steps, last = chain
        if (steps or last not in KEYED) and (last not in TERMINALS or not set(steps) <= CHAIN):
            return f"calls .query.{'.'.join(chain)}(), which has no select() form here", False
        if last == "delete" and not use.statement:  # Query.delete() gave a count, session.execute() a Result
            return "uses the count .query...delete() returns", False
        return None, True
    if use.kind == "call" and use.dotted.endswith(".paginate") and in_view:  # (a query local's is _local_query's)
        return None, True  # a lazy="dynamic" relationship's query (Flask-SQLAlchemy's Query class)
    for method in methods:
        if use.dotted == method:
            if use.kind == "call" and in_view:
                return None, True
            return f"uses {method.rpartition('.')[2]}() (a query of the model's) outside a view's call", False
    return None, False


def _local_query(use: SqlaUse, locals_: set[str], models: set[str]) -> tuple[str | None, bool]:
    """A use of a query local (``_query_locals``): a value it is given (checked there), or a
    terminal called on a chain from it."""
    if use.assigned_to in locals_:
        return None, True
    local = next(name for name in sorted(locals_) if use.dotted.startswith(f"{name}."))
    *steps, last = use.dotted.removeprefix(f"{local}.").split(".")
    if use.kind != "call" or not set(steps) <= CHAIN or last not in TERMINALS - {"delete"}:
        return f"uses the query {_short(local)} other than by a call of a query method", False
    return None, True
