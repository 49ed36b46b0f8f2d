"""The last step: a converted project whose only Flask left is its app's plumbing leaves Flask
(transforms/leave_flask.py); one with any other Flask use keeps it, and the report says why."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import app as cli
from codemod.testing import convert_copy

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "leave"
# Imports of Flask and werkzeug fail in the process this starts: what runs there needs neither
NO_FLASK = """
import importlib.abc, sys
class NoFlask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("flask", "werkzeug", "flask_cors"):
            raise ImportError(f"{name} is blocked: the converted project must not need it")
sys.meta_path.insert(0, NoFlask())
"""


def files(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("leave") / "converted")


def test_the_converted_project_is_the_expected_one(converted):
    assert files(converted) == files(PROJECT / "expected")


def test_no_flask_is_left_in_it(converted):
    for name, text in files(converted).items():
        for word in ("import flask", "from flask ", "flask.", "from flask_cors", "werkzeug", "FlaskBridge", "bridge_of", "Blueprint"):
            assert word not in text.replace("flask2fastapi", ""), (name, word)
    assert "flask" not in (converted / "requirements.txt").read_text().replace("flask2fastapi", "").lower()


def test_converting_it_again_changes_nothing():
    result = CliRunner().invoke(cli, ["convert", str(PROJECT / "expected"), "--check"])
    assert result.exit_code == 0, result.output


def test_a_flask_use_left_keeps_flask_and_the_report_names_it(tmp_path):
    project = tmp_path / "input"
    shutil.copytree(PROJECT / "input", project)
    notes = project / "notes" / "notes.py"
    notes.write_text(
        notes.read_text()
        + '\n\n@bp.get("/page")\ndef page():\n    return render_template("page.html")\n'
    )
    notes.write_text(notes.read_text().replace("import Blueprint,", "import Blueprint, render_template,"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["convert", str(project), "--out", str(out)])
    assert "Flask stays for 1 use(s), first:" in result.output
    assert "notes.py:" in result.output and "flask.render_template" in result.output
    assert "FlaskBridge(app)" in (out / "notes" / "__init__.py").read_text()
    assert "CORS(app" in (out / "notes" / "__init__.py").read_text()
    requirements = (out / "requirements.txt").read_text()
    assert requirements.startswith("flask>=3.0\nFlask-Cors>=4.0\n")
    assert "flask2fastapi-runtime[flask]>=0.1,<0.2" in requirements


def test_ignore_leave_flask_keeps_the_bridge(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["convert", str(PROJECT / "input"), "--out", str(out), "--ignore", "leave_flask"])
    assert result.exit_code == 0, result.output
    assert "api = FlaskBridge(app)" in (out / "notes" / "__init__.py").read_text()
    assert "flask2fastapi-runtime[flask]" in (out / "requirements.txt").read_text()


def run_without_flask(root: Path, *args: str) -> subprocess.CompletedProcess:
    """``python *args`` in ``root`` with Flask, werkzeug and Flask-CORS impossible to import."""
    site = root.parent / "no_flask_site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(NO_FLASK)
    env = {"PYTHONPATH": f"{site}:{root}", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_its_own_tests_pass_with_flask_impossible_to_import(converted):
    done = run_without_flask(converted, "-m", "pytest", "-q", "-p", "no:cacheprovider", "notes/tests")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3 passed" in done.stdout
    blocked = run_without_flask(converted, "-c", "import flask")
    assert "is blocked" in blocked.stderr  # the guard does block


REQUESTS = [
    {"method": "POST", "path": "/notes", "json": {"title": "milk"}},
    {"method": "POST", "path": "/notes", "json": {"title": ""}},
    {"method": "POST", "path": "/notes", "json": ["not", "an", "object"]},
    {"method": "POST", "path": "/notes", "data": "{not json", "headers": {"Content-Type": "application/json"}},
    {"method": "POST", "path": "/notes", "data": "title=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    {"method": "GET", "path": "/notes", "expect_headers": ["X-Total"]},
    {"method": "GET", "path": "/notes/1"},
    {"method": "GET", "path": "/notes/2"},
    {"method": "GET", "path": "/notes/x"},
    {"method": "DELETE", "path": "/notes/1", "expect_headers": ["Allow"]},
    {"method": "GET", "path": "/nowhere"},
    {"method": "GET", "path": "/notes", "headers": {"Origin": "https://app.example"},
     "expect_headers": ["Access-Control-Allow-Origin", "Access-Control-Expose-Headers"]},
    {"method": "GET", "path": "/notes", "headers": {"Origin": "https://evil.example"}, "expect_headers": ["Access-Control-Allow-Origin"]},
]
PREFLIGHT = {
    "method": "OPTIONS", "path": "/notes", "headers": {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"},
    "expect_headers": ["Access-Control-Allow-Origin", "Access-Control-Allow-Methods"],
}


def test_it_answers_as_the_original(converted):
    from codemod.verify import compare

    result = compare(PROJECT / "input", converted, "notes:create_app()", REQUESTS)
    assert result.same, result


def test_a_preflight_gets_the_same_answer(converted):
    # the app's automatic OPTIONS answer with Flask-CORS's headers on it: its status, body and headers
    from codemod.verify import answers_in

    (original,) = answers_in(PROJECT / "input", "notes:create_app()", [PREFLIGHT])
    (after,) = answers_in(converted, "notes:create_app()", [PREFLIGHT])
    assert original["headers"]["Access-Control-Allow-Origin"] == "https://app.example"
    assert after == original
