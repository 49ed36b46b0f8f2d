"""The request's sqlite3 connection for code that became ``async def``, over aiosqlite.

Flask code opens ``sqlite3.connect(...)`` per request (``get_db()`` on ``flask.g``), in a thread
of its own. In an ``async def`` route each call would block the event loop, and two obvious
replacements fail under load (../../MEASURED.md, "Async is not automatically faster"):

- one shared aiosqlite connection used as sqlite3 was (a transaction or a cursor open while the
  code awaits something else) mixes requests into each other's transactions: 47-84% errors at
  100+ users;
- a new aiosqlite connection per request: "database is locked" above ~200 users, the writers
  racing for SQLite's file lock with a busy timeout.

So each database (path and connect options) has, per event loop, two shared connections in
autocommit (``isolation_level=None``), each with its own aiosqlite thread:

- the **reader** runs a statement that only reads (SELECT, VALUES, a WITH that selects) in one
  hop, rows fetched at once (``execute_fetchall``): no cursor stays open across an ``await``;
- the **writer** runs everything else, one request at a time: a request takes the database's
  write lock before its first write and gives it back when sqlite3 would have ended the
  transaction. Where the project's connection had sqlite3's default (an implicit ``BEGIN`` before
  INSERT/UPDATE/DELETE/REPLACE), the writer opens that transaction too, so the request keeps it,
  and its own reads go to the writer, until ``commit()``, ``rollback()`` or ``close()`` (which
  rolls back what was not committed, as closing a sqlite3 connection did). Other requests read
  the last committed state from the reader meanwhile, as other requests' connections did.
  Writers queue on an ``asyncio.Lock`` instead of busy-waiting on the file lock; a wait longer
  than the connection's ``timeout`` (sqlite3's 5 s by default) raises sqlite3's
  ``OperationalError("database is locked")``, what the project's code met before.

An in-memory database is one connection (two would be two databases): reads take the lock too.

``db.execute(...)`` returns :class:`Rows`, a cursor whose rows are all read: ``fetchone``,
``fetchall``, ``fetchmany``, iteration, ``lastrowid``, ``rowcount`` behave as sqlite3's cursor's
(a SELECT's ``lastrowid`` excepted: sqlite3 gave the connection's last insert id there). Rows are
built by the connection's ``row_factory`` (``db.row_factory = sqlite3.Row`` as the getter set it),
one per database. A ``PRAGMA`` runs on both connections, so ``PRAGMA foreign_keys = ON`` holds
for every statement; a setting (``PRAGMA x = y``) runs once per database. sqlite3's exception
classes are the connection's attributes as on sqlite3's (``except db.IntegrityError``), and the
errors raised are sqlite3's own.

The connections close when the event loop shuts down (``asyncio.run`` and anyio close its async
generators then), or with ``await close_databases()`` (an app's lifespan).

Usage, as the converter writes the async twin of a ``get_db()`` getter::

    async def provide_async_db(request: Request) -> AsyncIterator[AsyncSqlite]:
        db = async_sqlite(request.app.config["DATABASE"])
        db.row_factory = sqlite3.Row
        try:
            yield db
        finally:
            await db.close()
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from .http import _start  # registers a closer with the running loop (shared with the HTTP client)

__all__ = ["AsyncSqlite", "Rows", "async_sqlite", "close_databases", "statement_kind"]

# sqlite3.connect's keywords that aiosqlite passes on; check_same_thread means nothing here (the
# connection lives in aiosqlite's thread) and factory would bypass the connection it makes
_PASSED = ("timeout", "detect_types", "isolation_level", "cached_statements", "uri")
_IGNORED = ("check_same_thread",)

_COMMENT = re.compile(r"\s*(?:--[^\n]*(?:\n|$)|/\*.*?(?:\*/|$))", re.S)
_READS = frozenset({"select", "values"})
_DML = frozenset({"insert", "update", "delete", "replace"})  # what sqlite3 opens a transaction for
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|replace)\b", re.I)  # in a WITH


def statement_kind(sql: str) -> str:
    """``"read"``, ``"pragma"`` or ``"write"`` (anything else: DML, DDL, BEGIN...), from its first
    keyword after comments, as sqlite3 reads one to decide on an implicit BEGIN."""
    first = _first_word(sql)
    if first in _READS or (first == "with" and not _WRITE_WORDS.search(sql)):
        return "read"
    return "pragma" if first == "pragma" else "write"


def _first_word(sql: str) -> str:
    position = 0
    while (found := _COMMENT.match(sql, position)) is not None and found.end() > position:
        position = found.end()
    word = re.match(r"\s*([A-Za-z]+)", sql[position:])
    return word.group(1).lower() if word else ""


class Rows:
    """A sqlite3 cursor's answer, read whole: what ``await db.execute(...)`` gives."""

    arraysize = 1

    def __init__(self, rows: Sequence[Any], lastrowid: int | None = None, rowcount: int = -1, description: Any = None) -> None:
        self._rows = list(rows)
        self._next = 0
        self.lastrowid = lastrowid
        self.rowcount = rowcount
        self.description = description

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.arraysize if size is None else size
        taken = self._rows[self._next:self._next + size]
        self._next += len(taken)
        return taken

    def fetchall(self) -> list[Any]:
        taken = self._rows[self._next:]
        self._next = len(self._rows)
        return taken

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        self._next = len(self._rows)


@dataclass
class _Database:
    """One database's shared connections on one event loop."""

    reader: aiosqlite.Connection
    writer: aiosqlite.Connection
    isolation_level: str | None
    timeout: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    row_factory: Any = None
    settings: set[tuple[str, tuple]] = field(default_factory=set)  # PRAGMA x = y already run
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    failure: BaseException | None = None

    @property
    def single(self) -> bool:
        return self.reader is self.writer


_DATABASES: dict[asyncio.AbstractEventLoop, dict[tuple, _Database]] = {}
# the async generator that closes a loop's databases at its shutdown, kept: collected, it would
# close them at once
_CLOSERS: dict[asyncio.AbstractEventLoop, Any] = {}


def _in_memory(database: Any, uri: bool) -> bool:
    text = str(database)
    return text == ":memory:" or text == "" or (uri and "mode=memory" in text)


def _key(database: Any, options: dict[str, Any]) -> tuple:
    return (str(database), tuple(sorted((k, repr(v)) for k, v in options.items())))


def _database(database: Any, options: dict[str, Any]) -> _Database:
    loop = asyncio.get_running_loop()
    databases = _DATABASES.get(loop)
    if databases is None:
        databases = _DATABASES[loop] = {}
        if loop not in _CLOSERS:
            _CLOSERS[loop] = _closed_at_shutdown(loop)
            _start(_CLOSERS[loop])
    key = _key(database, options)
    found = databases.get(key)
    if found is None:
        # both in autocommit: the writer's transactions are the ones this module opens
        shared = {k: v for k, v in options.items() if k != "isolation_level"}
        writer = aiosqlite.connect(database, isolation_level=None, **shared)
        reader = writer if _in_memory(database, options.get("uri", False)) else aiosqlite.connect(database, isolation_level=None, **shared)
        found = databases[key] = _Database(reader, writer, options.get("isolation_level", ""), options.get("timeout", 5.0))
        asyncio.ensure_future(_open(found))
    return found


async def _open(database: _Database) -> None:
    try:
        await database.writer
        if not database.single:
            await database.reader
    except BaseException as error:  # every request waiting for it gets the error
        database.failure = error
    database.opened.set()


async def _closed_at_shutdown(loop: asyncio.AbstractEventLoop) -> AsyncIterator[None]:
    """Suspended at its ``yield`` until the loop shuts its async generators down."""
    try:
        yield
    finally:
        _CLOSERS.pop(loop, None)
        await _close_all(_DATABASES.pop(loop, {}))


async def close_databases() -> None:
    """Close the running loop's shared connections (the next request opens them again)."""
    await _close_all(_DATABASES.pop(asyncio.get_running_loop(), {}))


async def _close_all(databases: dict[tuple, _Database]) -> None:
    for database in databases.values():
        await database.opened.wait()
        for connection in {id(c): c for c in (database.reader, database.writer)}.values():
            await connection.close()


def async_sqlite(database: Any, **options: Any) -> AsyncSqlite:
    """The request's connection to ``database``, taking ``sqlite3.connect``'s arguments."""
    unknown = set(options) - set(_PASSED) - set(_IGNORED)
    if unknown:
        raise TypeError(f"async_sqlite() has no async form for sqlite3.connect's {', '.join(sorted(unknown))}")
    passed = {k: v for k, v in options.items() if k in _PASSED}
    return AsyncSqlite(database, passed)


class AsyncSqlite:
    """One request's view of a database's shared connections, with sqlite3's transactions."""

    # sqlite3's exception classes, as a sqlite3 connection has them (``except db.IntegrityError``)
    Warning = sqlite3.Warning
    Error = sqlite3.Error
    InterfaceError = sqlite3.InterfaceError
    DatabaseError = sqlite3.DatabaseError
    DataError = sqlite3.DataError
    OperationalError = sqlite3.OperationalError
    IntegrityError = sqlite3.IntegrityError
    InternalError = sqlite3.InternalError
    ProgrammingError = sqlite3.ProgrammingError
    NotSupportedError = sqlite3.NotSupportedError

    def __init__(self, database: Any, options: dict[str, Any]) -> None:
        self._target, self._options = database, options
        self._db: _Database | None = None
        self._holding = False  # this request holds the write lock (and maybe a transaction)
        self._closed = False
        self._row_factory: Any = None

    # -- settings -------------------------------------------------------------------------------
    @property
    def row_factory(self) -> Any:
        return self._row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self._row_factory = factory

    @property
    def in_transaction(self) -> bool:
        return self._holding and self._db is not None and self._db.writer.in_transaction

    # -- statements -----------------------------------------------------------------------------
    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> Rows:
        db = await self._ready()
        kind = statement_kind(sql)
        if kind == "read" and not self._holding and not db.single:
            return Rows(await db.reader.execute_fetchall(sql, parameters))
        if kind == "pragma" and not self._holding:
            return await self._pragma(db, sql, tuple(parameters))
        return await self._on_writer(db, "execute", sql, parameters)

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Iterable[Any]]) -> Rows:
        return await self._on_writer(await self._ready(), "executemany", sql, seq_of_parameters)

    async def executescript(self, sql_script: str) -> Rows:
        db = await self._ready()
        if self.in_transaction:  # sqlite3's executescript commits first
            await db.writer.commit()
        return await self._on_writer(db, "executescript", sql_script)

    async def commit(self) -> None:
        self._check_open()
        if self._holding:
            db = self._db
            try:
                if db.writer.in_transaction:  # type: ignore[union-attr]
                    await db.writer.commit()  # type: ignore[union-attr]
            finally:
                self._release_if_done()

    async def rollback(self) -> None:
        self._check_open()
        if self._holding:
            try:
                if self._db.writer.in_transaction:  # type: ignore[union-attr]
                    await self._db.writer.rollback()  # type: ignore[union-attr]
            finally:
                self._release_if_done()

    async def close(self) -> None:
        """End the request's use: what it did not commit is rolled back, as sqlite3's close did."""
        if self._closed:
            return
        try:
            if self._holding and self._db is not None and self._db.writer.in_transaction:
                await self._db.writer.rollback()
        finally:
            self._closed = True
            if self._holding:
                self._holding = False
                self._db.lock.release()  # type: ignore[union-attr]

    # -- pieces ---------------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")

    async def _ready(self) -> _Database:
        self._check_open()
        if self._db is None:
            db = _database(self._target, self._options)
            await db.opened.wait()
            if db.failure is not None:
                raise db.failure
            self._db = db
        db = self._db
        if self._row_factory is not db.row_factory:
            if db.row_factory is not None and self._row_factory is not None:
                raise ValueError("one database, two row factories: give every connection to it the same row_factory")
            if self._row_factory is not None:
                db.row_factory = db.reader.row_factory = db.writer.row_factory = self._row_factory
        return db

    async def _lock(self, db: _Database) -> None:
        if self._holding:
            return
        try:
            await asyncio.wait_for(db.lock.acquire(), db.timeout)
        except asyncio.TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._holding = True

    def _release_if_done(self) -> None:
        if self._holding and not self._db.writer.in_transaction:  # type: ignore[union-attr]
            self._holding = False
            self._db.lock.release()  # type: ignore[union-attr]

    async def _on_writer(self, db: _Database, method: str, *args: Any) -> Rows:
        await self._lock(db)
        try:
            if (
                method in ("execute", "executemany") and db.isolation_level is not None
                and not db.writer.in_transaction and _first_word(args[0]) in _DML
            ):  # sqlite3's implicit BEGIN, which the request then holds
                await db.writer.execute(f"BEGIN {db.isolation_level}".strip())
            cursor = await getattr(db.writer, method)(*args)
            try:
                rows = await cursor.fetchall()
                return Rows(rows, cursor.lastrowid, cursor.rowcount, cursor.description)
            finally:
                await cursor.close()
        finally:
            self._release_if_done()

    async def _pragma(self, db: _Database, sql: str, parameters: tuple) -> Rows:
        setting = "=" in sql
        if setting and (sql, parameters) in db.settings:
            return Rows([])
        await self._lock(db)
        try:
            rows = await db.writer.execute_fetchall(sql, parameters)
            if not db.single:
                rows = await db.reader.execute_fetchall(sql, parameters)
        finally:
            self._release_if_done()
        if setting:
            db.settings.add((sql, parameters))
        return Rows(rows)

