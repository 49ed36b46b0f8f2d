"""async_sqlite: the request's sqlite3 connection on aiosqlite answers as sqlite3 did, keeps
sqlite3's transactions per request, and holds up under concurrency without "database is locked"."""

import asyncio
import sqlite3
import threading
import time

import pytest

from flask2fastapi_runtime.async_sqlite import AsyncSqlite, async_sqlite, close_databases, statement_kind

SCHEMA = "CREATE TABLE notes (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, text TEXT UNIQUE)"
STATEMENTS = [
    ("INSERT INTO notes (owner, text) VALUES (?, ?)", ("ann", "first")),
    ("INSERT INTO notes (owner, text) VALUES (?, ?)", ("ann", "second")),
    ("INSERT INTO notes (owner, text) VALUES (?, ?)", ("bob", "third")),
    ("SELECT * FROM notes WHERE owner = ? ORDER BY id", ("ann",)),
    ("SELECT COUNT(*) AS n FROM notes", ()),
    ("UPDATE notes SET text = text || '!' WHERE owner = ?", ("ann",)),
    ("SELECT id, text FROM notes ORDER BY id", ()),
    ("DELETE FROM notes WHERE owner = ?", ("bob",)),
    ("WITH t AS (SELECT owner FROM notes) SELECT owner, COUNT(*) FROM t GROUP BY owner", ()),
]


def _shape(cursor):
    rows = [tuple(r) for r in cursor.fetchall()]
    return rows, cursor.rowcount, cursor.lastrowid if rows == [] else None


def test_statement_kinds():
    assert statement_kind("  select 1") == "read"
    assert statement_kind("-- a comment\n/* another */ VALUES (1)") == "read"
    assert statement_kind("WITH x AS (SELECT 1) SELECT * FROM x") == "read"
    assert statement_kind("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x") == "write"
    assert statement_kind("PRAGMA foreign_keys = ON") == "pragma"
    assert statement_kind("insert into t values (1)") == "write"
    assert statement_kind("BEGIN") == "write"


def test_answers_as_sqlite3_does(tmp_path):
    path = tmp_path / "same.db"
    expected_path = tmp_path / "expected.db"
    sync = sqlite3.connect(expected_path)
    sync.row_factory = sqlite3.Row
    sync.execute(SCHEMA)
    expected = []
    for sql, args in STATEMENTS:
        cursor = sync.execute(sql, args)
        expected.append(_shape(cursor))
    sync.commit()
    keys = list(sync.execute("SELECT * FROM notes").fetchone().keys())

    async def run():
        db = async_sqlite(str(path))
        db.row_factory = sqlite3.Row
        await db.execute(SCHEMA)
        got = [_shape(await db.execute(sql, args)) for sql, args in STATEMENTS]
        await db.commit()
        row = (await db.execute("SELECT * FROM notes")).fetchone()
        await db.close()
        return got, list(row.keys()), row["owner"]

    got, got_keys, owner = asyncio.run(run())
    assert got == expected
    assert got_keys == keys and owner == "ann"


def test_cursor_reads_and_lastrowid(tmp_path):
    async def run():
        db = async_sqlite(str(tmp_path / "c.db"))
        await db.execute(SCHEMA)
        first = await db.execute("INSERT INTO notes (owner, text) VALUES (?, ?)", ("ann", "a"))
        many = await db.executemany("INSERT INTO notes (owner, text) VALUES (?, ?)", [("ann", "b"), ("bob", "c")])
        await db.commit()
        rows = await db.execute("SELECT id FROM notes ORDER BY id")
        one, two, rest = rows.fetchone(), rows.fetchmany(1), rows.fetchall()
        iterated = [r[0] for r in await db.execute("SELECT id FROM notes ORDER BY id")]
        await db.close()
        return first.lastrowid, first.rowcount, many.rowcount, one, two, rest, iterated

    assert asyncio.run(run()) == (1, 1, 2, (1,), [(2,)], [(3,)], [1, 2, 3])


def test_uncommitted_writes_are_rolled_back_at_close_and_unseen_meanwhile(tmp_path):
    path = str(tmp_path / "tx.db")

    async def run():
        setup = async_sqlite(path)
        await setup.execute(SCHEMA)
        await setup.close()
        writer, reader = async_sqlite(path), async_sqlite(path)
        await writer.execute("INSERT INTO notes (owner, text) VALUES ('ann', 'draft')")
        assert writer.in_transaction
        own = (await writer.execute("SELECT COUNT(*) FROM notes")).fetchone()[0]
        other = (await reader.execute("SELECT COUNT(*) FROM notes")).fetchone()[0]
        await writer.close()  # no commit: sqlite3's close dropped it too
        after = (await reader.execute("SELECT COUNT(*) FROM notes")).fetchone()[0]
        committing = async_sqlite(path)
        await committing.execute("INSERT INTO notes (owner, text) VALUES ('ann', 'kept')")
        await committing.commit()
        assert not committing.in_transaction
        seen = (await reader.execute("SELECT text FROM notes")).fetchall()
        await committing.close()
        await reader.close()
        return own, other, after, seen

    assert asyncio.run(run()) == (1, 0, 0, [("kept",)])


def test_autocommit_connections_commit_each_statement(tmp_path):
    path = str(tmp_path / "auto.db")

    async def run():
        db = async_sqlite(path, isolation_level=None)
        await db.execute(SCHEMA)
        await db.execute("INSERT INTO notes (owner, text) VALUES ('ann', 'x')")
        in_tx = db.in_transaction
        await db.close()
        return in_tx

    assert asyncio.run(run()) is False
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 1


def test_integrity_error_is_sqlite3s_and_the_lock_comes_back(tmp_path):
    path = str(tmp_path / "err.db")

    async def run():
        db = async_sqlite(path)
        await db.execute(SCHEMA)
        await db.execute("INSERT INTO notes (owner, text) VALUES ('ann', 'same')")
        await db.commit()
        failing = async_sqlite(path)
        with pytest.raises(failing.IntegrityError):
            await failing.execute("INSERT INTO notes (owner, text) VALUES ('bob', 'same')")
        await failing.close()
        after = async_sqlite(path, timeout=0.5)  # would time out if the lock were still held
        await after.execute("INSERT INTO notes (owner, text) VALUES ('bob', 'other')")
        await after.commit()
        await after.close()
        await db.close()

    asyncio.run(run())
    assert AsyncSqlite.IntegrityError is sqlite3.IntegrityError


def test_a_writer_waiting_longer_than_the_timeout_gets_database_is_locked(tmp_path):
    path = str(tmp_path / "locked.db")

    async def run():
        holder = async_sqlite(path, timeout=0.2)
        await holder.execute(SCHEMA)
        await holder.execute("INSERT INTO notes (owner, text) VALUES ('ann', 'held')")
        waiting = async_sqlite(path, timeout=0.2)
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            await waiting.execute("INSERT INTO notes (owner, text) VALUES ('bob', 'late')")
        read = (await waiting.execute("SELECT COUNT(*) FROM notes")).fetchone()[0]  # reads still go
        await holder.close()
        await waiting.close()
        return read

    assert asyncio.run(run()) == 0


def test_two_hundred_concurrent_requests_read_and_write_without_errors(tmp_path):
    path = str(tmp_path / "load.db")

    async def request(number: int) -> int:
        db = async_sqlite(path)
        db.row_factory = sqlite3.Row
        try:
            before = (await db.execute("SELECT COUNT(*) AS n FROM notes")).fetchone()["n"]
            await asyncio.sleep(0.01)  # the upstream call between the read and the write
            cursor = await db.execute("INSERT INTO notes (owner, text) VALUES (?, ?)", (f"u{number}", f"t{number}"))
            await db.execute("UPDATE notes SET text = text || '.' WHERE id = ?", (cursor.lastrowid,))
            await db.commit()
            return before
        finally:
            await db.close()

    async def run():
        setup = async_sqlite(path)
        await setup.execute(SCHEMA)
        await setup.close()
        results = await asyncio.gather(*(request(n) for n in range(200)), return_exceptions=True)
        check = async_sqlite(path)
        rows = (await check.execute("SELECT owner, text FROM notes")).fetchall()
        await check.close()
        return results, rows

    results, rows = asyncio.run(run())
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len(rows) == 200
    assert all(text == f"t{owner[1:]}." for owner, text in rows)


def test_pragmas_hold_for_reads_and_writes(tmp_path):
    path = str(tmp_path / "fk.db")

    async def run():
        db = async_sqlite(path)
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await db.execute("CREATE TABLE child (parent INTEGER REFERENCES parent(id))")
        on = (await db.execute("PRAGMA foreign_keys")).fetchone()[0]
        with pytest.raises(sqlite3.IntegrityError):
            await db.execute("INSERT INTO child VALUES (42)")
        await db.close()
        return on

    assert asyncio.run(run()) == 1


def test_an_in_memory_database_is_one_connection(tmp_path):
    async def run():
        a, b = async_sqlite(":memory:"), async_sqlite(":memory:")
        await a.execute("CREATE TABLE t (x)")
        await a.execute("INSERT INTO t VALUES (1)")
        await a.commit()
        seen = (await b.execute("SELECT x FROM t")).fetchall()
        await a.close()
        await b.close()
        return seen

    assert asyncio.run(run()) == [(1,)]


def test_a_closed_connection_refuses_and_the_loop_closes_the_shared_ones(tmp_path):
    # (the threads started here: another test's may end meanwhile)
    before = set(threading.enumerate())

    async def run():
        db = async_sqlite(str(tmp_path / "closed.db"))
        await db.execute("SELECT 1")
        await db.close()
        with pytest.raises(sqlite3.ProgrammingError):
            await db.execute("SELECT 1")

    asyncio.run(run())
    for _ in range(100):  # a worker thread returns just after it answered the close
        if not set(threading.enumerate()) - before:
            break
        time.sleep(0.01)
    assert not set(threading.enumerate()) - before  # aiosqlite's threads ended with the loop


def test_close_databases_closes_the_loops_connections(tmp_path):
    async def run():
        db = async_sqlite(str(tmp_path / "life.db"))
        await db.execute("CREATE TABLE t (x)")
        await db.close()
        await close_databases()
        again = async_sqlite(str(tmp_path / "life.db"))  # opened anew
        rows = (await again.execute("SELECT COUNT(*) FROM t")).fetchone()
        await again.close()
        return rows

    assert asyncio.run(run()) == (0,)


def test_unknown_connect_options_are_refused():
    with pytest.raises(TypeError, match="factory"):
        async_sqlite("x.db", factory=sqlite3.Connection)
