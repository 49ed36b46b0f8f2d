"""The request's sqlite3 connection in async functions (codemod/sqlite_io.py, transforms/sqlite_client.py).

fixtures/sqlite_client/blog is converted with the whole-program plan: its views on the request's
connection become async, one that uses a cursor object stays def. The other fixtures test the
transform alone, on a simulated plan: every function the input has as ``async def`` is one the
plan made async, and each request-resource getter has its twin (the real plan keeps a function
with a use the async connection has no form for sync, so F2F272 shows only here). The converted
tutorial is then run on the runtime's AsyncSqlite and compared with the original on sqlite3.
"""

import asyncio
import sqlite3
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import QualifiedNameProvider, MetadataWrapper

from codemod.async_plan import SQLITE3, AsyncPlan, AsyncResource
from codemod.project import Project
from codemod.sqlite_io import sqlite_facts, sqlite_getters
from codemod.testing import FIXTURES, Case, check_case, fixture_cases
from transforms import ORDER, RequestStateTransform
from transforms.sqlite_client import SqliteClientTransform

# on the simulated plan, without request_state: the getter's twin and the parameters it hands
# out are its business, tested with the real plan (the blog fixture, tests/test_request_state.py)
ALONE = tuple(t for t in ORDER if t is not RequestStateTransform)


def _simulated_plan(self: Project) -> AsyncPlan:
    resources = {g: AsyncResource(g, "db", "provide_async_db", "AsyncDbDep", SQLITE3) for g in self.state.resources}
    return AsyncPlan(resources=resources, functions=frozenset(f for f, facts in self.functions.items() if not facts.sync))


@pytest.fixture
def planned(monkeypatch):
    monkeypatch.setattr(Project, "async_plan", property(_simulated_plan))
    monkeypatch.setattr(Project, "async_functions", property(lambda self: self.async_plan.functions))


CASES = [c for c in fixture_cases() if "/sqlite_client/" in c.filename]
REAL_PLAN = {"blog"}


def test_the_fixtures_are_there():
    assert {Path(c.filename).parent.name for c in CASES} == {"tutorial", "flagged", "sync_function", "blog"}


@pytest.mark.parametrize("case", [c for c in CASES if Path(c.filename).parent.name not in REAL_PLAN], ids=lambda c: c.id)
def test_fixture(case: Case, planned):
    check_case(case, ALONE)


@pytest.mark.parametrize("case", [c for c in CASES if Path(c.filename).parent.name in REAL_PLAN], ids=lambda c: c.id)
def test_fixture_with_the_plan(case: Case):
    check_case(case, ORDER)


@pytest.mark.parametrize("example", SqliteClientTransform.EXAMPLES, ids=lambda e: e.title)
def test_examples(example, planned):
    after = example.after.encode() if example.after is not None else None
    check_case(Case(example.title, example.before.encode(), after, example.codes), ALONE)


def test_without_an_async_twin_nothing_converts():
    source = (FIXTURES / "sqlite_client" / "tutorial" / "input.py").read_bytes()
    check_case(Case("no twin", source, None), ORDER)


# -- the facts ------------------------------------------------------------------------------------
def _facts(source: str):
    module = cst.parse_module(textwrap.dedent(source))
    wrapper = MetadataWrapper(module)
    resolved = wrapper.resolve(QualifiedNameProvider)

    def names(node):
        found = resolved.get(node, ())
        return {q.name for q in (found() if callable(found) else found)}

    function = next(s for s in wrapper.module.body if isinstance(s, cst.FunctionDef) and s.name.value == "f")
    return sqlite_facts(function, names, frozenset({"m.get_db"}))


def test_facts_count_the_awaits():
    facts = _facts("""
        from m import get_db
        def f(x):
            db = get_db()
            row = db.execute("SELECT ? AS x", (x,)).fetchone()
            db.execute("INSERT INTO t VALUES (?)", (x,))
            db.commit()
            return row
    """)
    assert (facts.calls, facts.problem) == (3, None)


@pytest.mark.parametrize("body, reason", [
    ("return get_db().cursor()", "has no cursor here"),
    ("with get_db() as db:\n        pass", "as a context manager"),
    ("db = get_db()\n    helper(db)", "passed on"),
    ("db = get_db()\n    db = 3", "and to something else"),
    ("db = get_db()\n    return lambda: db.execute('SELECT 1')", "nested function"),
    ("c = get_db().execute('SELECT 1')\n    return c.description", "description"),
    ("get_db().row_factory = None", "has no row_factory here"),
])
def test_facts_give_the_reason_a_function_cannot_convert(body, reason):
    facts = _facts(f"from m import get_db\ndef f():\n    {body}\n")
    assert facts.problem is not None and reason in facts.problem


def test_getters_are_those_that_open_sqlite3():
    blocking = {"a.get_db": ("sqlite3.connect",), "a.get_session": (), "a.other": ("requests.get",)}
    assert sqlite_getters(["a.get_db", "a.get_session"], blocking) == frozenset({"a.get_db"})


# -- the converted code runs on the async connection as the original did on sqlite3 -------------
async def _steps(namespace: dict) -> list:
    """One user registers twice, imports posts, reads one of them and someone else's, lists them."""
    out = [await namespace["register"]("ann", "pw"), await namespace["register"]("ann", "pw")]
    script = "INSERT INTO post (title, body, author_id) VALUES ('t3', 'b3', 2);"
    out.append(await namespace["import_posts"]([("t1", "b1", 1), ("t2", "b2", 1)], script))
    post = await namespace["get_post"](1, 1)
    out += [{k: post[k] for k in post.keys() if k != "created"} if post else None, await namespace["get_post"](3, 1)]
    posts, titles = await namespace["index"]()
    return out + [sorted(tuple(p) for p in posts), sorted(titles, key=str)]


def test_converted_tutorial_answers_as_the_original(tmp_path):
    from flask2fastapi_runtime.async_sqlite import async_sqlite

    folder = FIXTURES / "sqlite_client" / "tutorial"
    schema = (
        "CREATE TABLE user (id INTEGER PRIMARY KEY, username TEXT UNIQUE, password TEXT);"
        "CREATE TABLE post (id INTEGER PRIMARY KEY, author_id INTEGER, created TIMESTAMP DEFAULT CURRENT_TIMESTAMP,"
        " title TEXT, body TEXT);"
    )
    for name in ("sync.db", "async.db"):
        with sqlite3.connect(tmp_path / name) as setup:
            setup.executescript(schema)

    def run(source: Path, connect) -> list:
        namespace: dict = {}
        exec(compile(source.read_text(), str(source), "exec"), namespace)

        async def main():  # the connection is made in the event loop that uses it
            db = connect()
            db.row_factory = sqlite3.Row
            namespace["get_db"] = lambda: db
            try:
                return await _steps(namespace)
            finally:
                result = db.close()
                if asyncio.iscoroutine(result):
                    await result

        return asyncio.run(main())

    # the original's functions are async only in name: they run sqlite3 as Flask's did
    expected = run(folder / "input.py", lambda: sqlite3.connect(tmp_path / "sync.db", detect_types=sqlite3.PARSE_DECLTYPES))
    got = run(folder / "expected.py", lambda: async_sqlite(str(tmp_path / "async.db"), detect_types=sqlite3.PARSE_DECLTYPES))
    assert got == expected
    assert expected[:3] == [1, None, 3] and expected[4] is None
