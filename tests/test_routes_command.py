"""`flask2fastapi routes`: the route table of a Flask app and of its conversion, each route's level
as the converter's report gave it, and `--compare` failing on a lost or an extra route."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod import cli_shared
from codemod.cli import EXIT_DIFFERENT, EXIT_ERRORS, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, app
from codemod.routes import FLASK_VARIABLE
from test_diff_review import SMALL  # one route of each level a FlaskBridge serves but async

HOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "projects" / "hooks" / "input"
ENV = {"COLUMNS": "250", "NO_COLOR": "1"}

# an app written for FastAPI by hand: plain APIRoutes, one through a router included with a prefix,
# and one whose view is code of another folder (on PYTHONPATH)
HANDWRITTEN = """\
from fastapi import APIRouter, FastAPI

from elsewhere import shared_view

app = FastAPI()
router = APIRouter()


@app.get("/plain/{n}")
def plain(n: int):
    return {"n": n}


@router.post("/waits")
async def waits():
    return {}


app.include_router(router, prefix="/v1")
app.add_api_route("/shared", shared_view)
"""


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A wide console: under xdist, COLUMNS=80 is in the worker's environment when codemod.cli_shared
    makes its console, which keeps that width (ENV's COLUMNS only counts where it did not)."""
    monkeypatch.setattr(cli_shared.out, "width", 250)


def invoke(*args: object):
    return CliRunner().invoke(app, ["routes", *map(str, args)], env=ENV)


def table(*args: object) -> dict[tuple[str, str], dict]:
    result = invoke(*args, "--json")
    assert result.exit_code == EXIT_OK, result.output
    return {(row["method"], row["path"]): row for row in json.loads(result.stdout)["routes"]}


def report_levels(report: Path) -> dict[tuple[str, str], str]:
    """The levels `convert --report` gave, by method and path as `routes` normalises them."""
    routes = json.loads(report.read_text())["routes"]
    return {(method, FLASK_VARIABLE.sub(r"{\1}", route["rule"])): route["level"] for route in routes for method in route["methods"]}


def convert(source: Path, out: Path, report: Path, code: int = EXIT_OK) -> Path:
    result = CliRunner().invoke(app, ["convert", str(source), "--out", str(out), "--report", str(report)])
    assert result.exit_code == code, result.output
    return out


@pytest.fixture(scope="module")
def hooks(tmp_path_factory) -> tuple[Path, Path]:
    """The hooks fixture converted (a FlaskBridge: its routes FlaskRoutes, native or idiomatic)."""
    root = tmp_path_factory.mktemp("hooks")
    return convert(HOOKS, root / "converted", root / "report.json"), root / "report.json"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tiny")
    (root / "original" / "tiny").mkdir(parents=True)
    (root / "original" / "tiny" / "__init__.py").write_text("")
    (root / "original" / "tiny" / "app.py").write_text(SMALL)
    return root / "original", convert(root / "original", root / "converted", root / "report.json", EXIT_FINDINGS)


def test_every_route_of_a_flask_app_is_flask():
    rows = table(HOOKS, "--app", "hookapp.app:app")
    assert len(rows) == 15
    assert {row["level"] for row in rows.values()} == {"flask"}
    assert {row["served_by"] for row in rows.values()} == {"Flask"}
    member = rows[("GET", "/team/members/{member_id}")]
    assert member["endpoint"] == "team.member" and member["view"] == "hookapp.team.member"


def test_a_converted_apps_levels_are_those_of_the_report(hooks):
    converted, report = hooks
    rows = table(converted, "--app", "hookapp.app:app")
    assert {key: row["level"] for key, row in rows.items()} == report_levels(report)
    assert {row["served_by"] for row in rows.values()} == {"FlaskRoute"}
    links = rows[("GET", "/links")]
    assert links["level"] == "native"
    assert links["reason"] == "Flask left on its code path: app.links uses url_for"
    assert rows[("GET", "/me")]["level"] == "idiomatic" and "reason" not in rows[("GET", "/me")]


def test_a_bridged_route_is_served_by_flask(tiny):
    original, converted = tiny
    rows = table(converted, "--app", "tiny.app:app")
    assert {key: (row["level"], row["served_by"]) for key, row in rows.items()} == {
        ("GET", "/items/{item_id}"): ("idiomatic", "FlaskRoute"),
        ("GET", "/whoami"): ("native", "FlaskRoute"),
        ("POST", "/whoami"): ("native", "FlaskRoute"),
        ("GET", "/legacy"): ("bridged", "Flask"),
        ("GET", "/legacy/{page}"): ("bridged", "Flask"),
    }
    assert {key: row["level"] for key, row in rows.items()} == report_levels(converted.parent / "report.json")


def test_the_converted_chatbot_is_async_on_native_routes(converted_chatbot):
    rows = table(converted_chatbot, "--app", "example_chatbot:create_app()")
    assert {key: row["level"] for key, row in rows.items()} == report_levels(converted_chatbot / "report.json")
    assert len(rows) == 12
    assert {row["level"] for row in rows.values()} == {"async"}
    assert {row["served_by"] for row in rows.values()} == {"NativeRoute"}


def test_a_fastapi_app_written_by_hand(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(HANDWRITTEN)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "elsewhere.py").write_text("async def shared_view():\n    return {}\n")
    rows = table(tmp_path / "app", "--app", "main:app", "--env", f"PYTHONPATH={tmp_path / 'lib'}")
    assert {key: (row["level"], row["served_by"], row["endpoint"]) for key, row in rows.items()} == {
        ("GET", "/plain/{n}"): ("idiomatic", "APIRoute", "plain"),
        ("POST", "/v1/waits"): ("async", "APIRoute", "waits"),
        ("GET", "/shared"): ("async", "APIRoute", "shared_view"),
    }
    assert rows[("GET", "/shared")]["reason"] == "its view's code is not in the folder: level of a APIRoute"
    assert "reason" not in rows[("POST", "/v1/waits")]


def test_the_table_is_printed_for_people(tiny):
    original, converted = tiny
    result = invoke(converted, "--app", "tiny.app:app")
    assert result.exit_code == EXIT_OK, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert "method path endpoint level served by why not higher" in " ".join(result.stdout.replace("┃", " ").split())
    assert "GET /items/{item_id} item idiomatic FlaskRoute its path has no async I/O to await" in lines
    assert "POST /whoami whoami native FlaskRoute Flask left on its code path: app.whoami uses request" in lines
    assert "GET /legacy legacy bridged Flask" in lines


def test_compare_with_the_original_passes_and_shows_both_levels(tiny):
    original, converted = tiny
    result = invoke(converted, "--app", "tiny.app:app", "--compare", original)
    assert result.exit_code == EXIT_OK, result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert "GET /items/{item_id} item idiomatic flask FlaskRoute its path has no async I/O to await" in lines
    assert "GET /legacy/{page} legacy bridged flask Flask" in lines
    assert "missing route" not in result.output and "extra route" not in result.output


def test_compare_fails_on_a_lost_and_an_extra_route(tiny, tmp_path):
    original, converted = tiny
    broken = tmp_path / "broken"
    shutil.copytree(converted, broken)
    module = broken / "tiny" / "app.py"
    text = module.read_text()
    assert '@api.get("/items/{item_id}"' in text
    module.write_text(text.replace('@api.get("/items/{item_id}"', '@api.get("/things/{item_id}"'))

    result = invoke(broken, "--app", "tiny.app:app", "--compare", original)
    assert result.exit_code == EXIT_DIFFERENT, result.output
    assert "missing route GET /items/{item_id}" in result.output
    assert "extra route GET /things/{item_id}" in result.output

    document = json.loads(invoke(broken, "--app", "tiny.app:app", "--compare", original, "--json").stdout)
    assert document["compare"]["missing"] == [["GET", "/items/{item_id}"]]
    assert document["compare"]["extra"] == [["GET", "/things/{item_id}"]]


def test_an_app_that_does_not_import_is_an_error(tiny):
    original, _ = tiny
    result = invoke(original, "--app", "tiny.nowhere:app")
    assert result.exit_code == EXIT_ERRORS
    assert "ModuleNotFoundError" in result.output


def test_a_missing_folder_is_a_usage_error(tiny, tmp_path):
    original, _ = tiny
    assert invoke(tmp_path / "nope", "--app", "tiny.app:app").exit_code == EXIT_USAGE
    assert invoke(original, "--app", "tiny.app:app", "--compare", tmp_path / "nope").exit_code == EXIT_USAGE
