"""The async twin of a project's sync SQLAlchemy engine and session factory (async_db)."""

import asyncio

import pytest
from sqlalchemy import String, create_engine, event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.pool import AsyncAdaptedQueuePool, StaticPool

from flask2fastapi_runtime.async_db import async_engine, async_session, async_sessionmaker_for, async_url


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(50))


@pytest.mark.parametrize(
    ("sync", "expected"),
    [
        ("sqlite:///app.db", "sqlite+aiosqlite:///app.db"),
        ("postgresql://u:p@db:5432/chat", "postgresql+asyncpg://u:p@db:5432/chat"),
        ("postgresql+psycopg://u@db/chat?sslmode=require", "postgresql+asyncpg://u@db/chat?sslmode=require"),
        ("mysql+pymysql://u@db/chat", "mysql+aiomysql://u@db/chat"),
        ("postgresql+asyncpg://u@db/chat", "postgresql+asyncpg://u@db/chat"),
    ],
)
def test_async_url_changes_only_the_driver(sync, expected):
    assert async_url(sync).render_as_string(hide_password=False) == expected


def test_unknown_backend_is_refused_by_name():
    with pytest.raises(ValueError, match="oracle"):
        async_url("oracle://u@db/x")


def test_sessions_share_the_database_and_the_project_listeners(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}", pool_size=3, max_overflow=4, pool_pre_ping=True)
    seen = []

    @event.listens_for(engine, "connect")
    def foreign_keys(dbapi_connection, _record):
        seen.append(type(dbapi_connection).__name__)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    Base.metadata.create_all(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        session.add(Note(body="written sync"))
        session.commit()

    async def main():
        db = async_session(factory)
        try:
            bodies = (await db.scalars(select(Note.body))).all()
            db.add(Note(body="written async"))
            await db.commit()
            keys = (await db.execute(text("PRAGMA foreign_keys"))).scalar()
            return bodies, keys, db.sync_session.expire_on_commit
        finally:
            await db.close()

    bodies, keys, expire = asyncio.run(main())
    assert bodies == ["written sync"]
    assert keys == 1  # the project's listener ran on the async connection too
    assert expire is False  # the factory's options carried over
    with factory() as session:
        assert session.scalars(select(Note.body).order_by(Note.id)).all() == ["written sync", "written async"]

    twin = async_engine(engine)
    assert isinstance(twin, AsyncEngine) and async_engine(engine) is twin
    assert async_sessionmaker_for(factory) is async_sessionmaker_for(factory)
    pool = twin.sync_engine.pool
    assert isinstance(pool, AsyncAdaptedQueuePool) and pool.size() == 3 and pool._max_overflow == 4
    assert "AsyncAdapt" in seen[-1]  # the listener saw the async driver's connection
    asyncio.run(twin.dispose())


def test_in_memory_sqlite_shares_the_one_connection():
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as session:
        session.add(Note(body="sync"))
        session.commit()

    async def main():
        async with async_session(factory) as db:
            db.add(Note(body="async"))
            await db.commit()
            return (await db.scalars(select(Note.body).order_by(Note.id))).all()

    assert asyncio.run(main()) == ["sync", "async"]
    with factory() as session:  # the sync side sees what the async side wrote: one database
        assert session.scalars(select(Note.body).order_by(Note.id)).all() == ["sync", "async"]


def test_in_memory_sqlite_without_a_static_pool_is_refused_with_a_reason():
    engine = create_engine("sqlite://")
    with pytest.raises(RuntimeError, match="in-memory SQLite"):
        async_engine(engine)


def test_an_unbound_factory_is_refused():
    with pytest.raises(TypeError, match="not bound"):
        async_sessionmaker_for(sessionmaker())


def _flask_sqlalchemy_app(uri, **options):
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy(**options)

    class Shelf(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(String(30))

    app = Flask("shop")
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    db.init_app(app)
    with app.app_context():
        db.create_all()
        db.session.add(Shelf(name="poetry"))
        db.session.commit()
    return app, db, Shelf


def test_flask_sqlalchemy_session_is_on_the_apps_database_with_its_options():
    from flask2fastapi_runtime.async_db import flask_sqlalchemy_session

    app, db, Shelf = _flask_sqlalchemy_app("sqlite://")  # Flask-SQLAlchemy makes it a StaticPool

    async def use():
        session = flask_sqlalchemy_session(db, app)
        try:
            shelf = await session.get(Shelf, 1)
            shelf.name = "essays"
            await session.commit()
            # Flask-SQLAlchemy's session expires on commit: so does this one
            return session.sync_session.expire_on_commit, "name" in shelf.__dict__
        finally:
            await session.close()

    assert asyncio.run(use()) == (True, False)
    with app.app_context():
        assert db.session.scalars(select(Shelf.name)).all() == ["essays"]  # the sync session sees it
    assert flask_sqlalchemy_session(db, app).bind is flask_sqlalchemy_session(db, app).bind  # one engine


def test_flask_sqlalchemy_session_keeps_the_projects_session_options():
    from flask2fastapi_runtime.async_db import flask_sqlalchemy_session

    app, db, _ = _flask_sqlalchemy_app("sqlite://", session_options={"expire_on_commit": False, "autoflush": False})
    session = flask_sqlalchemy_session(db, app)
    assert (session.sync_session.expire_on_commit, session.sync_session.autoflush) == (False, False)


def test_flask_sqlalchemy_binds_are_refused():
    from flask2fastapi_runtime.async_db import flask_sqlalchemy_session
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()
    app = Flask("binds")
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SQLALCHEMY_BINDS={"audit": "sqlite://"})
    db.init_app(app)
    with pytest.raises(RuntimeError, match="SQLALCHEMY_BINDS"):
        flask_sqlalchemy_session(db, app)
