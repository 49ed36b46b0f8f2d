"""How long a conversion takes compared with LibCST's bare parse + codegen of the same files.

../shared/MEASURED.md sets the aim: convert in at most 4x the bare parse + codegen time. The
default corpus is real code that says "flask" everywhere (Flask and Werkzeug as installed, and
the example chatbot), so the textual prefilter lets nearly every file through: the worst case.

    python bench/convert_speed.py [PATH ...] [--jobs N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import flask
import libcst as cst
import werkzeug

from codemod.engine import convert_paths, discover
from transforms import ORDER

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    paths = args.paths or [Path(flask.__file__).parent, Path(werkzeug.__file__).parent, ROOT / "example_chatbot"]
    files = discover(paths)
    lines = sum(len(p.read_bytes().splitlines()) for p in files)

    start = time.perf_counter()
    for path in files:
        source = path.read_bytes()
        try:
            cst.parse_module(source).bytes
        except cst.ParserSyntaxError:
            pass
    bare = time.perf_counter() - start

    start = time.perf_counter()
    results = convert_paths(files, ORDER, jobs=args.jobs)
    convert = time.perf_counter() - start

    changed = sum(r.status == "changed" for r in results)
    print(f"{len(files)} files, {lines} lines; {changed} would change")
    print(f"bare parse + codegen (1 process): {bare:6.2f} s")
    print(f"convert (--jobs {args.jobs}):            {convert:6.2f} s  = {convert / bare:.1f}x the bare parse")


if __name__ == "__main__":
    main()
