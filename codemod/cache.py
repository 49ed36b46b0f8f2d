"""A cache of what a run computed, kept in a folder between runs (``convert --cache-dir DIR``),
for what a team runs again and again on a tree that changed little: ``convert --check`` in CI on
every push, or ``--diff`` while they edit.

Two kinds of entries, each keyed by a digest of everything that can change it, so an entry is
never stale, only unused:
- **a file's facts** (codemod/project.py's ``gather``): from the tool's own code and the
  versions of the libraries it reads code with, the file's path, the module it is imported as and
  its bytes. Facts are all a file gives the project, so a project in which a few files changed
  gathers only those again.
- **a whole run's results**: from the tool, the transforms and options chosen, every file
  converted (path, module, bytes), and every other file under the folders converted (their
  templates, data and config, which some passes read). Any change to any of them converts every
  file again; a rerun on the same tree (a converted one, most often) converts none, and costs
  about one read of the tree. A template folder named outside those folders
  (``template_folder="../shared"``) is checked when the entry is read. A finer key (a file's own result) would need every read a file's
  conversion makes of the others, which today include other modules' text and the templates.

An entry that cannot be read (a crash mid-write elsewhere, another version's format) counts as
missing. Writes go to a temporary file renamed into place, so concurrent runs are safe. Entries
are pickles: the folder must be as trusted as the code being converted. The tool's code is part
of every key; older versions' entries are removed when a new version first writes.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import pickle
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterable, Sequence

from codemod.discovery import skipped
from codemod.vendor import runtime_folder

TAG = "CACHEDIR.TAG"
# https://bford.info/cachedir/: backup and archiving tools leave a folder holding this alone
TAG_TEXT = b"Signature: 8a477f597d28d172789f06886806bc55\n# flask2fastapi's cache (convert --cache-dir); safe to delete.\n"
# the libraries whose behaviour the conversion depends on (parsing, templates, what Flask is)
LIBRARIES = ("libcst", "jinja2", "flask", "werkzeug")
# a version's folder: the first hex digits of the tool's fingerprint
VERSION_FOLDER = re.compile(r"[0-9a-f]{16}")


def digest(*parts: bytes | str) -> str:
    """A hex digest of ``parts``, each length-prefixed (no two sequences of parts collide)."""
    hasher = hashlib.blake2b(digest_size=20)
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    return hasher.hexdigest()


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """The tool's own code (engine, transforms, runtime) and the versions it runs with."""
    here = Path(__file__).resolve().parent.parent
    parts: list[bytes | str] = [sys.version]
    for folder in (here / "codemod", here / "transforms", runtime_folder()):
        for path in sorted(folder.rglob("*.py")):
            parts += [str(path.relative_to(folder.parent)), path.read_bytes()]
    for library in LIBRARIES:
        try:
            parts += [library, importlib.metadata.version(library)]
        except importlib.metadata.PackageNotFoundError:
            parts += [library, ""]
    return digest(*parts)


def side_files(folders: Iterable[Path], converted: set[Path], folder_of_cache: Path) -> list[Path]:
    """Every file under ``folders`` but the ``converted`` ones, in the folders the project's
    files are found in (codemod/discovery.py), leaving this cache (and any other) out."""
    found: list[Path] = []
    for root in folders:
        for folder, dirs, files in os.walk(root):
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if not skipped(here / d) and not (here / d / TAG).exists() and (here / d).resolve() != folder_of_cache)
            found += [here / name for name in sorted(files) if (here / name).resolve() not in converted]
    return found


def folder_digest(folder: Path) -> str:
    """The names and bytes of every file under ``folder`` ("" where it is none)."""
    if not folder.is_dir():
        return ""
    parts: list[bytes | str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        try:
            parts += [str(path.relative_to(folder)), digest(path.read_bytes())]
        except OSError:
            parts += [str(path.relative_to(folder)), "unreadable"]
    return digest(*parts)


class Cache:
    """The entries of one version of the tool, under ``folder`` (see the module's docstring)."""

    def __init__(self, folder: Path) -> None:
        """Raises ValueError where ``folder`` holds something else: a folder of the user's own
        would get this cache's .gitignore, and lose other versions' folders."""
        self.root = folder.resolve()
        if self.root.exists() and not (self.root / TAG).is_file() and (not self.root.is_dir() or any(self.root.iterdir())):
            raise ValueError(f"{folder}: exists and is not flask2fastapi's cache (no {TAG} in it)")
        self.folder = self.root / fingerprint()[:16]
        self.pruned = False

    # -- keys ------------------------------------------------------------------------------------

    @staticmethod
    def facts_key(path: Path, module: tuple[str, str], source: bytes) -> str:
        return digest(fingerprint(), "facts", str(path), *module, source)

    def run_key(self, files: Sequence[Path], modules: Sequence[tuple[str, str]], sources: Sequence[bytes | None], choice: Sequence[str], folders: Iterable[Path]) -> str:
        """The key of a run's results: ``choice`` names the transforms and options chosen."""
        parts: list[bytes | str] = [fingerprint(), "run", *choice, str(len(files))]
        for path, module, source in zip(files, modules, sources):
            parts += [str(path), *module, b"\0unreadable" if source is None else digest(source)]
        converted = {path.resolve() for path in files}
        for path in side_files(folders, converted, self.root):
            try:
                parts += [str(path), digest(path.read_bytes())]
            except OSError:
                parts += [str(path), "unreadable"]
        return digest(*parts)

    # -- entries ---------------------------------------------------------------------------------

    def results(self, key: str) -> list | None:
        """A run's results, unless a folder outside the key's that the run read has changed."""
        entry = self.load("run", key)
        if not isinstance(entry, tuple) or len(entry) != 2:
            return None
        results, read = entry
        if any(folder_digest(Path(folder)) != found for folder, found in read):
            return None
        return results

    def keep_results(self, key: str, results: list, read: Sequence[Path]) -> None:
        """``read``: folders outside the key's that the run read (a template folder elsewhere)."""
        self.save("run", key, (results, [(str(folder), folder_digest(folder)) for folder in read]))

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / key

    def load(self, kind: str, key: str) -> object | None:
        try:
            data = self._path(kind, key).read_bytes()
        except OSError:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # a damaged entry is a missing one
            return None

    def save(self, kind: str, key: str, value: object) -> None:
        """Store ``value`` (pickled now: later changes to it are not stored)."""
        self._prepare()
        path = self._path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _prepare(self) -> None:
        """The folder, tagged as a cache; other versions' entries removed."""
        if self.pruned:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.root / TAG).exists():  # new, or empty (checked when opened)
            (self.root / ".gitignore").write_text("*\n", encoding="utf-8")
            (self.root / TAG).write_bytes(TAG_TEXT)
        for entry in self.root.iterdir():
            if entry.is_dir() and VERSION_FOLDER.fullmatch(entry.name) and entry != self.folder:
                shutil.rmtree(entry, ignore_errors=True)
        self.pruned = True
