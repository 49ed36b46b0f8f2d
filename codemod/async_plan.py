"""Which functions become ``async def``: the whole-program colouring of issue 11.

A route pays off only when nothing on its path blocks the event loop (../shared/MEASURED.md). The
plan starts from what a route reaches that has something to await: the helpers that use the
request's database session, the guards that read it, a ``requests`` call the shared aiohttp client
can make (codemod/http_io.py), ``time.sleep``, and every caller of those (with an async session,
every native view too). It takes out, until nothing changes, each function that cannot be async:

- a view or helper that makes a blocking call with no async form here (codemod/blocking.py's
  table: ``urllib``, a ``requests`` call with ``files=``, a file read...), opens the sync session
  itself (``get_db()`` kept), or calls a project function that does, however deep;
- a helper some caller of which stays sync, or that is called where no ``await`` can go: module
  code, a method, a nested function (a streamed body's generator excepted: it becomes an async
  generator of its async view), a callback, a file the facts pass did not read, or a string
  naming it outside the tests (a swap in a test gets an async stand-in, transforms/test_doubles.py);
- a generator consumed other than by a ``for`` (``list(gen())``: an async generator needs
  ``async for``), or a function that returns one on some paths and a value on others;
- a function that reads an ORM object's relationship where the plan cannot tell the model (an
  async session cannot load it on attribute access). Where it can, the read becomes
  ``await obj.awaitable_attrs.rel`` (the declarative base gets ``AsyncAttrs``), and a call of a
  model method that reads a relationship (``conversation.to_dict(include_messages=True)``) is
  preceded by that await, which loads it.

What is left becomes async: the session resource gets an async twin of its dependency
(``provide_async_db`` / ``AsyncDbDep``, an ``AsyncSession`` over the same database, see the
runtime's async_db) that async functions take, each session call and each call of an async
function is awaited, and ``time.sleep`` becomes ``asyncio.sleep``. A view left sync keeps the sync
session, in the thread pool, and the report gives the reason.

The session can only go async where the project's session factory keeps loaded values after a
commit (``expire_on_commit=False``): otherwise reading an attribute after ``commit()`` would load
it again, on attribute access.

A getter that opens a sqlite3 connection (Flask's tutorial ``get_db()``) gets an async twin too,
the runtime's ``AsyncSqlite`` (async_sqlite), with no such condition: its answers are rows read
whole, nothing loads on access. A function that uses the connection in a way the async one has
no form for (codemod/sqlite_io.py: a cursor object, ``with db:``, the connection handed on, a
streamed generator or a guard's wrapper using it) stays sync, with that reason;
transforms/sqlite_client.py awaits the calls of the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codemod.async_facts import SESSION_TYPES, SLEEP, AsyncFacts, ModelFacts, blocking_kind
from codemod.sqlite_io import sqlite_getters
from codemod.state import FunctionFacts, StatePlan, _reach

SQLALCHEMY, SQLITE3 = "sqlalchemy", "sqlite3"


@dataclass(frozen=True)
class AsyncResource:
    getter: str  # qualified
    param: str
    dependency: str  # the async yield dependency, next to the sync one
    alias: str
    kind: str = SQLALCHEMY  # or SQLITE3: what the twin gives (an AsyncSession, an AsyncSqlite)


@dataclass
class AsyncPlan:
    resources: dict[str, AsyncResource] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()  # become ``async def`` (views, helpers, guards)
    guards: frozenset[str] = frozenset()  # guard dependencies among them
    # (function, local, relationship): ``local.rel`` -> ``await local.awaitable_attrs.rel``
    awaitables: frozenset[tuple[str, str, str]] = frozenset()
    # function -> (local, relationship): loaded before a statement that calls a method reading it
    preloads: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    bases: frozenset[str] = frozenset()  # declarative bases that get AsyncAttrs
    reasons: dict[str, str] = field(default_factory=dict)  # native view -> why it stays sync
    # guards that read the database and cannot be async: they stay decorators (state.py)
    sync_guards: frozenset[str] = frozenset()
    # among ``functions``: the generators, which become async generators (called without an
    # ``await``, consumed by ``async for``), and the functions whose awaited result is one of
    # theirs (``return _local_stream(reply)``)
    generators: frozenset[str] = frozenset()
    iterables: frozenset[str] = frozenset()
    # views an app factory defines (``module.view``) that call nothing that can block: ``async
    # def`` with the others (facts.ViewFacts.loop_safe); the plan does not follow nested functions
    factory_views: frozenset[str] = frozenset()


def session_resources(functions: dict[str, FunctionFacts], facts: dict[str, AsyncFacts], state: StatePlan, factories_keep_values: bool) -> dict[str, AsyncResource]:
    """The request resources that are SQLAlchemy sessions and can get an async twin."""
    found = {}
    for getter, resource in state.resources.items():
        returns = facts.get(getter, AsyncFacts()).returns
        if returns & SESSION_TYPES and factories_keep_values:
            found[getter] = _twin(getter, resource.param, resource.alias, SQLALCHEMY)
    return found


def sqlite_resources(facts: dict[str, AsyncFacts], state: StatePlan) -> dict[str, AsyncResource]:
    """The request resources whose getter opens a sqlite3 connection in a way its async twin can
    be written from (codemod/sqlite_io.opening_problem): each gets one."""
    blocking = {getter: facts.get(getter, AsyncFacts()).blocking for getter in state.resources}
    return {
        getter: _twin(getter, state.resources[getter].param, state.resources[getter].alias, SQLITE3)
        for getter in sorted(sqlite_getters(state.resources, blocking))
        if facts[getter].sqlite_opening is None
    }


def _twin(getter: str, param: str, alias: str, kind: str) -> AsyncResource:
    name = getter.rpartition(".")[2].removeprefix("get_")
    return AsyncResource(getter, param, f"provide_async_{name}", f"Async{alias.removesuffix('Dep')}Dep", kind)


def plan_async(
    functions: dict[str, FunctionFacts], facts: dict[str, AsyncFacts], models: dict[str, ModelFacts],
    state: StatePlan, native_views: set[str], resources: dict[str, AsyncResource], fixed: set[str], unseen_calls: set[str],
    sqla_users: frozenset[str] = frozenset(), sqla_views: frozenset[str] = frozenset(),
) -> AsyncPlan:
    """``fixed``: project functions that cannot take an ``await`` at every call (called outside
    module-level function code, referred to as a value, or swapped by name). ``sqla_users``: the
    functions that use Flask-SQLAlchemy's sync session; ``sqla_views``: the views whose session
    work has an async form (codemod/flask_sqlalchemy_async.py gives those coloured here the
    AsyncSession): they have something to await, as a view taking a session's twin has."""
    plan = AsyncPlan(resources=dict(resources))
    tokens = set(resources)
    sqlite_tokens = frozenset(g for g, r in resources.items() if r.kind == SQLITE3)
    # request resources with no async twin (a session whose factory expires values on commit, a
    # sqlite3 connection): who uses them stays sync
    sync_tokens = set(state.resources) - tokens
    sync_takers = {f for f, ts in state.threaded.items() if set(ts) & sync_tokens}
    sync_takers |= {v for v, ts in state.views.items() if any(t in sync_tokens for t in ts)}
    consumed = {c for fa in facts.values() for c in fa.consumed}
    takes = {f for f, ts in state.threaded.items() if set(ts) & tokens}
    takes |= {v for v, ts in state.views.items() if any(t in tokens and given for t, given in ts.items())}
    guards = {g for g in state.guards if functions[g].guard and functions[g].guard.calls & tokens}  # type: ignore[union-attr]
    sleepers = {f for f, fa in facts.items() if SLEEP in fa.blocking and f in functions and functions[f].sync}
    # requests calls the shared aiohttp client takes over (transforms/http_client.py), and the
    # functions that hand their responses on
    fetchers = {f for f, fa in facts.items() if _http_ok(fa) and f in functions and functions[f].sync}
    views = {v for v in native_views if v in functions and functions[v].sync}
    relationships = {r for model in models.values() for r in model.relationships}
    # the functions that would have something to await, and every function that calls one
    needs = takes | guards | sleepers | fetchers | set(sqla_views)
    grown = True
    while grown:
        grown = False
        for f in functions.values():
            if f.qualified not in needs and f.sync and f.calls & needs:
                needs.add(f.qualified)
                grown = True
    # with an async session every native view goes async (a view with nothing to await runs on
    # the loop at no cost); without one, only the views that reach something to await
    candidates = (views | needs) if tokens or sqla_views else needs
    # only what a route reaches: a function no view calls may be a script's or a CLI command's
    reached = views | guards | _reach(functions, views | guards)
    reached |= {c for f in reached for c in facts.get(f, AsyncFacts()).streamed}
    reached |= _reach(functions, reached)
    candidates &= reached
    callers: dict[str, set[str]] = {}
    nested: set[str] = set()
    for f in functions.values():
        streamed = facts.get(f.qualified, AsyncFacts()).streamed
        for called in f.calls | streamed:
            callers.setdefault(called, set()).add(f.qualified)
        # a streamed generator's calls can be awaited once it is an async generator of its view
        nested |= f.nested_calls - streamed
    awaitables: set[tuple[str, str, str]] = set()
    preloads: dict[str, set[tuple[str, str]]] = {}

    def lazy_problem(name: str) -> str | None:
        """Why ``name``'s reads of ORM objects cannot run on an async session (and, where they
        can, the awaits they need, recorded)."""
        found_awaitables, found_preloads = set(), set()
        for read in facts.get(name, AsyncFacts()).reads:
            held = _models(read.types, facts, models)
            if read.given is None:
                if read.attr not in relationships:
                    continue
                if held and all(read.attr in models[h].relationships for h in held) and not read.local.startswith("g."):
                    found_awaitables.add((name, read.local, read.attr))
                    continue
                if held and not any(read.attr in models[h].relationships for h in held):
                    continue
                return f"reads {read.local}.{read.attr}, which may load a relationship on access"
            owners = [h for h in held] or [q for q, model in models.items() if read.attr in model.methods]
            loads = {r for h in owners for r in models[h].active_reads(read.attr, read.given)}
            deeper = {c for h in owners for c in models[h].other_calls.get(read.attr, frozenset())}
            if any(models[q].active_reads(c, frozenset()) for q in models for c in deeper):
                return f"calls {read.local}.{read.attr}(), which loads relationships of related objects"
            if not loads:
                continue
            if not held or read.local.startswith("g.") or not read.line_statement:
                return f"calls {read.local}.{read.attr}(), which may load {', '.join(sorted(loads))} on access"
            found_preloads |= {(read.local, r) for r in loads}
        awaitables.update(found_awaitables)
        if found_preloads:
            preloads.setdefault(name, set()).update(found_preloads)
        return None

    def blocks(name: str, colour: set[str]) -> str | None:
        """Why a sync function called from an async one blocks the loop (None: it does not)."""
        for reached in sorted(_reach(functions, {name})):
            if reached in colour or reached in tokens:  # (a getter with a twin: the twin replaces its calls)
                continue
            fa = facts.get(reached, AsyncFacts())
            for call in fa.blocking:
                return _blocking(reached, call, fa)
            if reached in takes or reached in sync_takers:
                return f"{_short(reached)} uses the sync database session"
            if reached in sqla_users:
                return f"{_short(reached)} uses Flask-SQLAlchemy's sync session"
            if functions[reached].calls & (tokens | sync_tokens):
                return f"{_short(reached)} opens the sync database session"
        return None

    def guard_blocks(guard: str, colour: set[str]) -> str | None:
        """Why a guard dependency that stays sync blocks: a blocking call in its check, the sync
        session (Flask-SQLAlchemy's included), or a project function it calls that blocks."""
        fa = facts.get(guard, AsyncFacts())
        for call in fa.blocking:
            return f"calls {call} ({blocking_kind(call)})"
        if guard in sqla_users:
            return "uses Flask-SQLAlchemy's sync session"
        checks = functions[guard].guard
        for called in sorted((checks.calls if checks else frozenset()) & set(functions)):
            why = None if called in colour else blocks(called, colour)
            if why is not None:
                return f"calls {_short(called)}: {why}"
        return None

    def calls_of(name: str) -> frozenset[str]:
        return functions[name].calls | facts.get(name, AsyncFacts()).streamed

    def problem(name: str, colour: set[str]) -> str | None:
        f = functions[name]
        if name not in views and name not in guards:
            if name in fixed or name in nested or name.rpartition(".")[2] in unseen_calls:
                return f"{_short(name)} is called where it cannot be awaited (a callback, module code, a test swapping it)"
            sync_callers = callers.get(name, set()) - colour
            if sync_callers:
                return f"{_short(name)} is also called by {_short(sorted(sync_callers)[0])}, which stays sync"
        # a project decorator that stays one (not a guard made a dependency) wraps the view in a
        # sync function, which would hand the coroutine to Flask as the answer
        kept = sorted(n for names in f.decorators for n in names if n in functions and n not in state.guards)
        if kept:
            return f"{_short(name)} keeps the decorator {_short(kept[0])}, a sync wrapper"
        # a guard made a sync dependency runs before the view, on the request's path: its own I/O
        for guard in sorted(n for names in f.decorators for n in names if n in state.guards and n not in guards):
            why = guard_blocks(guard, colour)
            if why is not None:
                return f"decorated by {_short(guard)}, which {why}"
        fa = facts.get(name, AsyncFacts())
        for call in fa.blocking:
            if call != SLEEP and not (call.startswith("requests.") and _http_ok(fa)):
                return _blocking(name, call, fa)
        why_sqlite = _sqlite_problem(name, fa, sqlite_tokens, name in guards)
        if why_sqlite is not None:
            return why_sqlite
        if name in sqla_users:
            return f"{_short(name)} uses Flask-SQLAlchemy's sync session"
        if name in sync_takers or calls_of(name) & sync_tokens:
            return f"{_short(name)} uses a request resource with no async form here (a session whose factory expires values on commit, a sqlite3 connection)"
        if fa.generator and name in consumed:
            return f"{_short(name)} is a generator some caller consumes other than by a for loop"
        if fa.value_returns and any(facts.get(c, AsyncFacts()).generator for c in functions[name].returned_calls & colour):
            return f"{_short(name)} returns a generator on some paths and another value on others"
        for partner in sorted(fa.http.partners if fa.http else ()):
            if partner != name and partner in functions and partner not in colour:
                return f"{_short(name)} exchanges requests.Response objects with {_short(partner)}, which stays sync"
        if f.calls & tokens and name not in takes and name not in guards:
            return f"{_short(name)} opens the sync database session (its getter)"
        for called in sorted(calls_of(name) & set(functions)):
            if called in colour or called in guards or called in tokens:
                continue
            if called in needs:
                return f"calls {_short(called)}, which stays sync"
            why = blocks(called, colour)
            if why is not None:
                return why
        # a Flask-SQLAlchemy view's reads were planned there: refused where they may load on
        # access, or run in run_sync (codemod/flask_sqlalchemy_async.py)
        return None if name in sqla_views else lazy_problem(name)

    colour = set(candidates)
    reasons: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        awaitables.clear()
        preloads.clear()
        for name in sorted(colour):
            why = problem(name, colour)
            if why is not None:
                colour.discard(name)
                reasons[name] = why
                changed = True
    # a guard whose user a sync view reads must give one the sync code can use: only columns
    for guard in sorted(guards & colour):
        primary = state.guards[guard].primary
        sync_readers = {
            f for f in _reach(functions, set(views - colour)) if primary and any(r.local == f"g.{primary}" for r in facts.get(f, AsyncFacts()).reads)
        }
        for reader in sync_readers:
            for read in facts.get(reader, AsyncFacts()).reads:
                if read.local != f"g.{primary}":
                    continue
                if (read.given is None and read.attr in relationships) or (
                    read.given is not None and any(model.active_reads(read.attr, read.given) for model in models.values())
                ):
                    colour.discard(guard)
                    reasons[guard] = f"{_short(reader)} (sync) reads {read.local}.{read.attr}, a relationship"
    plan.guards = frozenset(guards & colour)
    plan.sync_guards = frozenset(guards - colour)
    plan.awaitables = frozenset(a for a in awaitables if a[0] in colour)
    plan.preloads = {f: frozenset(p) for f, p in preloads.items() if f in colour}
    if plan.awaitables or plan.preloads:
        plan.bases = frozenset(q for q, model in models.items() if model.bases & _DECLARATIVE)
    def why(name: str, depth: int = 0) -> str:
        """A reason, followed down to the function that stops the chain (``calls x, which stays
        sync: x is also called by ...``)."""
        reason = reasons[name]
        for helper in sorted(reasons):
            if depth < 4 and helper != name and reason.endswith(f"calls {_short(helper)}, which stays sync"):
                return f"{reason}: {why(helper, depth + 1)}"
        return reason

    for view in sorted(views - colour - set(reasons)):  # never a candidate: what it blocks on
        found = problem(view, colour)
        if found is not None:
            reasons[view] = found
    plan.reasons = {v: why(v) for v in views if v not in colour and v in reasons}
    plan.functions = frozenset(colour)
    # a sqlite3 connection's twin only where an async function takes it (a SQLAlchemy session's
    # is written as before, whoever takes it)
    taken = {t for f, ts in state.threaded.items() if f in colour for t in ts}
    taken |= {t for v, ts in state.views.items() if v in colour for t, given in ts.items() if given}
    plan.resources = {g: r for g, r in plan.resources.items() if r.kind != SQLITE3 or g in taken}
    plan.generators = frozenset(f for f in colour if facts.get(f, AsyncFacts()).generator)
    plan.iterables = frozenset(
        f for f in colour if f not in plan.generators and functions[f].returned_calls and functions[f].returned_calls <= plan.generators
        and not facts.get(f, AsyncFacts()).value_returns
    )
    return plan


def _blocking(name: str, call: str, fa: AsyncFacts) -> str:
    why = f": {fa.http.problem}" if call.startswith("requests.") and fa.http and fa.http.problem else ""
    return f"{_short(name)} calls {call} ({blocking_kind(call)}){why}"


def _sqlite_problem(name: str, fa: AsyncFacts, getters: frozenset[str], guard: bool) -> str | None:
    """Why ``name`` cannot take the async sqlite3 connection of ``getters`` (None: it can, or it
    uses none): what the async connection has no form for (codemod/sqlite_io.py), and the places
    transforms/sqlite_client.py writes no awaits in: a guard's wrapper, a streamed generator."""
    for getter, use in fa.sqlite:
        if getter not in getters:
            continue
        if guard:
            return f"{_short(name)} uses the sqlite3 connection in its wrapper, which stays sync"
        if use.problem is not None:
            return f"sqlite3 stays blocking in {_short(name)}: {use.problem}"
    if fa.streamed & getters:
        return f"{_short(name)} streams a generator that uses the sqlite3 connection itself, which stays sync"
    return None


def _http_ok(fa: AsyncFacts) -> bool:
    return fa.http is not None and fa.http.problem is None


_DECLARATIVE = frozenset({"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.decl_api.DeclarativeBase"})


def _models(types: frozenset[str], facts: dict[str, AsyncFacts], models: dict[str, ModelFacts]) -> set[str]:
    found = {t for t in types if t in models}
    for t in types:
        if t.startswith("call:"):
            found |= {r for r in facts.get(t.removeprefix("call:"), AsyncFacts()).returns if r in models}
    return found


def _short(qualified: str) -> str:
    return ".".join(qualified.split(".")[-2:])
