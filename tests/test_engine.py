"""The engine: which files it finds, what it names them, how it writes, and whole-program facts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codemod.engine import convert_paths, convert_source, discover, write_atomic
from codemod.findings import markers_in
from codemod.project import Project, module_of
from codemod.testing import convert_one
from transforms import ORDER


def write(path: Path, text: str | bytes = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


# -- discover ------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in (
        "app.py",
        "notes.txt",
        "pkg/__init__.py",
        "pkg/mod.py",
        "pkg/__pycache__/cached.py",
        "sub/deeper/z.py",
        ".hidden/h.py",
        ".venv/lib/v.py",
        "env/lib/site.py",  # a virtual environment without a dot in its name
        "build/b.py",
        "dist/d.py",
        "thing.egg-info/e.py",
        "pkg/nested/build/nb.py",
    ):
        write(tmp_path / name, "x = 1\n")
    write(tmp_path / "env" / "pyvenv.cfg", "home = /usr/bin\n")
    return tmp_path


def test_discover_keeps_only_the_projects_python_files_in_a_stable_order(tree):
    found = discover([tree])
    assert [p.relative_to(tree).as_posix() for p in found] == [
        "app.py",
        "pkg/__init__.py",
        "pkg/mod.py",
        "sub/deeper/z.py",
    ]


@pytest.mark.parametrize(
    "skipped",
    ["pkg/__pycache__", ".hidden", ".venv", "env", "build", "dist", "thing.egg-info", "pkg/nested/build"],
)
def test_discover_skips_caches_hidden_build_and_virtualenv_folders(tree, skipped):
    assert not [p for p in discover([tree]) if (tree / skipped) in p.parents]


def test_discover_keeps_files_named_explicitly(tree):
    named = [tree / "build/b.py", tree / "env/lib/site.py", tree / "pkg/__pycache__/cached.py", tree / "notes.txt"]
    assert discover(named) == named


def test_discover_lists_a_file_once_when_named_twice(tree):
    found = discover([tree, tree / "app.py", tree / "pkg"])
    assert len(found) == len(set(found)) == 4


# -- module_of -----------------------------------------------------------------------------


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    for name in ("pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py", "pkg/top.py", "script.py", "loose/tool.py"):
        write(tmp_path / name)
    return tmp_path


@pytest.mark.parametrize(
    "path, name, package",
    [
        ("pkg/sub/mod.py", "pkg.sub.mod", "pkg.sub"),
        ("pkg/sub/__init__.py", "pkg.sub", "pkg.sub"),
        ("pkg/top.py", "pkg.top", "pkg"),
        ("pkg/__init__.py", "pkg", "pkg"),
        ("script.py", "script", ""),
        ("loose/tool.py", "tool", ""),  # a folder without __init__.py is no package
    ],
)
def test_module_of_gives_the_dotted_import_name(packages, path, name, package):
    module = module_of(packages / path)
    assert (module.name, module.package) == (name, package)


def test_module_of_a_relative_path_is_that_of_the_resolved_file(packages, monkeypatch):
    monkeypatch.chdir(packages / "pkg")
    module = module_of(Path("sub/mod.py"))
    assert (module.name, module.package) == ("pkg.sub.mod", "pkg.sub")


# -- write_atomic --------------------------------------------------------------------------


def test_write_atomic_replaces_content_and_leaves_no_temp_file(tmp_path):
    target = write(tmp_path / "app.py", b"old content that is longer than the new\n")
    target.chmod(0o640)
    write_atomic(target, b"new\r\n")
    assert target.read_bytes() == b"new\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["app.py"]


def test_write_atomic_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "new.py"
    write_atomic(target, b"x = 1\n")
    assert target.read_bytes() == b"x = 1\n"
    assert os.listdir(target.parent) == ["new.py"]


def test_write_atomic_that_fails_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = write(tmp_path / "app.py", b"old\n")

    def refuse(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert os.listdir(tmp_path) == ["app.py"]


# -- one file ------------------------------------------------------------------------------


def test_convert_source_reports_a_syntax_error_and_keeps_no_output(tmp_path):
    result = convert_source(tmp_path / "bad.py", b"from flask import Flask\napp = (\n", Project(), ORDER)
    assert result.status == "failed"
    assert [f.code for f in result.findings] == ["F2F001"]
    assert result.new is None


def test_convert_source_leaves_a_file_without_flask_unchanged(tmp_path):
    result = convert_source(tmp_path / "util.py", b"import os\nprint(os.sep)\n", Project(), ORDER)
    assert (result.status, result.findings, result.new) == ("unchanged", [], None)


# -- blueprints across modules -------------------------------------------------------------

ORDERS = """\
from flask import Blueprint

bp = Blueprint('orders', __name__, url_prefix='/orders')


@bp.route('/<int:oid>')
def get_order(oid):
    return {'id': oid}
"""


def _app_module(importer: str, *registrations: str) -> str:
    return f"from flask import Flask\n{importer}\n\napp = Flask(__name__)\n" + "".join(f"{r}\n" for r in registrations)


def _convert(files: list[Path]) -> dict[str, object]:
    results = convert_paths(files, ORDER)
    assert [r.path for r in results] == [str(f) for f in files]
    return {Path(r.path).name: r for r in results}


@pytest.mark.parametrize("layout", ["package", "loose"])
def test_blueprint_prefix_replaced_at_registration_moves_to_include_router(tmp_path, layout):
    if layout == "package":
        write(tmp_path / "shop" / "__init__.py")
        orders = write(tmp_path / "shop" / "orders.py", ORDERS)
        app = write(tmp_path / "shop" / "main.py", _app_module("from shop.orders import bp", "app.register_blueprint(bp, url_prefix='/api')"))
        files = [app, orders]  # the registration is seen before the definition
    else:
        orders = write(tmp_path / "orders.py", ORDERS)
        app = write(tmp_path / "main.py", _app_module("from orders import bp", "app.register_blueprint(bp, url_prefix='/api')"))
        files = [orders, app]

    results = _convert(files)

    router, main = results["orders.py"], results["main.py"]
    assert (router.status, router.findings) == ("changed", [])
    assert (main.status, main.findings) == ("changed", [])
    router_text = router.new.decode()
    # Flask replaces the blueprint's prefix with the registration's; FastAPI would add them.
    assert "bp = APIRouter()\n" in router_text
    assert "/orders" not in router_text
    assert "@bp.get('/{oid}')\ndef get_order(oid: Annotated[int, IntRule]):" in router_text
    main_text = main.new.decode()
    assert "app = FastAPI(exception_handlers=FLASK_ERRORS, middleware=FLASK_MIDDLEWARE)\n" in main_text
    assert main_text.endswith("app.include_router(bp, prefix='/api')\n")
    assert "register_blueprint" not in main_text and "from flask " not in main_text


def test_blueprint_registered_without_url_prefix_keeps_its_own(tmp_path):
    write(tmp_path / "shop" / "__init__.py")
    orders = write(tmp_path / "shop" / "orders.py", ORDERS)
    app = write(tmp_path / "shop" / "main.py", _app_module("from shop.orders import bp", "app.register_blueprint(bp)"))

    results = _convert([orders, app])

    assert "bp = APIRouter(prefix='/orders')\n" in results["orders.py"].new.decode()
    assert results["main.py"].new.decode().endswith("app.include_router(bp)\n")
    assert results["orders.py"].findings == results["main.py"].findings == []


def test_blueprint_registered_with_and_without_url_prefix_is_flagged(tmp_path):
    write(tmp_path / "shop" / "__init__.py")
    orders = write(tmp_path / "shop" / "orders.py", ORDERS)
    app = write(
        tmp_path / "shop" / "main.py",
        _app_module("from shop.orders import bp", "app.register_blueprint(bp, url_prefix='/api')", "app.register_blueprint(bp)"),
    )

    results = _convert([orders, app])

    router = results["orders.py"]
    (finding,) = router.findings
    assert finding.code == "F2F103"
    lines = router.new.decode().splitlines()
    assert lines[finding.line - 1] == "bp = APIRouter(prefix='/orders')"
    assert lines[finding.line - 2] == f"# TODO[F2F103]: {finding.message}"
    assert [code for _, code, _ in markers_in(router.new.decode())] == ["F2F103"]
    assert results["main.py"].new.decode().endswith(
        "app.include_router(bp, prefix='/api')\napp.include_router(bp)\n"
    )


def test_comments_on_and_above_a_removed_import_stay():
    source = (
        b"# the web framework\nfrom flask import Flask, jsonify  # see requirements.txt\n\napp = Flask(__name__)\n\n\n"
        b"@app.route('/')\ndef index():\n    return jsonify(ok=True)\n"
    )
    text = convert_one(source, "app.py", ORDER).new.decode()
    assert "from flask " not in text
    assert text.startswith("# the web framework\n# see requirements.txt\n")
