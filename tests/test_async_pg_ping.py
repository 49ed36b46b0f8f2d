"""The async engine's pre-ping on a real PostgreSQL server (a throwaway cluster, as bench/load.py
starts one): one statement per checkout where SQLAlchemy's asyncpg ping sends three, and a
connection the server dropped is still replaced before the session uses it."""

import asyncio
import shutil
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from flask2fastapi_runtime import async_db  # noqa: E402
from flask2fastapi_runtime.async_db import async_engine, async_session  # noqa: E402

postgres = pytest.importorskip("loadbench.postgres")
pytest.importorskip("asyncpg")
if not (Path("/usr/lib/postgresql").exists() or shutil.which("initdb")):
    pytest.skip("no PostgreSQL server binaries", allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    with postgres.TempPostgres({"log_statement": "'all'"}) as pg:
        pg.create("ping")
        yield pg


def _statements(pg) -> list[str]:
    """What the server was sent, in order: simple queries ("statement: ...") and prepared ones
    ("execute __asyncpg_stmt_N__: ...")."""
    log = (pg.folder / "server.log").read_text()
    sent = []
    for line in log.splitlines():
        _, found, statement = line.partition("LOG:  statement: ")
        if not found:
            _, found, rest = line.partition("LOG:  execute ")
            statement = rest.partition(": ")[2]
        if found:
            sent.append(statement.strip())
    return sent


def test_a_checkout_pings_once_outside_any_transaction(server):
    engine = create_engine(server.url("ping"), pool_pre_ping=True, pool_size=2, max_overflow=0)
    factory = sessionmaker(bind=engine)

    async def twice():
        for marker in ("first", "second"):
            db = async_session(factory)
            try:
                await db.execute(text(f"SELECT '{marker}'"))
            finally:
                await db.close()

    before = len(_statements(server))
    asyncio.run(twice())
    sent = _statements(server)[before:]
    second = sent[sent.index("SELECT 'first'") + 1:]
    # the second checkout reuses the pooled connection: its ping, then the session's own transaction
    assert second == ["ROLLBACK;", "SELECT 1", "BEGIN;", "SELECT 'second'", "ROLLBACK;"]


def test_a_connection_the_server_dropped_is_replaced_at_checkout(server):
    engine = create_engine(server.url("ping"), pool_pre_ping=True, pool_size=1, max_overflow=0)
    factory = sessionmaker(bind=engine)
    pids = []

    async def main():
        for _ in range(2):
            db = async_session(factory)
            try:
                pids.append((await db.execute(text("SELECT pg_backend_pid()"))).scalar())
            finally:
                await db.close()
            if len(pids) == 1:  # an administrator (or a restart) ends the pooled connection
                with create_engine(server.url("ping")).connect() as admin:
                    admin.execute(text(f"SELECT pg_terminate_backend({pids[0]})"))
                await asyncio.sleep(0.2)

    asyncio.run(main())
    assert len(pids) == 2 and pids[0] != pids[1]


def test_other_drivers_keep_sqlalchemys_pre_ping(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}", pool_pre_ping=True, pool_size=1)
    created = async_engine(engine)
    assert created.pool._pre_ping is True
    assert not event.contains(created.sync_engine, "checkout", async_db._ping_asyncpg)
