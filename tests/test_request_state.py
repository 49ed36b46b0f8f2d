"""Per-request state on flask.g into dependencies (transforms/request_state.py), end to end on
fixtures/projects/state: the sqlite3 connection of a Flask-tutorial getter becomes a yield
dependency (its async twin, on the runtime's async_sqlite, for the views that go async), a
bearer-token decorator a dependency returning the user; the converted app answers every request
as the original, refusals included, and documents its security scheme."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare, route_table_in

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "state" / "input"
SPEC = "stateapp:create_app()"
ANN = {"Authorization": "Bearer t-ann", "X-Trace": "t1"}
BOB = {"Authorization": "Bearer t-bob"}
SERVED = ["X-Served-By", "X-Trace"]
REQUESTS = [
    {"method": "GET", "path": "/notes", "expect_headers": SERVED},  # no token: the app's JSON 401
    {"method": "GET", "path": "/notes", "headers": {"Authorization": "Basic x"}},
    {"method": "GET", "path": "/notes", "headers": {"Authorization": "Bearer nope"}, "expect_headers": SERVED},
    {"method": "POST", "path": "/notes", "headers": ANN, "json": {"text": "first"}},
    {"method": "POST", "path": "/notes", "headers": ANN, "json": {"text": "second"}},
    {"method": "POST", "path": "/notes", "headers": BOB, "json": {"text": "bob's"}},
    {"method": "GET", "path": "/notes", "headers": ANN, "expect_headers": SERVED},
    {"method": "GET", "path": "/notes/1", "headers": ANN},
    {"method": "GET", "path": "/notes/3", "headers": ANN},  # bob's note: the helper's 404
    {"method": "GET", "path": "/notes/1"},
    {"method": "DELETE", "path": "/notes/2", "headers": ANN},
    {"method": "DELETE", "path": "/notes/2", "headers": ANN},
    {"method": "GET", "path": "/notes/token", "headers": BOB},  # g.token: request.state
    {"method": "GET", "path": "/notes/token"},
    {"method": "GET", "path": "/notes/stream", "headers": ANN},  # a nested generator: flask.g's connection
    {"method": "GET", "path": "/notes/count/ann"},  # strict_slashes=False: native, with a twin at .../
    {"method": "GET", "path": "/notes/count/ann/"},
    {"method": "GET", "path": "/notes/count/ann//"},  # werkzeug's merge_slashes redirect
    {"method": "POST", "path": "/notes/count/ann/"},  # 405, Allow from both rules
    {"method": "GET", "path": "/notes/count/"},
    {"method": "GET", "path": "/notes/stream", "headers": BOB},  # bob has no notes: count 0
]


for number, request in enumerate(REQUESTS):  # the hook's trace id is random without one
    request["headers"] = {"X-Trace": f"r{number}", **request.get("headers", {})}


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT, tmp_path_factory.mktemp("state") / "converted")


def test_the_state_became_dependencies(converted):
    notes = (converted / "stateapp" / "notes.py").read_text()
    assert "async def list_notes(db: AsyncDbDep, user: CurrentUser, request: Request):" in notes
    assert "g.user" not in notes and "@login_required" not in notes
    assert 'dependencies=[Depends(login_required)]' in notes  # reads g.token only
    assert "request.state.token" in notes
    # strict_slashes=False: the URL with a slash is a twin operation, registered second
    assert (
        '@router.get("/count/{owner}/", name="notes.public_count", response_model=PublicCountResponse, include_in_schema=False)\n'
        '@router.get("/count/{owner}", name="notes.public_count", response_model=PublicCountResponse)\n'
        "async def public_count(owner: str, db: AsyncDbDep):\n"
    ) in notes
    # the streamed generator keeps the request's connection open while it runs, as
    # stream_with_context kept flask.g's: it opens the async one through the dependency
    assert (
        "    async def generate():\n"
        "        async with asynccontextmanager(provide_async_db)(http_request) as db:\n"
        "            yield f\"owner: {owner}\\n\"\n"
        "            yield f\"count: {(await count_notes(owner, db=db))}\\n\"\n"
    ) in notes
    assert "get_db" not in notes
    # every view goes async on the runtime's async connection
    assert (
        "async def create_note(\n"
        "    data: Annotated[Any, FlaskJson(silent=True, or_empty=True)] = None,\n"
        "    *,\n"
        "    db: AsyncDbDep,\n"
        "    user: CurrentUser,\n"
        "):\n"
        '    text = data.get("text", "")\n'  # a silent read never answers: read before the guard
    ) in notes
    assert "    cursor = await db.execute(" in notes and "    await db.commit()" in notes
    assert "async def owned(note_id, db, user):" in notes and "dict(await owned(note_id, db=db, user=user))" in notes
    db = (converted / "stateapp" / "db.py").read_text()
    assert "\nasync def count_notes(owner, db):" in db
    # nothing calls get_db on a request any more: it retires with close_db and the teardown's
    # registration; init_db, which the factory calls at start-up, opens and closes its own
    assert "def get_db" not in db and "def close_db" not in db and "from flask import current_app\n" in db
    assert (
        "def init_db():\n"
        '    conn = sqlite3.connect(current_app.config["DATABASE"])\n'
        "    conn.row_factory = sqlite3.Row\n"
        "    try:\n"
        '        conn.execute("CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, name TEXT)")\n'
    ) in db and "        conn.commit()\n    finally:\n        conn.close()\n" in db
    assert 'db = async_sqlite(request.app.config["DATABASE"])' in db and "AsyncDbDep = Annotated[AsyncSqlite, Depends(provide_async_db)]" in db
    assert "flask2fastapi-runtime[db,flask]" in (converted / "requirements-fastapi.txt").read_text()
    assert 'getattr(request.state, "trace_id", None)' in notes and "request.state.path" in notes
    app = (converted / "stateapp" / "__init__.py").read_text()
    assert "api.add_middleware(RequestHooks, before=[trace], after=[stamp])" in app
    assert "request.url.path" in app and "@app.before_request" not in app
    assert "teardown_appcontext" not in app and "    with app.app_context():\n        db.init_db()\n" in app
    auth = (converted / "stateapp" / "auth.py").read_text()
    assert "raise HTTPException(status_code=401, detail=\"unknown token\")" in auth
    assert "functools" not in auth and "from flask" not in auth


def test_the_converted_app_answers_like_the_original(converted, tmp_path):
    original = answers_in(PROJECT, SPEC, REQUESTS)
    assert [a["status"] for a in original][:4] == [401, 401, 401, 201]
    assert answers_in(converted, SPEC, REQUESTS) == original


def test_every_protected_operation_declares_its_scheme(converted):
    import subprocess
    import sys

    script = (
        "import json; from stateapp import create_app; spec = create_app().openapi();"
        "print(json.dumps({p + ' ' + m: o.get('security') for p, ops in spec['paths'].items() for m, o in ops.items()}))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=converted, capture_output=True, text=True, check=True)
    import json

    security = json.loads(done.stdout)
    # the native operations: the public count (its slash twin is left out of the docs) has none
    assert len(security) == 7 and security.pop("/notes/count/{owner} get") is None, security
    assert set(map(str, security.values())) == {"[{'HTTPBearer': []}]"}, security


def test_the_route_tables_match(converted):
    """The strict_slashes=False route is one route of the table, before and after (its twin
    operation at the URL with a slash is the same route)."""
    comparison = compare(PROJECT, converted, SPEC, [])
    assert not comparison.missing_routes and not comparison.extra_routes, comparison
    assert ["GET", "/notes/count/{owner}"] in route_table_in(converted, SPEC)


STARTUP = '''import sqlite3

from flask import Blueprint, Flask, current_app, g

bp = Blueprint("items", __name__)


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
    return g.db


def close_db(error=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    """Creates the table."""
    conn = get_db()
    conn.execute("CREATE TABLE IF NOT EXISTS items (name TEXT)")
    conn.commit()


@bp.get("/items")
def items():
    return {"count": get_db().execute("SELECT COUNT(*) FROM items").fetchone()[0]}


def create_app():
    app = Flask(__name__)
    app.config["DATABASE"] = "items.db"
    app.teardown_appcontext(close_db)
    app.register_blueprint(bp)
    with app.app_context():
        init_db()
    return app
'''
INIT_DB_OPENS_ITS_OWN = '''def init_db():
    """Creates the table."""
    conn = sqlite3.connect(current_app.config["DATABASE"])
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS items (name TEXT)")
        conn.commit()
    finally:
        conn.close()
'''


@pytest.mark.parametrize("order", ["getter first", "start-up user first"])
def test_a_start_up_user_of_a_getter_opens_its_own(order):
    """Only the factory calls init_db: it opens the connection as the getter did and closes it as
    the teardown did, so get_db, close_db and the teardown's registration retire; the imports the
    opening code needs stay, whichever function comes first."""
    from codemod.testing import convert_one
    from transforms import ORDER

    source = STARTUP
    if order == "start-up user first":
        getter, user, view = source.index("def get_db"), source.index("def init_db"), source.index("@bp.get")
        source = source[:getter] + source[user:view] + source[getter:user] + source[view:]
    converted = convert_one(source.encode(), "example.py", ORDER).new.decode()
    assert INIT_DB_OPENS_ITS_OWN in converted
    assert converted.startswith("import sqlite3\n\nfrom flask import Blueprint, Flask, current_app\n")
    assert "get_db" not in converted and "close_db" not in converted and "teardown_appcontext" not in converted
    assert "async def items(conn: AsyncDbDep):" in converted
    assert convert_one(converted.encode(), "example.py", ORDER).new in (None, converted.encode())


def test_a_getter_another_caller_of_the_start_up_user_needs_stays():
    """reset() is no factory: it may run in a request's context, where init_db shared flask.g's
    connection with the rest of the request; the getter and init_db stay as they were."""
    from codemod.testing import convert_one
    from transforms import ORDER

    converted = convert_one((STARTUP + "\n\ndef reset():\n    init_db()\n").encode(), "example.py", ORDER).new.decode()
    assert "def init_db():\n    \"\"\"Creates the table.\"\"\"\n    conn = get_db()\n" in converted
    assert "def get_db():" in converted and "app.teardown_appcontext(close_db)" in converted
