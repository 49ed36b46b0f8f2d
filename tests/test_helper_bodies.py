"""A helper's JSON body read threaded from the native views (codemod/helper_bodies.py,
transforms/helper_bodies.py): the plan, its refusals and their reasons, and the chatbot."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import EXIT_FINDINGS, app
from codemod.project import Project, gather

ROOT = Path(__file__).resolve().parent.parent

HELPER = '''
from flask import Flask, abort, request

app = Flask(__name__)


def read_title():
    data = request.get_json({options}) or {{}}
    if not isinstance(data, dict):
        abort(400)
    return data.get("title")


@app.post("/notes/<int:note_id>")
def add(note_id: int):
{view}
'''
FIRST = "    title = read_title()\n    return {'title': title}"
AFTER_404 = "    if note_id > 10:\n        abort(404)\n    return {'title': read_title()}"


def plan(source: str, *others: tuple[str, str]):
    project = Project()
    for name, text in (("notes.py", source), *others):
        project.merge(gather(Path(name), textwrap.dedent(text).encode()))
    return project.helper_bodies


def test_a_silent_read_after_a_404_is_threaded():
    found = plan(HELPER.format(options="silent=True", view=AFTER_404))
    assert found.readers == {"notes.read_title": (False, True, True)}
    assert found.params == {"notes.read_title": "data", "notes.add": "data"}
    assert found.views == {"notes.add"} and not found.refused


def test_a_read_that_answers_by_itself_after_a_404_is_read_where_the_helper_read_it():
    found = plan(HELPER.format(options="", view=AFTER_404))
    assert found.views == found.deferred == {"notes.add"} and not found.refused


def test_a_read_that_answers_by_itself_called_first_is_threaded():
    found = plan(HELPER.format(options="force=True", view=FIRST))
    assert found.readers == {"notes.read_title": (True, False, True)}


def test_a_silent_read_answers_413_where_the_project_limits_the_body():
    config = ("config.py", "class Config:\n    MAX_CONTENT_LENGTH = 1024\n")
    found = plan(HELPER.format(options="silent=True", view=AFTER_404), config)
    assert found.deferred == {"notes.add"}  # read where the helper read it: after the view's 404
    first = plan(HELPER.format(options="silent=True", view=FIRST), config)
    assert first.views == {"notes.add"} and not first.deferred  # nothing comes first: read before the view


def test_a_helper_called_by_a_non_view_keeps_its_read():
    source = HELPER.format(options="silent=True", view=FIRST) + "\n\ndef script():\n    return read_title()\n"
    found = plan(source)
    assert not found.params and "script calls it and is no view" in found.refused["notes.add"]


def test_a_helper_tests_swap_keeps_its_read():
    test = ("tests/test_notes.py", "def test_x(monkeypatch):\n    monkeypatch.setattr(notes, 'read_title', lambda: 'x')\n")
    found = plan(HELPER.format(options="silent=True", view=FIRST), test)
    assert not found.params and "no body can be handed over" in found.refused["notes.add"]


def test_a_body_used_whole_is_not_proven():
    source = HELPER.format(options="silent=True", view=FIRST).replace('return data.get("title")', "return data")
    assert not plan(source).params


# -- the chatbot ------------------------------------------------------------------------------
CHAT_ROUTES = ("example_chatbot.chat.send_message", "example_chatbot.chat.stream_message")


def convert(source: Path, out: Path) -> dict:
    report = out.parent / f"{out.name}.json"
    result = CliRunner().invoke(app, ["convert", str(source), "--out", str(out), "--report", str(report)])
    assert result.exit_code == EXIT_FINDINGS, result.output
    return routes_in(report)


def routes_in(report: Path) -> dict:
    data = json.loads(report.read_text())
    routes = data.get("routes") or [r for f in data.get("files", []) for r in f.get("routes", [])]
    return {r["view"]: r for r in routes if r.get("view")}


@pytest.fixture(scope="module")
def unlimited(tmp_path_factory):
    """The chatbot without MAX_CONTENT_LENGTH (its silent read cannot answer), and its conversion."""
    root = tmp_path_factory.mktemp("unlimited")
    original = root / "original"
    original.mkdir(exist_ok=True)
    subprocess.run(["cp", "-r", str(ROOT / "example_chatbot"), str(original)], check=True)
    config = original / "example_chatbot" / "config.py"
    text = config.read_text()
    assert "    MAX_CONTENT_LENGTH = 1024 * 1024\n" in text
    config.write_text(text.replace("    MAX_CONTENT_LENGTH = 1024 * 1024\n", ""))
    converted = root / "converted"
    routes = convert(original / "example_chatbot", converted / "example_chatbot")
    return original, converted, routes


@pytest.fixture(scope="module")
def limited(converted_chatbot):
    """The chatbot as it is (MAX_CONTENT_LENGTH: its silent read answers 413), and its conversion
    (the session's, tests/conftest.py)."""
    return converted_chatbot, routes_in(converted_chatbot / "report.json")


def test_the_chatbot_reads_the_body_where_its_helper_did(limited):
    converted, routes = limited
    for view in CHAT_ROUTES:
        assert routes[view]["level"] == "async", routes[view]
    chat = (converted / "example_chatbot" / "chat.py").read_text()
    assert not re.search(r"^(from|import) (flask|werkzeug)\b", chat, re.M) and "get_json" not in chat
    assert chat.count("FlaskJson(silent=True, or_empty=True, deferred=True)] = None") == 2
    assert chat.count("conversation = await get_owned_conversation(conversation_id, db=db, user=user)\n"
                      "    content, error = _read_content(data=data.read(), ") == 2


def test_the_chatbot_answers_as_the_original_413_after_404_included(limited):
    converted, _ = limited
    before, after = answers(ROOT), answers(converted)
    assert len(before) == 44 and {status for status, _ in before} >= {201, 200, 400, 404, 413}
    assert after == before


def test_without_the_limit_the_chat_routes_are_async_and_flask_leaves(unlimited):
    _, converted, routes = unlimited
    for view in CHAT_ROUTES:
        assert routes[view]["level"] == "async", routes[view]
    chat = (converted / "example_chatbot" / "chat.py").read_text()
    assert not re.search(r"^(from|import) (flask|werkzeug)\b", chat, re.M) and "get_json" not in chat
    assert "def _read_content(data: ReadContentBody | None" in chat


CASES = '''
import json, os, sys, tempfile
from example_chatbot import create_app
from example_chatbot.config import TestingConfig

db = os.path.join(tempfile.mkdtemp(), "d.sqlite3")
app = create_app(type("C", (TestingConfig,), {"DATABASE_URL": f"sqlite:///{db}"}))
client = app.test_client()
user = {"username": "alice", "password": "correct-horse-battery"}
client.post("/auth/register", json=user)
token = client.post("/auth/login", json=user).get_json()["access_token"]
auth = {"Authorization": f"Bearer {token}", "X-Request-ID": "diff-1"}
JSON = {**auth, "Content-Type": "application/json"}
cases = [
    dict(data="{not json", headers=JSON), dict(json=[1, 2], headers=auth), dict(data="null", headers=JSON),
    dict(data='{"content": "hi"}', headers=auth), dict(data="", headers=JSON), dict(json={}, headers=auth),
    dict(json={"content": 5}, headers=auth), dict(json={"content": "  "}, headers=auth),
    dict(json={"content": "x" * 5000}, headers=auth), dict(json={"content": "hello"}, headers=auth),
    dict(data='{"content": "' + "x" * (1024 * 1024) + '"}', headers=JSON),
]
mine = client.post("/conversations", json={}, headers=auth).get_json()["id"]
out = []
for path in ("messages", "messages/stream"):
    for conversation in (mine, 999):
        for kwargs in cases:
            answer = client.post(f"/conversations/{conversation}/{path}", **kwargs)
            text = answer.get_data(as_text=True)
            out.append([answer.status_code, text if answer.status_code >= 400 else answer.mimetype])
print(json.dumps(out))
'''


def answers(folder: Path) -> list:
    done = subprocess.run([sys.executable, "-c", CASES], cwd=folder, capture_output=True, text=True, env={"PYTHONPATH": str(folder), "PATH": ""})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_without_the_limit_the_flask_free_chat_routes_answer_as_the_original(unlimited):
    original, converted, _ = unlimited
    before, after = answers(original), answers(converted)
    assert len(before) == 44 and {status for status, _ in before} >= {201, 200, 400, 404}
    assert after == before


def test_under_the_limit_the_helper_itself_must_read_first():
    config = ("config.py", "MAX_CONTENT_LENGTH = 1024\n")
    source = HELPER.format(options="silent=True", view=FIRST).replace(
        "    data = request.get_json(", "    if request.args.get('x'):\n        abort(404)\n    data = request.get_json("
    )
    found = plan(source, config)
    assert not found.params and "before what read_title does first" in found.refused["notes.add"]


def test_a_view_using_the_name_gets_the_body_under_another_and_the_helper_rebinds_it(tmp_path):
    source = HELPER.format(options="silent=True", view="    data = read_title()\n    return {'title': data}")
    found = plan(source)
    assert found.params == {"notes.read_title": "json_body", "notes.add": "json_body"}
    from codemod.testing import convert_one
    from transforms import ORDER

    code = convert_one(textwrap.dedent(source).encode(), "notes.py", ORDER).new.decode()
    assert "def read_title(json_body: ReadTitleBody | None):\n    data = json_body\n" in code
    assert "json_body: Annotated[ReadTitleBody | None, FlaskJson(silent=True, or_empty=True)] = None" in code
    assert "data = read_title(json_body=json_body)" in code
