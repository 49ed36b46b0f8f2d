"""`flask2fastapi verify --record-tests / --replay`: the original's own test traffic, recorded and
replayed against the converted app.

The chatbot's whole Flask suite is recorded and replayed against the converted chatbot (every
request the same in strict mode, CORS headers included; every route reached); Starlette's CORS
middleware in its place differs only as no browser sees (--cors browser); deliberately broken copies of the converted chatbot (a
changed status, a dropped header, a lost ownership check) are caught and their route named; a small
session app with a unittest TestCase, generated ids and a one-time token in a page shows the
masks the two recordings find."""

import json
import re
import shlex
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod import cli_shared
from codemod.cli import EXIT_DIFFERENT, EXIT_OK, EXIT_USAGE, app
from codemod.masking import headers_of
from codemod.recording import load, save

ROOT = Path(__file__).resolve().parent.parent
TALLY = ROOT / "fixtures" / "projects" / "recorded" / "input"
# the repository's pytest options (-n auto) are not the chatbot's; no plugin may reorder the tests
PYTEST = f"{shlex.quote(sys.executable)} -m pytest -q -o addopts= -p no:xdist"
CONVERSATIONS = "example_chatbot/tests/test_conversations.py"


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A wide console: under xdist, COLUMNS=80 is in the worker's environment when codemod.cli_shared
    makes its console, which keeps that width."""
    monkeypatch.setattr(cli_shared.err, "width", 240)


def verify(*args) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *map(str, args)], env={"COLUMNS": "240"})
    return result.exit_code, result.output


def cell(output: str, label: str) -> str:
    """The value in the summary table's row ``label``."""
    line = next(line for line in output.splitlines() if f" {label} " in line)
    return line.split("│")[-2].strip()


@pytest.fixture(scope="module")
def chatbot_recording(tmp_path_factory, converted_chatbot) -> tuple[Path, int, str]:
    """The original chatbot's suite recorded (twice, masked) and replayed against the converted one:
    (the recording, verify's exit code, its output)."""
    recording = tmp_path_factory.mktemp("recording") / "chatbot.jsonl"
    code, output = verify(ROOT, converted_chatbot, "--record-tests", f"{PYTEST} example_chatbot/tests", "--recording", recording)
    return recording, code, output


def test_the_chatbots_suite_replays_identically_and_reaches_every_route(chatbot_recording):
    # strict: every header byte for byte, CORS's too (FlaskCorsMiddleware answers as Flask-CORS did)
    recording, code, output = chatbot_recording
    assert code == EXIT_OK, output
    kept = load(recording)
    sent = sum(len(test.exchanges) for test in kept.tests.values())
    assert sent > 400 and len(kept.tests) > 150  # the whole suite, not a part of it
    assert cell(output, "requests recorded") == cell(output, "requests identical") == str(sent)
    assert cell(output, "requests different") == "0"
    assert cell(output, "tests with other requests / not run / unstable") == "0 / 0 / 0"
    assert cell(output, "routes reached") == "13 of 13"
    assert "not reached" not in output
    # what changes every run was found and masked: the request id, the token a login returns
    login = next(e for t in kept.tests.values() for e in t.exchanges if e["rule"] == "/auth/login" and e["response"]["status"] == 200)
    assert {"/response/headers/x-request-id", "/response/body/access_token"} <= set(login["masked"])


# what converted apps of earlier versions read: Starlette's CORSMiddleware given Flask-CORS's options
STARLETTE_CORS = """

from flask2fastapi_runtime import flask_cors_options
from starlette.middleware.cors import CORSMiddleware


class StarletteCors(CORSMiddleware):
    def __init__(self, app, config=None, **options):
        super().__init__(app, **flask_cors_options(config, **options))
"""


def test_starlettes_cors_differs_in_strict_mode_and_is_the_same_to_a_browser(tmp_path, chatbot_recording, converted_chatbot):
    """Starlette's CORSMiddleware differs from Flask-CORS where no browser sees it
    (runtime/flask2fastapi_runtime/starlette_cors.py): strict mode says so, --cors browser finds
    the answers the same."""
    copy = broken(converted_chatbot, tmp_path, "__init__.py", "        FlaskCorsMiddleware,\n", "        StarletteCors,\n")
    init = copy / "example_chatbot" / "__init__.py"
    # inside the hooks, where it was before FlaskCorsMiddleware: outside them Starlette's answers a
    # preflight before the hooks stamp it, a difference beyond CORS headers
    text = init.read_text()
    start = text.index("    # around the hooks")
    end = text.index("    )\n", start) + len("    )\n")
    block, text = text[start:end], text[:start] + text[end:]
    at = text.index("    app.add_middleware(RequestHooks")
    init.write_text(text[:at] + block + "\n" + text[at:] + STARLETTE_CORS)
    selected = "example_chatbot/tests/test_app.py::TestCors"
    cors = subset(chatbot_recording[0], tmp_path, selected)
    code, output = verify(ROOT, copy, "--replay", cors, "--converted-tests", f"{PYTEST} {selected}")
    assert code == EXIT_DIFFERENT
    assert "/response/headers/vary: (absent) -> \"Origin\"" in output
    assert re.search(r"(\d+) of the \1 different answers differ only in CORS headers", output), output
    code, output = verify(ROOT, copy, "--replay", cors, "--converted-tests", f"{PYTEST} {selected}", "--cors", "browser")
    assert code == EXIT_OK, output
    assert cell(output, "requests different") == "0"


def subset(recording: Path, folder: Path, *prefixes: str) -> Path:
    """The recording of the tests whose ids start with one of ``prefixes`` (a file of its own).
    A header masked anywhere in the whole recording stays masked in what is kept, as the whole
    recording's replay masks it everywhere (codemod/masking.py): X-Response-Time-ms may have been
    rounded to the same value in both runs of the few requests kept."""
    kept = load(recording)
    anywhere = headers_of(m for test in kept.tests.values() for e in test.exchanges for m in e.get("masked", []))
    kept.tests = {name: test for name, test in kept.tests.items() if name.startswith(prefixes)}
    for test in kept.tests.values():
        for exchange in test.exchanges:
            exchange["masked"] = sorted({*exchange.get("masked", []), *anywhere})
    path = folder / "subset.jsonl"
    save(kept, path)
    return path


def broken(converted_chatbot: Path, folder: Path, module: str, old: str, new: str) -> Path:
    copy = folder / "broken"
    shutil.copytree(converted_chatbot, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / "example_chatbot" / module
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))
    return copy


@pytest.mark.parametrize(
    "tests, module, old, new, route, difference",
    [
        pytest.param(
            "TestCreate", "conversations.py", 'name="conversations.create_conversation", status_code=201)',
            'name="conversations.create_conversation", status_code=200)', "POST /conversations", "/response/status: 201 -> 200",
            id="changed status",
        ),
        pytest.param(
            "TestCreate", "conversations.py", 'response.headers["Location"] = location', "pass",
            "POST /conversations", '/response/headers/location: "/conversations/1" -> (absent)', id="dropped header",
        ),
        pytest.param(
            "TestGet", "conversations.py", "if conversation is None or conversation.user_id != user.id:", "if conversation is None:",
            "GET /conversations/<int:conversation_id>", "/response/status: 404 -> 200", id="lost ownership check",
        ),
    ],
)
def test_a_broken_conversion_is_caught_and_its_route_named(
    tmp_path, chatbot_recording, converted_chatbot, tests, module, old, new, route, difference
):
    selected = f"{CONVERSATIONS}::{tests}"
    recording = subset(chatbot_recording[0], tmp_path, f"{selected}::")
    copy = broken(converted_chatbot, tmp_path, module, old, new)
    code, output = verify(ROOT, copy, "--replay", recording, "--converted-tests", f"{PYTEST} {selected}")
    assert code == EXIT_DIFFERENT, output
    assert f"different answer {route} (" in output
    assert difference in output
    assert cell(output, "requests different") != "0"


@pytest.fixture(scope="module")
def tally(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tally")
    original, converted = root / "original", root / "converted"
    shutil.copytree(TALLY, original)
    result = CliRunner().invoke(app, ["convert", str(original), "--out", str(converted)])
    assert result.exit_code in (EXIT_OK, 3), result.output
    return original, converted


def test_sessions_ids_and_page_tokens_are_masked_and_a_testcase_is_recorded(tmp_path, tally):
    original, converted = tally
    before = sorted(p.relative_to(original) for p in original.rglob("*"))
    recording = tmp_path / "tally.jsonl"
    code, output = verify(original, converted, "--record-tests", f"{PYTEST} tally/tests", "--recording", recording)
    assert code == EXIT_OK, output
    assert sorted(p.relative_to(original) for p in original.rglob("*")) == before  # the project is not edited
    assert cell(output, "requests identical") == "10"
    assert cell(output, "routes reached") == "5 of 5"
    tests = load(recording).tests
    form = tests["tally/tests/test_tally.py::FormTest::test_the_form_has_a_token_and_a_cookie"].exchanges[0]
    page = form["response"]["body"]
    token = page.split('value="')[1].split('"')[0]
    (masked,) = form["masked"]  # the one-time token, one token of the page, and nothing else
    assert masked.startswith("/response/body/text/")
    assert "seen=yes; HttpOnly; Path=/" in dict(form["response"]["headers"])["set-cookie"] and token
    item = tests["tally/tests/test_tally.py::test_items_get_generated_ids"].exchanges
    assert {"/response/body/id", "/response/body/created_at"} <= set(item[1]["masked"])
    assert "/request/path" in item[2]["masked"]  # GET /items/<the id made in this run>
    # the session cookie carries a timestamp: masked where it is set and where it is sent
    session = tests["tally/tests/test_tally.py::test_a_session_logs_in"].exchanges
    assert "/response/cookies/session/value" in session[2]["masked"]
    assert "/request/cookies/session" in session[3]["masked"]


def test_a_session_check_lost_in_the_converted_copy_is_caught(tmp_path, tally):
    original, converted = tally
    recording = tmp_path / "tally.jsonl"
    assert verify(original, converted, "--record-tests", f"{PYTEST} tally/tests", "--recording", recording)[0] == EXIT_OK
    copy = tmp_path / "broken"
    shutil.copytree(converted, copy)
    module = copy / "tally" / "__init__.py"
    text = module.read_text()
    check = '        if "user" not in request.session:\n            raise HTTPException(status_code=401)\n'
    assert text.count(check) == 1, text
    module.write_text(text.replace(check, ""))
    code, output = verify(original, copy, "--replay", recording)
    assert code == EXIT_DIFFERENT, output
    assert "different answer POST /items (POST /items)" in output
    assert "/response/status: 401 -> 201" in output


def test_options_are_checked(tmp_path, tally):
    original, converted = tally
    assert verify(original, converted)[0] == EXIT_USAGE  # neither --app nor a recording
    assert verify(original, converted, "--replay", tmp_path / "x.jsonl", "--recording", tmp_path / "y.jsonl")[0] == EXIT_USAGE
    assert verify(original, converted, "--record-tests", "true", "--cors", "lenient")[0] == EXIT_USAGE
    (tmp_path / "x.jsonl").write_text(json.dumps({"format": "other"}) + "\n")
    code, output = verify(original, converted, "--replay", tmp_path / "x.jsonl")
    assert code == 4 and "not a flask2fastapi-recording" in output


def test_the_tally_refuses_what_it_refused(tally):
    """The security bar (tests/test_security_bar.py) for the session fixture: each protected
    route without a session, with a forged session cookie and after a wrong password, then with
    the session a login made, answers as the original did."""
    from codemod.verify import answers_in, compare

    original, converted = tally
    forged = {"session": "eyJ1c2VyIjoiYW5uIn0.forged.signature"}
    requests = [
        {"method": "GET", "path": "/me"},
        {"method": "POST", "path": "/items", "json": {"name": "x"}},
        {"method": "GET", "path": "/me", "cookies": forged},
        {"method": "POST", "path": "/items", "json": {"name": "x"}, "cookies": forged},
        {"method": "POST", "path": "/login", "json": {"user": "ann", "password": "wrong"}},
        {"method": "GET", "path": "/me"},
        {"method": "POST", "path": "/login", "json": {"user": "ann", "password": "open sesame"}},
        {"method": "GET", "path": "/me"},
    ]
    assert [a["status"] for a in answers_in(original, "tally:create_app()", requests)] == [401, 401, 401, 401, 401, 401, 200, 200]
    result = compare(original, converted, "tally:create_app()", requests)
    assert result.same, result
