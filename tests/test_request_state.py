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
    assert "async def create_note(db: AsyncDbDep, user: CurrentUser):" in notes
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
