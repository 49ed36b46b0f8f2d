"""The ``flask2fastapi`` command line, end to end: what it writes, prints and exits with.

Converting a file costs a LibCST parse and two metadata-resolved traversals, so runs whose
result several tests look at are made once, by module-scoped fixtures.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import app
from codemod.findings import catalogue, markers_in
from transforms import ORDER
from transforms.routes import RoutesTransform

# A wide, fixed console: Rich would otherwise wrap at the width of whatever terminal runs pytest.
ENV = {"COLUMNS": "200", "NO_COLOR": "1"}

FLASK_APP = """\
# the service's entry module
from flask import Flask, jsonify

# the application
app = Flask(__name__)  # created once


@app.route('/x/<int:n>', methods=['POST'])  # create an x
def x(n):  # n comes from the path
    # the view's comment
    return jsonify(n=n), 201  # created
"""
# No Flask use is left in it, so the Flask app and the bridge go too (transforms/leave_flask.py);
# the bridge's name stays, as other code of a project may name it.
FASTAPI_APP = """\
# the service's entry module
from flask2fastapi_runtime import NativeApp

# the application
app = NativeApp(__name__)  # created once
api = app


@api.post('/x/{n}', status_code=201)  # create an x
def x(n: int):  # n comes from the path
    # the view's comment
    return {"n": n}  # created
"""
BRIDGE_LINE = "app = NativeApp(__name__)  # created once\napi = app\n"
# what a run that stops short of the last step gives (a file failed, or --select)
BRIDGE_STAGE_LINE = "app = Flask(__name__)  # created once\napi = FlaskBridge(app)\n"
RUN_DEBUG = FLASK_APP + "\n\nif __name__ == '__main__':\n    app.run(debug=True)\n"
# Flask() but no decorator at all: a broken route transform never runs on it.
PLAIN_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
SYNTAX_ERROR = "import os\n\nx = = 1\n"
NOT_FLASK = "import os\n\n\ndef helper():\n    return os.sep\n"
LATIN1_SOURCE = "# -*- coding: latin-1 -*-\nfrom flask import Flask\n# café ñandú\napp = Flask(__name__)\n"


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args], env=ENV)


def flat(text: str) -> str:
    """Text with every run of whitespace made one space (Rich wraps long messages)."""
    return " ".join(text.split())


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (caches included) by relative path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def make_tree(root: Path) -> Path:
    """A small project: one Flask module, a package, data files and caches."""
    write(root / "app.py", RUN_DEBUG)
    write(root / "shop" / "__init__.py", "")
    write(root / "shop" / "util.py", NOT_FLASK)
    write(root / "templates" / "x.html", "<p>{{ name }}</p>\n")
    write(root / "data.json", '{"answer": 42}\n')
    write(root / "__pycache__" / "app.cpython-311.pyc", b"\x00\x01compiled")
    write(root / "shop" / "__pycache__" / "util.cpython-311.pyc", b"\x00\x02compiled")
    return root


def statuses(report: Path) -> dict[str, dict]:
    return {Path(f["path"]).name: f for f in json.loads(report.read_text(encoding="utf-8"))["files"]}


# -- converting in place -------------------------------------------------------------------


@pytest.fixture(scope="module")
def in_place(tmp_path_factory):
    folder = tmp_path_factory.mktemp("in_place")
    target = write(folder / "app.py", FLASK_APP)
    target.chmod(0o751)
    result = invoke("convert", target, "--jobs", "1")
    return folder, target, result


def test_convert_in_place_rewrites_flask_as_fastapi(in_place):
    _, target, result = in_place
    assert result.exit_code == 0, result.output
    assert target.read_text() == FASTAPI_APP


def test_comments_survive_conversion(in_place):
    text = in_place[1].read_text()
    for comment in (
        "# the service's entry module",
        "# the application\n" + BRIDGE_LINE,
        "@api.post('/x/{n}', status_code=201)  # create an x",
        "def x(n: int):  # n comes from the path",
        "    # the view's comment",
        'return {"n": n}  # created',
    ):
        assert comment in text


def test_permission_bits_are_kept_and_no_temp_file_left(in_place):
    folder, target, _ = in_place
    assert stat.S_IMODE(target.stat().st_mode) == 0o751
    # the runtime's requirement is the only other file
    assert sorted(p.name for p in folder.iterdir()) == ["app.py", "requirements-fastapi.txt"]


def test_convert_exits_3_when_a_todo_marker_was_added(tmp_path):
    target = write(tmp_path / "app.py", RUN_DEBUG)
    result = invoke("convert", target, "--jobs", "1")
    assert result.exit_code == 3, result.output
    text = target.read_text()
    assert text.startswith("# the service's entry module\nimport uvicorn\nfrom flask2fastapi_runtime import NativeApp\n")
    assert "    # TODO[F2F151]: app.run(debug=...) has no uvicorn.run() counterpart" in text
    assert text.endswith("if __name__ == '__main__':\n    # TODO[F2F151]: app.run(debug=...) has no uvicorn.run() "
                         "counterpart and was dropped: uvicorn has no debugger; run `uvicorn module:app --reload` "
                         "while developing\n    uvicorn.run(api, port=5000)\n")
    assert "F2F151" in result.output


def test_convert_of_a_missing_path_exits_2(tmp_path):
    result = invoke("convert", tmp_path / "nope.py", "--jobs", "1")
    assert result.exit_code == 2
    assert "no such file or folder" in flat(result.output)


# -- --out ---------------------------------------------------------------------------------


def test_out_writes_a_converted_copy_of_the_whole_tree(tmp_path):
    source = make_tree(tmp_path / "src")
    before = snapshot(source)
    out = tmp_path / "converted"

    result = invoke("convert", source, "--out", out, "--jobs", "1")

    assert result.exit_code == 3, result.output  # app.run(debug=True) left a marker
    assert snapshot(source) == before  # the source tree is byte-identical
    copied = snapshot(out)
    # a single folder's contents land at DIR/ directly; caches are not copied
    assert sorted(copied) == ["app.py", "data.json", "requirements-fastapi.txt", "shop/__init__.py", "shop/util.py", "templates/x.html"]
    assert copied["requirements-fastapi.txt"] == b"flask2fastapi-runtime>=0.1,<0.2\n"
    assert copied["templates/x.html"] == before["templates/x.html"]
    assert copied["data.json"] == before["data.json"]
    assert copied["shop/util.py"] == before["shop/util.py"]
    assert copied["shop/__init__.py"] == b""
    converted = copied["app.py"].decode()
    assert BRIDGE_LINE in converted
    assert "    uvicorn.run(api, port=5000)\n" in converted
    assert "# TODO[F2F151]" in converted


def test_out_accepts_an_existing_empty_folder(tmp_path):
    source = tmp_path / "src"
    write(source / "util.py", NOT_FLASK)
    write(source / "data.json", '{"answer": 42}\n')
    out = tmp_path / "out"
    out.mkdir()
    result = invoke("convert", source, "--out", out, "--jobs", "1")
    assert result.exit_code == 0, f"{result.exit_code}: {result.exception!r}\n{result.output}"
    assert snapshot(out) == snapshot(source)


def test_out_refuses_a_non_empty_folder(tmp_path):
    source = make_tree(tmp_path / "src")
    before = snapshot(source)
    out = write(tmp_path / "out" / "keep.txt", "mine\n").parent
    result = invoke("convert", source, "--out", out, "--jobs", "1")
    assert result.exit_code == 2
    assert "exists and is not an empty folder" in flat(result.output)
    assert snapshot(out) == {"keep.txt": b"mine\n"}
    assert snapshot(source) == before


def test_out_refuses_a_folder_inside_the_converted_path(tmp_path):
    source = make_tree(tmp_path / "src")
    before = snapshot(source)
    out = source / "converted"
    result = invoke("convert", source, "--out", out, "--jobs", "1")
    assert result.exit_code == 2
    assert "is inside" in flat(result.output)
    assert not out.exists()
    assert snapshot(source) == before


# -- --diff and --check -------------------------------------------------------------------


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path):
    target = write(tmp_path / "app.py", FLASK_APP)
    result = invoke("convert", target, "--diff", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert target.read_text() == FLASK_APP
    assert not (tmp_path / "requirements-fastapi.txt").exists()  # the requirement is shown, not written
    assert "+++ b/" in result.stdout and "requirements-fastapi.txt" in result.stdout
    lines = result.stdout.splitlines()
    # the file's summary first (tests/test_diff_review.py), then its hunks
    assert lines[0].endswith("app.py | +6 -5 | 1 route: 1 idiomatic | no findings")
    assert lines[1] == "    idiomatic  POST /x/<int:n>  (x)"
    assert lines[2].startswith("--- a/") and lines[2].endswith("app.py")
    assert lines[3].startswith("+++ b/") and lines[3].endswith("app.py")
    assert lines[4].startswith("@@ -1,11 +1,12 @@")
    body = [line.rstrip() for line in lines[5:]]
    assert "+from flask2fastapi_runtime import NativeApp" in body
    assert "-app = Flask(__name__)  # created once" in body
    assert "+app = NativeApp(__name__)  # created once" in body
    assert "+api = app" in body
    assert "+@api.post('/x/{n}', status_code=201)  # create an x" in body
    assert '+    return {"n": n}  # created' in body
    assert "     # the view's comment" in body  # an unchanged context line


def test_diff_of_a_latin1_file_shows_its_text(tmp_path):
    target = write(tmp_path / "legacy.py", LATIN1_SOURCE.encode("latin-1"))
    result = invoke("convert", target, "--diff", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == LATIN1_SOURCE.encode("latin-1")
    assert "+api = app" in result.stdout.splitlines()
    assert " # café ñandú" in result.stdout.splitlines(), result.stdout


def test_check_writes_nothing_and_exits_1_when_something_would_change(tmp_path):
    source = make_tree(tmp_path / "src")
    before = snapshot(source)
    result = invoke("convert", source, "--check", "--jobs", "1")
    assert result.exit_code == 1, result.output
    assert snapshot(source) == before


def test_check_exits_0_once_converted_and_a_second_run_changes_nothing(tmp_path):
    source = make_tree(tmp_path / "src")
    assert invoke("convert", source, "--jobs", "1").exit_code == 3
    converted = snapshot(source)
    assert BRIDGE_LINE in converted["app.py"].decode()

    result = invoke("convert", source, "--check", "--jobs", "1")

    assert result.exit_code == 0, result.output
    assert snapshot(source) == converted
    assert len(markers_in(converted["app.py"].decode())) == 1  # the marker is not doubled


def test_check_on_a_file_with_only_a_syntax_error_exits_4(tmp_path):
    target = write(tmp_path / "bad.py", SYNTAX_ERROR)
    result = invoke("convert", target, "--check", "--jobs", "1")
    assert result.exit_code == 4, result.output
    assert "F2F001" in result.output
    assert target.read_text() == SYNTAX_ERROR


# -- a run with a broken file, and its --report -------------------------------------------


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One in-place run over a Flask module, a plain module and a file that does not parse."""
    root = tmp_path_factory.mktemp("mixed")
    project = root / "proj"
    files = {
        "app.py": write(project / "app.py", RUN_DEBUG),
        "util.py": write(project / "util.py", NOT_FLASK),
        "bad.py": write(project / "bad.py", "from flask import Flask\n" + SYNTAX_ERROR),
    }
    report = root / "report.json"
    result = invoke("convert", project, "--jobs", "1", "--report", report)
    return files, report, result


def test_syntax_error_is_reported_and_the_file_left_byte_identical(mixed_run):
    files, report, result = mixed_run
    assert result.exit_code == 4, result.output
    assert "F2F001" in result.output
    assert files["bad.py"].read_bytes() == ("from flask import Flask\n" + SYNTAX_ERROR).encode()
    (finding,) = statuses(report)["bad.py"]["findings"]
    assert finding["code"] == "F2F001"
    assert finding["line"] >= 1


def test_other_files_of_a_run_with_a_syntax_error_still_convert(mixed_run):
    files, _, _ = mixed_run
    text = files["app.py"].read_text()
    # one file did not convert, so Flask stays: the last step needs the whole project
    assert BRIDGE_STAGE_LINE in text and "@api.post('/x/{n}', status_code=201)" in text
    assert files["util.py"].read_text() == NOT_FLASK


def test_report_gives_every_file_a_status(mixed_run):
    _, report, _ = mixed_run
    files = statuses(report)
    assert {name: f["status"] for name, f in files.items()} == {
        "app.py": "changed",
        "util.py": "unchanged",
        "bad.py": "failed",
    }
    assert files["util.py"]["findings"] == []


def test_report_finding_points_at_the_code_under_its_marker(mixed_run):
    files, report, _ = mixed_run
    (finding,) = statuses(report)["app.py"]["findings"]
    assert set(finding) == {"code", "path", "line", "message"}
    assert finding["code"] == "F2F151"
    assert Path(finding["path"]) == files["app.py"]
    assert finding["message"].startswith("app.run(debug=...) has no uvicorn.run() counterpart")
    lines = files["app.py"].read_text().splitlines()
    assert lines[finding["line"] - 1] == "    uvicorn.run(api, port=5000)"
    assert lines[finding["line"] - 2] == f"    # TODO[F2F151]: {finding['message']}"


def test_a_transform_that_raises_is_reported_and_the_file_left_alone(tmp_path, monkeypatch):
    def boom(self, original_node, updated_node):
        raise RuntimeError("boom")

    monkeypatch.setattr(RoutesTransform, "leave_Decorator", boom)
    routed = write(tmp_path / "proj" / "routed.py", FLASK_APP)
    plain = write(tmp_path / "proj" / "plain.py", PLAIN_APP)
    report = tmp_path / "report.json"

    result = invoke("convert", tmp_path / "proj", "--jobs", "1", "--report", report)

    assert result.exit_code == 4, result.output
    assert "F2F002" in result.output
    assert routed.read_text() == FLASK_APP
    assert plain.read_text() == (
        "from flask import Flask\nfrom flask2fastapi_runtime import FlaskBridge\n\napp = Flask(__name__)\napi = FlaskBridge(app)\n"
    )
    files = statuses(report)
    assert files["routed.py"]["status"] == "failed"
    (finding,) = files["routed.py"]["findings"]
    assert finding["code"] == "F2F002"
    assert "RuntimeError: boom" in finding["message"]
    assert files["plain.py"]["status"] == "changed"


# -- --select and --ignore -----------------------------------------------------------------


def test_select_a_transform_runs_only_that_transform(tmp_path):
    target = write(tmp_path / "app.py", RUN_DEBUG)
    result = invoke("convert", target, "--select", "app_blueprint", "--jobs", "1")
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert BRIDGE_STAGE_LINE in text  # leave_flask is a step of its own, not selected
    assert "@app.route('/x/<int:n>', methods=['POST'])  # create an x\ndef x(n):" in text
    assert "return jsonify(n=n), 201" in text
    assert "    app.run(debug=True)\n" in text
    assert "TODO[" not in text


def test_ignore_a_finding_code_drops_the_marker_and_exits_0(tmp_path):
    target = write(tmp_path / "app.py", RUN_DEBUG)
    result = invoke("convert", target, "--ignore", "F2F151", "--jobs", "1")
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert "TODO[" not in text
    assert text.endswith("if __name__ == '__main__':\n    uvicorn.run(api, port=5000)\n")


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_an_unknown_transform_or_code_exits_2(tmp_path, option):
    target = write(tmp_path / "app.py", FLASK_APP)
    result = invoke("convert", target, option, "routes,nosuch", "--jobs", "1")
    assert result.exit_code == 2
    message = flat(result.output)
    assert "'nosuch' is neither a transform" in message
    assert "app_blueprint" in message and "finding code" in message
    assert target.read_text() == FLASK_APP


# -- bytes that must not change -----------------------------------------------------------


def test_crlf_line_endings_are_kept(tmp_path):
    target = write(tmp_path / "app.py", FLASK_APP.replace("\n", "\r\n"))
    assert invoke("convert", target, "--jobs", "1").exit_code == 0
    data = target.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n") > 0
    assert data == FASTAPI_APP.replace("\n", "\r\n").encode()


def test_latin1_encoding_and_comment_are_kept(tmp_path):
    target = write(tmp_path / "legacy.py", LATIN1_SOURCE.encode("latin-1"))
    assert invoke("convert", target, "--jobs", "1").exit_code == 0
    data = target.read_bytes()
    assert "# café ñandú\n".encode("latin-1") in data
    assert "café".encode("utf-8") not in data
    text = data.decode("latin-1")
    assert text.splitlines()[0] == "# -*- coding: latin-1 -*-"
    assert "app = NativeApp(__name__)\napi = app" in text


# -- parallelism ---------------------------------------------------------------------------


def test_jobs_2_gives_the_same_output_as_jobs_1(tmp_path):
    source = make_tree(tmp_path / "src")
    write(
        source / "shop" / "views.py",
        "from flask import Blueprint\n\nbp = Blueprint('shop', __name__, url_prefix='/shop')\n\n\n"
        "@bp.route('/items/<int:item_id>')\ndef item(item_id):\n    return {'id': item_id}\n",
    )
    write(source / "shop" / "broken.py", SYNTAX_ERROR)
    one, two = tmp_path / "one", tmp_path / "two"
    report_one, report_two = tmp_path / "one.json", tmp_path / "two.json"

    first = invoke("convert", source, "--out", one, "--jobs", "1", "--report", report_one)
    second = invoke("convert", source, "--out", two, "--jobs", "2", "--report", report_two)

    assert first.exit_code == second.exit_code == 4
    assert snapshot(one) == snapshot(two)
    assert "api = FlaskBridge(app)" in (two / "app.py").read_text()
    # never registered by the project: the blueprint's route stays Flask's
    assert "@bp.route('/items/<int:item_id>')" in (two / "shop" / "views.py").read_text()
    routes = json.loads(report_two.read_text())["routes"]
    assert [(r["rule"], r["level"], r["reason"]) for r in routes] == [
        ("/x/<int:n>", "idiomatic", None),
        ("/shop/items/<int:item_id>", "bridged", "blueprint never registered by the project"),
    ]
    assert json.loads(report_one.read_text()) == json.loads(report_two.read_text())


# -- list and explain ----------------------------------------------------------------------


def test_list_shows_every_transform_in_order():
    result = invoke("list")
    assert result.exit_code == 0, result.output
    words = result.stdout.split()
    positions = [words.index(t.NAME) for t in ORDER]  # ValueError if one is missing
    assert positions == sorted(positions)


def test_explain_prints_the_explanation():
    result = invoke("explain", "F2F151")
    assert result.exit_code == 0, result.output
    entry = catalogue(ORDER)["F2F151"]
    text = flat(result.stdout)
    assert "F2F151 (entrypoint)" in text
    assert flat(entry.explanation) in text
    assert flat(f"# TODO[F2F151]: {entry.template}") in text


def test_explain_an_unknown_code_exits_2():
    result = invoke("explain", "F2F999")
    assert result.exit_code == 2
    assert "unknown finding code 'F2F999'" in flat(result.output)


# -- the installed entry point -------------------------------------------------------------


def _console_script() -> str:
    folder = Path(sys.executable).parent
    for name in ("flask2fastapi", "flask2fastapi.exe"):
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which("flask2fastapi")
    assert found, "the flask2fastapi console script is not installed"
    return found


def test_installed_console_script_converts_a_file(tmp_path):
    target = write(tmp_path / "app.py", RUN_DEBUG)
    done = subprocess.run(
        [_console_script(), "convert", str(target), "--jobs", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **ENV},
        timeout=120,
    )
    assert done.returncode == 3, done.stdout + done.stderr
    assert "app.py:" in done.stderr and "F2F151" in done.stderr
    text = target.read_text()
    assert "from flask2fastapi_runtime import NativeApp\n" in text
    assert "@api.post('/x/{n}'" in text  # the installed transforms: status_code= or not
    assert text.endswith("    uvicorn.run(api, port=5000)\n")


def test_native_validation_lets_fastapi_answer_with_its_422(tmp_path):
    default, native = write(tmp_path / "a" / "app.py", FLASK_APP), write(tmp_path / "b" / "app.py", FLASK_APP)
    assert invoke("convert", default, "--jobs", "1").exit_code == 0
    assert invoke("convert", native, "--jobs", "1", "--native-validation").exit_code == 0
    assert "app = NativeApp(__name__)  # created once\napi = app\n" in default.read_text()
    assert "app = NativeApp(__name__, flask_errors=False)  # created once\napi = app\n" in native.read_text()
