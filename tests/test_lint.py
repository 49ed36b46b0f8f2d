"""`flask2fastapi lint`: blocking calls inside async def, found by qualified name, whole program.

No-op cases first (what must not be reported), then each blocking family, then the whole
program (objects and functions of other modules, chains), the ignore comment, and the command
line (output, JSON, exit codes, errors).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import app
from codemod.lint import collect, lint_paths

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lint"
ENV = {"COLUMNS": "300", "NO_COLOR": "1"}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def found(root: Path, files: dict[str, str] | str) -> list[tuple[int, str, str]]:
    """(line, code, chain) of every finding; one file unless a tree is given."""
    write_tree(root, {"app.py": files} if isinstance(files, str) else files)
    result = lint_paths([root])
    assert result.errors == []
    return [(f.line, f.code, " -> ".join(f.chain)) for f in result.findings]


# -- must not be reported ------------------------------------------------------------------

NOT_BLOCKING = {
    "a local function called sleep": """\
        def sleep(seconds):
            return seconds

        async def view():
            sleep(1)
        """,
    "asyncio.sleep, awaited": """\
        import asyncio
        from asyncio import sleep

        async def view():
            await asyncio.sleep(1)
            await sleep(1)
        """,
    "a lookalike sleep from another library": """\
        import anyio
        from trio import sleep

        async def view():
            await anyio.sleep(1)
            await sleep(1)
        """,
    "a module-level name that shadows requests": """\
        class Client:
            def get(self, url):
                return url

        requests = Client()

        async def view():
            return requests.get("http://x")
        """,
    "aiohttp and httpx.AsyncClient": """\
        import aiohttp
        import httpx

        async def view(url):
            async with aiohttp.ClientSession() as session:
                async with session.get(url) as response:
                    body = await response.json()
            async with httpx.AsyncClient() as client:
                await client.get(url)
            return body
        """,
    "the blocking function passed to a thread, not called": """\
        import asyncio
        import time
        import anyio
        import requests
        from fastapi.concurrency import run_in_threadpool

        async def view(url):
            await asyncio.to_thread(requests.get, url, timeout=5)
            await run_in_threadpool(time.sleep, 1)
            await asyncio.get_running_loop().run_in_executor(None, requests.get, url)
            await anyio.to_thread.run_sync(lambda: time.sleep(1))
        """,
    "a nested def that is returned, not called": """\
        import time

        async def view():
            def later():
                time.sleep(1)
            return later
        """,
    "blocking calls in a plain def (FastAPI runs it in its thread pool)": """\
        import requests

        def view(url):
            return requests.get(url).json()
        """,
    "redis.asyncio under the name redis": """\
        import redis.asyncio as redis

        client = redis.Redis()

        async def view():
            await client.set("k", 1)
            pipe = client.pipeline()
            await pipe.execute()
        """,
    "an AsyncSession, awaited, and add() which only changes memory": """\
        from sqlalchemy.ext.asyncio import AsyncSession

        async def view(session: AsyncSession, item):
            session.add(item)
            await session.execute("select 1")
            await session.commit()
        """,
    "a sync generator handed to a streaming response": """\
        import time
        from fastapi.responses import StreamingResponse

        def ticks():
            for n in range(3):
                time.sleep(1)
                yield str(n)

        async def view():
            return StreamingResponse(ticks())
        """,
    "an async Path, awaited": """\
        import anyio

        async def view(path):
            return await anyio.Path(path).read_text()
        """,
    "a sync function that blocks, called from a sync function only": """\
        import time

        def pause():
            time.sleep(1)

        def caller():
            pause()

        async def view():
            return caller
        """,
}


@pytest.mark.parametrize("source", NOT_BLOCKING.values(), ids=NOT_BLOCKING.keys())
def test_not_blocking(tmp_path: Path, source: str) -> None:
    assert found(tmp_path, source) == []


# -- each blocking family --------------------------------------------------------------------

BLOCKING = {
    "requests under an alias": (
        """\
        import requests as rq

        async def view(url):
            return rq.get(url).json()
        """,
        [(4, "F2F401", "requests.get")],
    ),
    "a requests function imported under another name": (
        """\
        from requests import post as send

        async def view(url):
            send(url, json={})
        """,
        [(4, "F2F401", "requests.post")],
    ),
    "a requests Session, made on the spot and held in a variable": (
        """\
        import requests

        async def view(url):
            requests.Session().get(url)
            with requests.Session() as session:
                session.post(url)
        """,
        [(4, "F2F401", "requests.Session.get"), (6, "F2F401", "requests.Session.post")],
    ),
    "urllib and http.client": (
        """\
        import http.client
        from urllib.request import urlopen

        async def view(url):
            urlopen(url)
            connection = http.client.HTTPSConnection("example.com")
            connection.request("GET", "/")
            return connection.getresponse()
        """,
        [(5, "F2F401", "urllib.request.urlopen"), (7, "F2F401", "http.client.HTTPConnection.request"),
         (8, "F2F401", "http.client.HTTPConnection.getresponse")],
    ),
    "time.sleep imported by name": (
        """\
        from time import sleep

        async def view():
            sleep(0.5)
        """,
        [(4, "F2F402", "time.sleep")],
    ),
    "sqlite3: connect, the connection's and the cursor's methods": (
        """\
        import sqlite3

        async def view():
            with sqlite3.connect("app.db") as connection:
                cursor = connection.cursor()
                cursor.execute("select 1")
                rows = cursor.fetchall()
                one = connection.execute("select 2").fetchone()
            return rows, one
        """,
        [(4, "F2F403", "sqlite3.connect"), (6, "F2F403", "sqlite3.Cursor.execute"),
         (7, "F2F403", "sqlite3.Cursor.fetchall"), (8, "F2F403", "sqlite3.Connection.execute")],
    ),
    "psycopg2 and pymysql connect": (
        """\
        import psycopg2
        import pymysql

        async def view():
            conn = psycopg2.connect("dbname=app")
            conn.cursor().execute("select 1")
            pymysql.connect(host="db")
        """,
        [(5, "F2F403", "psycopg2.connect"), (6, "F2F403", "psycopg.Cursor.execute"), (7, "F2F403", "pymysql.connect")],
    ),
    "a redis client and its pipeline": (
        """\
        import redis

        cache = redis.Redis.from_url("redis://localhost")

        async def view():
            cache.get("k")
            pipe = cache.pipeline()
            pipe.set("k", 1)
            pipe.execute()
        """,
        [(6, "F2F404", "redis.Redis.get"), (9, "F2F404", "redis.Pipeline.execute")],
    ),
    "smtplib connects when given a host": (
        """\
        import smtplib

        async def view(message):
            with smtplib.SMTP("mail.example.com") as smtp:
                smtp.send_message(message)
            idle = smtplib.SMTP()
        """,
        [(4, "F2F404", "smtplib.SMTP"), (5, "F2F404", "smtplib.SMTP.send_message")],
    ),
    "subprocess and a socket": (
        """\
        import socket
        import subprocess

        async def view():
            subprocess.run(["ls"], check=True)
            sock = socket.create_connection(("example.com", 80))
            sock.sendall(b"ping")
        """,
        [(5, "F2F405", "subprocess.run"), (6, "F2F404", "socket.create_connection"), (7, "F2F404", "socket.socket.sendall")],
    ),
    "open() and Path.read_text": (
        """\
        from pathlib import Path

        async def view():
            with open("notes.txt") as handle:
                handle.read()
            return Path("notes.txt").read_text()
        """,
        [(4, "F2F406", "open"), (6, "F2F406", "pathlib.Path.read_text")],
    ),
    "SQLAlchemy: a session made, a sessionmaker's session, an engine": (
        """\
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import Session, sessionmaker

        SessionLocal = sessionmaker()

        async def view(engine):
            with Session(engine) as session:
                session.execute(text("select 1"))
            other = SessionLocal()
            other.commit()
            local = create_engine("sqlite://")
            with local.connect() as connection:
                connection.execute(text("select 1"))
        """,
        [(7, "F2F403", "sqlalchemy.orm.Session"), (8, "F2F403", "sqlalchemy.orm.Session.execute"),
         (10, "F2F403", "sqlalchemy.orm.Session.commit"), (11, "F2F403", "sqlalchemy.create_engine"),
         (12, "F2F403", "sqlalchemy.Engine.connect"), (13, "F2F403", "sqlalchemy.Connection.execute")],
    ),
    "a sync Session as a FastAPI dependency (annotated)": (
        """\
        from typing import Annotated, Optional
        from fastapi import Depends
        from sqlalchemy.orm import Session

        def get_db(): ...

        SessionDep = Annotated[Session, Depends(get_db)]

        async def view(db: SessionDep, other: Optional[Session] = None):
            db.scalars("select 1")
            other.get(int, 1)
        """,
        [(10, "F2F403", "sqlalchemy.orm.Session.scalars"), (11, "F2F403", "sqlalchemy.orm.Session.get")],
    ),
    "the session a yield dependency yields": (
        """\
        from collections.abc import AsyncIterator
        from sqlalchemy.orm import Session

        async def provide_db(request) -> AsyncIterator[Session]:
            db = request.app.state.factory()
            try:
                yield db
            finally:
                db.close()
        """,
        [(9, "F2F403", "sqlalchemy.orm.Session.close")],
    ),
    "a client object's attribute set in __init__": (
        """\
        import requests

        class Upstream:
            def __init__(self):
                self.http = requests.Session()

            async def fetch(self, url):
                return self.http.get(url)
        """,
        [(8, "F2F401", "requests.Session.get")],
    ),
    "a session set on request.state by a middleware": (
        """\
        from sqlalchemy.orm import sessionmaker

        SessionLocal = sessionmaker()

        async def db_session_middleware(request, call_next):
            request.state.db = SessionLocal()
            response = await call_next(request)
            request.state.db.close()
            return response
        """,
        [(8, "F2F403", "sqlalchemy.orm.Session.close")],
    ),
    "a nested def called directly, a sync generator iterated, a constructor that connects": (
        """\
        import sqlite3
        import time

        class Store:
            def __init__(self):
                self.connection = sqlite3.connect("app.db")

        def ticks():
            time.sleep(1)
            yield 1

        async def view():
            def pause():
                time.sleep(1)
            pause()
            for tick in ticks():
                pass
            Store()
        """,
        [(15, "F2F402", "app.view.pause -> time.sleep"), (16, "F2F402", "app.ticks -> time.sleep"),
         (18, "F2F403", "app.Store.__init__ -> sqlite3.connect")],
    ),
    "the blocking call made before the thread gets it": (
        """\
        import asyncio
        import requests

        async def view(url):
            return await asyncio.to_thread(requests.get(url))
        """,
        [(5, "F2F401", "requests.get")],
    ),
    "two blocking calls on one line are one finding": (
        """\
        import sqlite3

        connection = sqlite3.connect("app.db")

        async def view():
            return connection.execute("select 1").fetchall()
        """,
        [(6, "F2F403", "sqlite3.Connection.execute")],
    ),
}


@pytest.mark.parametrize(("source", "expected"), BLOCKING.values(), ids=BLOCKING.keys())
def test_blocking(tmp_path: Path, source: str, expected: list[tuple[int, str, str]]) -> None:
    assert found(tmp_path, source) == expected


def test_a_nested_def_is_named_without_locals(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.py": "import time\n\nasync def view():\n    def pause():\n        time.sleep(1)\n    pause()\n"})
    (finding,) = lint_paths([tmp_path]).findings
    assert finding.message.startswith("app.view.pause() blocks the event loop in async def view (calls app.view.pause -> time.sleep)")


# -- the whole program -----------------------------------------------------------------------

FLASK_SQLALCHEMY = {
    "pkg/__init__.py": "",
    "pkg/extensions.py": """\
        from flask_sqlalchemy import SQLAlchemy
        db = SQLAlchemy()
        """,
    "pkg/models.py": """\
        from pkg.extensions import db

        class Base(db.Model):
            __abstract__ = True

        class User(Base):
            pass
        """,
    "pkg/views.py": """\
        from pkg.extensions import db
        from pkg.models import User

        async def users():
            db.session.execute("select 1")
            db.session.add(User())
            db.session.commit()
            return User.query.filter_by(active=True).order_by(User.id).all()

        async def one(user_id):
            return db.get_or_404(User, user_id)
        """,
}


def test_flask_sqlalchemy_objects_of_other_modules(tmp_path: Path) -> None:
    result = lint_paths([write_tree(tmp_path, FLASK_SQLALCHEMY)])
    assert [(Path(f.path).name, f.line, f.chain[-1]) for f in result.findings] == [
        ("views.py", 5, "sqlalchemy.orm.scoped_session.execute"),
        ("views.py", 7, "sqlalchemy.orm.scoped_session.commit"),
        ("views.py", 8, "sqlalchemy.orm.Query.all"),
        ("views.py", 11, "flask_sqlalchemy.SQLAlchemy.get_or_404"),
    ]


def test_chain_across_modules_in_a_fixture_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """fixtures/lint/<case>/: a small project and the lint's exact output for it."""
    case = FIXTURES / "chat_service"
    monkeypatch.chdir(case)
    outcome = CliRunner().invoke(app, ["lint", "."], env=ENV)
    assert outcome.exit_code == 1
    assert outcome.stdout == (case / "expected.txt").read_text(encoding="utf-8")
    assert "calls services.answer -> llm.complete -> llm._post -> requests.post" in outcome.stdout


def test_only_the_files_that_can_matter_are_resolved(tmp_path: Path) -> None:
    # services.py names no blocking library; it is read because it calls llm.complete, found
    # to block; notes.py names neither, and is never resolved.
    files = {
        "pkg/__init__.py": "",
        "pkg/llm.py": "import requests\n\ndef complete(p):\n    return requests.post('http://llm', json=p)\n",
        "pkg/services.py": "from pkg import llm\n\ndef answer(p):\n    return llm.complete(p)\n",
        "pkg/notes.py": "def title(text):\n    return text.title()\n",
        "pkg/views.py": "from pkg.services import answer\n\nasync def chat(p):\n    return answer(p)\n",
    }
    result = lint_paths([write_tree(tmp_path, files)])
    assert [" -> ".join(f.chain) for f in result.findings] == ["services.answer -> llm.complete -> requests.post"]
    assert (result.files, result.resolved, result.async_functions) == (5, 3, 1)


def test_worker_processes_find_the_same(tmp_path: Path) -> None:
    files = {f"pkg/m{n}.py": f"import time\n\nasync def v{n}():\n    time.sleep({n})\n" for n in range(10)}
    write_tree(tmp_path, files)
    inline, pooled = lint_paths([tmp_path], jobs=1), lint_paths([tmp_path], jobs=2)
    assert len(inline.findings) == 10 and pooled.findings == inline.findings


def test_a_program_without_async_def_is_not_resolved(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.py": "import requests\n\ndef view():\n    return requests.get('http://x')\n"})
    result = lint_paths([tmp_path])
    assert (result.findings, result.resolved, result.async_functions) == ([], 0, 0)


def test_recursion_between_sync_functions_ends(tmp_path: Path) -> None:
    source = """\
        import time

        def ping(n):
            return pong(n - 1) if n else time.sleep(1)

        def pong(n):
            return ping(n)

        async def view():
            ping(3)
        """
    assert found(tmp_path, source) == [(10, "F2F402", "app.ping -> time.sleep")]


def test_a_re_exported_function_is_followed(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from .llm import complete\n",
        "pkg/llm.py": "import requests\n\ndef complete(p):\n    return requests.post('http://llm', json=p)\n",
        "views.py": "import pkg\n\nasync def chat(p):\n    return pkg.complete(p)\n",
    }
    assert found(tmp_path, files) == [(4, "F2F401", "llm.complete -> requests.post")]


# -- ignore comments -------------------------------------------------------------------------


def test_ignore_comment_silences_one_finding(tmp_path: Path) -> None:
    source = """\
        import time

        async def view():
            time.sleep(1)  # f2f: ignore[F2F402]
            # a short pause is acceptable here
            # f2f: ignore[F2F402]
            time.sleep(2)
            time.sleep(3)  # f2f: ignore[F2F401]
            time.sleep(4)  # f2f: ignore
        """
    assert found(tmp_path, source) == [(8, "F2F402", "time.sleep")]


def test_ignore_on_the_blocking_line_of_a_helper_silences_its_callers(tmp_path: Path) -> None:
    source = """\
        import time

        def warm_up():
            time.sleep(0.01)  # f2f: ignore[F2F402]

        def pause():
            time.sleep(1)

        async def first():
            warm_up()

        async def second():
            pause()  # f2f: ignore[F2F402]
            pause()
        """
    assert found(tmp_path, source) == [(14, "F2F402", "app.pause -> time.sleep")]


# -- errors and the command line ---------------------------------------------------------------


def test_parse_error_is_reported_and_the_rest_is_linted(tmp_path: Path) -> None:
    write_tree(tmp_path, {"broken.py": "async def view(:\n", "ok.py": "import time\n\nasync def v():\n    time.sleep(1)\n"})
    result = lint_paths([tmp_path])
    assert [(Path(e.path).name, e.code) for e in result.errors] == [("broken.py", "F2F001")]
    assert [(Path(f.path).name, f.code) for f in result.findings] == [("ok.py", "F2F402")]


def test_collect_gives_the_parse_error_instead_of_raising() -> None:
    facts = collect("broken.py", b"def f(:\n")
    assert facts.error is not None and facts.error[0].code == "F2F001" and facts.functions == {}


def invoke(*args: object):
    return CliRunner().invoke(app, ["lint", *(str(a) for a in args)], env=ENV)


BLOCKING_APP = "import requests\n\nasync def view(url):\n    return requests.get(url)\n"


def test_cli_exit_codes(tmp_path: Path) -> None:
    clean = write_tree(tmp_path / "clean", {"app.py": "import asyncio\n\nasync def v():\n    await asyncio.sleep(1)\n"})
    blocking = write_tree(tmp_path / "blocking", {"app.py": BLOCKING_APP})
    broken = write_tree(tmp_path / "broken", {"app.py": BLOCKING_APP, "bad.py": "x = = 1\n"})
    assert invoke(clean).exit_code == 0
    assert invoke(blocking).exit_code == 1
    assert invoke(tmp_path / "missing").exit_code == 2
    assert invoke(blocking, "--ignore", "F2F999").exit_code == 2
    assert invoke(blocking, "--ignore", "F2F401").exit_code == 0
    outcome = invoke(broken)
    assert outcome.exit_code == 4
    assert "bad.py: F2F001" in outcome.stdout and "F2F401 requests.get() blocks" in outcome.stdout


def test_cli_text_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_tree(tmp_path, {"app.py": BLOCKING_APP})
    monkeypatch.chdir(tmp_path)
    outcome = invoke(".")
    assert outcome.stdout == (
        "app.py:4:12: F2F401 requests.get() blocks the event loop in async def view: "
        "use an aiohttp.ClientSession shared through the app's lifespan (awaited)\n"
    )
    assert "blocking calls" in outcome.stderr and "finding F2F401" in outcome.stderr


def test_cli_json_output(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app.py": BLOCKING_APP})
    outcome = invoke(tmp_path, "--json")
    assert outcome.exit_code == 1
    document = json.loads(outcome.stdout)
    (finding,) = document["findings"]
    assert finding | {"path": "app.py"} == {
        "code": "F2F401", "path": "app.py", "line": 4, "col": 12, "function": "view", "call": "requests.get",
        "chain": ["requests.get"], "replacement": "an aiohttp.ClientSession shared through the app's lifespan (awaited)",
        "message": finding["message"],
    }
    assert (document["files"], document["files_resolved"], document["async_functions"], document["errors"]) == (1, 1, 1, [])


def test_explain_knows_the_lint_codes() -> None:
    outcome = CliRunner().invoke(app, ["explain", "F2F403"], env=ENV)
    assert outcome.exit_code == 0
    assert "F2F403 (lint)" in outcome.stdout and "reported by `flask2fastapi lint`" in outcome.stdout


def test_example_chatbot_has_no_async_def_to_report() -> None:
    chatbot = Path(__file__).resolve().parent.parent / "example_chatbot"
    result = lint_paths([chatbot])
    assert (result.findings, result.errors, result.async_functions) == ([], [], 0)
