"""The engine: which files it finds, what it names them, how it writes, and whole-program facts."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from codemod.transform import Options
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


def _convert(files: list[Path], options: Options = Options()) -> dict[str, object]:
    results = convert_paths(files, ORDER, options)
    assert [r.path for r in results] == [str(f) for f in files]
    return {Path(r.path).name: r for r in results}


@pytest.mark.parametrize("layout", ["package", "loose"])
def test_blueprint_registered_with_a_prefix_is_included_with_it(tmp_path, layout):
    """Flask replaces the blueprint's own prefix with the registration's: the router is included
    with that one, and the router is imported the way the blueprint is."""
    if layout == "package":
        write(tmp_path / "shop" / "__init__.py")
        orders = write(tmp_path / "shop" / "orders.py", ORDERS)
        app = write(tmp_path / "shop" / "main.py", _app_module("from .orders import bp", "app.register_blueprint(bp, url_prefix='/api')"))
        files = [app, orders]  # the registration is seen before the definition
    else:
        orders = write(tmp_path / "orders.py", ORDERS)
        app = write(tmp_path / "main.py", _app_module("from orders import bp", "app.register_blueprint(bp, url_prefix='/api')"))
        files = [orders, app]

    results = _convert(files, Options(leave_flask=False))  # the bridge stage (the last step is below)

    router, main = results["orders.py"], results["main.py"]
    assert (router.status, router.findings) == ("changed", [])
    assert (main.status, main.findings) == ("changed", [])
    router_text = router.new.decode()
    assert "bp = Blueprint('orders', __name__, url_prefix='/orders')\nrouter = APIRouter(route_class=FlaskRoute)\n" in router_text
    assert "@router.get('/{oid}', name='orders.get_order', response_model=GetOrderResponse)\ndef get_order(oid: int):" in router_text
    main_text = main.new.decode()
    relative = "." if layout == "package" else ""
    assert f"from {relative}orders import bp, router as orders_router\n" in main_text
    assert main_text.endswith("app = Flask(__name__)\napi = FlaskBridge(app)\n"
                              "app.register_blueprint(bp, url_prefix='/api')\napi.include_router(orders_router, prefix=\"/api\")\n")
    assert [(r["rule"], r["endpoint"], r["level"]) for r in router.routes] == [("/api/<int:oid>", "orders.get_order", "idiomatic")]

    # no Flask use is left: the app, the blueprint and its registration go, the router's prefix stays
    left = _convert(files)
    assert "Blueprint" not in left["orders.py"].new.decode()
    assert left["main.py"].new.decode().endswith(
        "app = NativeApp(__name__)\napi = app\napi.include_router(orders_router, prefix=\"/api\")\n"
    )


def test_blueprint_registered_without_url_prefix_keeps_its_own(tmp_path):
    write(tmp_path / "shop" / "__init__.py")
    orders = write(tmp_path / "shop" / "orders.py", ORDERS)
    app = write(tmp_path / "shop" / "main.py", _app_module("from shop import orders", "app.register_blueprint(orders.bp)"))

    results = _convert([orders, app])

    assert "@router.get('/{oid}', name='orders.get_order', response_model=GetOrderResponse)" in results["orders.py"].new.decode()
    assert results["main.py"].new.decode().endswith('api.include_router(orders.router, prefix="/orders")\n')
    assert results["orders.py"].findings == results["main.py"].findings == []


def test_blueprint_registered_twice_stays_flasks(tmp_path):
    write(tmp_path / "shop" / "__init__.py")
    orders = write(tmp_path / "shop" / "orders.py", ORDERS)
    app = write(
        tmp_path / "shop" / "main.py",
        _app_module("from shop.orders import bp", "app.register_blueprint(bp, url_prefix='/api')", "app.register_blueprint(bp, name='v2')"),
    )

    results = _convert([orders, app])

    assert results["orders.py"].status == "unchanged"
    assert "include_router" not in results["main.py"].new.decode()
    assert [(r["level"], r["reason"]) for r in results["orders.py"].routes] == [("bridged", "blueprint registered more than once")]


def test_a_view_with_an_unknown_decorator_stays_flasks_and_says_why(tmp_path):
    source = ORDERS.replace("@bp.route('/<int:oid>')\n", "@bp.route('/<int:oid>')\n@cache.cached(timeout=5)\n")
    orders = write(tmp_path / "orders.py", source)
    app = write(tmp_path / "main.py", _app_module("from orders import bp", "app.register_blueprint(bp)"))
    results = _convert([orders, app])
    assert results["orders.py"].status == "unchanged"
    (route,) = results["orders.py"].routes
    assert route["reason"] == "decorator cache.cached not known to keep the signature"


GUARD_WITH_LOCAL_IMPORT = """\
from flask import Blueprint, abort, request
{import_line}


def require_key(view):
    {local_import}

    @wraps(view)
    def wrapped(*args, **kwargs):
        if request.headers.get("X-Key") != "k":
            abort(403)
        return view(*args, **kwargs)

    return wrapped


"""


@pytest.mark.parametrize("import_line, local_import, level", [
    ("", "from functools import wraps", "idiomatic"),  # functools.wraps, imported where it is used: a dependency
    ("from mylib import wraps", "import functools", "bridged"),  # a wraps of another library
])
def test_a_guard_that_imports_wraps_locally_keeps_the_signature(tmp_path, import_line, local_import, level):
    guards = GUARD_WITH_LOCAL_IMPORT.format(import_line=import_line, local_import=local_import)
    source = guards + ORDERS.replace("@bp.route('/<int:oid>')\n", "@bp.route('/<int:oid>')\n@require_key\n")
    orders = write(tmp_path / "orders.py", source.replace("from flask import Blueprint\n", ""))
    app = write(tmp_path / "main.py", _app_module("from orders import bp", "app.register_blueprint(bp)"))
    (route,) = _convert([orders, app])["orders.py"].routes
    assert route["level"] == level
    if level == "bridged":
        assert route["reason"] == "decorator require_key not known to keep the signature"


def test_the_runtime_requirement_goes_where_the_project_keeps_its_requirements(tmp_path):
    from codemod.engine import requirement_files

    flask_app = "from flask import Flask\napp = Flask(__name__)\n"
    listed = write(tmp_path / "a" / "app.py", flask_app).parent
    write(listed / "requirements.txt", "flask>=3")
    packaged = write(tmp_path / "b" / "app.py", flask_app).parent
    write(packaged / "pyproject.toml", '[project]\nname = "b"\ndependencies = [\n    "flask>=3",\n]\n\n[tool.x]\ndependencies = []\n')
    bare = write(tmp_path / "c" / "app.py", flask_app).parent
    roots = [listed, packaged, bare]
    bridged = Options(leave_flask=False)
    files = requirement_files(roots, convert_paths(discover(roots), ORDER, bridged))
    assert files[listed / "requirements.txt"] == b"flask>=3\nflask2fastapi-runtime[flask]>=0.1,<0.2\n"
    assert files[packaged / "pyproject.toml"].decode() == (
        '[project]\nname = "b"\ndependencies = [\n    "flask2fastapi-runtime[flask]>=0.1,<0.2",\n    "flask>=3",\n]\n\n[tool.x]\ndependencies = []\n'
    )
    assert files[bare / "requirements-fastapi.txt"] == b"flask2fastapi-runtime[flask]>=0.1,<0.2\n"
    for path, content in files.items():
        path.write_bytes(content)
    again = requirement_files(roots, convert_paths(discover(roots), ORDER, bridged))
    assert again == {bare / "requirements-fastapi.txt": files[bare / "requirements-fastapi.txt"]}


def test_once_flask_left_the_requirements_name_it_no_more(tmp_path):
    from codemod.engine import requirement_files

    flask_app = "from flask import Flask\napp = Flask(__name__)\n"
    listed = write(tmp_path / "a" / "app.py", flask_app).parent
    write(listed / "requirements.txt", "Flask>=3  # the web framework\nflask-cors\nrequests==2.32\nwerkzeug\n")
    packaged = write(tmp_path / "b" / "app.py", flask_app).parent
    write(packaged / "pyproject.toml", '[project]\nname = "b"\ndependencies = [\n    "flask>=3",\n    "Flask-Cors",\n    "requests",\n]\n')
    files = requirement_files([listed, packaged], convert_paths(discover([listed, packaged]), ORDER))
    assert files[listed / "requirements.txt"] == b"requests==2.32\nflask2fastapi-runtime>=0.1,<0.2\n"
    assert files[packaged / "pyproject.toml"].decode() == (
        '[project]\nname = "b"\ndependencies = [\n    "flask2fastapi-runtime>=0.1,<0.2",\n    "requests",\n]\n'
    )


def test_a_copy_of_the_runtime_in_the_project_is_not_converted(tmp_path):
    write(tmp_path / "app.py", "x = 1\n")
    write(tmp_path / "flask2fastapi_runtime" / "bridge.py", "from flask import Flask\n")
    write(tmp_path / "_flask2fastapi_runtime" / "bridge.py", "from flask import Flask\n")
    assert discover([tmp_path]) == [tmp_path / "app.py"]


def test_ambiguous_views_and_hidden_registrations_stay_flasks():
    """A registration inside an expression has no statement an include_router could follow, and
    a function name defined twice leaves open which def a route's plan is about."""
    source = b"""from flask import Blueprint, Flask
bp = Blueprint("v", __name__)

@bp.get("/a")
def a():
    return "a"

app = Flask(__name__)
blueprints = [app.register_blueprint(bp)]

other = Blueprint("w", __name__)

@other.get("/b")
def b():
    return "b"

if app.debug:
    @other.get("/b2")
    def b():
        return "b2"

app.register_blueprint(other)
"""
    result = convert_one(source, "m.py", ORDER)
    assert "include_router" not in result.new.decode() and "@router" not in result.new.decode()
    assert [(r["endpoint"], r["reason"]) for r in result.routes] == [
        ("v.a", "registration not a statement of its own"),
        ("w.b", "function name defined twice in the module"),
    ]
