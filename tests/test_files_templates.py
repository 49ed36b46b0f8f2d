"""Files, templates, the app context and the CLI: a Flask notes site that renders templates,
sends files (paths, in-memory files, a directory named by the client) and has a command answers
the same requests, and runs the same command, after conversion."""

import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from codemod.testing import convert_copy
from codemod.verify import answers_in, compare

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "files"
SPEC = "filesapp.app:app"
# ETag names the file's absolute path (werkzeug's form), which differs between the two trees: it
# is checked on its own below. Date and Expires are the time of the answer.
HEADERS = ["Content-Type", "Content-Disposition", "Content-Length", "Cache-Control", "Last-Modified",
                "Accept-Ranges", "Content-Range", "Content-Encoding"]
MANUAL = "/files/manual.txt"
FUTURE, EPOCH = "Fri, 01 Jan 2100 00:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"
REQUESTS = [
    {"method": "GET", "path": "/?name=<b>ann</b>"},  # extends, a loop, escaped values, url_for
    {"method": "GET", "path": "/notes/1"},  # super() in a block, an escaped script
    {"method": "GET", "path": "/notes/9"},  # a template with a status
    {"method": "GET", "path": "/hello/a<b"},  # render_template_string autoescapes, config in it
    {"method": "POST", "path": "/notes/0/star", "expect_headers": ["Location"]},  # flash, then redirect
    {"method": "GET", "path": "/notes/0"},  # the flashed messages, shown once
    {"method": "GET", "path": "/admin/"},  # a blueprint's own template folder
    {"method": "GET", "path": "/admin/shadowed"},  # the app's folder comes first
    {"method": "GET", "path": "/report.csv", "expect_headers": HEADERS},  # BytesIO, attachment
    {"method": "GET", "path": "/r%C3%A9sum%C3%A9", "expect_headers": HEADERS},  # a non-ASCII name
    {"method": "GET", "path": "/manual", "expect_headers": HEADERS},  # a relative path, max_age
    {"method": "GET", "path": "/logo", "expect_headers": HEADERS},  # image/svg+xml; charset
    {"method": "GET", "path": "/files/nested/readme.md", "expect_headers": HEADERS},
    {"method": "HEAD", "path": MANUAL, "expect_headers": HEADERS},
    {"method": "GET", "path": "/get?name=nested/../manual.txt", "expect_headers": HEADERS},
    # what must not leave the downloads folder, and what is not there: the app's own 404 page
    {"method": "GET", "path": "/files/%2e%2e/app.py"},
    {"method": "GET", "path": "/files/nested/%2e%2e/%2e%2e/secret.txt"},
    {"method": "GET", "path": "/get?name=../secret.txt"},
    {"method": "GET", "path": "/get?name=%2e%2e%2fapp.py"},
    {"method": "GET", "path": "/get?name=/etc/passwd"},
    {"method": "GET", "path": "/get?name=" + os.path.abspath(__file__)},
    {"method": "GET", "path": "/get?name=nope.txt"},
    {"method": "GET", "path": "/get?name=nested"},  # a folder is not a file
    {"method": "GET", "path": "/get"},
    # conditional requests: Flask answers 304, 412, a byte range and 416 for a file
    {"method": "GET", "path": MANUAL, "headers": {"If-Modified-Since": FUTURE},
     "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"If-Modified-Since": EPOCH},
     "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"If-None-Match": "*"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"If-None-Match": '"other"'}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"If-Match": '"other"'}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=4-6"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=-5"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=90-"}, "expect_headers": HEADERS},
    {"method": "GET", "path": "/report.csv", "headers": {"Range": "bytes=0-1"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=0-1,4-5"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "items=0-1"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=0-100"}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=0-1", "If-Range": '"zz"'},
     "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=0-1", "If-Range": FUTURE}, "expect_headers": HEADERS},
    {"method": "GET", "path": MANUAL, "headers": {"Range": "bytes=0-1", "If-Range": EPOCH}, "expect_headers": HEADERS},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    # its templates need Flask's names: F2F621 says so (tests/test_template_responses.py)
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("files") / "converted", "--ignore", "F2F621")


def test_the_whole_tree_is_copied(converted):
    """Templates and downloads travel with the code: render_template and send_file read them."""
    for name in ("templates/base.html", "templates/index.html", "downloads/manual.txt", "downloads/nested/readme.md"):
        assert (converted / "filesapp" / name).read_bytes() == (PROJECT / "input" / "filesapp" / name).read_bytes()
    source = (converted / "filesapp" / "app.py").read_text()
    assert "FlaskBridge(app)" in source and "TODO[" not in source


def test_files_and_templates_answer_the_same(converted):
    original = answers_in(PROJECT / "input", SPEC, REQUESTS)
    statuses = [a["status"] for a in original]
    assert statuses[:15] == [200, 200, 404, 200, 302, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
    assert statuses[15:24] == [404] * 9
    assert statuses[24:] == [304, 200, 304, 200, 412, 206, 206, 416, 206, 416, 416, 206, 200, 206, 200]
    assert "<h1>Hello &lt;b&gt;ann&lt;/b&gt;</h1>" in original[0]["body"]
    assert "<p>Notes &amp; Co (filesapp.app) (NC)</p>" in original[0]["body"]  # a blueprint's app-wide filter
    # a context processor (whose name the view's overrides), a filter, a global
    assert "<footer>/ 2026 v1.0 NOTES! &lt;b&gt;ann&lt;/b&gt;</footer>" in original[0]["body"]
    assert '<a href="/notes/1">Ideas</a>: a &lt;script&gt;' in original[0]["body"]
    assert '<p class="info">Starred Groceries &lt;3</p><p class="message">Stars are public</p>' in original[5]["body"]
    assert "<p class" not in original[0]["body"] + original[1]["body"] + original[6]["body"]  # shown once
    assert "<li>&lt;bob&gt;</li>" in original[6]["body"] and "<p>No note admin.</p>" in original[7]["body"]
    assert original[8]["headers"]["Content-Disposition"] == "attachment; filename=report.csv"
    disposition = "inline; filename=resume.txt; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    assert original[9]["headers"]["Content-Disposition"] == disposition
    assert original[10]["headers"]["Cache-Control"] == "public, max-age=60"
    assert "Nothing at /get." in original[17]["body"]  # the app's 404 handler answered
    assert original[29]["body"] == "to " and original[29]["headers"]["Content-Range"] == "bytes 4-6/27"
    comparison = compare(PROJECT / "input", converted, SPEC, REQUESTS)
    assert comparison.same, comparison


@pytest.fixture(scope="module")
def unflashed(tmp_path_factory):
    """The project with a base template that shows no flashed messages: the rest of what Flask's
    template context gave (config, url_for, request.path, the app's and a blueprint's filters, a
    global, a context processor) the converted app's Jinja2Templates gives, so its views convert."""
    root = tmp_path_factory.mktemp("unflashed")
    shutil.copytree(PROJECT / "input", root / "input", ignore=shutil.ignore_patterns("__pycache__"))
    base = root / "input" / "filesapp" / "templates" / "base.html"
    base.write_text("".join(line for line in base.read_text().splitlines(True) if "get_flashed_messages" not in line))
    return root / "input", convert_copy(root / "input", root / "converted")


def test_flasks_template_context_converts(unflashed):
    original, converted = unflashed
    source = (converted / "filesapp" / "app.py").read_text()
    assert source.count("templates.TemplateResponse(request, ") == 3
    assert "context_processors=[flask_template_context]" in source
    assert 'templates.env.filters.update({"initials": initials, "shout": shout})' in source
    assert 'templates.env.globals.update({"config": app.config, "version": "1.0"})' in source
    assert '{**site_context(), "notes": NOTES, "name": name, "banner": BANNER}' in source  # the view's name wins
    asked = [*REQUESTS[:4], *REQUESTS[15:24], {"method": "GET", "path": "/notes/1?x=%2F"}]
    answered = answers_in(original, SPEC, asked)
    assert '<footer>/ 2026 v1.0 NOTES! &lt;b&gt;ann&lt;/b&gt;</footer>' in answered[0]["body"]
    assert '<a href="/files/manual.txt">manual</a>' in answered[1]["body"]
    assert "<footer>/notes/9 2026 v1.0 NOTES! nobody</footer>" in answered[2]["body"]
    comparison = compare(original, converted, SPEC, asked)
    assert comparison.same, comparison


def test_etags_are_werkzeugs_and_answer_304(converted):
    """Each app's ETag is werkzeug's (mtime-size-adler32 of the path), and sent back it gives 304."""
    for root in (PROJECT / "input", converted):
        path = root / "filesapp" / "downloads" / "manual.txt"
        stat = path.stat()
        expected = f'"{stat.st_mtime}-{stat.st_size}-{zlib.adler32(str(path).encode()) & 0xFFFFFFFF}"'
        asked = [
            {"method": "GET", "path": MANUAL, "expect_headers": ["ETag"]},
            {"method": "GET", "path": MANUAL, "headers": {"If-None-Match": expected}, "expect_headers": ["ETag"]},
            {"method": "GET", "path": MANUAL, "headers": {"If-None-Match": "W/" + expected}},
        ]
        answered = answers_in(root, SPEC, asked)
        assert [a["status"] for a in answered] == [200, 304, 304]
        assert answered[0]["headers"]["ETag"] == answered[1]["headers"]["ETag"] == expected


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=False, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_cli_commands_run_the_same(converted):
    """`flask --app filesapp.app seed-notes` and its converted form write the same notes and say
    the same thing, a blueprint's command answers the same, --help describes the command."""
    command = ["seed-notes", "--count", "3", "todo"]
    flask = _run([sys.executable, "-m", "flask", "--app", "filesapp.app", *command], PROJECT / "input")
    fastapi = _run([sys.executable, "-m", "flask2fastapi_runtime.cli", "--app", SPEC, *command], converted)
    try:
        assert flask.returncode == 0, flask.stderr
        assert flask.stdout == "filesapp.app wrote 3 notes to notes.txt\n"
        assert (fastapi.returncode, fastapi.stdout) == (0, flask.stdout), fastapi.stderr
        written = (converted / "notes.txt").read_text()
        assert written == (PROJECT / "input" / "notes.txt").read_text() == "todo 0\ntodo 1\ntodo 2\n"
    finally:
        (PROJECT / "input" / "notes.txt").unlink(missing_ok=True)
    command = ["admin", "list-users", "--sep", "+"]  # a blueprint's command, in its group
    flask = _run([sys.executable, "-m", "flask", "--app", "filesapp.app", *command], PROJECT / "input")
    fastapi = _run([sys.executable, "-m", "flask2fastapi_runtime.cli", "--app", SPEC, *command], converted)
    assert (flask.returncode, flask.stdout) == (0, "ann+<bob> on Notes & Co\n"), flask.stderr
    assert (fastapi.returncode, fastapi.stdout) == (0, flask.stdout), fastapi.stderr
    helped = _run([sys.executable, "-m", "flask2fastapi_runtime.cli", "--app", SPEC, "seed-notes", "--help"], converted)
    assert "how many notes to write" in helped.stdout and "TITLE" in helped.stdout
    missing = _run([sys.executable, "-m", "flask2fastapi_runtime.cli", "--app", SPEC, "seed-notes"], converted)
    assert missing.returncode == 2 and "Missing argument 'TITLE'" in missing.stderr
