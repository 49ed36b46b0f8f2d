"""Which files are the project's code: the ``.py`` files under the paths given, without the
folders that hold none of its own (virtual environments, caches, build output, version control,
the runtime package). The engine converts these; the passes that read the project's other files
(templates' registrations, codemod/templates.py) read the same ones."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

# Folders that hold no code of the project's own (or no code at all), and the runtime package
# (a copy of it in the project is not the project's code).
SKIP_DIRS = frozenset(
    {"__pycache__", "build", "dist", "node_modules", "site-packages", "flask2fastapi_runtime", "_flask2fastapi_runtime"}
)


def is_venv(folder: Path) -> bool:
    return (folder / "pyvenv.cfg").exists()


def skipped(folder: Path) -> bool:
    """A folder none of whose files are the project's code (a dot folder: .git, .venv, .tox)."""
    name = folder.name
    return name.startswith(".") or name in SKIP_DIRS or name.endswith(".egg-info") or is_venv(folder)


def discover(paths: Iterable[Path]) -> list[Path]:
    """The .py files under ``paths``, in a stable order. Files named directly are always kept."""
    found: dict[Path, None] = {}
    for path in paths:
        if path.is_file():
            found[path] = None
            continue
        for folder, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not skipped(Path(folder) / d))
            for name in sorted(files):
                if name.endswith(".py"):
                    found[Path(folder) / name] = None
    return list(found)
