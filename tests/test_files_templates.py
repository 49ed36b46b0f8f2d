"""Files, templates, the app context and the CLI: a Flask notes site that renders templates,
sends files (paths, in-memory files, a directory named by the client) and has a command answers
the same requests, and runs the same command, after conversion."""

import os
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
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("files") / "converted")


def test_the_whole_tree_is_copied(converted):
    """Templates and downloads travel with the code: render_template and send_file read them."""
    for name in ("templates/base.html", "templates/index.html", "downloads/manual.txt", "downloads/nested/readme.md"):
        assert (converted / "filesapp" / name).read_bytes() == (PROJECT / "input" / "filesapp" / name).read_bytes()
    source = (converted / "filesapp" / "app.py").read_text()
    assert "from flask import" not in source and "TODO[" not in source


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
    fastapi = _run([sys.executable, "-m", "filesapp.flask_compat", "--app", SPEC, *command], converted)
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
    fastapi = _run([sys.executable, "-m", "filesapp.flask_compat", "--app", SPEC, *command], converted)
    assert (flask.returncode, flask.stdout) == (0, "ann+<bob> on Notes & Co\n"), flask.stderr
    assert (fastapi.returncode, fastapi.stdout) == (0, flask.stdout), fastapi.stderr
    helped = _run([sys.executable, "-m", "filesapp.flask_compat", "--app", SPEC, "seed-notes", "--help"], converted)
    assert "how many notes to write" in helped.stdout and "TITLE" in helped.stdout
    missing = _run([sys.executable, "-m", "filesapp.flask_compat", "--app", SPEC, "seed-notes"], converted)
    assert missing.returncode == 2 and "Missing argument 'TITLE'" in missing.stderr


# -- flask_compat's pieces, each against Flask itself in this process ---------------------------

SAFE_JOIN_CASES = [
    "a.txt", "nested/readme.md", "nested/../a.txt", "./a.txt", "../a.txt", "..", "nested/../../a.txt",
    "/etc/passwd", "//etc/passwd", "a/./b", "", ".", "a\\b", "..a", "a..", "nested/..",
]


@pytest.mark.parametrize("name", SAFE_JOIN_CASES)
def test_safe_join_refuses_what_werkzeug_refuses(name):
    from werkzeug.security import safe_join as werkzeug_safe_join

    from codemod.support.flask_compat import safe_join

    assert safe_join("downloads", name) == werkzeug_safe_join("downloads", name)


@pytest.fixture(scope="module")
def file_apps(tmp_path_factory):
    """The same views on Flask and, through flask_compat, on FastAPI, over the same files (so
    that even werkzeug's ETag, which names the path, compares)."""
    import datetime
    import gzip
    import io

    from fastapi import FastAPI
    from flask import Flask
    from flask import send_file as flask_send_file

    from codemod.support import flask_compat

    folder = tmp_path_factory.mktemp("files")
    text = folder / "notes.txt"
    text.write_text("some notes\n")
    (folder / "data.txt.gz").write_bytes(gzip.compress(b"zipped"))
    views = {
        "plain": lambda send: send(str(text)),
        "etag-off": lambda send: send(str(text), etag=False),
        "etag-string": lambda send: send(str(text), etag="v1"),
        "unconditional": lambda send: send(str(text), conditional=False),
        "last-modified": lambda send: send(str(text), last_modified=datetime.datetime(2020, 1, 2, 3, 4, 5)),
        "max-age-0": lambda send: send(str(text), max_age=0),
        "quoted-name": lambda send: send(str(text), download_name='my "notes".txt', as_attachment=True),
        "gzip": lambda send: send(str(folder / "data.txt.gz")),
        "gzip-attachment": lambda send: send(str(folder / "data.txt.gz"), as_attachment=True),
        "json-bytes": lambda send: send(io.BytesIO(b"{}"), mimetype="application/json"),
        "script": lambda send: send(io.BytesIO(b"x()"), download_name="x.js"),
        "unknown-type": lambda send: send(io.BytesIO(b"\x00"), download_name="blob.bin.unknownext"),
        "file-object": lambda send: send(open(text, "rb"), mimetype="text/plain"),  # noqa: SIM115 - send_file closes it
        "missing": lambda send: send(str(folder / "nope.txt")),
    }
    flask_app = Flask(__name__)
    fastapi_app = FastAPI(exception_handlers=flask_compat.FLASK_ERRORS, middleware=flask_compat.FLASK_MIDDLEWARE)
    flask_compat.add_flask_attributes(fastapi_app, __name__)
    for name, view in views.items():
        flask_app.add_url_rule(f"/{name}", name, lambda view=view: view(flask_send_file))
        fastapi_app.add_api_route(f"/{name}", lambda view=view: view(flask_compat.send_file), name=name)
    return flask_app, fastapi_app


@pytest.mark.parametrize("path", [
    "/plain", "/etag-off", "/etag-string", "/unconditional", "/last-modified", "/max-age-0", "/quoted-name",
    "/gzip", "/gzip-attachment", "/json-bytes", "/script", "/unknown-type", "/file-object", "/missing",
])
@pytest.mark.parametrize("headers", [{}, {"If-None-Match": '"v1"'}, {"Range": "bytes=1-2"}], 
                         ids=["get", "etag", "range"])
def test_send_file_answers_as_flask(file_apps, path, headers):
    from fastapi.testclient import TestClient

    flask_app, fastapi_app = file_apps
    expected = flask_app.test_client().get(path, headers=headers)
    with TestClient(fastapi_app, raise_server_exceptions=False).stream("GET", path, headers=headers) as got:
        body = b"".join(got.iter_raw())  # as sent: httpx would decode a gzip Content-Encoding
    assert expected.status_code == got.status_code
    assert expected.data == body
    ignored = {"date", "expires"}  # the time of the answer
    if expected.status_code != 500:  # the 500 pages differ only in their length: FLASK_ERRORS' own test
        assert {k.lower(): v for k, v in expected.headers.items() if k.lower() not in ignored} == {
            k: v for k, v in got.headers.items() if k not in ignored
        }


def _fastapi_app(**options):
    from fastapi import FastAPI

    from codemod.support import flask_compat

    app = FastAPI(exception_handlers=flask_compat.FLASK_ERRORS, middleware=flask_compat.FLASK_MIDDLEWARE)
    return flask_compat.add_flask_attributes(app, __name__, **options)


def test_app_context_gives_current_app_and_g_outside_requests():
    from codemod.support.flask_compat import app_context, current_app, g

    app, other = _fastapi_app(), _fastapi_app()
    app.config["NAME"], other.config["NAME"] = "first", "second"
    with pytest.raises(RuntimeError, match="outside of application context"):
        _ = current_app.config
    with app_context(app) as ctx:
        g.user = "ann"
        assert current_app.config["NAME"] == "first" and ctx.app is app and ctx.g.user == "ann"
        with app_context(other):  # a context of its own, with its own g, as in Flask
            assert current_app.config["NAME"] == "second" and "user" not in g
        assert current_app.config["NAME"] == "first" and g.user == "ann"
    pushed = app_context(other)
    pushed.push()  # Flask's push()/pop() form, common in test fixtures
    assert current_app.config["NAME"] == "second"
    pushed.pop()
    with pytest.raises(RuntimeError):
        _ = g.user


def test_cli_commands_run_in_the_app_context():
    """app.cli is a click group: its commands, a group added to it and a command marked
    with_appcontext all see current_app, as under `flask`."""
    import click
    from click.testing import CliRunner

    from codemod.support.flask_compat import current_app, g, with_appcontext

    app = _fastapi_app()
    app.config["DATABASE"] = "notes.db"

    @app.cli.command("init-db")
    @click.option("--drop", is_flag=True)
    def init_db(drop):
        g.dropped = drop
        click.echo(f"{current_app.config['DATABASE']} drop={g.dropped}")

    users = click.Group("user")

    @users.command("list")
    @with_appcontext
    def list_users():
        click.echo(current_app.config["DATABASE"])

    app.cli.add_command(users)
    runner = CliRunner()
    assert runner.invoke(app.cli, ["init-db", "--drop"]).output == "notes.db drop=True\n"
    assert runner.invoke(app.cli, ["user", "list"]).output == "notes.db\n"
    assert "init-db" in runner.invoke(app.cli, ["--help"]).output
    with pytest.raises(RuntimeError):
        _ = current_app.config  # the context ended with the command


def test_templates_render_as_flask_renders_them(tmp_path):
    """Autoescaping by file name (.html yes, .txt no, a string yes), the config global, and
    rendering in an app context outside a request, on both apps."""
    from flask import Flask
    from flask import render_template as flask_render
    from flask import render_template_string as flask_render_string

    from codemod.support.flask_compat import app_context, render_template, render_template_string

    (tmp_path / "page.html").write_text("<p>{{ value }} {{ config.SITE }}</p>")
    (tmp_path / "mail.txt").write_text("{{ value }} {{ config.SITE }}")
    flask_app = Flask(__name__, template_folder=str(tmp_path))
    app = _fastapi_app(template_folder=str(tmp_path))
    flask_app.config["SITE"] = app.config["SITE"] = "A&B"
    cases = [("page.html", {"value": "<b>"}), ("mail.txt", {"value": "<b>"})]
    with flask_app.app_context():
        expected = [flask_render(name, **context) for name, context in cases]
        expected.append(flask_render_string("{{ v }}", v="<i>"))
    with app_context(app):
        rendered = [render_template(name, **context) for name, context in cases]
        rendered.append(render_template_string("{{ v }}", v="<i>"))
    assert rendered == expected == ["<p>&lt;b&gt; A&amp;B</p>", "<b> A&B", "&lt;i&gt;"]


def test_a_thread_gets_the_app_of_the_request():
    """Flask code hands a thread ``current_app._get_current_object()`` and enters its context
    there (``current_app.app_context()`` converted to ``app_context(current_app)``)."""
    import threading

    from fastapi.testclient import TestClient

    from codemod.support.flask_compat import app_context, current_app

    app = _fastapi_app()
    app.config["NAME"] = "threaded"
    seen = []

    def work(the_app):
        with app_context(the_app):
            seen.append(current_app.config["NAME"])

    @app.get("/")
    def view():
        worker = threading.Thread(target=work, args=(current_app._get_current_object(),))
        worker.start()
        worker.join()
        with app_context(current_app):  # the proxy itself: its app, not a loop through the proxy
            seen.append(current_app.config["NAME"])
        return {}

    assert TestClient(app).get("/").status_code == 200
    assert seen == ["threaded", "threaded"]


@pytest.mark.parametrize("arguments", [
    {"path": "/users/7?page=2"},
    {"path": "/users/7", "query_string": {"page": "3"}, "base_url": "https://shop.example"},
    {"path": "/users/7", "method": "POST", "json": {"name": "ann"}, "headers": {"X-Key": "k"}},
])
def test_test_request_context_is_flasks(arguments):
    """Inside ``test_request_context(app, ...)`` the request, url_for, g and session read what
    they read inside Flask's ``app.test_request_context(...)``."""
    from flask import Flask
    from flask import g as flask_g
    from flask import request as flask_request
    from flask import session as flask_session
    from flask import url_for as flask_url_for

    from codemod.support.flask_compat import g, request, session, test_request_context, url_for

    def seen(request, url_for, g, session):
        g.user = "ann"
        session["seen"] = True
        return {
            "method": request.method, "path": request.path, "url": request.url, "base_url": request.base_url,
            "page": request.args.get("page", type=int), "json": request.get_json(silent=True),
            "key": request.headers.get("X-Key"), "remote": request.remote_addr, "user": g.user,
            "self": url_for("user", user_id=7, _external=True), "session": dict(session.items()),
        }

    flask_app = Flask(__name__)
    flask_app.secret_key = "s"
    flask_app.add_url_rule("/users/<int:user_id>", "user", lambda user_id: "")
    app = _fastapi_app()
    app.secret_key = "s"
    app.add_api_route("/users/{user_id}", lambda user_id: "", name="user")
    with flask_app.test_request_context(**arguments):
        expected = seen(flask_request, flask_url_for, flask_g, flask_session)
    with test_request_context(app, **arguments):
        assert seen(request, url_for, g, session) == expected


def test_test_request_context_refuses_a_mount_prefix():
    """Flask would put /app in SCRIPT_NAME; flask_compat says it cannot, rather than answer otherwise."""
    from codemod.support.flask_compat import test_request_context

    with pytest.raises(ValueError, match="base_url with a path"):
        test_request_context(_fastapi_app(), "/", base_url="https://shop.example/app/")
