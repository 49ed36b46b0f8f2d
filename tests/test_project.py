"""A multi-module Flask JSON API, converted with --out: same files as the golden copy, the same
route table, and the same answers to a scripted request sequence."""

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import app
from codemod.testing import convert_copy
from codemod.verify import answers_in, route_table_in

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
# abort() and unknown URLs: Flask's HTML error pages, which the converted app (a NativeApp once its
# factory's views are native too) makes alike; a missing trailing slash: werkzeug's 308.
ERROR_PAGE_REQUESTS = [
    {"method": "GET", "path": "/api/orders/7"},
    {"method": "GET", "path": "/api/items/milk"},
    {"method": "GET", "path": "/nowhere"},
    {"method": "DELETE", "path": "/health"},
    {"method": "GET", "path": "/health/"},
    {"method": "GET", "path": "/api/orders", "expect_headers": ["Location"]},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    return convert_copy(PROJECT / "input", tmp_path_factory.mktemp("shop") / "converted", "--jobs", "2")


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_output_matches_the_golden_copy(converted):
    assert tree(converted) == tree(PROJECT / "expected")
    # the factory's own views are native like the blueprints': no Flask is left
    assert b"def create_app():\n    app = NativeApp(__name__)" in tree(converted)["shop/app.py"]


def test_source_tree_is_untouched(converted):
    assert subprocess.run(["git", "diff", "--quiet", "--", str(PROJECT / "input")], cwd=ROOT).returncode == 0


def test_same_route_table(converted):
    original = route_table_in(PROJECT / "input", SPEC)
    assert len(original) == 11
    assert route_table_in(converted, SPEC) == original


def test_check_flags_the_original_and_passes_the_converted(converted):
    runner = CliRunner()
    assert runner.invoke(app, ["convert", "--check", str(PROJECT / "input")]).exit_code == 1
    assert runner.invoke(app, ["convert", "--check", str(converted)]).exit_code == 0


def answers(root: Path, requests) -> list:
    return answers_in(root, SPEC, requests)


def test_same_answers(converted):
    original = answers(PROJECT / "input", REQUESTS)
    assert [a["status"] for a in original] == [200, 200, 200, 200, 200, 200, 404, 400, 200, 200, 200, 200, 409, 204]
    assert answers(converted, REQUESTS) == original


def test_error_pages_are_flasks(converted):
    original = answers(PROJECT / "input", ERROR_PAGE_REQUESTS)
    assert [a["status"] for a in original] == [404, 404, 404, 405, 404, 308]
    assert original[0]["media_type"] == "text/html" and "<p>no such order</p>" in original[0]["body"]
    assert answers(converted, ERROR_PAGE_REQUESTS) == original


def test_head_options_and_allow_as_flask_answers_them(converted):
    """Flask answers HEAD on every GET route and OPTIONS everywhere, and lists both in Allow."""
    requests = [
        {"method": "DELETE", "path": "/health", "expect_headers": ["Allow"]},
        {"method": "HEAD", "path": "/health", "expect_headers": ["Content-Type"]},
        {"method": "HEAD", "path": "/api/orders/1"},
        {"method": "OPTIONS", "path": "/api/orders/1", "expect_headers": ["Allow"]},
        {"method": "OPTIONS", "path": "/api/items/", "expect_headers": ["Allow"]},
    ]
    original = answers(PROJECT / "input", requests)
    assert [a["status"] for a in original] == [405, 200, 200, 200, 200]
    assert original[3]["headers"]["Allow"] == "DELETE, GET, HEAD, OPTIONS"
    assert answers(converted, requests) == original
