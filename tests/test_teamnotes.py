"""Issue 5's whole picture in one app: token auth (a decorator on request and g), app- and
blueprint-level hooks, JSON error handlers (the app's and a blueprint's), Flask-CORS,
Flask-SQLAlchemy notes, a sqlite3 audit log on g closed at teardown and a streamed reply. The
converted app answers a scripted sequence (unauthenticated, forbidden, not-found and
wrong-method requests included) with the same statuses, JSON bodies and hook headers."""

from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "teamnotes"
SPEC = "teamnotes:create_app()"
HOOKS = ["X-Request-ID", "X-Trail", "X-Notes"]
ANN = {"Authorization": "Bearer t-ann", "X-Request-ID": "r-ann"}
ROOT = {"Authorization": "Bearer t-root", "X-Request-ID": "r-root"}
NOBODY = {"X-Request-ID": "r-0"}
BAD = {"Authorization": "Bearer nope", "X-Request-ID": "r-bad"}


def ask(method, path, headers, **extra):
    return {"method": method, "path": path, "headers": headers, "expect_headers": HOOKS, **extra}


REQUESTS = [
    ask("GET", "/health", NOBODY),
    ask("GET", "/api/whoami", NOBODY),
    ask("POST", "/api/notes", ANN, json={"title": "plan", "body": "ship the migration"}),
    ask("POST", "/api/notes", ANN, json={"body": "no title"}),  # the app's APIError handler: 400
    ask("POST", "/api/notes", ROOT, json={"title": "second"}),
    ask("GET", "/api/notes", ANN),
    ask("GET", "/api/notes?author=root", ANN),
    ask("GET", "/api/notes/1", ANN),
    ask("GET", "/api/notes/9", ANN),  # the blueprint's 404 handler
    ask("GET", "/api/notes/x", ANN),  # a converter mismatch: the app's 404 handler
    ask("GET", "/api/notes/1/read", ANN),  # streamed, reading g and writing the audit log
    {**ask("PUT", "/api/notes/1", ANN), "expect_headers": [*HOOKS, "Allow"]},  # wrong method: the app's handler
    ask("GET", "/nowhere", NOBODY),
    ask("GET", "/api/notes/audit", ROOT),
    ask("DELETE", "/api/notes/2", ROOT),
    ask("GET", "/api/notes", ROOT),
    {**ask("GET", "/health", {**NOBODY, "Origin": "https://team.example"}), "expect_headers": [*HOOKS, "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"]},
    ask("GET", "/api/notes/audit", ROOT),  # the delete's audit row too
    ask("DELETE", "/api/notes/1", ANN),  # admin_required refuses a member: 403, X-Notes still 1
    ask("DELETE", "/api/notes/9", ROOT),  # the view's own abort(404, description=...)
    ask("GET", "/api/notes/9/read", ANN),  # get_or_404 without a description: werkzeug's
    ask("POST", "/api/notes", ANN, json={"title": "   "}),  # APIError after the body is read
    ask("GET", "/api/notes?author=ann", ANN),  # the query built over statements, filtered
    ask("GET", "/api/notes/1/read", ROOT),  # a second stream, its own audit connection
    ask("GET", "/api/notes/audit", ROOT),  # both streams' rows, written after their last word
]

# Every protected route, asked without a token, with a bad one, with a member's (too small a role
# for the admin routes) and with the admin's: what the original refused, the converted app refuses.
PROTECTED = [
    ("GET", "/api/notes", False),
    ("POST", "/api/notes", False),
    ("GET", "/api/notes/1", False),
    ("GET", "/api/notes/1/read", False),
    ("GET", "/api/notes/audit", True),
    ("DELETE", "/api/notes/1", True),
]
AUTH_REQUESTS = [
    ask(method, path, headers, **({"json": {"title": "t"}} if method == "POST" else {}))
    for method, path, _ in PROTECTED
    for headers in (NOBODY, BAD, ANN, ROOT)
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("teamnotes") / "converted")


def test_the_converted_app_answers_the_sequence_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    assert [a["status"] for a in original] == [
        200, 200, 201, 400, 201, 200, 200, 200, 404, 404, 200, 405, 404, 200, 204, 200, 200, 200,
        403, 404, 404, 400, 200, 200, 200,
    ]
    assert original[8]["body"] == {"error": "note_not_found", "message": "note 9 does not exist"}
    assert original[9]["body"]["error"] == "not_found"
    assert original[5]["headers"] == {"X-Request-ID": "r-ann", "X-Trail": "app,notes", "X-Notes": "2"}
    assert original[10]["body"] == "event: start\ndata: ann\n\ndata: ship\n\ndata: the\n\ndata: migration\n\nevent: end\ndata: done\n\n"
    assert original[13]["body"] == {"entries": [{"action": "create 1", "who": "ann"}, {"action": "create 2", "who": "root"}, {"action": "read 1", "who": "ann"}]}
    assert original[17]["body"]["entries"][-1] == {"action": "delete 2", "who": "root"}
    assert original[15]["headers"]["X-Notes"] == original[18]["headers"]["X-Notes"] == "1"  # after the delete
    assert original[19]["body"] == {"error": "note_not_found", "message": "note 9 does not exist"}
    assert original[20]["body"]["error"] == "note_not_found" and original[20]["body"]["message"].startswith("The requested URL")
    assert [n["id"] for n in original[22]["body"]["notes"]] == [1]
    assert original[24]["body"]["entries"][-1] == {"action": "read 1", "who": "root"}
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


def test_every_protected_route_refuses_what_it_refused(converted):
    original = answers_in(PROJECT / "input", SPEC, AUTH_REQUESTS)
    statuses = [a["status"] for a in original]
    for index, (method, path, admin_only) in enumerate(PROTECTED):
        nobody, bad, member, _ = statuses[index * 4 : index * 4 + 4]
        assert (nobody, bad) == (401, 401), (method, path)
        assert (member == 403) == admin_only, (method, path)
    assert answers_in(converted, SPEC, AUTH_REQUESTS) == original


def test_notes_views_are_async_and_block_nothing(converted):
    # Flask-SQLAlchemy leaves for plain SQLAlchemy and the views take its AsyncSession; the general
    # async plan follows token_required (a dependency) and the audit helpers (awaited on the async
    # audit connection): every view of the notes is async def, and the lint finds no blocking call
    # in an async def of the converted project
    from codemod.lint import lint_paths

    code = (converted / "teamnotes" / "notes.py").read_text()
    for view in ("list_notes", "create_note", "get_note", "delete_note", "read_note", "audit"):
        assert f"\nasync def {view}(" in code, view
    assert "    await db_session.commit()\n    await db_session.refresh(note)\n    await record(user, f\"create {note.id}\", conn=conn)\n" in code
    assert lint_paths([converted]).findings == []


def test_flask_leaves_every_route(converted):
    # the audit getter retires with its teardown (the stream opens its own connection, init_audit_db
    # at start-up too), Flask-SQLAlchemy leaves for plain SQLAlchemy (count_header opens its own
    # session as RequestHooks middleware): no route has Flask on its path, and all are async, the
    # stream an async generator; whoami, defined inside create_app, too: it calls nothing that can block
    from codemod.engine import convert_paths, discover
    from transforms import ORDER

    routes = {r["view"].rpartition(".")[2]: r for result in convert_paths(discover([PROJECT / "input"]), ORDER) for r in result.routes}
    levels = {view: route["level"] for view, route in routes.items()}
    assert set(levels.values()) == {"async"} and len(levels) == 8, levels
    code = {path.name: path.read_text() for path in (converted / "teamnotes").glob("*.py")}
    assert "get_audit_db" not in "".join(code.values()) and "teardown_appcontext" not in code["__init__.py"]
    assert "flask_sqlalchemy" not in "".join(code.values())
    assert "    async def generate():\n        async with asynccontextmanager(provide_async_audit_db)(http_request) as conn:\n" in code["notes.py"]
    assert "StreamingResponse(generate(), media_type=\"text/event-stream\")" in code["notes.py"]
    assert "def count_header(request: Request, response: ResponseHead):\n    with contextmanager(get_session)(request) as db:\n" in code["notes.py"]
