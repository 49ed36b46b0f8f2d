"""A cache of what a run computed, kept in a folder between runs (``convert --cache-dir DIR``),
for what a team runs again and again on a tree that changed little: ``convert --check`` in CI on
every push, or ``--diff`` while they edit.

Four kinds of entries, each keyed by a digest of everything that can change it, so an entry is
never stale, only unused:
- **a whole run's results**: from the tool's own code, the versions of the libraries it reads
  code with, the transforms and options chosen, every file converted (path, module, bytes), and
  every other file under the folders converted (templates, data, config: some passes read them).
  A template folder named outside those folders (``template_folder="../shared"``) is checked when
  the entry is read. A rerun on the same tree (a converted one, most often) converts nothing and
  costs about one read of the tree.
- **a file's facts** (codemod/project.py's ``gather``): from the tool, the file's path, the
  module it is imported as and its bytes. Facts are all a file gives the project.
- **a file's conversion**, and **leave_flask's rewrite** of it: from the file's path, module and
  bytes (for the rewrite, the converted text and the private names left unused) and the run's
  context: the tool and the choice, every file's facts (a digest of their canonical form, the
  same in every process), the other files, the template folders outside, and, where the project
  renders templates, the bytes of the modules next to each app (the templates' conversion reads
  what they register on its Jinja environment). A file's conversion sees nothing else: on
  several workers, each converts its files from the merged facts alone, with the same output.

So after an edit, only the edited files' facts are gathered again; if no file's facts changed
(a string or a status in a view, a test's assertion, a comment line in a module without routes:
tests/test_cache.py), only the edited files are converted again. Facts hold line numbers (of
routes, hooks, registrations), so an edit that moves a route changes them, and every file is
converted again.

Each entry sits in a slot for what it is of (a file, by path and module; a run, by its folders
and choice), so a new entry replaces the last one for the same thing, and the folder stays the
size of about one run's entries. An entry that cannot be read (a crash mid-write elsewhere,
another version's format) counts as missing. Writes go to a temporary file renamed into place, so concurrent runs are safe. Entries
are pickles: the folder must be as trusted as the code being converted. The tool's code is part
of every key; older versions' entries are removed when a new version first writes.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from typing import Callable, Iterable, Sequence

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


def canonical(value: object) -> bytes:
    """``value`` (plain data: the facts' dataclasses, containers and scalars) as bytes that are the
    same in every process: sets and dicts in sorted order, where a pickle follows the hash seed."""
    kind = type(value)
    if value is None:
        return b"N"
    if kind is bool:
        return b"T" if value else b"F"
    if kind is int:
        return b"i%d;" % value
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
        return b"s%d:" % len(data) + data
    if kind is bytes:
        return b"b%d:" % len(value) + value  # type: ignore[arg-type, operator]
    if kind is float:
        return b"f" + repr(value).encode() + b";"
    if kind is list or kind is tuple:
        return (b"L(" if kind is list else b"U(") + b"".join(map(canonical, value)) + b")"  # type: ignore[call-overload]
    if kind is set or kind is frozenset:
        return b"S(" + b"".join(sorted(map(canonical, value))) + b")"  # type: ignore[call-overload]
    if kind is dict:
        return b"D(" + b"".join(sorted(canonical(k) + canonical(v) for k, v in value.items())) + b")"  # type: ignore[attr-defined]
    if dataclasses.is_dataclass(value):
        fields = b"".join(canonical(getattr(value, f.name)) for f in dataclasses.fields(value))
        return b"C" + canonical(f"{kind.__module__}.{kind.__qualname__}") + b"(" + fields + b")"
    raise TypeError(f"no canonical form for {kind.__module__}.{kind.__qualname__}")


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
        self.write_error: OSError | None = None

    def run(self, files: Sequence[Path], modules: Sequence[tuple[str, str]], sources: Sequence[bytes | None], choice: Sequence[str], folders: Sequence[Path]) -> "Run":
        """The keys of a run of ``files`` (``choice``: the transforms and options chosen)."""
        return Run(self, files, modules, sources, choice, folders)

    # -- entries ---------------------------------------------------------------------------------

    # Each entry sits in a slot named for what it is of (a file's path and module, a run's folders
    # and choice) and holds its key: a new entry for the same thing replaces the old one, so the
    # cache stays about the size of one run's entries however many runs it has seen.

    def _path(self, kind: str, slot: str) -> Path:
        return self.folder / kind / slot[:2] / slot

    def load(self, kind: str, slot: str, key: str) -> object | None:
        """The value kept in ``slot`` if it was kept under ``key``."""
        try:
            data = self._path(kind, slot).read_bytes()
        except OSError:
            return None
        try:
            kept, value = pickle.loads(data)
        except Exception:  # a damaged entry is a missing one
            return None
        return value if kept == key else None

    def save(self, kind: str, slot: str, key: str, value: object) -> None:
        """Store ``value`` (pickled now: later changes to it are not stored). A cache that cannot
        be written (a full disk, a read-only folder) keeps the first error in ``write_error`` and
        is not written again in this run: the run goes on without it."""
        if self.write_error is not None:
            return
        try:
            self._prepare()
            path = self._path(kind, slot)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
        except OSError as error:
            self.write_error = error
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump((key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException as error:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            if not isinstance(error, OSError):
                raise
            self.write_error = error

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


class Run:
    """One run's entries. The run's own key (every input) comes first; a run that misses it reuses
    what it can: each file's facts, then, once the project's facts are known (``bind``), each
    file's conversion and leave_flask's rewrite of it, keyed by the file's bytes and the run's
    context (the project's facts, the other files, the options)."""

    def __init__(self, cache: Cache, files: Sequence[Path], modules: Sequence[tuple[str, str]], sources: Sequence[bytes | None], choice: Sequence[str], folders: Sequence[Path]) -> None:
        self.cache, self.files, self.modules, self.sources = cache, files, modules, sources
        self.base = digest(fingerprint(), *choice)
        converted = {path.resolve() for path in files}
        sides: list[bytes | str] = []
        for path in side_files(folders, converted, cache.root):
            try:
                sides += [str(path), digest(path.read_bytes())]
            except OSError:
                sides += [str(path), "unreadable"]
        self.sides = digest(*sides)
        parts: list[bytes | str] = [self.base, "run", self.sides]
        for path, module, source in zip(files, modules, sources):
            parts += [str(path), *module, b"\0unreadable" if source is None else digest(source)]
        self.key = digest(*parts)
        self.slot = digest(self.base, "run", *map(str, folders))
        self.facts_keys = {
            i: digest(fingerprint(), "facts", str(path), *modules[i], source)
            for i, (path, source) in enumerate(zip(files, sources)) if source is not None
        }
        self.facts_digests: dict[int, str | None] = {}
        self.context: str | None = None

    # -- the whole run ---------------------------------------------------------------------------

    def results(self) -> list | None:
        """The run's results, unless a folder outside the key's that the run read has changed."""
        entry = self.cache.load("run", self.slot, self.key)
        if not isinstance(entry, tuple) or len(entry) != 2:
            return None
        results, read = entry
        if any(folder_digest(Path(folder)) != found for folder, found in read):
            return None
        return results

    def keep_results(self, results: list, read: Sequence[Path]) -> None:
        """``read``: folders outside the key's that the run read (a template folder elsewhere)."""
        self.cache.save("run", self.slot, self.key, (results, [(str(folder), folder_digest(folder)) for folder in read]))

    # -- each file's facts -----------------------------------------------------------------------

    def known_facts(self) -> dict[int, object]:
        """The facts kept for each file whose bytes are the same (by index)."""
        known = {}
        for i, key in self.facts_keys.items():
            entry = self.cache.load("facts", self._slot("facts", i), key)
            if isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], (str, type(None))):
                self.facts_digests[i], known[i] = entry
        return known

    def gathered(self, i: int, facts: object) -> None:
        """A file's facts, just gathered (before they are merged into the project's)."""
        try:
            self.facts_digests[i] = digest(canonical(facts))
        except TypeError:  # a kind of fact with no canonical form: no file's conversion is reused
            self.facts_digests[i] = None
        if i in self.facts_keys:
            self.cache.save("facts", self._slot("facts", i), self.facts_keys[i], (self.facts_digests[i], facts))

    # -- each file's conversion, once the project's facts are known --------------------------------

    def bind(self, read: Sequence[Path], sources_read: Sequence[Path]) -> None:
        """The context of every file's conversion: the project's facts (each file's, as gathered),
        the other files (``sides``), the folders outside them that the conversion reads (``read``),
        and the project's modules whose text a conversion reads (``sources_read``)."""
        if any(self.facts_digests.get(i) is None for i in range(len(self.files))):
            return
        parts: list[bytes | str] = [self.base, "context", self.sides]
        for i, (path, module) in enumerate(zip(self.files, self.modules)):
            parts += [str(path), *module, self.facts_digests[i]]  # type: ignore[list-item]
        parts += [part for folder in read for part in (str(folder), folder_digest(folder))]
        index = {path.resolve(): i for i, path in enumerate(self.files)}
        for path in sources_read:
            source = self.sources[index[path]] if path in index else None
            parts += [str(path), b"\0unreadable" if source is None else digest(source)]
        self.context = digest(*parts)

    def reused(self, kind: str, items: Sequence, texts: Sequence[bytes | None], compute: Callable[[list], list], on_hit: Callable[[], None] | None = None, extra: str = "") -> list:
        """``compute(items)`` (answers in the items' order, None for an item None) for the items
        with no entry; ``texts``: each file's text the answer is computed from; ``extra``: what
        else it is computed from; ``on_hit`` is called for each answer taken from the cache."""
        keys = [
            digest(self.context, kind, extra, str(path), *module, text) if item is not None and text is not None and self.context else None
            for item, path, module, text in zip(items, self.files, self.modules, texts)
        ]
        answers = [self.cache.load(kind, self._slot(kind, i), key) if key else None for i, key in enumerate(keys)]
        for _ in range(sum(1 for answer in answers if answer is not None) if on_hit else 0):
            on_hit()  # type: ignore[misc]
        todo = [item if item is not None and answer is None else None for item, answer in zip(items, answers)]
        for i, answer in enumerate(compute(todo)):
            if todo[i] is not None:
                answers[i] = answer
                if keys[i]:
                    self.cache.save(kind, self._slot(kind, i), keys[i], answer)  # pickled now, before the run changes it
        return answers

    def _slot(self, kind: str, i: int) -> str:
        """File ``i``'s slot: its facts are the same whatever the choice; its conversion is not."""
        return digest(kind, str(self.files[i]), *self.modules[i], *([] if kind == "facts" else [self.base]))
