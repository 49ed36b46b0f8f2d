"""`flask2fastapi verify`: the same routes and answers pass; a changed answer or route fails."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod.cli import EXIT_DIFFERENT, EXIT_ERRORS, EXIT_OK, EXIT_USAGE, app

SHOP = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "shop"
REQUESTS = [
    {"method": "GET", "path": "/api/orders/1"},
    {"method": "PUT", "path": "/api/orders/1/quantity/2.0", "expect_headers": ["X-Scaled"]},
    {"method": "GET", "path": "/api/items/tea"},
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("verify") / "shop"
    result = CliRunner().invoke(app, ["convert", str(SHOP / "input"), "--out", str(out)])
    assert result.exit_code == EXIT_OK, result.output
    return out


def run(*args):
    return CliRunner().invoke(app, ["verify", *map(str, args)], env={"COLUMNS": "200"})


def script(tmp_path, requests=REQUESTS) -> Path:
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests))
    return path


def test_the_conversion_verifies(tmp_path, converted):
    result = run(SHOP / "input", converted, "--app", "shop.app:app", "--requests", script(tmp_path))
    assert result.exit_code == EXIT_OK, result.output
    assert "0 of 3" in result.output


def test_a_changed_answer_and_a_lost_route_fail(tmp_path, converted):
    broken = tmp_path / "broken"
    shutil.copytree(converted, broken)
    orders = broken / "shop" / "orders.py"
    text = orders.read_text()
    assert 'response.headers["X-Scaled"] = "yes"' in text
    orders.write_text(
        text.replace('response.headers["X-Scaled"] = "yes"', 'response.headers["X-Scaled"] = "no"')
        .replace('"/{token}/receipt"', '"/{token}/receipts"')
    )
    result = run(SHOP / "input", broken, "--app", "shop.app:app", "--requests", script(tmp_path))
    assert result.exit_code == EXIT_DIFFERENT, result.output
    assert "missing route GET /api/orders/{token}/receipt\n" in result.output
    assert "extra route GET /api/orders/{token}/receipts" in result.output
    assert "different answer PUT /api/orders/1/quantity/2.0" in result.output
    assert "'yes'" in result.output and "'no'" in result.output


def test_an_app_that_does_not_load_is_an_error(tmp_path, converted):
    result = run(SHOP / "input", converted, "--app", "shop.nowhere:app")
    assert result.exit_code == EXIT_ERRORS
    assert "ModuleNotFoundError" in result.output


def test_a_missing_folder_is_a_usage_error(tmp_path):
    assert run(tmp_path / "nope", SHOP / "input", "--app", "shop.app:app").exit_code == EXIT_USAGE
