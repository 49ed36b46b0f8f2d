"""``convert --vendor-runtime``: the runtime package copied into the converted project.

By default the converted project requires ``flask2fastapi-runtime`` (engine.requirement_files).
With ``--vendor-runtime`` it gets a copy instead, once per top package, as
``<top package>/_flask2fastapi_runtime/`` (next to the scripts of a project without packages):
only the runtime modules its code imports and the modules those import, found by reading the
runtime's own relative imports, and an ``__init__`` that exports just their names. The
converted modules import it relatively (``from .._flask2fastapi_runtime import FlaskBridge``),
so the project imports under any folder name, and the copy is plain code the team may edit.
Converting a converted project again recognises the copy's names as the runtime's (``canonical``).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst
from codemod.visitors import Transformer

if TYPE_CHECKING:
    from codemod.engine import FileResult

RUNTIME = "flask2fastapi_runtime"
VENDORED = "_flask2fastapi_runtime"


def canonical(name: str) -> str:
    """A qualified name with a vendored copy's prefix (``shop._flask2fastapi_runtime.FlaskBridge``)
    read as the runtime's own (``flask2fastapi_runtime.FlaskBridge``)."""
    head, found, tail = name.partition(f"{VENDORED}.")
    if found and (not head or head.endswith(".")):
        return f"{RUNTIME}.{tail}"
    return name


def runtime_folder() -> Path:
    """The runtime package's source: the installed one, else this repository's runtime/."""
    spec = importlib.util.find_spec(RUNTIME)
    if spec is not None and spec.origin is not None:
        return Path(spec.origin).parent
    return Path(__file__).resolve().parent.parent / "runtime" / RUNTIME


def _module_graph(folder: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(exported name -> the module defining it, module -> the modules it imports), from the
    package's ``__init__`` and the relative imports of its modules."""
    exports: dict[str, str] = {}
    depends: dict[str, set[str]] = {}
    for path in sorted(folder.glob("*.py")):
        uses: set[str] = set()
        tree = ast.parse(path.read_bytes())
        for node in ast.walk(tree):  # imports inside functions too (what only one path needs)
            if not isinstance(node, ast.ImportFrom) or node.level != 1:
                continue
            if node.module is None:  # from . import routing, wsgi
                uses |= {alias.name for alias in node.names}
                continue
            uses.add(node.module)
            if path.stem == "__init__" and node in tree.body:
                exports.update({alias.asname or alias.name: node.module for alias in node.names})
        if path.stem == "__init__":
            exports.update(_lazy_exports(tree))
        depends[path.stem] = uses
    return exports, depends


def _lazy_exports(tree: ast.Module) -> dict[str, str]:
    """The names the package's ``__getattr__`` imports when first named (``_FLASK_SIDE``: name ->
    module), which a copy imports up front."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_FLASK_SIDE" for t in node.targets):
            return dict(ast.literal_eval(node.value))
    return {}


def _closure(modules: Iterable[str], depends: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    pending = list(modules)
    while pending:
        module = pending.pop()
        if module not in found:
            found.add(module)
            pending.extend(depends.get(module, ()))
    return found


def _top(path: Path) -> tuple[Path, int]:
    """(folder of the copy, package levels from ``path``'s module up to it): the top package of
    a module inside packages, else the script's own folder (levels 0: an absolute import)."""
    folder, levels = path.parent, 0
    while (folder / "__init__.py").exists() and (folder.parent / "__init__.py").exists():
        folder, levels = folder.parent, levels + 1
    if (folder / "__init__.py").exists():
        return folder, levels + 1
    return folder, 0


class _ToCopy(Transformer):
    """``from flask2fastapi_runtime import X`` -> ``from <dots>_flask2fastapi_runtime import X``."""

    def __init__(self, levels: int) -> None:
        super().__init__()
        self.levels = levels
        self.names: set[str] = set()
        self.modules: set[str] = set()  # submodules imported from directly (``flask2fastapi_runtime.async_db``)

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        module = updated_node.module
        if (
            not updated_node.relative and isinstance(module, cst.Attribute) and isinstance(module.value, cst.Name)
            and module.value.value == RUNTIME
        ):
            self.modules.add(module.attr.value)
            copied = cst.Attribute(cst.Name(VENDORED), module.attr)
            return updated_node.with_changes(module=copied, relative=[cst.Dot()] * self.levels)
        if updated_node.relative or not isinstance(updated_node.module, cst.Name):
            return updated_node
        if updated_node.module.value != RUNTIME or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        self.names |= {alias.evaluated_name for alias in updated_node.names}
        return updated_node.with_changes(module=cst.Name(VENDORED), relative=[cst.Dot()] * self.levels)


def vendor(results: Sequence[FileResult]) -> dict[Path, bytes]:
    """Point the changed files' runtime imports at a copy (their ``new`` text is updated) and
    return the copy's files to write."""
    folder = runtime_folder()
    exports, depends = _module_graph(folder)
    used: dict[Path, set[str]] = {}
    submodules: dict[Path, set[str]] = {}
    for result in results:
        if result.status != "changed" or result.new is None:
            continue
        top, levels = _top(Path(result.path).resolve())
        rewrite = _ToCopy(levels)
        result.new = cst.parse_module(result.new).visit(rewrite).bytes
        if rewrite.names or rewrite.modules:
            used.setdefault(top, set()).update(rewrite.names)
            submodules.setdefault(top, set()).update(rewrite.modules)
    files: dict[Path, bytes] = {}
    for top, names in used.items():
        unknown = names - exports.keys()
        if unknown:
            raise ValueError(f"the runtime at {folder} has no {', '.join(sorted(unknown))}")
        modules = _closure({exports[name] for name in names} | submodules.get(top, set()), depends) - {"__init__"}
        for module in sorted(modules):
            files[top / VENDORED / f"{module}.py"] = (folder / f"{module}.py").read_bytes()
        files[top / VENDORED / "__init__.py"] = _init(folder, sorted(names), exports).encode()
    # a copy already there and the same is no change (convert --check of a converted tree)
    return {path: content for path, content in files.items() if not path.is_file() or path.read_bytes() != content}


def _init(folder: Path, names: list[str], exports: dict[str, str]) -> str:
    version = next(
        (line.split("=")[1].strip().strip("\"'") for line in (folder / "__init__.py").read_text().splitlines()
         if line.startswith("__version__")),
        "?",
    )
    by_module: dict[str, list[str]] = {}
    for name in names:
        by_module.setdefault(exports[name], []).append(name)
    imports = "\n".join(f"from .{module} import {', '.join(sorted(found))}" for module, found in sorted(by_module.items()))
    return (
        f'"""flask2fastapi-runtime {version}, copied by `flask2fastapi convert --vendor-runtime`: the\n'
        'modules this project uses (see their docstrings). It is yours to read and edit."""\n\n'
        f"{imports}\n\n"
        f'__version__ = "{version}"\n'
        f"__all__ = {names!r}\n"
    )
