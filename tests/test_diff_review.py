"""`convert --diff`: each changed file's summary (routes and their levels, findings) ahead of its
hunks; `--diff --stat`: the summaries alone and a total line. Nothing is written either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import EXIT_FINDINGS, app

ENV = {"COLUMNS": "200", "NO_COLOR": "1"}

# a route of each level but async, two rules of one view, and a finding (F2F151: debug= dropped)
SMALL = """\
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items/<int:item_id>")
def item(item_id):
    return jsonify(id=item_id)


@app.route("/whoami", methods=["GET", "POST"])
def whoami():
    return jsonify(address=request.remote_addr)


@app.route("/legacy", defaults={"page": 1})
@app.route("/legacy/<int:page>")
def legacy(page):
    return f"page {page}"


if __name__ == "__main__":
    app.run(debug=True)
"""
HELPERS = "def double(x):\n    return 2 * x\n"  # no Flask: unchanged, so not in the review

STAT = """\
small/app.py | +25 -7 | 4 routes: 1 idiomatic, 1 native, 2 bridged | findings: F2F151 x1
    idiomatic  GET      /items/<int:item_id>  (item)
    native     GET,POST /whoami  (whoami)
    bridged    GET      /legacy  (legacy)
    bridged    GET      /legacy/<int:page>  (legacy)
small/requirements-fastapi.txt | +1 -0 | no routes | no findings
2 files changed | +26 -7 | 4 routes: 1 idiomatic, 1 native, 2 bridged | findings: F2F151 x1
"""


@pytest.fixture
def small(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)  # the paths shown are relative to the working folder
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "app.py").write_text(SMALL)
    (tmp_path / "small" / "helpers.py").write_text(HELPERS)
    return tmp_path / "small"


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_stat_prints_the_summaries_and_a_total(small):
    before = snapshot(small)
    result = CliRunner().invoke(app, ["convert", "small", "--diff", "--stat", "--jobs", "1"], env=ENV)
    assert result.exit_code == EXIT_FINDINGS, result.output
    assert result.stdout == STAT
    assert snapshot(small) == before


def test_stat_alone_is_diff_stat(small):
    before = snapshot(small)
    result = CliRunner().invoke(app, ["convert", "small", "--stat", "--jobs", "1"], env=ENV)
    assert result.stdout == STAT
    assert snapshot(small) == before


def test_diff_puts_each_files_summary_with_reasons_ahead_of_its_hunks(small):
    result = CliRunner().invoke(app, ["convert", "small", "--diff", "--jobs", "1"], env=ENV)
    assert result.exit_code == EXIT_FINDINGS, result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "small/app.py | +25 -7 | 4 routes: 1 idiomatic, 1 native, 2 bridged | findings: F2F151 x1",
        "    idiomatic  GET      /items/<int:item_id>  (item)",
        "    native     GET,POST /whoami  (whoami): Flask left on its code path: app.whoami uses request",
        "    bridged    GET      /legacy  (legacy): route option defaults",
        "    bridged    GET      /legacy/<int:page>  (legacy): route option defaults",
    ]
    assert lines[5:7] == ["--- a/small/app.py", "+++ b/small/app.py"]
    assert '+@api.get("/items/{item_id}", response_model=ItemResponse)' in lines
    requirements = lines.index("small/requirements-fastapi.txt | +1 -0 | no routes | no findings")
    assert lines[requirements + 1 : requirements + 3] == ["--- a/small/requirements-fastapi.txt", "+++ b/small/requirements-fastapi.txt"]
    assert not any(line.startswith("2 files changed") for line in lines)  # the total is --stat's
    assert "helpers.py" not in result.stdout
