"""The engine's fast path: each file is parsed and its metadata resolved once per run, by the
worker it is pinned to, and shared by the facts pass and the transform pass.

../shared/MEASURED.md: a resolution of LibCST's scope and name metadata costs about 10x the
bare parse (codemod/names.py's providers cost less, and still several parses). The facts pass
(codemod/project.py's ``gather``) resolves them for every file that may define an app, a
blueprint or a route; the transform pass needs the same providers (and Parents) on the same
original tree. So each worker keeps the trees and wrappers of the
files it gathered, and converts those same files once the project's facts are merged: a file
stays on one worker for both passes, and for leave_flask after them (a file the transforms left
as it was is the same text again: its tree and metadata serve a third time).

The files are shared out before pass 1, largest first, each to the worker with the fewest bytes
so far (the largest files take most of the time; a late large file would leave one worker
alone at the end). With one job, both passes run in this process. The slow path (the engine's
``fast=False``, or ``FLASK2FASTAPI_SLOW=1``) parses and resolves in each pass, as before: a test
converts every fixture both ways and compares the bytes (tests/test_engine_fast_path.py).
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import pickle
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from codemod.project import Project, gather


@dataclass
class Kept:
    """What a worker keeps of its files between the passes."""

    sources: dict[Path, bytes] = field(default_factory=dict)
    trees: dict[Path, tuple[cst.Module, MetadataWrapper]] = field(default_factory=dict)

    def gather(self, path: Path) -> Project:
        try:
            source = path.read_bytes()
        except OSError:
            return Project()  # the transform pass reads it again, and reports why it cannot
        self.sources[path] = source
        return gather(path, source, self.trees)

    def take(self, path: Path) -> tuple[bytes | None, tuple[cst.Module, MetadataWrapper] | None]:
        """The file's source and tree, given up (``keep`` puts them back for the last step)."""
        return self.sources.pop(path, None), self.trees.pop(path, None)

    def keep(self, path: Path, source: bytes, tree: tuple[cst.Module, MetadataWrapper] | None) -> None:
        """A file the transforms left as it was: leave_flask reads the same text again."""
        self.sources[path] = source
        if tree is not None:
            self.trees[path] = tree

    def tree_of(self, path: Path, text: bytes) -> tuple[cst.Module, MetadataWrapper] | None:
        """The tree kept for ``path`` if ``text`` is the source it was parsed from."""
        return self.trees.get(path) if self.sources.get(path) == text else None


def shares(sizes: Sequence[int], jobs: int) -> list[list[int]]:
    """The indexes of the files each of ``jobs`` workers gets: largest first, each to the
    worker with the fewest bytes so far (ties: the lower worker, the earlier file)."""
    loads = [0] * jobs
    out: list[list[int]] = [[] for _ in range(jobs)]
    for index in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        worker = min(range(jobs), key=lambda w: (loads[w], w))
        out[worker].append(index)
        loads[worker] += sizes[index]
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class Pinned:
    """Workers, each with its share of ``files`` for the whole run: ``each(task, items)`` runs
    ``task(kept, item)`` for every file's item on the worker the file is pinned to, and gives
    the answers in the files' order. With one job, in this process."""

    def __init__(self, files: Sequence[Path], jobs: int) -> None:
        self.files = list(files)
        self.local: Kept | None = None
        self.pipes: list[Connection] = []
        self.processes: list = []
        if jobs <= 1 or len(self.files) <= 1:
            self.local = Kept()
            self.parts = [list(range(len(self.files)))]
            return
        self.parts = [part for part in shares([_size(p) for p in self.files], min(jobs, len(self.files))) if part]
        context = multiprocessing.get_context()
        for _ in self.parts:
            parent, child = context.Pipe()
            process = context.Process(target=_work, args=(child,), daemon=True)
            process.start()
            child.close()
            self.pipes.append(parent)
            self.processes.append(process)

    def each(self, task: Callable[[Kept, object], object], items: Sequence, on_done: Callable[[], None] | None = None) -> list:
        """``task(kept, items[i])`` for each file i (an item None: the file is left out, None)."""
        answers: list = [None] * len(self.files)
        if self.local is not None:
            for index, item in enumerate(items):
                if item is not None:
                    answers[index] = task(self.local, item)
                    if on_done:
                        on_done()
            return answers
        wanted = [[i for i in part if items[i] is not None] for part in self.parts]
        # the task (with the project's facts: megabytes on a large project) pickled once, and
        # sent only to the workers with files to do (after a rerun that reuses most, often one)
        payload = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL) if any(wanted) else b""
        for pipe, indexes in zip(self.pipes, wanted):
            if indexes:
                pipe.send((payload, [items[i] for i in indexes]))
        left = {pipe: collections.deque(indexes) for pipe, indexes in zip(self.pipes, wanted) if indexes}
        while left:
            for pipe in wait(list(left)):
                answers[left[pipe].popleft()] = _receive(pipe)  # type: ignore[index]
                if on_done:
                    on_done()
                if not left[pipe]:  # type: ignore[index]
                    del left[pipe]  # type: ignore[arg-type]
        return answers

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
            pipe.close()
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()

    def __enter__(self) -> "Pinned":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _work(conn: Connection) -> None:
    kept = Kept()
    while (message := conn.recv()) is not None:
        payload, items = message
        task = pickle.loads(payload)
        for item in items:
            conn.send(task(kept, item))


def _receive(pipe: Connection):
    try:
        return pipe.recv()
    except EOFError:
        raise RuntimeError("a conversion worker died") from None
