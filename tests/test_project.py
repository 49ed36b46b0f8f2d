"""A multi-module Flask JSON API, converted with --out: same files as the golden copy, the same
route table, and the same answers to a scripted request sequence."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import app

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "shop"
ROOT = Path(__file__).resolve().parent.parent
SPEC = "shop.app:app"
REQUESTS = [
    {"method": "GET", "path": "/"},
    {"method": "GET", "path": "/health"},
    {"method": "GET", "path": "/api/orders/"},
    {"method": "GET", "path": "/api/orders/1"},
    {"method": "DELETE", "path": "/api/orders/1"},
    {"method": "PUT", "path": "/api/orders/1/quantity/1.5", "expect_headers": ["X-Scaled"]},
    {"method": "PUT", "path": "/api/orders/9/quantity/1.5"},
    {"method": "PUT", "path": "/api/orders/1/quantity/0.0"},
    {"method": "GET", "path": "/api/orders/12345678-1234-5678-1234-567812345678/receipt", "expect_headers": ["X-Receipt"]},
    {"method": "GET", "path": "/api/items/"},
    {"method": "GET", "path": "/api/items/tea"},
    {"method": "GET", "path": "/api/items/green/tea/label"},
    {"method": "POST", "path": "/api/items/tea"},
    {"method": "POST", "path": "/api/items/matcha"},
]
# abort() and unknown URLs without a JSON error handler: Flask sends its HTML error page,
# FastAPI {"detail": ...}. Flask-compatible error bodies come with the errors/hooks transform.
ERROR_PAGE_REQUESTS = [
    {"method": "GET", "path": "/api/orders/7"},
    {"method": "GET", "path": "/api/items/milk"},
    {"method": "GET", "path": "/nowhere"},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("shop") / "converted"
    result = CliRunner().invoke(app, ["convert", str(PROJECT / "input"), "--out", str(out), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    return out


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def run_module(module: str, cwd: Path, *args: str):
    env_path = f"{ROOT}"
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_output_matches_the_golden_copy(converted):
    assert tree(converted) == tree(PROJECT / "expected")


def test_source_tree_is_untouched(converted):
    assert subprocess.run(["git", "diff", "--quiet", "--", str(PROJECT / "input")], cwd=ROOT).returncode == 0


def test_same_route_table(converted):
    original = run_module("codemod.routes", PROJECT / "input", SPEC)
    assert len(original) == 11
    assert run_module("codemod.routes", converted, SPEC) == original


def test_check_flags_the_original_and_passes_the_converted(converted):
    runner = CliRunner()
    assert runner.invoke(app, ["convert", "--check", str(PROJECT / "input")]).exit_code == 1
    assert runner.invoke(app, ["convert", "--check", str(converted)]).exit_code == 0


def answers(root: Path, requests, tmp_path) -> list:
    script = tmp_path / f"requests-{root.name}.json"
    script.write_text(json.dumps(requests))
    return run_module("codemod.verify", root, SPEC, str(script))


def test_same_answers(converted, tmp_path):
    original = answers(PROJECT / "input", REQUESTS, tmp_path)
    assert [a["status"] for a in original] == [200, 200, 200, 200, 200, 200, 404, 400, 200, 200, 200, 200, 409, 204]
    assert answers(converted, REQUESTS, tmp_path) == original


def test_error_pages_keep_their_status(converted, tmp_path):
    original = answers(PROJECT / "input", ERROR_PAGE_REQUESTS, tmp_path)
    assert [a["status"] for a in answers(converted, ERROR_PAGE_REQUESTS, tmp_path)] == [a["status"] for a in original] == [404, 404, 404]


@pytest.mark.xfail(strict=True, reason="error bodies (abort, unknown URL) need Flask-compatible error handlers: issue 5, not written yet")
def test_error_pages_keep_their_body(converted, tmp_path):
    assert answers(converted, ERROR_PAGE_REQUESTS, tmp_path) == answers(PROJECT / "input", ERROR_PAGE_REQUESTS, tmp_path)
