"""The run cache (codemod/cache.py, ``convert --cache-dir``): a rerun on the same tree gives
the results of a run without it and converts nothing again; whatever an entry depends on (a file's
bytes, a template, the options) changed, it is not used; a damaged entry is a missing one
(issue 13: ``convert --check`` of a converted tree in CI)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codemod import cache as cache_module, engine, workers
from codemod.cache import TAG, Cache
from codemod.cli import app
from codemod.engine import FileResult, convert_paths, discover
from codemod.transform import Options
from transforms import ORDER

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "fixtures" / "projects" / "pages" / "input"  # an app whose templates its conversion reads


def _facts(result: FileResult) -> tuple:
    code = dataclasses.asdict(result.code) if result.code is not None else None
    return (result.path, result.status, result.old, result.new, [f.to_json() for f in result.findings], result.routes, result.error_handlers, result.flask_blockers, result.flask_uses, code)


def _run(root: Path, cache: Cache | None, **kwargs) -> list[tuple]:
    return [_facts(r) for r in convert_paths(discover([root]), ORDER, cache=cache, roots=[root], **kwargs)]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    shutil.copytree(PAGES, tmp_path / "pages")
    return tmp_path / "pages"


def _counting(monkeypatch: pytest.MonkeyPatch, **targets: tuple[object, str]) -> dict[str, int]:
    """How often each ``module.function`` of ``targets`` is called, by the targets' names."""
    calls = dict.fromkeys(targets, 0)
    for name, (module, attribute) in targets.items():

        def counting(*args, _name=name, _function=getattr(module, attribute), **kwargs):
            calls[_name] += 1
            return _function(*args, **kwargs)

        monkeypatch.setattr(module, attribute, counting)
    return calls


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many files each pass computed (not taken from the cache)."""
    return _counting(monkeypatch, gathered=(workers, "gather"), runs=(engine, "_convert"))


def test_rerun_converts_nothing_and_answers_the_same(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    plain = _run(tree, None)
    cache = Cache(tmp_path / "cache")
    assert _run(tree, cache) == plain
    files = len(discover([tree]))
    assert counted == {"gathered": 2 * files, "runs": 2}  # the plain run and the first cached one
    assert _run(tree, Cache(tmp_path / "cache")) == plain
    assert counted == {"gathered": 2 * files, "runs": 2}


def test_a_changed_file_is_the_only_one_gathered_again(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    cache = Cache(tmp_path / "cache")
    _run(tree, cache)
    before = dict(counted)
    view = tree / "pagesapp" / "app.py"
    view.write_bytes(view.read_bytes() + b"\n\ndef added():\n    return 1\n")
    assert _run(tree, cache) == _run(tree, None)
    assert counted["gathered"] - before["gathered"] == 1 + len(discover([tree]))  # then the plain run's
    assert counted["runs"] - before["runs"] == 2


def test_a_changed_template_converts_again(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    """A template is no file the facts come from, but app.py's conversion reads it."""
    cache = Cache(tmp_path / "cache")
    first = _run(tree, cache)
    template = tree / "pagesapp" / "templates" / "index.html"
    template.write_text(template.read_text() + "{{ session.get('x') }}\n")
    gathered = counted["gathered"]
    again = _run(tree, cache)
    assert counted["gathered"] == gathered  # every file's facts reused
    assert again == _run(tree, None)
    assert [row[3] for row in again] != [row[3] for row in first]  # and app.py converts otherwise


def test_other_options_are_another_run(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    cache = Cache(tmp_path / "cache")
    _run(tree, cache)
    native = Options(native_validation=True)
    assert _run(tree, cache, options=native) == _run(tree, None, options=native)
    assert counted["runs"] == 3
    assert _run(tree, cache, options=Options(leave_flask=False)) == _run(tree, None, options=Options(leave_flask=False))
    assert counted["runs"] == 5


def test_a_damaged_entry_counts_as_missing(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    cache = Cache(tmp_path / "cache")
    plain = _run(tree, cache)
    entries = [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.name not in (TAG, ".gitignore")]
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:7])
    assert _run(tree, cache) == plain
    assert counted["runs"] == 2


def test_a_cache_inside_the_tree_is_not_an_input(tree: Path, counted: dict[str, int]) -> None:
    cache = Cache(tree / "f2f-cache")  # no dot: a walk of the tree would reach it
    first = _run(tree, cache)
    assert _run(tree, cache) == first
    assert counted["runs"] == 1


def test_other_versions_are_removed_and_a_foreign_folder_refused(tree: Path, tmp_path: Path) -> None:
    old = tmp_path / "cache" / ("0" * 16)
    old.mkdir(parents=True)
    (tmp_path / "cache" / TAG).write_bytes(cache_module.TAG_TEXT)
    _run(tree, Cache(tmp_path / "cache"))
    assert not old.exists()
    assert (tmp_path / "cache" / cache_module.fingerprint()[:16]).is_dir()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's\n")
    with pytest.raises(ValueError):
        Cache(mine)
    result = CliRunner().invoke(app, ["convert", str(tree), "--check", "--cache-dir", str(mine)])
    assert result.exit_code == 2
    assert "is not flask2fastapi's cache" in result.output
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_check_of_a_converted_tree_with_the_cache(tree: Path, tmp_path: Path, counted: dict[str, int]) -> None:
    """The CI use: convert, then ``--check`` on every push; the second check converts nothing."""
    runner = CliRunner()
    assert runner.invoke(app, ["convert", str(tree), "-j", "1"]).exit_code in (0, 3)
    command = ["convert", str(tree), "--check", "-j", "1", "--cache-dir", str(tmp_path / "cache")]
    first = runner.invoke(app, command)
    runs = counted["runs"]
    second = runner.invoke(app, command)
    assert counted["runs"] == runs
    assert (first.exit_code, first.output) == (second.exit_code, second.output)
    assert first.exit_code == 0, first.output


@pytest.mark.parametrize("jobs, fast", [(2, True), (2, False), (1, False)])
def test_workers_and_the_slow_path_keep_the_same_entries(tree: Path, tmp_path: Path, counted: dict[str, int], jobs: int, fast: bool) -> None:
    """Facts gathered on workers are kept as they come back; the slow path keeps them too."""
    plain = _run(tree, None)
    cache = Cache(tmp_path / "cache")
    assert _run(tree, cache, jobs=jobs, fast=fast) == plain
    view = tree / "pagesapp" / "app.py"
    view.write_bytes(view.read_bytes() + b"\n# edited\n")
    assert _run(tree, cache, jobs=jobs, fast=fast) == _run(tree, None)
    assert _run(tree, cache, jobs=jobs, fast=fast) == _run(tree, None)
    assert counted["runs"] == 5  # plain, the first two cached runs, the last two plain; not the third


def test_a_template_folder_outside_the_tree_is_checked_when_read(tmp_path: Path, counted: dict[str, int]) -> None:
    """``template_folder="../../shared"``: the run reads a folder no key walk reaches."""
    tree = tmp_path / "pages"
    shutil.copytree(PAGES, tree)
    shutil.move(tree / "pagesapp" / "templates", tmp_path / "shared")
    view = tree / "pagesapp" / "app.py"
    view.write_text(view.read_text().replace("Flask(__name__)", 'Flask(__name__, template_folder="../../shared")'))
    cache = Cache(tmp_path / "cache")
    first = _run(tree, cache)
    assert _run(tree, cache) == first
    assert counted["runs"] == 1
    template = tmp_path / "shared" / "index.html"
    template.write_text(template.read_text() + "{{ get_flashed_messages() }}\n")
    again = _run(tree, cache)
    assert counted["runs"] == 2
    assert again == _run(tree, None)
    assert [row[3] for row in again] != [row[3] for row in first]


TEAMNOTES = REPO / "fixtures" / "projects" / "teamnotes" / "input"  # no templates; Flask stays (leave_flask's rewrites)


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How many files were converted, and rewritten by leave_flask (not taken from the cache)."""
    return _counting(monkeypatch, converted=(engine, "convert_source"), left=(engine, "_leave_one"))


def _edited_run(root: Path, cache: Cache, edit, calls: dict[str, int]) -> tuple[list[tuple], dict[str, int]]:
    _run(root, cache)
    edit()
    before = dict(calls)
    found = _run(root, cache)
    return found, {name: calls[name] - before[name] for name in calls}


def test_an_edit_that_changes_no_facts_converts_that_file_alone(tmp_path: Path, converted: dict[str, int]) -> None:
    tree = tmp_path / "teamnotes"
    shutil.copytree(TEAMNOTES, tree)
    models = tree / "teamnotes" / "models.py"
    found, spent = _edited_run(tree, Cache(tmp_path / "cache"), lambda: models.write_bytes(models.read_bytes() + b"\n# a note\n"), converted)
    assert found == _run(tree, None)
    assert spent == {"converted": 1, "left": 1}  # and leave_flask reads that file alone again
    notes = tree / "teamnotes" / "notes.py"
    found, spent = _edited_run(tree, Cache(tmp_path / "cache"), lambda: notes.write_bytes(notes.read_bytes() + b"\n# a note\n"), converted)
    assert found == _run(tree, None)
    assert spent == {"converted": 1, "left": 1}
    # a view's answer edited on its line: a string and a status
    text = notes.read_text()
    assert 'raise APIError("title is required")' in text and "return jsonify(note.to_dict()), 201" in text
    edited = text.replace('raise APIError("title is required")', 'raise APIError("a title is required")')
    edited = edited.replace("return jsonify(note.to_dict()), 201", "return jsonify(note.to_dict()), 200")
    found, spent = _edited_run(tree, Cache(tmp_path / "cache"), lambda: notes.write_text(edited), converted)
    assert found == _run(tree, None)
    assert spent == {"converted": 1, "left": 1}
    assert any(b'"a title is required"' in (row[3] or b"") for row in found)
    # an error handler's answer is one of the project's facts: every file again
    edited = notes.read_text().replace('error="note_not_found", message=error.description), 404', 'error="missing_note", message=error.description), 410')
    found, spent = _edited_run(tree, Cache(tmp_path / "cache"), lambda: notes.write_text(edited), converted)
    assert found == _run(tree, None)
    assert spent["converted"] == len(discover([tree]))


def test_an_edit_that_changes_the_facts_converts_every_file(tmp_path: Path, converted: dict[str, int]) -> None:
    tree = tmp_path / "teamnotes"
    shutil.copytree(TEAMNOTES, tree)
    health = tree / "teamnotes" / "health.py"
    found, spent = _edited_run(tree, Cache(tmp_path / "cache"), lambda: health.write_text("import time\n\n\n" + health.read_text()), converted)
    assert found == _run(tree, None)
    files = discover([tree])
    assert spent["converted"] == len(files)


def test_where_templates_render_an_edit_next_to_the_app_converts_its_package(tree: Path, tmp_path: Path, converted: dict[str, int]) -> None:
    """The templates' conversion reads the app package's modules (what they register on Jinja)."""
    init = tree / "pagesapp" / "__init__.py"
    found, spent = _edited_run(tree, Cache(tmp_path / "cache"), lambda: init.write_bytes(init.read_bytes() + b"\n# a note\n"), converted)
    assert found == _run(tree, None)
    assert spent["converted"] == len(discover([tree]))


def test_every_fixtures_facts_have_one_digest_in_any_process() -> None:
    """The digest of a file's facts (codemod/cache.py ``canonical``) is the same under other hash
    seeds (a pickle of a set is not), and every fact of the fixtures has a canonical form."""
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from codemod.cache import canonical, digest; from codemod.engine import discover;"
        "from codemod.project import gather\n"
        "for p in discover([Path(a) for a in sys.argv[1:]]): print(p, digest(canonical(gather(p, p.read_bytes()))))"
    )
    roots = [str(REPO / "example_chatbot"), str(REPO / "fixtures" / "projects")]
    seen = [
        subprocess.run([sys.executable, "-c", script, *roots], cwd=REPO, env={**__import__("os").environ, "PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True).stdout
        for seed in ("1", "2")
    ]
    assert seen[0] == seen[1]
    assert len(seen[0].splitlines()) == len(discover([Path(r) for r in roots]))


def test_a_cache_that_cannot_be_written_is_said_and_the_run_goes_on(tree: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    (folder / TAG).write_bytes(cache_module.TAG_TEXT)
    (folder / cache_module.fingerprint()[:16]).write_text("a file where the entries' folder goes\n")
    cache = Cache(folder)
    assert _run(tree, cache) == _run(tree, None)
    assert isinstance(cache.write_error, OSError)
    result = CliRunner().invoke(app, ["convert", str(tree), "--check", "-j", "1", "--cache-dir", str(folder)])
    assert result.exit_code == 1  # the pages app would change
    assert "not written" in result.output and "the run went on without it" in result.output


def test_the_cache_stays_the_size_of_one_run(tmp_path: Path) -> None:
    """A new entry for the same file (or run) replaces the last one."""
    tree = tmp_path / "teamnotes"
    shutil.copytree(TEAMNOTES, tree)
    cache = Cache(tmp_path / "cache")

    def entries() -> int:
        return sum(1 for p in (tmp_path / "cache").rglob("*") if p.is_file())

    _run(tree, cache)
    first = entries()
    health = tree / "teamnotes" / "health.py"
    for n in range(3):
        health.write_text(f"import time{n}\n" + health.read_text())  # new facts: every entry anew
        assert _run(tree, cache) == _run(tree, None)
        assert entries() == first


def test_a_cache_inside_the_tree_is_not_copied_by_out(tree: Path, tmp_path: Path) -> None:
    command = ["convert", str(tree), "-j", "1", "--cache-dir", str(tree / "f2f-cache"), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code in (0, 3), result.output
    assert (tree / "f2f-cache" / TAG).is_file()
    assert (tmp_path / "out" / "pagesapp" / "app.py").is_file()
    assert not (tmp_path / "out" / "f2f-cache").exists()
