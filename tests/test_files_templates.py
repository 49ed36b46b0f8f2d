"""Files, templates, the app context and the CLI: a Flask notes site that renders templates,
flashes messages, redirects, sends files (paths, in-memory files, a directory named by the client),
renders its own 404 page and has a command answers the same requests, and runs the same command,
after conversion; its routes leave Flask (Jinja2Templates, the runtime's flash, redirect and a
FastAPI exception handler), but the blueprint's, whose templates Flask still renders."""

import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from codemod.engine import convert_paths, discover
from codemod.testing import convert_copy
from codemod.verify import answers_in, compare
from transforms import ORDER

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
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("files") / "converted")


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


def test_the_views_leave_flask(converted):
    """Templates through Jinja2Templates with Flask's context (config, url_for, request.path, the
    flashes, the app's and a blueprint's filters, a global, a context processor), the runtime's
    flash and redirect, the 404 handler a FastAPI one; the session in Flask's own cookie."""
    source = (converted / "filesapp" / "app.py").read_text()
    assert source.count("templates.TemplateResponse(request, ") == 4
    assert "context_processors=[flask_template_context]" in source
    assert 'templates.env.filters.update({"initials": initials, "shout": shout})' in source
    assert 'templates.env.globals.update({"config": app.config, "version": "1.0"})' in source
    assert '{**site_context(), "notes": NOTES, "name": name, "banner": BANNER}' in source  # the view's name wins
    assert "api.add_middleware(FlaskSessionMiddleware, login=False)\nflashes_in_flask_templates(app)\n" in source
    assert 'flash(request, f"Starred {NOTES[note_id][\'title\']} <3", "info")' in source
    assert 'return redirect(request.url_for("index").path)' in source
    assert "from flask2fastapi_runtime.redirects import redirect" in source
    assert 'HTMLResponse(templates.env.from_string("<p>Hello {{ name }} from {{ config.SITE_NAME }}</p>")' in source
    assert "@api.exception_handler(404)\ndef not_found(request: Request, error: StarletteHTTPException):" in source
    assert '"404.html", {**site_context(), "path": request_path(request)}, status_code=404)' in source
    assert "from flask import (\n    Flask,\n    current_app,\n)\n" in source  # for the app and the CLI


def test_converting_again_changes_nothing(converted):
    results = convert_paths(discover([converted]), ORDER)
    assert [r.status for r in results] == ["unchanged"] * len(results) and results


def test_every_route_but_the_blueprints_is_idiomatic():
    results = convert_paths(discover([PROJECT / "input"]), ORDER)
    levels = {route["endpoint"]: route["level"] for result in results for route in result.routes}
    native = {endpoint for endpoint, level in levels.items() if level != "idiomatic"}
    assert len(levels) == 12 and native == {"admin.panel", "admin.shadowed"}, levels


def _cookie(answer: dict) -> dict:
    """The answer with its session Set-Cookie read by Flask's own serializer (its signature's
    timestamp aside, what a browser keeps) and its attributes."""
    header = answer["headers"].get("Set-Cookie")
    if header is None:
        return answer
    pair, _, attributes = header.partition(";")
    value = pair.partition("=")[2]
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "dev"
    content = SecureCookieSessionInterface().get_signing_serializer(app).loads(value) if value else None
    return {**answer, "headers": {**answer["headers"], "Set-Cookie": (content, attributes.strip())}}


FLASHED = ["Location", "Set-Cookie", "Vary", "Content-Type", "Content-Length"]
FLASHES = [
    {"method": "POST", "path": "/notes/0/star", "expect_headers": FLASHED},
    {"method": "GET", "path": "/notes/1", "expect_headers": FLASHED},  # shown, then the cookie emptied
    {"method": "GET", "path": "/notes/1", "expect_headers": FLASHED},  # once
    {"method": "POST", "path": "/notes/1/star", "expect_headers": FLASHED},
    {"method": "GET", "path": "/admin/", "expect_headers": FLASHED},  # a page Flask still renders shows them
    {"method": "POST", "path": "/notes/0/star", "expect_headers": FLASHED},
    {"method": "GET", "path": "/nowhere", "expect_headers": FLASHED},  # and so does the 404 page
    {"method": "GET", "path": "/hello/x", "expect_headers": FLASHED},  # no flashes read: no Vary
]


def test_flashes_and_the_cookie_are_flasks(converted):
    original = [_cookie(a) for a in answers_in(PROJECT / "input", SPEC, FLASHES)]
    assert [a["status"] for a in original] == [302, 200, 200, 302, 200, 302, 404, 200]
    flashed = ({"_flashes": [("info", "Starred Groceries <3"), ("message", "Stars are public")]}, "HttpOnly; Path=/")
    assert original[0]["headers"]["Set-Cookie"] == flashed and original[0]["headers"]["Location"] == "/"
    assert original[0]["body"].startswith("<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>")
    assert '<p class="info">Starred Groceries &lt;3</p><p class="message">Stars are public</p>' in original[1]["body"]
    assert original[1]["headers"]["Set-Cookie"] == (None, "Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/")
    assert "<p class" not in original[2]["body"] and original[2]["headers"]["Set-Cookie"] is None
    assert '<p class="info">Starred Ideas &lt;3</p>' in original[4]["body"] and "<li>ann</li>" in original[4]["body"]
    assert '<p class="info">Starred Groceries &lt;3</p>' in original[6]["body"] and "Nothing at /nowhere." in original[6]["body"]
    assert [a["headers"]["Vary"] for a in original] == ["Cookie"] * 7 + [None]
    converted_answers = [_cookie(a) for a in answers_in(converted, SPEC, FLASHES)]
    assert converted_answers == original


@pytest.mark.parametrize("flasher", ["original", "converted"])
def test_flashes_cross_the_cutover(converted, flasher):
    """A message flashed before the cutover is shown after it, and one flashed after a rollback too."""
    roots = {"original": PROJECT / "input", "converted": converted}
    made = answers_in(roots[flasher], SPEC, [{"method": "POST", "path": "/notes/1/star", "expect_headers": ["Set-Cookie"]}])
    cookie = made[0]["headers"]["Set-Cookie"].partition(";")[0].partition("=")[2]
    asked = [{"method": "GET", "path": "/", "cookies": {"session": cookie}}]
    shown = answers_in(roots["converted" if flasher == "original" else "original"], SPEC, asked)[0]
    assert '<p class="info">Starred Ideas &lt;3</p><p class="message">Stars are public</p>' in shown["body"]


APP_ABORT = """

@app.route("/notes/<int:note_id>/body")
def body(note_id):
    if note_id >= len(NOTES):
        abort(404)
    return NOTES[note_id]["body"]
"""


def test_abort_and_flasks_own_404_answer_the_apps_page(tmp_path):
    """abort(404) in a converted view and a URL no route knows are both the handler's page."""
    shutil.copytree(PROJECT / "input", tmp_path / "input", ignore=shutil.ignore_patterns("__pycache__"))
    app = tmp_path / "input" / "filesapp" / "app.py"
    app.write_text(app.read_text().replace("    flash,\n", "    abort,\n    flash,\n") + APP_ABORT)
    converted = convert_copy(tmp_path / "input", tmp_path / "converted")
    assert "raise HTTPException(status_code=404)" in (converted / "filesapp" / "app.py").read_text()
    asked = [
        {"method": "GET", "path": path, "expect_headers": ["Content-Type", "Content-Length"]}
        for path in ("/notes/0/body", "/notes/5/body", "/notes/x/body", "/n%C3%B6pe/a%3Fb")
    ]
    original = answers_in(tmp_path / "input", SPEC, asked)
    assert [a["status"] for a in original] == [200, 404, 404, 404]
    assert "<p>Nothing at /notes/5/body.</p>" in original[1]["body"] and "Nothing at /nöpe/a?b." in original[3]["body"]
    comparison = compare(tmp_path / "input", converted, SPEC, asked)
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
