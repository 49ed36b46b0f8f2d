"""What a reviewer reads: a converted file's summary ahead of its diff (``convert --diff``, and
``--diff --stat`` alone), and the route table of ``routes`` (codemod/route_report.py).

A file's summary is one line, ``path | +added -removed | N routes: n level, ... | findings: CODE xN``,
then a line per route declared in it: the level it reached, its methods, its Flask rule and
endpoint (in ``--diff``, also why it stopped short, from the converter's report).
"""

from __future__ import annotations

import difflib
import io
import tokenize
from typing import Any, Iterable

from rich.markup import escape
from rich.table import Table

from codemod.engine import FileResult
from codemod.findings import by_code

LEVELS = ("async", "idiomatic", "native", "bridged")  # the converter's, best first
LEVEL_STYLE = {"async": "green", "idiomatic": "green", "native": "yellow", "bridged": "red", "flask": "dim"}


def diff_lines(result: FileResult, name: str) -> list[str]:
    """The unified diff of a changed file, in the file's own encoding (PEP 263)."""
    assert result.old is not None and result.new is not None
    encoding, _ = tokenize.detect_encoding(io.BytesIO(result.old).readline)
    old = result.old.decode(encoding, errors="replace").splitlines(keepends=True)
    new = result.new.decode(encoding, errors="replace").splitlines(keepends=True)
    return list(difflib.unified_diff(old, new, f"a/{name}", f"b/{name}"))


def line_counts(lines: list[str]) -> tuple[int, int]:
    """(added, removed) lines of a unified diff, its ``---``/``+++`` header left out."""
    body = [line for line in lines if not line.startswith(("---", "+++"))]
    return sum(line.startswith("+") for line in body), sum(line.startswith("-") for line in body)


def file_summary(result: FileResult, name: str, counts: tuple[int, int], reasons: bool) -> list[str]:
    """A changed file's summary lines (Rich markup; the file's own text escaped)."""
    lines = [_headline(escape(name), counts, result.routes, result.findings)]
    width = max((len(str(route["level"])) for route in result.routes), default=0)
    methods = [",".join(route["methods"]) for route in result.routes]  # type: ignore[arg-type]
    for route, method in zip(result.routes, methods):
        level = str(route["level"])
        where = f"{method.ljust(max(map(len, methods)))} {escape(str(route['rule']))}  ({escape(str(route['endpoint']))})"
        text = f"    [{LEVEL_STYLE.get(level, 'default')}]{level.ljust(width)}[/]  {where}"
        if reasons and route.get("reason"):
            text += f": {escape(str(route['reason']))}"
        lines.append(text)
    return lines


def total_line(files: int, counts: tuple[int, int], routes: list[dict[str, Any]], findings: list) -> str:
    changed = f"{files} file{'s' if files != 1 else ''} changed"
    return _headline(changed, counts, routes, findings)


def _headline(name: str, counts: tuple[int, int], routes: list[dict[str, Any]], findings: Iterable) -> str:
    added, removed = counts
    parts = [f"[bold]{name}[/]", f"[green]+{added}[/] [red]-{removed}[/]", _route_counts(routes)]
    found = by_code(findings)
    parts.append("findings: " + ", ".join(f"{code} x{count}" for code, count in found.items()) if found else "no findings")
    return " | ".join(parts)


def _route_counts(routes: list[dict[str, Any]]) -> str:
    if not routes:
        return "no routes"
    levels = [str(route["level"]) for route in routes]
    shown = ", ".join(f"{levels.count(level)} {level}" for level in LEVELS if level in levels)
    return f"{len(routes)} route{'s' if len(routes) != 1 else ''}: {shown}"


# -- the routes command ------------------------------------------------------------------------


def routes_table(rows: list[dict[str, Any]], other: list[dict[str, Any]] | None = None, title: str = "routes") -> Table:
    """The route table; with ``other`` (``--compare``), its level of each route next to this one,
    and a row for each route only it has."""
    table = Table(title=title, show_header=True, header_style="bold")
    # on a narrow terminal, paths and names wrap rather than end in an ellipsis
    table.add_column("method", no_wrap=True)
    table.add_column("path", overflow="fold")
    table.add_column("endpoint", overflow="fold")
    table.add_column("level", no_wrap=True)
    if other is not None:
        table.add_column("level in --compare", no_wrap=True)
    table.add_column("served by", no_wrap=True)
    table.add_column("why not higher", overflow="fold")
    theirs = {(row["method"], row["path"]): row for row in other or []}
    mine = {(row["method"], row["path"]) for row in rows}
    for row in rows:
        cells = [row["method"], escape(row["path"]), escape(row["endpoint"]), _level(row["level"])]
        if other is not None:
            match = theirs.get((row["method"], row["path"]))
            cells.append(_level(match["level"]) if match else "[yellow]extra[/]")
        why = row.get("reason") or (row.get("async_reason") if row["level"] == "idiomatic" else None)
        table.add_row(*cells, row["served_by"], escape(why or ""))
    for key, row in theirs.items():
        if key not in mine:
            table.add_row(row["method"], escape(row["path"]), escape(row["endpoint"]), "[red]missing[/]", _level(row["level"]), row["served_by"], "")
    return table


def _level(level: str) -> str:
    return f"[{LEVEL_STYLE.get(level, 'default')}]{level}[/]"
