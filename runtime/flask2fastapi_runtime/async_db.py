"""An async SQLAlchemy session over the same database as a project's sync ``sessionmaker``.

A converted route that is ``async def`` takes an :class:`~sqlalchemy.ext.asyncio.AsyncSession`;
the code that still runs sync (bridged views, CLI commands, tests, streamed bodies) keeps the
project's own ``Session``. Both must reach the same database with the same settings, so the async
engine is derived from the sync one, once per engine:

- the URL keeps everything but the driver: ``sqlite`` -> ``sqlite+aiosqlite``, ``postgresql`` ->
  ``postgresql+asyncpg``, ``mysql`` / ``mariadb`` -> ``+aiomysql``; a URL that already names an
  async driver is kept;
- the pool keeps its size, overflow, timeout, recycle and pre-ping (an async-adapted queue pool),
  a ``StaticPool`` stays static and a ``NullPool`` stays null;
- on asyncpg the pre-ping is one round trip, as the sync driver's is: SQLAlchemy's asyncpg ping
  wraps its statement in a transaction of its own (BEGIN, the ping, ROLLBACK: three round trips
  for every checkout, a third of a chat request's statements). It is a pool ``checkout`` listener
  here, a ``SELECT 1`` on the driver connection outside any transaction (``run_async``, the
  adapted connection's public way to await a driver call from a pool event); a connection that
  fails it raises ``DisconnectionError``, and the pool replaces it with a fresh one, as the
  pre-ping did;
- the project's own ``connect`` listeners (``PRAGMA foreign_keys=ON`` for SQLite) are registered on
  the async engine too;
- the session factory keeps the sync factory's options (``expire_on_commit``, ``autoflush``...).

An in-memory SQLite database lives in one connection (a ``StaticPool``): the async engine wraps that
same connection in aiosqlite's worker thread, so both see one database, as the sync code shared it
across threads before (the project's ``check_same_thread=False``). Any other in-memory setup is
refused with a clear error rather than served from an empty second database.

Usage, as the converter writes it in a yield dependency::

    async def provide_db(request: Request) -> AsyncIterator[AsyncSession]:
        db = async_session(request.app.extensions["db"].session_factory)
        try:
            yield db
        finally:
            await db.close()

A Flask-SQLAlchemy project has no factory of its own: ``flask_sqlalchemy_session(db, app)`` gives
the ``AsyncSession`` over the engine ``db`` made for the app, with the options of ``db.session``.
"""

from __future__ import annotations

import weakref

from sqlalchemy import Engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool, QueuePool, StaticPool

__all__ = [
    "ASYNC_DRIVERS", "async_engine", "async_session", "async_sessionmaker_for", "async_url", "flask_sqlalchemy_session",
]

# backend -> the async dialect+driver the converter emits (chosen in ../../bench/README.md)
ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "mysql": "mysql+aiomysql",
    "mariadb": "mariadb+aiomysql",
}
ASYNC_DRIVER_NAMES = frozenset({"aiosqlite", "asyncpg", "aiomysql", "asyncmy", "psycopg_async"})

_engines: weakref.WeakKeyDictionary[Engine, AsyncEngine] = weakref.WeakKeyDictionary()
_factories: weakref.WeakKeyDictionary[sessionmaker, async_sessionmaker] = weakref.WeakKeyDictionary()


def async_url(url: str | URL) -> URL:
    """The same database URL with an async driver."""
    url = make_url(url)
    if url.get_driver_name() in ASYNC_DRIVER_NAMES:
        return url
    backend = url.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"no async driver is known for {backend!r} databases ({url.render_as_string(hide_password=True)})")
    return url.set(drivername=ASYNC_DRIVERS[backend])


def _in_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and (url.database in (None, "", ":memory:") or "mode=memory" in str(url.query))


def async_engine(engine: Engine) -> AsyncEngine:
    """The async engine over ``engine``'s database and pool settings (one per sync engine)."""
    existing = _engines.get(engine)
    if existing is not None:
        return existing
    pool = engine.pool
    options: dict = {"echo": engine.echo}
    if _in_memory(engine.url):
        if not isinstance(pool, StaticPool):
            raise RuntimeError(
                "an in-memory SQLite database that is not one shared connection (StaticPool) cannot be "
                "shared with an async session: give the app a file database (sqlite:///path) or a StaticPool"
            )
        options["async_creator"] = _shared_sqlite(engine)
    if isinstance(pool, QueuePool):
        # size() and timeout() are QueuePool's public API; the rest has no public accessor
        options.update(
            poolclass=AsyncAdaptedQueuePool, pool_size=pool.size(), pool_timeout=pool.timeout(),
            max_overflow=getattr(pool, "_max_overflow", 10), pool_recycle=getattr(pool, "_recycle", -1),
            pool_pre_ping=getattr(pool, "_pre_ping", False),
        )
    elif isinstance(pool, (StaticPool, NullPool)):
        options["poolclass"] = type(pool)
    url = async_url(engine.url)
    cheap_ping = options.get("pool_pre_ping") and url.get_driver_name() == "asyncpg"
    if cheap_ping:
        options["pool_pre_ping"] = False
    created = create_async_engine(url, **options)
    if cheap_ping:
        event.listen(created.sync_engine, "checkout", _ping_asyncpg)
    for listener in list(pool.dispatch.connect):
        # SQLAlchemy registers its dialect's own connect hooks there too; the async dialect
        # brings its own, so only the project's listeners are carried over
        if not getattr(listener, "__module__", "").startswith("sqlalchemy."):
            event.listen(created.sync_engine, "connect", listener)
    _engines[engine] = created
    return created


def _ping_asyncpg(dbapi_connection, _record, _proxy) -> None:
    """The pre-ping on asyncpg in one round trip (module doc); the simple query protocol, so no
    statement is prepared (a transaction-mode pgbouncer takes it)."""
    try:
        dbapi_connection.run_async(lambda connection: connection.execute("SELECT 1"))
    except Exception as error:
        raise exc.DisconnectionError(f"the pre-ping failed: {error}") from error


def _shared_sqlite(engine: Engine):
    """An async_creator handing aiosqlite the sync StaticPool's one sqlite3 connection."""
    import aiosqlite

    with engine.connect() as connection:
        shared = connection.connection.driver_connection

    async def creator():
        wrapped = aiosqlite.Connection(lambda: shared, 64)
        # aiosqlite's worker thread would keep the process alive until the connection is closed,
        # and closing it would close the database every sync session still uses
        wrapped._thread.daemon = True
        return await wrapped

    return creator


def async_sessionmaker_for(factory: sessionmaker) -> async_sessionmaker[AsyncSession]:
    """An ``async_sessionmaker`` with ``factory``'s options, bound to the async twin of its engine."""
    existing = _factories.get(factory)
    if existing is not None:
        return existing
    options = dict(factory.kw)
    bind = options.pop("bind", None)
    if not isinstance(bind, Engine):
        raise TypeError("the session factory is not bound to an Engine: bind it (sessionmaker(bind=engine)) to derive its async twin")
    created = async_sessionmaker(async_engine(bind), **options)
    _factories[factory] = created
    return created


def async_session(factory: sessionmaker) -> AsyncSession:
    """A new ``AsyncSession`` on the database of the sync ``factory`` (close it when done)."""
    return async_sessionmaker_for(factory)()


# Options of Flask-SQLAlchemy's session factory an AsyncSession's sync session takes as they are;
# the others are Flask-SQLAlchemy's own (``db``, ``query_cls``: the legacy Model.query)
_SESSION_OPTIONS = frozenset({"autoflush", "expire_on_commit", "autobegin", "twophase", "join_transaction_mode", "info"})
_flask_factories: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Flask app -> {db: async_sessionmaker}


def flask_sqlalchemy_session(db, app) -> AsyncSession:
    """A new ``AsyncSession`` on the database Flask-SQLAlchemy's ``db`` uses for ``app`` (a Flask
    app, or the FlaskBridge serving one; close it when done).

    The engine is the one ``db.init_app(app)`` made from SQLALCHEMY_DATABASE_URI and the engine
    options (Flask-SQLAlchemy's in-memory SQLite is a StaticPool: shared, see ``async_engine``);
    the session keeps ``db.session``'s options, so it expires loaded values on commit as
    Flask-SQLAlchemy's does unless the project said ``expire_on_commit=False``. A project with
    SQLALCHEMY_BINDS is refused: its models pick an engine by ``__bind_key__`` in Flask-SQLAlchemy's
    own session class, which this session is not."""
    flask_app = getattr(app, "flask_app", app)
    made = _flask_factories.setdefault(flask_app, {})
    factory = made.get(db)
    if factory is None:
        # db.engines reads current_app: pushed once per app, when its first async session opens
        with flask_app.app_context():
            engines = dict(db.engines)
        if set(engines) != {None}:
            raise RuntimeError("an async session cannot serve a Flask-SQLAlchemy app with SQLALCHEMY_BINDS: keep its views sync")
        options = {k: v for k, v in db.session.session_factory.kw.items() if k in _SESSION_OPTIONS}
        factory = made[db] = async_sessionmaker(async_engine(engines[None]), **options)
    return factory()
