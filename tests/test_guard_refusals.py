"""A guard decorator that refuses by returning JSON (``return jsonify(...), 401``, teamnotes'
``token_required``) becomes a dependency raising ``GuardRefused`` with the same JSON, and a guard
that checks what it stored (``admin_required`` reading ``g.role``) a dependency on its
dependency: the converted app refuses, forbids and admits the same requests, and Flask leaves.
A guard stacked the other way round (the checker above the one that stores) stays a decorator,
and so does the one it reads from. (On a FlaskBridge whose hooks stay Flask's, the refusal runs
through them: tests/test_teamnotes.py.)"""

from pathlib import Path

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

APP = '''\
from functools import wraps

from flask import Flask, abort, g, jsonify, request

app = Flask(__name__)
TOKENS = {"t-ann": ("ann", "member"), "t-root": ("root", "admin")}


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        account = TOKENS.get(token)
        if scheme != "Bearer" or account is None:
            return jsonify(error="unauthorized", message="a valid bearer token is required"), 401
        g.user, g.role = account
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.role != "admin":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@app.get("/me")
@token_required
def me():
    return {"user": g.user}


@app.delete("/notes/<int:note_id>")
@token_required
@admin_required
def delete_note(note_id):
    return {"deleted": note_id, "by": g.user}


@app.get("/audit")
@token_required
@admin_required
def audit():
    return {"entries": []}
'''
HEADERS = [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer t-ann"}, {"Authorization": "Bearer t-root"}]
REQUESTS = [
    {"method": method, "path": path, "headers": headers}
    for method, path in (("GET", "/me"), ("DELETE", "/notes/3"), ("GET", "/audit"))
    for headers in HEADERS
]


def _project(root: Path, source: str) -> Path:
    (root / "guarded").mkdir(parents=True)
    (root / "guarded" / "__init__.py").write_text(source)
    return root


def test_a_refusing_guard_and_one_built_on_it_become_dependencies(tmp_path):
    original = _project(tmp_path / "input", APP)
    converted = convert_copy(original, tmp_path / "converted")
    code = (converted / "guarded" / "__init__.py").read_text()
    assert "from flask " not in code and "NativeApp(__name__)" in code
    assert 'raise GuardRefused(FlaskJSONResponse({"error": "unauthorized", "message": "a valid bearer token is required"}, status_code=401))' in code
    assert "def admin_required(request: Request, user: CurrentUser):\n    if request.state.role != \"admin\":" in code
    assert 'dependencies=[Depends(admin_required)]' in code and "def delete_note(note_id: int, user: CurrentUser):" in code

    comparison = compare(original, converted, "guarded:app", REQUESTS)
    assert comparison.same, comparison
    statuses = [a["status"] for a in answers_in(converted, "guarded:app", REQUESTS)]
    assert statuses == [401, 401, 200, 200, 401, 401, 403, 200, 401, 401, 403, 200]

    levels = {route["rule"]: route["level"] for r in convert_paths(discover([original]), ORDER) for route in r.routes}
    assert set(levels.values()) == {"idiomatic"}, levels


def test_a_checker_above_the_guard_it_reads_keeps_both_decorators(tmp_path):
    # admin_required would run first, reading a g.role nothing set yet: not a dependency chain
    swapped = APP.replace("@token_required\n@admin_required\ndef delete_note", "@admin_required\n@token_required\ndef delete_note")
    original = _project(tmp_path / "input", swapped)
    results = convert_paths(discover([original]), ORDER)
    code = next(r.new.decode() if r.new else Path(r.path).read_text() for r in results)
    assert "def token_required(view):" in code and "def admin_required(view):" in code
    assert "@admin_required\n@token_required\ndef delete_note(note_id: int):" in code
    assert "GuardRefused" not in code
