"""The engine's fast path: each file is parsed and its metadata resolved once per run, by the
worker it is pinned to, and shared by the facts pass and the transform pass.

../shared/MEASURED.md: a ScopeProvider + FullyQualifiedNameProvider resolution costs about 10x
the bare parse. The facts pass (codemod/project.py's ``gather``) resolves them for every file
that may define an app, a blueprint or a route; the transform pass needs the same providers (and
ParentNodeProvider) on the same original tree. So each worker keeps the trees and wrappers of the
files it gathered, and converts those same files once the project's facts are merged: a file
stays on one worker for both passes.

The files are shared out before pass 1, largest first, each to the worker with the fewest bytes
so far (the largest files take most of the time; a late large file would leave one worker
alone at the end). With one job, both passes run in this process. The slow path (the engine's
``fast=False``, or ``FLASK2FASTAPI_SLOW=1``) parses and resolves in each pass, as before: a test
converts every fixture both ways and compares the bytes (tests/test_fast_path.py).
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Callable, Iterator, Sequence

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
        """The file's source and tree, given up: pass 2 needs them once."""
        return self.sources.pop(path, None), self.trees.pop(path, None)


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


Convert = Callable[[Path, bytes | None, "tuple[cst.Module, MetadataWrapper] | None", Project], object]


def _work(conn: Connection, files: list[Path], convert: Convert) -> None:
    kept = Kept()
    conn.send([kept.gather(path) for path in files])
    project = conn.recv()
    if project is None:
        return
    for index, path in enumerate(files):
        conn.send((index, convert(path, *kept.take(path), project)))


def run(
    files: Sequence[Path], jobs: int, merge: Callable[[Sequence[Project]], Project], convert: Convert,
    on_done: Callable[[], None] | None = None,
) -> tuple[Project, list]:
    """Both passes over ``files``: ``merge`` the facts of all files (in the files' order) into
    the project, then ``convert(path, source, tree, project)`` each file on the worker that
    gathered it. The results come back in the files' order."""
    if jobs <= 1 or len(files) <= 1:
        kept = Kept()
        project = merge([kept.gather(path) for path in files])
        results = []
        for path in files:
            results.append(convert(path, *kept.take(path), project))
            if on_done:
                on_done()
        return project, results
    parts = [part for part in shares([_size(p) for p in files], min(jobs, len(files))) if part]
    context = multiprocessing.get_context()
    pipes, processes = [], []
    for part in parts:
        parent, child = context.Pipe()
        process = context.Process(target=_work, args=(child, [files[i] for i in part], convert), daemon=True)
        process.start()
        child.close()
        pipes.append(parent)
        processes.append(process)
    try:
        facts: list[Project | None] = [None] * len(files)
        for part, pipe in zip(parts, pipes):
            for index, found in zip(part, _receive(pipe)):
                facts[index] = found
        project = merge(facts)  # type: ignore[arg-type]
        for pipe in pipes:
            pipe.send(project)
        results: list = [None] * len(files)
        for index, result in _results(parts, pipes):
            results[index] = result
            if on_done:
                on_done()
        return project, results
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


def _receive(pipe: Connection):
    try:
        return pipe.recv()
    except EOFError:
        raise RuntimeError("a conversion worker died") from None


def _results(parts: list[list[int]], pipes: list[Connection]) -> Iterator[tuple[int, object]]:
    """(file index, result) as the workers finish them."""
    left = {pipe: len(part) for part, pipe in zip(parts, pipes)}
    owner = {pipe: part for part, pipe in zip(parts, pipes)}
    while left:
        for pipe in wait(list(left)):
            local, result = _receive(pipe)  # type: ignore[misc]
            yield owner[pipe][local], result  # type: ignore[index]
            left[pipe] -= 1  # type: ignore[index]
            if not left[pipe]:  # type: ignore[index]
                del left[pipe]  # type: ignore[arg-type]
