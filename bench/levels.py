"""The level every route of each fixture project (and the example chatbot) reaches, as a table.

    .venv/bin/python bench/levels.py            # prints the markdown table the README shows

Each project is converted in memory (no file is written) with every transform, and the report's
route levels are counted: bridged (a Flask view), native (a FastAPI path operation whose view runs
in Flask's request cycle), idiomatic (no Flask left on the route's code path). The most common
reason a native route stops short of idiomatic is shown too (the first function named in it), and
whether the Flask app, the bridge and the dependency on Flask left the project (the converter's
last step, transforms/leave_flask.py), else the first use of Flask that keeps them.
"""

from __future__ import annotations

import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codemod.engine import convert_paths, discover  # noqa: E402
from transforms import ORDER  # noqa: E402

LEVELS = ("async", "idiomatic", "native", "bridged")


def projects() -> list[tuple[str, Path]]:
    found = [("example_chatbot", ROOT / "example_chatbot")]
    found += [(p.name, p / "input") for p in sorted((ROOT / "fixtures" / "projects").iterdir()) if (p / "input").is_dir()]
    return found


def levels(path: Path) -> tuple[collections.Counter[str], collections.Counter[str], str]:
    results = convert_paths(discover([path]), ORDER)
    routes = [route for result in results for route in result.routes]
    counts = collections.Counter(str(route["level"]) for route in routes)
    counts["async def"] = sum(1 for route in routes if route.get("async"))
    stops = collections.Counter(
        str(route["reason"]).removeprefix("Flask left on its code path: ").split(" uses ")[0]
        for route in routes if route["level"] == "native" and route["reason"]
    )
    blockers = [b for result in results for b in result.flask_blockers]
    left = any(b"NativeApp(" in (result.new or b"") for result in results) and not blockers
    where = blockers[0].split(": ", 1)[-1] if blockers else ""
    if blockers:
        where = f"{Path(blockers[0].split(':')[0]).name}: {where}"
    return counts, stops, "yes" if left else f"no (`{where}`)" if where else "no"


def main() -> None:
    print(
        "| project | routes | async def view, nothing blocking | async | idiomatic | native | bridged "
        "| what most native routes still have of Flask | Flask left the project |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, path in projects():
        counts, stops, left = levels(path)
        stop = f"`{stops.most_common(1)[0][0]}`" if stops else ""
        total = sum(counts[level] for level in LEVELS)
        print(f"| {name} | {total} | {counts['async def']} | " + " | ".join(str(counts[level]) for level in LEVELS) + f" | {stop} | {left} |")


if __name__ == "__main__":
    main()
