"""What blocks the event loop: the blocking calls `flask2fastapi lint` reports, in one table.

Each entry is a qualified name (``requests.post``) or a type of object that a qualified name makes
(``sqlite3.connect(...)`` makes a ``sqlite3.Connection``, whose ``execute`` blocks), with the
finding code of its family and the async replacement to suggest. codemod/lint.py reads nothing
else to decide what blocks. Families follow the FastAPI docs' advice on ``async def``
(https://fastapi.tiangolo.com/async/): a call that waits for I/O without ``await`` stops every
other request of the worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from codemod.findings import Code

_TEMPLATE = "{call} blocks the event loop in async def {function}{via}: use {replacement}"


def _code(number: str, what: str) -> Code:
    return Code(
        number,
        _TEMPLATE,
        f"{what} waits without `await`, so while it runs the worker serves no other request. Use "
        "the async library named in the message (awaited), or run the call in a thread with "
        "`await asyncio.to_thread(f, ...)` (FastAPI: `run_in_threadpool`), or make the route a "
        "plain `def`, which FastAPI runs in its thread pool. A call the message shows with a "
        "chain (`a -> b -> requests.post`) blocks inside a sync function of the project that the "
        "async def calls. `# f2f: ignore[CODE]` on the line silences one finding; on the blocking "
        "line of a sync helper it silences every async caller.",
    )


HTTP = _code("F2F401", "A synchronous HTTP client (requests, httpx.Client, urllib, http.client)")
SLEEP = _code("F2F402", "time.sleep")
DATABASE = _code(
    "F2F403", "A synchronous database driver or session (sqlite3, psycopg, pymysql, SQLAlchemy, Flask-SQLAlchemy)"
)
NETWORK = _code("F2F404", "A synchronous network client (redis, smtplib, socket)")
SUBPROCESS = _code("F2F405", "A subprocess waited for synchronously")
FILES = _code("F2F406", "A file read or written synchronously")


class BlockingCalls:
    """The lint's entry in the code catalogue (``flask2fastapi explain F2F401``)."""

    NAME = "lint"
    DESCRIPTION = "blocking calls inside async def (flask2fastapi lint)"
    FINDINGS = {
        "http": HTTP, "sleep": SLEEP, "database": DATABASE, "network": NETWORK, "subprocess": SUBPROCESS, "files": FILES,
    }


# -- replacements to suggest ----------------------------------------------------------------

AIOHTTP = "an aiohttp.ClientSession shared through the app's lifespan (awaited)"
ASYNCIO_SLEEP = "await asyncio.sleep(...)"
AIOSQLITE = "aiosqlite (one shared connection in autocommit, execute_fetchall)"
ASYNC_POSTGRES = "asyncpg, psycopg's AsyncConnection, or SQLAlchemy's create_async_engine with postgresql+asyncpg"
AIOMYSQL = "aiomysql, or SQLAlchemy's create_async_engine with mysql+aiomysql"
ASYNC_SQLALCHEMY = "SQLAlchemy's AsyncSession / create_async_engine (awaited)"
REDIS_ASYNCIO = "redis.asyncio (awaited)"
AIOSMTPLIB = "aiosmtplib, or send the mail from a BackgroundTask"
ASYNCIO_STREAMS = "asyncio.open_connection or loop.sock_* (awaited)"
ASYNC_SUBPROCESS = "asyncio.create_subprocess_exec (awaited)"
ASYNC_FILES = "await asyncio.to_thread(...) for the file I/O, or anyio.Path / aiofiles"
ASYNC_DNS = "loop.getaddrinfo (awaited)"


@dataclass(frozen=True)
class Kind:
    """A type of object a blocking library makes, and which of its methods wait for I/O.

    ``blocking`` None means every method but those in ``safe`` (a redis client: every command
    is a round trip). ``returns`` gives the type a method's result has, ``attributes`` the type
    of an attribute, ``call`` the type that calling the object makes (a sessionmaker).
    """

    code: Code
    replacement: str
    blocking: frozenset[str] | None
    safe: frozenset[str] = frozenset()
    returns: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    call: str | None = None
    chained: str | None = None  # the type any other method returns (a Query's filter)

    def blocks(self, method: str) -> bool:
        if self.blocking is None:
            return method not in self.safe and not method.startswith("_")
        return method in self.blocking


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


HTTP_VERBS = _names("get post put patch delete head options request")
DBAPI_CONNECTION = _names("execute executemany executescript commit rollback")
DBAPI_CURSOR = _names("execute executemany executescript fetchone fetchmany fetchall callproc copy_expert copy_from copy_to")
# A Session's methods that talk to the database; add/add_all/delete/expunge only change memory.
# close() returns the connection to the pool, which rolls back: a round trip.
SESSION_IO = _names("execute scalars scalar get get_one commit flush refresh merge rollback close connection")
QUERY_IO = _names(
    "all first one one_or_none scalar count get delete update paginate first_or_404 get_or_404 one_or_404"
)

KINDS: dict[str, Kind] = {
    "requests.Session": Kind(HTTP, AIOHTTP, HTTP_VERBS | {"send"}),
    "httpx.Client": Kind(HTTP, AIOHTTP + ", or httpx.AsyncClient", HTTP_VERBS | {"send", "stream"}),
    "http.client.HTTPConnection": Kind(HTTP, AIOHTTP, _names("request getresponse connect send endheaders")),
    "urllib.request.OpenerDirector": Kind(HTTP, AIOHTTP, _names("open")),
    "sqlite3.Connection": Kind(
        DATABASE, AIOSQLITE, DBAPI_CONNECTION | {"backup"},
        returns=dict.fromkeys(("cursor", "execute", "executemany", "executescript"), "sqlite3.Cursor"),
    ),
    "sqlite3.Cursor": Kind(DATABASE, AIOSQLITE, DBAPI_CURSOR, chained="sqlite3.Cursor"),
    "psycopg.Connection": Kind(
        DATABASE, ASYNC_POSTGRES, DBAPI_CONNECTION, returns=dict.fromkeys(("cursor", "execute"), "psycopg.Cursor")
    ),
    "psycopg.Cursor": Kind(DATABASE, ASYNC_POSTGRES, DBAPI_CURSOR, chained="psycopg.Cursor"),
    "pymysql.Connection": Kind(DATABASE, AIOMYSQL, DBAPI_CONNECTION | {"ping"}, returns={"cursor": "pymysql.Cursor"}),
    "pymysql.Cursor": Kind(DATABASE, AIOMYSQL, DBAPI_CURSOR),
    "sqlalchemy.Engine": Kind(
        DATABASE, ASYNC_SQLALCHEMY, _names("connect begin execute raw_connection"),
        returns={"connect": "sqlalchemy.Connection", "begin": "sqlalchemy.Connection"},
    ),
    "sqlalchemy.Connection": Kind(DATABASE, ASYNC_SQLALCHEMY, _names("execute exec_driver_sql scalar scalars commit rollback")),
    "sqlalchemy.orm.Session": Kind(DATABASE, ASYNC_SQLALCHEMY, SESSION_IO, returns={"query": "sqlalchemy.orm.Query"}),
    # a scoped_session proxies a Session's methods and makes (or returns) one when called
    "sqlalchemy.orm.scoped_session": Kind(
        DATABASE, ASYNC_SQLALCHEMY, SESSION_IO, returns={"query": "sqlalchemy.orm.Query"}, call="sqlalchemy.orm.Session"
    ),
    "sqlalchemy.orm.sessionmaker": Kind(
        DATABASE, ASYNC_SQLALCHEMY, frozenset(), returns={"begin": "sqlalchemy.orm.Session"}, call="sqlalchemy.orm.Session"
    ),
    "sqlalchemy.orm.Query": Kind(DATABASE, ASYNC_SQLALCHEMY, QUERY_IO, chained="sqlalchemy.orm.Query"),
    "flask_sqlalchemy.SQLAlchemy": Kind(
        DATABASE, ASYNC_SQLALCHEMY, _names("paginate get_or_404 first_or_404 one_or_404 create_all drop_all"),
        attributes={"session": "sqlalchemy.orm.scoped_session", "engine": "sqlalchemy.Engine", "Model": "flask_sqlalchemy.Model"},
    ),
    # db.Model: a class whose bases include it has a ``query`` (a Query) in lint.py
    "flask_sqlalchemy.Model": Kind(DATABASE, ASYNC_SQLALCHEMY, frozenset()),
    "redis.Redis": Kind(
        NETWORK, REDIS_ASYNCIO, None,
        safe=_names("pipeline pubsub lock register_script get_encoder set_response_callback get_connection_kwargs"),
        returns={"pipeline": "redis.Pipeline", "pubsub": "redis.PubSub", "lock": "redis.Lock"},
    ),
    # a pipeline buffers its commands; execute() sends them
    "redis.Pipeline": Kind(NETWORK, REDIS_ASYNCIO, _names("execute watch"), chained="redis.Pipeline"),
    "redis.PubSub": Kind(NETWORK, REDIS_ASYNCIO, _names("subscribe psubscribe unsubscribe punsubscribe get_message listen ping")),
    "redis.Lock": Kind(NETWORK, REDIS_ASYNCIO, _names("acquire release extend reacquire locked owned")),
    "smtplib.SMTP": Kind(
        NETWORK, AIOSMTPLIB, _names("connect login sendmail send_message starttls ehlo helo quit noop verify")
    ),
    "socket.socket": Kind(
        NETWORK, ASYNCIO_STREAMS, _names("connect accept recv recvfrom recv_into recvfrom_into send sendall sendto sendfile")
    ),
    "subprocess.Popen": Kind(SUBPROCESS, ASYNC_SUBPROCESS, _names("wait communicate")),
}


@dataclass(frozen=True)
class Factory:
    """A qualified name whose call (or annotation, for a class) makes an object of a Kind."""

    kind: str
    blocks: bool = False  # the call itself waits (sqlite3.connect opens the file)
    with_arguments: bool = False  # ... only when given arguments (smtplib.SMTP(host) connects)


def _factories(kind: str, names: str, blocks: bool = False, with_arguments: bool = False) -> dict[str, Factory]:
    return {name: Factory(kind, blocks, with_arguments) for name in names.split()}


FACTORIES: dict[str, Factory] = {
    **_factories("requests.Session", "requests.Session requests.session requests.sessions.Session requests.sessions.session"),
    **_factories("httpx.Client", "httpx.Client"),
    **_factories("http.client.HTTPConnection", "http.client.HTTPConnection http.client.HTTPSConnection"),
    **_factories("urllib.request.OpenerDirector", "urllib.request.build_opener urllib.request.OpenerDirector"),
    **_factories("sqlite3.Connection", "sqlite3.connect sqlite3.Connection", blocks=True),
    **_factories("sqlite3.Cursor", "sqlite3.Cursor"),
    **_factories("psycopg.Connection", "psycopg2.connect psycopg.connect psycopg.Connection.connect", blocks=True),
    **_factories("psycopg.Connection", "psycopg.Connection psycopg2.extensions.connection"),
    **_factories("psycopg.Cursor", "psycopg.Cursor psycopg2.extensions.cursor"),
    **_factories("pymysql.Connection", "pymysql.connect pymysql.Connect pymysql.connections.Connection MySQLdb.connect", blocks=True),
    # creating a sync engine or session inside async def: every use of it will block
    **_factories("sqlalchemy.Engine", "sqlalchemy.create_engine sqlalchemy.engine.create_engine", blocks=True),
    **_factories("sqlalchemy.Engine", "sqlalchemy.Engine sqlalchemy.engine.Engine sqlalchemy.engine.base.Engine"),
    **_factories("sqlalchemy.Connection", "sqlalchemy.Connection sqlalchemy.engine.Connection sqlalchemy.engine.base.Connection"),
    **_factories("sqlalchemy.orm.Session", "sqlalchemy.orm.Session sqlalchemy.orm.session.Session", blocks=True),
    **_factories("sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoped_session sqlalchemy.orm.scoping.scoped_session"),
    **_factories("sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.sessionmaker sqlalchemy.orm.session.sessionmaker"),
    **_factories("sqlalchemy.orm.Query", "sqlalchemy.orm.Query sqlalchemy.orm.query.Query"),
    **_factories("flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.SQLAlchemy flask_sqlalchemy.extension.SQLAlchemy"),
    **_factories(
        "redis.Redis",
        "redis.Redis redis.StrictRedis redis.client.Redis redis.client.StrictRedis redis.from_url redis.Redis.from_url "
        "redis.StrictRedis.from_url",
    ),
    **_factories("smtplib.SMTP", "smtplib.SMTP smtplib.SMTP_SSL smtplib.LMTP", blocks=True, with_arguments=True),
    **_factories("socket.socket", "socket.socket"),
    **_factories("socket.socket", "socket.create_connection", blocks=True),
    **_factories("subprocess.Popen", "subprocess.Popen"),
}


def _functions(code: Code, replacement: str, names: str) -> dict[str, tuple[Code, str]]:
    return {name: (code, replacement) for name in names.split()}


_REQUESTS = " ".join(f"requests.{verb} requests.api.{verb}" for verb in sorted(HTTP_VERBS))
_HTTPX = " ".join(f"httpx.{verb}" for verb in sorted(HTTP_VERBS)) + " httpx.stream"

# Module-level functions that block when called.
BLOCKING_FUNCTIONS: dict[str, tuple[Code, str]] = {
    **_functions(HTTP, AIOHTTP, _REQUESTS),
    **_functions(HTTP, AIOHTTP + ", or httpx.AsyncClient", _HTTPX),
    **_functions(HTTP, AIOHTTP, "urllib.request.urlopen urllib.request.urlretrieve"),
    **_functions(SLEEP, ASYNCIO_SLEEP, "time.sleep"),
    **_functions(NETWORK, ASYNC_DNS, "socket.getaddrinfo socket.gethostbyname socket.gethostbyname_ex socket.gethostbyaddr socket.getfqdn"),
    **_functions(
        SUBPROCESS, ASYNC_SUBPROCESS,
        "subprocess.run subprocess.call subprocess.check_call subprocess.check_output subprocess.getoutput "
        "subprocess.getstatusoutput os.system os.popen os.wait os.waitpid",
    ),
    **_functions(FILES, ASYNC_FILES, "builtins.open io.open"),
}

# pathlib.Path's file I/O. Matched on the method name whatever the receiver (a Path is rarely
# made where the lint can see it), unless the receiver is known to be something else; the async
# Path classes (anyio.Path, trio.Path) are awaited, and an awaited call never blocks.
PATH_IO_METHODS = _names("read_text read_bytes write_text write_bytes")

# Typing wrappers an annotation is looked through: ``Annotated[Session, Depends(get_db)]``.
TYPE_WRAPPERS = frozenset(
    {"typing.Annotated", "typing_extensions.Annotated", "typing.Optional", "typing_extensions.Optional", "typing.Union"}
)
# A generator annotated ``-> Iterator[Session]`` yields a Session (a FastAPI yield dependency).
ITERATOR_TYPES = frozenset(
    f"{module}.{name}"
    for module in ("typing", "collections.abc")
    for name in ("Iterator", "Iterable", "Generator", "AsyncIterator", "AsyncIterable", "AsyncGenerator")
)
# contextlib.contextmanager: the generator's body up to its yield runs at ``with f():``.
CONTEXT_MANAGERS = _names("contextlib.contextmanager")

# Words one of which a file must contain for it to make a blocking call itself; a file without
# any (and without ``async def``) is read only when it names a function found to block.
LIBRARY_WORDS = (
    b"requests", b"httpx", b"urllib", b"http.client", b"httpconnection", b"sleep", b"sqlite3", b"psycopg", b"pymysql",
    b"mysqldb", b"redis", b"smtplib", b"subprocess", b"popen", b"os.system", b"socket", b"open(", b"read_text",
    b"read_bytes", b"write_text", b"write_bytes", b"sqlalchemy",
)
