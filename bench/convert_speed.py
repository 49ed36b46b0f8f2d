"""How long a conversion takes compared with LibCST's bare parse + codegen of the same files.

../shared/MEASURED.md sets the aim: convert in at most 4x the bare parse + codegen time. In one
run, on 1 and on 2 processes, side by side:

- bare: ``cst.parse_module(source).bytes`` of every file (2 processes: a pool, in chunks);
- convert: ``convert_paths`` of every file as one project, what ``convert --diff`` computes;
- check: ``convert_paths`` of the tree ``convert --out`` wrote (what ``convert --check`` of a
  converted tree costs), next to the bare parse of that tree;
- with the cache (``convert --check --cache-dir``, codemod/cache.py), on the converted tree: the
  first run (it fills the cache), a second one (the same tree: every entry reused), a run after a
  comment added at the end of the tree's largest file (no file's facts change: that file alone is
  converted again), and one after a comment line added at the top of its largest file with
  routes (their lines are facts: every file is converted again, with the other files' facts
  reused);
- with ``--slow``, convert on the engine's slow path too (FLASK2FASTAPI_SLOW=1);
- ``--passes``: instead, one conversion in this process with each file's CPU time per pass (the
  facts pass, the transforms, leave_flask) next to its bare parse + codegen, summed per folder,
  then by outcome (changed, unchanged but reported, unchanged and silent): what a gate that knew a
  file's outcome before LibCST read it could save at best.

Each measurement runs in a fresh process and reports its CPU time (its own and its workers') and
its wall time; with ``--repeat N`` the lowest of N. The default corpus is bench/speed_corpus.toml.

    python bench/convert_speed.py [PATH ...] [--jobs 1 --jobs 2] [--repeat N] [--slow]
    python bench/convert_speed.py --passes [PATH ...]
"""

from __future__ import annotations

import argparse
import ast
import collections
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import libcst as cst

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from codemod.discovery import discover  # noqa: E402

MANIFEST = Path(__file__).resolve().parent / "speed_corpus.toml"
CORPUS_ROOT = Path("/work/scratch/corpus")


def corpus_paths(manifest: Path = MANIFEST) -> list[Path]:
    """The folders bench/speed_corpus.toml lists (those present on this machine)."""
    spec = tomllib.loads(manifest.read_text())
    paths = [Path(importlib.import_module(entry["module"]).__file__).parent for entry in spec.get("installed", [])]
    for app in spec.get("app", []):
        root = Path(app.get("root", CORPUS_ROOT))
        for name in app.get("corpus", []):
            paths.append(root / name)
        if "name" in app:
            paths.append(root / app.get("subdir", app["name"]))
    paths += [ROOT / entry["path"] for entry in spec.get("local", [])]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print(f"missing (left out): {', '.join(map(str, missing))}", file=sys.stderr)
    return [p for p in paths if p.exists()]


def _bare_one(path: Path) -> None:
    try:
        cst.parse_module(path.read_bytes()).bytes
    except cst.ParserSyntaxError:
        pass


def _cpu() -> float:
    own, children = time.process_time(), os.times()
    return own + children.children_user + children.children_system


def measure(mode: str, jobs: int, paths: list[Path], cache: Path | None = None) -> dict[str, float]:
    """One measurement, in this process: CPU seconds (with workers') and wall seconds."""
    files = discover(paths)
    cpu, wall = _cpu(), time.perf_counter()
    if mode == "bare":
        if jobs <= 1:
            for path in files:
                _bare_one(path)
        else:
            with ProcessPoolExecutor(jobs) as pool:
                list(pool.map(_bare_one, files, chunksize=max(1, len(files) // (jobs * 8))))
    else:
        from codemod.cache import Cache
        from codemod.engine import convert_paths
        from transforms import ORDER

        kept = Cache(cache) if cache is not None else None
        convert_paths(files, ORDER, jobs=jobs, fast=mode != "slow", cache=kept, roots=paths)
    return {"cpu": _cpu() - cpu, "wall": time.perf_counter() - wall}


def passes(paths: list[Path]) -> None:
    """One conversion in this process, timing each file's passes; a table per folder of ``paths``."""
    import codemod.engine as engine
    import codemod.project as project
    from transforms import ORDER

    # facts, transforms, leave_flask, bare parse + codegen, CPython's ast.parse
    spent: dict[str, list[float]] = collections.defaultdict(lambda: [0.0] * 5)

    def timed(function, slot: int, path_of):
        def run(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[str(path_of(args))][slot] += time.process_time() - start
        return run

    project._gather = timed(project._gather, 0, lambda args: args[0])
    engine.convert_source = timed(engine.convert_source, 1, lambda args: args[0])
    engine._leave_one = timed(engine._leave_one, 2, lambda args: args[1][0])
    files = discover(paths)
    for path in files:
        start = time.process_time()
        _bare_one(path)
        spent[str(path)][3] = time.process_time() - start
        start = time.process_time()
        _ast_one(path)
        spent[str(path)][4] = time.process_time() - start
    results = engine.convert_paths(files, ORDER, jobs=1, fast=True)
    folders: dict[str, list[float]] = collections.defaultdict(lambda: [0.0] * 5)
    for path, times in spent.items():
        folder = max((str(p) for p in paths if path.startswith(str(p))), key=len, default="?")
        totals = folders[Path(folder).name]
        for slot, value in enumerate(times):
            totals[slot] += value
        totals[4] += 1
    print("| folder | files | facts s | transforms s | leave_flask s | bare s | x bare |")
    print("|---|---|---|---|---|---|---|")
    rows = sorted(folders.items(), key=lambda kv: -sum(kv[1][:3]))
    whole = [sum(t[i] for _, t in rows) for i in range(5)]
    for name, t in [*rows, ("all", whole)]:
        print(f"| {name} | {t[4]:.0f} | {t[0]:.1f} | {t[1]:.1f} | {t[2]:.1f} | {t[3]:.2f} | {sum(t[:3]) / max(t[3], 1e-9):.1f}x |")
    outcomes(results, spent)


def _ast_one(path: Path) -> None:
    try:
        ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        pass


def _outcome(result) -> str:
    if result.status != "unchanged":
        return result.status
    if result.findings or result.routes or result.error_handlers:
        return "unchanged, with findings, routes or error handlers"
    if result.flask_blockers:
        return "unchanged, keeps Flask (a blocker)"
    return "unchanged, nothing to report"


def outcomes(results, spent: dict[str, list[float]]) -> None:
    """The same CPU by what came out of each file, against the whole corpus's bare parse.

    What a file gate could save at best: a file known to come out unchanged before LibCST reads it
    would cost nothing but the gate (CPython's ast.parse, the last column, is a floor for one)."""
    groups: dict[str, list[float]] = collections.defaultdict(lambda: [0.0] * 6)
    for result in results:
        totals = groups[_outcome(result)]
        for slot, value in enumerate(spent[str(result.path)]):
            totals[slot] += value
        totals[5] += 1
    bare = sum(t[3] for t in groups.values())
    print(f"\nBy outcome (x bare: the group's facts + transforms + leave_flask CPU over the whole corpus's {bare:.2f} s):")
    print("| outcome | files | facts s | transforms s | leave_flask s | bare s | ast.parse s | x whole bare |")
    print("|---|---|---|---|---|---|---|---|")
    for name, t in sorted(groups.items(), key=lambda kv: -sum(kv[1][:3])):
        print(f"| {name} | {t[5]:.0f} | {t[0]:.1f} | {t[1]:.1f} | {t[2]:.1f} | {t[3]:.2f} | {t[4]:.2f} | {sum(t[:3]) / max(bare, 1e-9):.1f}x |")


def _run(mode: str, jobs: int, paths: list[Path], repeat: int, cache: Path | None = None) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, __file__, "--one", mode, "--jobs", str(jobs), *map(str, paths), *(["--cache", str(cache)] if cache else [])],
            check=True, capture_output=True, text=True, cwd=ROOT,
        ).stdout
        found = json.loads(out.strip().splitlines()[-1])
        best = {k: min(v, best.get(k, v)) for k, v in found.items()}
    return best


ROUTE = re.compile(rb"^@\w+\.(?:route|get|post|put|patch|delete)\(", re.MULTILINE)


def _cached(jobs: int, tree: Path, cache: Path, files: list[Path]) -> tuple[dict[str, float], ...]:
    """The cached --check of ``tree``: first, again, after a comment added at the end of its
    largest file (no fact changes), after a comment line added at the top of its largest file
    with routes (their lines change: facts change)."""
    first = _run("convert", jobs, [tree], 1, cache)
    again = _run("convert", jobs, [tree], 1, cache)
    answers = [first, again]
    largest = max(files, key=lambda p: p.stat().st_size)
    routed = max((p for p in files if ROUTE.search(p.read_bytes())), key=lambda p: p.stat().st_size)
    for path, edit in ((largest, lambda text: text + b"\n# an edit\n"), (routed, lambda text: b"# an edit\n" + text)):
        original = path.read_bytes()
        path.write_bytes(edit(original))
        try:
            answers.append(_run("convert", jobs, [tree], 1, cache))
        finally:
            path.write_bytes(original)
        _run("convert", jobs, [tree], 1, cache)  # the entries of the tree as it was, for the next
    return tuple(answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--slow", action="store_true", help="convert on the slow path too")
    parser.add_argument("--passes", action="store_true", help="time each file's passes instead, in this process")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    paths = [p.resolve() for p in args.paths] or corpus_paths()
    jobs_list = args.jobs or [1, 2]
    if args.one:
        print(json.dumps(measure(args.one, jobs_list[0], paths, args.cache)))
        return
    if args.passes:
        passes(paths)
        return
    files = discover(paths)
    lines = sum(len(p.read_bytes().splitlines()) for p in files)
    print(f"corpus: {len(files)} files, {lines:,} lines")
    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / "converted"
        subprocess.run(
            [sys.executable, "-m", "codemod.cli", "convert", *map(str, paths), "--out", str(converted), "--jobs", "2"],
            cwd=ROOT, capture_output=True,
        )
        converted_files = discover([converted])
        converted_lines = sum(len(p.read_bytes().splitlines()) for p in converted_files)
        print(f"converted tree: {len(converted_files)} files, {converted_lines:,} lines")
        rows = []
        for jobs in jobs_list:
            bare = _run("bare", jobs, paths, args.repeat)
            convert = _run("convert", jobs, paths, args.repeat)
            slow = _run("slow", jobs, paths, args.repeat) if args.slow else None
            bare_converted = _run("bare", jobs, [converted], args.repeat)
            check = _run("convert", jobs, [converted], args.repeat)
            cached = _cached(jobs, converted, Path(tmp) / f"cache-{jobs}", converted_files)
            rows.append((jobs, bare, convert, slow, bare_converted, check, cached))
    # the ratio: of CPU time in one process (the machine's other load inflates wall time), of wall
    # time in several (their point is the wall time)
    print("\n| processes | what | CPU s | wall s | files/s | lines/s | x bare (1: CPU, 2: wall) |")
    print("|---|---|---|---|---|---|---|")
    for jobs, bare, convert, slow, bare_converted, check, cached in rows:
        for name, found, base, count, nlines in (
            ("bare parse + codegen", bare, bare, len(files), lines),
            ("convert", convert, bare, len(files), lines),
            ("convert, slow path", slow, bare, len(files), lines),
            ("bare parse + codegen, converted tree", bare_converted, bare_converted, len(converted_files), converted_lines),
            ("convert --check, converted tree", check, bare_converted, len(converted_files), converted_lines),
            ("... with --cache-dir, first run", cached[0], bare_converted, len(converted_files), converted_lines),
            ("... with --cache-dir, again", cached[1], bare_converted, len(converted_files), converted_lines),
            ("... with --cache-dir, a comment at the end of a file", cached[2], bare_converted, len(converted_files), converted_lines),
            ("... with --cache-dir, a line above a route", cached[3], bare_converted, len(converted_files), converted_lines),
        ):
            if found is None:
                continue
            ratio = found["cpu"] / base["cpu"] if jobs == 1 else found["wall"] / base["wall"]
            print(
                f"| {jobs} | {name} | {found['cpu']:.1f} | {found['wall']:.1f} | {count / found['wall']:,.0f} | "
                f"{nlines / found['wall']:,.0f} | {ratio:.1f}x |"
            )
    if len(rows) > 1:
        one, two = rows[0][2], rows[-1][2]
        print(f"\nconvert: {one['wall'] / two['wall']:.2f}x faster (wall) on {rows[-1][0]} processes than on {rows[0][0]}")


if __name__ == "__main__":
    main()
