"""Engine setup and the per-request SQLAlchemy session."""

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from .models import Base

EXTENSION_KEY = "chatbot_db"


@dataclass
class Database:
    engine: Engine
    session_factory: sessionmaker[Session]


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(database_url: str, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow
        )

    options: dict = {"connect_args": {"check_same_thread": False}}
    if url.database in (None, "", ":memory:"):
        # One shared connection, otherwise every checkout sees an empty database.
        options["poolclass"] = StaticPool
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def init_app(app: Flask) -> None:
    """Create the engine and tables, and close the request session on teardown."""
    engine = make_engine(
        app.config["DATABASE_URL"],
        pool_size=app.config["DATABASE_POOL_SIZE"],
        max_overflow=app.config["DATABASE_MAX_OVERFLOW"],
    )
    Base.metadata.create_all(engine)
    app.extensions[EXTENSION_KEY] = Database(
        engine=engine,
        session_factory=sessionmaker(bind=engine, expire_on_commit=False),
    )
    app.teardown_appcontext(close_db)


def get_db() -> Session:
    """Return the session for the current request, opening it on first use."""
    if "db" not in g:
        g.db = current_app.extensions[EXTENSION_KEY].session_factory()
    return g.db


def close_db(exc: BaseException | None = None) -> None:
    """Close the request's session; anything uncommitted is rolled back."""
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.close()
