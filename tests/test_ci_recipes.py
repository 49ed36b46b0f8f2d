"""The CI recipes of the README, run on a fixture repository: the pre-commit hook as pre-commit runs
it (`pre-commit try-repo`), and the GitHub Actions job's steps as the README's block writes them.

Both start from a git repository holding the shop fixture: first as Flask wrote it, then
converted in place (``flask2fastapi convert .``), as a team's repository would be.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from codemod.cli import EXIT_DIFFERENT, EXIT_OK, EXIT_WOULD_CHANGE, app

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "fixtures" / "projects" / "shop" / "input"
GIT = {
    "GIT_AUTHOR_NAME": "ci", "GIT_AUTHOR_EMAIL": "ci@example.invalid",
    "GIT_COMMITTER_NAME": "ci", "GIT_COMMITTER_EMAIL": "ci@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}
BIN = str(Path(sys.executable).parent)  # where this environment's flask2fastapi and pre-commit are
# Flask-era code written after the migration (werkzeug's password hashing): the converter would
# still convert it, in any file.
NEW_FLASK_CODE = """\
from werkzeug.security import generate_password_hash


def hashed(password):
    return generate_password_hash(password)
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT}, capture_output=True, text=True, check=True)
    return done.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "commit.gpgsign=false", "commit", "-q", "-m", message)


# the shop's own tests, which the job's `verify --replay` step replays (as a team's suite would be)
SHOP_TESTS = """\
import uuid

from shop.app import app


def test_orders():
    client = app.test_client()
    assert client.get("/api/orders/1").status_code == 200
    assert client.put("/api/orders/1/quantity/2.0").headers["X-Scaled"] == "yes"
    assert client.get(f"/api/orders/{uuid.uuid4()}/receipt").status_code == 200


def test_items():
    assert app.test_client().get("/api/items/tea").status_code in (200, 404)
"""
RECORD = "python -m pytest -q tests"  # the test command the README's recording is made with


def shop_repository(repo: Path) -> Path:
    """A git repository of the shop fixture and its tests: its Flask original tagged
    ``flask-original``, then the conversion in place committed on top, with the recording of the
    original's test traffic that the README says to make once and commit."""
    shutil.copytree(SHOP, repo)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_shop.py").write_text(SHOP_TESTS)
    git(repo, "init", "-q")
    commit_all(repo, "the Flask app")
    git(repo, "tag", "flask-original")
    result = CliRunner().invoke(app, ["convert", str(repo), "--jobs", "1"])
    assert result.exit_code == EXIT_OK, result.output
    commit_all(repo, "flask2fastapi convert .")
    original = repo.parent / "recording-original"
    git(repo, "worktree", "add", "-q", str(original), "flask-original")
    result = CliRunner().invoke(
        app,
        ["verify", str(original), str(repo), "--record-tests", RECORD, "--recording", str(repo / "flask2fastapi-recording.json")],
        env={"PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    assert result.exit_code == EXIT_OK, result.output
    git(repo, "worktree", "remove", "--force", str(original))
    commit_all(repo, "the original's test traffic, recorded")
    return repo


# -- the pre-commit hook -------------------------------------------------------------------------


def hook_repository(target: Path) -> Path:
    """This repository's files as they are in the work tree (tracked or new, not ignored), committed
    in a repository of their own: what pre-commit clones and installs (``pip install .``)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    commit_all(target, "flask2fastapi")
    return target


def try_repo(repo: Path, hooks: Path) -> subprocess.CompletedProcess:
    """``pre-commit try-repo HOOKS flask2fastapi-check --all-files`` in ``repo`` (each run installs
    the hook's environment afresh: some 25 s)."""
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "flask2fastapi-check", "--all-files"],
        cwd=repo, capture_output=True, text=True, timeout=900,
        env={**os.environ, **GIT, "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )


def test_the_pre_commit_hook_fails_on_flask_code_and_passes_once_converted(tmp_path):
    hooks = hook_repository(tmp_path / "flask2fastapi")
    repo = tmp_path / "shop"
    shutil.copytree(SHOP, repo)
    git(repo, "init", "-q")
    commit_all(repo, "the Flask app")

    flask = try_repo(repo, hooks)
    assert flask.returncode == 1, flask.stdout + flask.stderr
    assert re.search(r"flask2fastapi check\.+Failed", flask.stdout), flask.stdout
    assert f"exit code: {EXIT_WOULD_CHANGE}" in flask.stdout

    result = CliRunner().invoke(app, ["convert", str(repo), "--jobs", "1"])
    assert result.exit_code == EXIT_OK, result.output
    commit_all(repo, "flask2fastapi convert .")
    converted = try_repo(repo, hooks)
    assert converted.returncode == 0, converted.stdout + converted.stderr
    assert re.search(r"flask2fastapi check\.+Passed", converted.stdout), converted.stdout


def test_the_hooks_entry_checks_the_staged_files_alone(tmp_path):
    """What pre-commit runs for a commit: the hook's entry, as declared, on the staged files."""
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert (hook["id"], hook["language"], hook["types"], hook["require_serial"]) == ("flask2fastapi-check", "python", ["python"], True)
    repo = shop_repository(tmp_path / "shop")
    (repo / "shop" / "late.py").write_text(NEW_FLASK_CODE)

    def entry(*files: str) -> int:
        command = [*hook["entry"].split(), *files]
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        return subprocess.run(command, cwd=repo, env=env, capture_output=True, timeout=300).returncode

    assert entry("shop/orders.py") == EXIT_OK  # one converted file, read without the rest
    assert entry("shop/orders.py", "shop/app.py") == EXIT_OK
    assert entry("shop/late.py") == EXIT_WOULD_CHANGE
    assert entry("shop/orders.py", "shop/late.py") == EXIT_WOULD_CHANGE


# -- the GitHub Actions job --------------------------------------------------------------------------


def readme_job() -> tuple[dict[str, str], list[dict]]:
    """The workflow of the README's block: its env and the job's steps."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), flags=re.S)
    workflow = next(yaml.safe_load(block) for block in blocks if block.startswith("# .github/workflows/flask2fastapi.yml"))
    (job,) = workflow["jobs"].values()
    return workflow["env"], job["steps"]


def run_steps(repo: Path, env: dict[str, str], steps: list[dict]) -> dict[str, subprocess.CompletedProcess]:
    """Each ``run`` step in order, in ``bash -e`` as GitHub runs it, by the step's name."""
    variables = {**os.environ, **env, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    return {
        step["name"]: subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=variables, capture_output=True, text=True, timeout=600)
        for step in steps
    }


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    env, steps = readme_job()
    assert [s.get("name", s.get("uses")) for s in steps] == [
        "actions/checkout@v4",
        "actions/setup-python@v5",
        "The original, next to the converted tree",
        "Install",
        "actions/cache@v4",
        "Nothing left to convert",
        "The original's routes, no more, no less",
        "The original's answers to its own tests' requests",
    ]
    # the checkout, Python and the install are this test environment's own
    runnable = [step for step in steps if "run" in step and step["name"] != "Install"]
    return {**env, "APP": "shop.app:app"}, runnable, shop_repository(tmp_path_factory.mktemp("job") / "shop")


def test_the_ci_job_passes_on_a_faithful_conversion(job):
    env, steps, repo = job
    done = run_steps(repo, env, steps)
    codes = {name: result.returncode for name, result in done.items()}
    assert codes == {
        "The original, next to the converted tree": 0,
        "Nothing left to convert": EXIT_OK,
        "The original's routes, no more, no less": EXIT_OK,
        "The original's answers to its own tests' requests": EXIT_OK,
    }, {name: r.stdout[-2000:] + r.stderr[-2000:] for name, r in done.items()}
    assert (repo.parent / "flask-original" / "shop" / "app.py").read_text() == (SHOP / "shop" / "app.py").read_text()
    replayed = done["The original's answers to its own tests' requests"].stderr
    assert re.search(r"requests identical\s+│\s+4 │", replayed), replayed


def test_the_ci_job_fails_on_new_flask_code_and_a_lost_route(job, tmp_path):
    env, steps, _ = job
    broken = shop_repository(tmp_path / "shop")
    (broken / "shop" / "late.py").write_text(NEW_FLASK_CODE)
    orders = broken / "shop" / "orders.py"
    assert '"/{token}/receipt"' in orders.read_text()
    orders.write_text(orders.read_text().replace('"/{token}/receipt"', '"/{token}/receipts"'))
    (original,) = [s for s in steps if s["name"] == "The original, next to the converted tree"]
    checks = [s for s in steps if s["name"] != "The original, next to the converted tree"]
    done = run_steps(broken, env, [original, *checks])
    assert {name: result.returncode for name, result in done.items()} == {
        "The original, next to the converted tree": 0,
        "Nothing left to convert": EXIT_WOULD_CHANGE,
        "The original's routes, no more, no less": EXIT_DIFFERENT,
        "The original's answers to its own tests' requests": EXIT_DIFFERENT,
    }
    routes = done["The original's routes, no more, no less"]
    assert "missing route GET /api/orders/{token}/receipt" in routes.stderr
    assert "extra route GET /api/orders/{token}/receipts" in routes.stderr
    replayed = done["The original's answers to its own tests' requests"].stderr
    assert "different answer GET /api/orders/<uuid:token>/receipt" in replayed, replayed
    assert "/response/status: 200 -> 404" in replayed
