"""Whether two versions of the converter give the same outputs: for speed work (bench/README.md).

``dump`` converts each given root as its own project, and the speed corpus as one project, and
writes every file's result: status, new bytes, findings, Flask blockers, routes, error handlers,
Flask uses and the levels' code facts (sets sorted, so that two processes compare). Run it from
a checkout of each version (the checkout's own ``codemod`` is imported), then ``compare`` the
two dumps; paths under either checkout are read as paths under the other.

    python bench/same_outputs.py dump OUT.pickle [ROOT ...] [--no-corpus]
    python bench/same_outputs.py compare A.pickle B.pickle

``cached`` checks the cache (codemod/cache.py) on copies of the given roots: for each, a run
without it, its first run and a rerun give the same outputs, and after a comment added at the end
of the root's largest file, a cached run gives what a run without the cache gives (1 and 2
processes, alternating by root).

    python bench/same_outputs.py cached ROOT ...
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import sys
from pathlib import Path

HERE = Path.cwd()
sys.path[:0] = [str(HERE), str(HERE / "bench")]


def _plain(value):
    """A result's parts as plain data that two processes give alike (sets sorted)."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    if isinstance(value, dict):
        return {repr(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _results(roots: list[Path], jobs: int = 1, cache=None) -> dict[str, tuple]:
    from codemod.discovery import discover
    from codemod.engine import convert_paths
    from transforms import ORDER

    return {
        os.path.relpath(r.path, HERE) if r.path.startswith(str(HERE)) else r.path: (
            r.status, r.new, [(f.code, f.line, f.message) for f in r.findings], r.flask_blockers,
            r.routes, r.error_handlers, r.flask_uses, _plain(r.code),
        )
        for r in convert_paths(discover(roots), ORDER, jobs=jobs, cache=cache, roots=roots)
    }


def cached(roots: list[Path]) -> int:
    import shutil
    import tempfile

    from codemod.cache import Cache
    from codemod.discovery import discover

    wrong = 0
    for index, source in enumerate(roots):
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder) / "tree"
            shutil.copytree(source, root, symlinks=True, ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv", "venv"))
            cache, jobs = Cache(Path(folder) / "cache"), 1 + index % 2
            plain = _results([root], jobs)
            same = plain == _results([root], jobs, cache) == _results([root], jobs, cache)
            files = discover([root])
            if files:
                largest = max(files, key=lambda path: path.stat().st_size)
                largest.write_bytes(largest.read_bytes() + b"\n# an edit\n")
                same = same and _results([root], jobs, cache) == _results([root], jobs)
            wrong += not same
            print(f"{'same' if same else 'DIFFERENT'} {source} ({len(files)} files, {jobs} processes)", flush=True)
    return wrong


def dump(out: Path, roots: list[Path], corpus: bool) -> None:
    found = {}
    for root in roots:
        found[str(root)] = _results([root.resolve()])
        print(root, len(found[str(root)]), flush=True)
    if corpus:
        from convert_speed import corpus_paths

        found["speed corpus"] = _results(corpus_paths())
    # this checkout's own paths, in the texts too (blockers, findings), as the other's
    data = re.sub(re.escape(str(HERE)).encode(), b"<checkout>", pickle.dumps(found, protocol=0))
    out.write_bytes(data)


def compare(a: Path, b: Path) -> int:
    first, second = pickle.loads(a.read_bytes()), pickle.loads(b.read_bytes())
    differ = 0
    for root in sorted(set(first) | set(second)):
        left, right = first.get(root, {}), second.get(root, {})
        if left == right:
            print(f"same {root} ({len(left)} files)")
            continue
        differ += 1
        print(f"DIFFERENT {root}")
        for path in sorted(set(left) | set(right)):
            if left.get(path) != right.get(path):
                parts = ("status", "bytes", "findings", "blockers", "routes", "handlers", "flask uses", "code facts")
                which = [p for i, p in enumerate(parts) if path in left and path in right and left[path][i] != right[path][i]]
                print(f"    {path}: {', '.join(which) or 'only in one'}")
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("roots", nargs="*", type=Path)
    d.add_argument("--no-corpus", action="store_true")
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    k = sub.add_parser("cached")
    k.add_argument("roots", nargs="+", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.roots, not args.no_corpus)
    elif args.command == "cached":
        sys.exit(1 if cached(args.roots) else 0)
    else:
        sys.exit(1 if compare(args.a, args.b) else 0)


if __name__ == "__main__":
    main()
