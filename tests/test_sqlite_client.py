"""The request's sqlite3 connection in async functions (codemod/sqlite_io.py, the async plan's
sqlite3 twin in codemod/async_plan.py, transforms/sqlite_client.py).

fixtures/sqlite_client/* are converted with the whole-program plan (tests/test_transforms.py runs
them too): the blog's views on the request's connection become async, one that uses a cursor
object stays def. tests/sqlite_alone/tutorial tests the transform alone, on a simulated plan
(every function the input has as ``async def`` is one the plan made async, each getter has its
twin), and its output is run on the runtime's AsyncSqlite and compared with the original on sqlite3.
"""

import asyncio
import sqlite3
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import QualifiedNameProvider, MetadataWrapper

from codemod.async_plan import SQLITE3, AsyncPlan, AsyncResource
from codemod.project import Project, gather
from codemod.sqlite_io import opening_problem, sqlite_facts, sqlite_getters, sqlite_uses
from codemod.testing import Case, check_case, fixture_cases
from transforms import ORDER, RequestStateTransform

TUTORIAL = Path(__file__).resolve().parent / "sqlite_alone" / "tutorial"
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


def test_the_fixtures_are_there():
    assert {Path(c.filename).parent.name for c in CASES} == {"blog", "sync_function"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_fixture(case: Case):
    check_case(case, ORDER)


def test_the_transform_alone_awaits_what_the_plan_makes_async(planned):
    source, expected = (TUTORIAL / "input.py").read_bytes(), (TUTORIAL / "expected.py").read_bytes()
    check_case(Case("tutorial", source, expected, filename=str(TUTORIAL / "input.py")), ALONE)


def test_without_an_async_twin_nothing_converts():
    # the tutorial's functions are no views: no async function takes the connection, no twin
    check_case(Case("no twin", (TUTORIAL / "input.py").read_bytes(), None, filename="tutorial.py"), ORDER)


# -- the plan -------------------------------------------------------------------------------------
APP = """\
import functools
import sqlite3

from flask import Flask, Response, g

app = Flask(__name__)


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect("app.db")
        g.db.row_factory = sqlite3.Row
    return g.db


def close_db(error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


app.teardown_appcontext(close_db)


def audit(connection, event):
    connection.execute("INSERT INTO audit (event) VALUES (?)", (event,))


@app.get("/plain")
def plain():
    return {"n": get_db().execute("SELECT 1").fetchone()[0]}


@app.get("/cursor")
def with_cursor():
    cursor = get_db().cursor()
    cursor.execute("SELECT 1")
    return {"n": cursor.fetchone()[0]}


@app.post("/handed")
def handed_on():
    db = get_db()
    audit(db, "x")
    db.commit()
    return {}


@app.post("/with")
def in_a_with():
    with get_db() as db:
        db.execute("INSERT INTO audit (event) VALUES ('y')")
    return {}


@app.get("/stream")
def stream():
    def generate():
        yield str(get_db().execute("SELECT 1").fetchone()[0])

    return Response(generate(), mimetype="text/plain")
"""


def _plan(source: str):
    return gather(Path("app.py"), source.encode()).async_plan


def test_a_view_with_a_use_of_no_async_form_stays_def_with_the_reason():
    plan = _plan(APP)
    assert plan.resources["app.get_db"].kind == SQLITE3
    assert "app.plain" in plan.functions
    assert {v.rpartition(".")[2]: r for v, r in plan.reasons.items()} == {
        "with_cursor": "sqlite3 stays blocking in app.with_cursor: `get_db().cursor`: the async connection has no cursor here",
        "handed_on": "sqlite3 stays blocking in app.handed_on: `db`: the connection is passed on, kept or tested, where it would be used synchronously",
        "in_a_with": "sqlite3 stays blocking in app.in_a_with: `get_db()` as a context manager (sqlite3 commits or rolls back there)",
        "stream": "app.stream streams a generator that uses the sqlite3 connection itself, which stays sync",
    }


def test_a_guard_using_the_connection_stays_a_decorator_and_its_views_def():
    guarded = APP.replace("from flask import Flask, Response, g", "from flask import Flask, Response, abort, g") + """

def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        g.user = get_db().execute("SELECT name FROM users").fetchone()
        if g.user is None:
            abort(401)
        return view(*args, **kwargs)

    return wrapped


@app.get("/me")
@login_required
def me():
    return {"user": g.user[0]}
"""
    project = gather(Path("app.py"), guarded.encode())
    plan = project.async_plan
    assert "app.login_required" not in project.state.guards and "app.plain" in plan.functions
    # (its sync wrapper would hand the coroutine of an async view to Flask as the answer)
    assert plan.reasons["app.me"] == "app.me keeps the decorator app.login_required, a sync wrapper"


def test_a_blueprints_app_wide_before_hook_keeps_every_view_def():
    # Flask's tutorial loads g.user so (flaskr/auth.py); Flask would run it after an async view
    hooked = APP.replace("from flask import Flask, Response, g", "from flask import Blueprint, Flask, Response, g") + """

bp = Blueprint("auth", __name__)
app.register_blueprint(bp)


@bp.before_app_request
def load_logged_in_user():
    g.user = None
"""
    plan = _plan(hooked)
    assert plan.functions == frozenset() and plan.resources == {}
    # the blueprint's app-wide hook is followed now (bp-hooks), but stays Flask's here: the report names it
    assert plan.reasons["app.plain"] == "load_logged_in_user stays a Flask before_request hook, which Flask would run after an async view"


def test_no_twin_where_no_async_function_takes_the_connection():
    plan = _plan(APP.replace("@app.get(\"/plain\")\ndef plain():", "def plain():"))
    assert "app.plain" not in plan.functions and plan.resources == {}


def test_no_twin_for_a_getter_opening_more_than_it_can_write():
    source = APP.replace('        g.db.row_factory = sqlite3.Row\n', '        g.db.create_function("f", 1, len)\n')
    assert source != APP
    plan = _plan(source)
    assert plan.resources == {} and not plan.functions & {"app.plain"}


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


def _function(source: str, name: str = "f"):
    wrapper = MetadataWrapper(cst.parse_module(textwrap.dedent(source)))
    resolved = wrapper.resolve(QualifiedNameProvider)

    def names(node):
        found = resolved.get(node, ())
        return {q.name for q in (found() if callable(found) else found)}

    return next(s for s in wrapper.module.body if isinstance(s, cst.FunctionDef) and s.name.value == name), names


def test_uses_are_given_for_each_call_with_no_argument():
    # the facts pass cannot know yet which function is a getter: the plan picks its entry
    function, names = _function("""
        from m import get_db, helper
        def f(x):
            db = get_db()
            db.execute("SELECT ?", (x,))
            db.commit()
            return len(helper().items)
    """)
    uses = dict(sqlite_uses(function, names))
    assert set(uses) == {"m.get_db", "m.helper"}  # builtins (len) left out, helper(x) would be too
    assert uses["m.get_db"].calls == 2 and uses["m.get_db"].problem is None
    assert "has no items here" in uses["m.helper"].problem


@pytest.mark.parametrize("opening, problem", [
    (['g.db = sqlite3.connect("a.db")', "g.db.row_factory = sqlite3.Row", 'g.db.execute("PRAGMA foreign_keys = ON")'], None),
    (['g.db = sqlite3.connect("a.db")', 'g.db.create_function("f", 1, len)'], "has no form for it here"),
    (['g.db = sqlite3.connect("a.db")', "g.db.close()"], "has no form for it here"),
    (["g.db = open_it()"], "`g.db = open_it()` in get_db: the async connection has no form for it here"),
])
def test_the_twin_is_written_from_an_opening_of_known_form(opening, problem):
    block = "".join(f"        {line}\n" for line in opening)
    source = f'import sqlite3\nfrom flask import g\ndef get_db():\n    if "db" not in g:\n{block}    return g.db\n'
    found = opening_problem(*_function(source, "get_db"))
    assert found is None if problem is None else problem in found


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

    folder = TUTORIAL
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
