"""``flask2fastapi verify --record-tests / --replay``: record, replay, compare and report.

``run`` records the original's test command twice (or loads a recording kept from an earlier
run), masks what differed between the two, runs the same command in the converted tree with the
recorder, pairs and compares (codemod/replay.py), and prints per Flask route the requests sent,
identical, different and not compared, the first differences as pointers into the compared form
(``/response/status: 200 -> 404``), the tests that were not compared and why, and the routes of
the route table that no test reached. It returns verify's exit code: 0 the same, 1 different.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from codemod.masking import show
from codemod.recording import Recording, load, record, save
from codemod.replay import Replay, compare, mask, table_rows

SHOWN = 5  # differences printed in full; the rest are counted per route
APART = 2.0  # seconds between the starts of two recordings of the original


def original_recording(
    original: Path, command: str | None, replay: Path | None, env: dict[str, str], keep: Path | None, runs: int = 2
) -> Recording:
    """The original's recording, masked: loaded from ``replay`` or made by running ``command``
    ``runs`` times in ``original`` (and saved to ``keep``)."""
    if replay is not None:
        return load(replay)
    assert command is not None
    recordings = []
    for _ in range(runs):
        # runs start seconds apart, so that a time of whole seconds (a signed cookie's) changes
        time.sleep(max(0.0, recordings[-1][0] + APART - time.monotonic()) if recordings else 0)
        recordings.append((time.monotonic(), record(original, command, env)))
    recording = mask(*(made for _, made in recordings))
    if keep is not None:
        save(recording, keep)
    return recording


def run(
    original: Path,
    converted: Path,
    command: str | None,
    replay: Path | None,
    env: dict[str, str],
    keep: Path | None,
    converted_command: str | None,
    console: Console,
    cors: str = "strict",
    runs: int = 2,
    shown: int = SHOWN,
) -> bool:
    """Record (or load), replay, compare and print; whether the converted app answered the same."""
    before = original_recording(original, command, replay, env, keep, runs)
    after = record(converted, converted_command or command or before.command, env)
    result = compare(before, after, cors)
    report(before, after, result, console, shown)
    if cors == "strict" and result.different:
        browser = len(result.different) - len(compare(before, after, "browser").different)
        if browser:
            console.print(
                f"{browser} of the {len(result.different)} different answers differ only in CORS headers as no browser "
                "reads them (--cors browser compares them as a browser does; runtime/flask2fastapi_runtime/starlette_cors.py lists why)",
                soft_wrap=True,
            )
    return result.same


def report(before: Recording, after: Recording, result: Replay, console: Console, shown: int = SHOWN) -> None:
    for pair in result.different[:shown]:
        request = pair.before["request"]
        target = request["path"] + (f"?{request['query']}" if request["query"] else "")
        console.print(f"[red]different answer[/] {pair.route} ({request['method']} {target})", markup=True, soft_wrap=True)
        console.print(f"  in {_name(pair.test)}, request {pair.before['seq'] + 1}", markup=False, soft_wrap=True)
        for pointer, one, other in pair.differences[:8]:
            console.print(f"  {pointer}: {show(one)} -> {show(other)}", markup=False, soft_wrap=True)
    if len(result.different) > shown:
        console.print(f"... and {len(result.different) - shown} more different answers (counted per route below)")
    for test, what in result.sequences:
        console.print(f"[red]different requests[/] {_name(test)}: {what}", markup=True, soft_wrap=True)
    for test in result.only_original:
        console.print(f"[red]test not run on the converted side[/] {_name(test)}", markup=True, soft_wrap=True)
    for test in result.only_converted:
        console.print(f"[yellow]test only on the converted side[/] {_name(test)}", markup=True, soft_wrap=True)
    for test in result.unstable:
        console.print(f"[yellow]not compared: its requests differ between runs of the original[/] {_name(test)}", markup=True, soft_wrap=True)
    for test, one, other in result.outcomes:
        console.print(f"[yellow]test outcome {one} -> {other}[/] {_name(test)}", markup=True, soft_wrap=True)
    if result.through_flask:
        console.print(f"[yellow]{result.through_flask} request(s) of the converted tests went to a Flask app directly, not through the converted app[/]", markup=True)
    routes = Table(title="requests per route (Flask rule of the original)", show_header=True, header_style="bold")
    for column in ("route", "sent", "identical", "different", "not compared"):
        routes.add_column(column, justify="left" if column == "route" else "right")
    for route, count in sorted(result.routes.items(), key=lambda item: (item[0].split(" ", 1)[1], item[0])):
        routes.add_row(route, *(str(count[k]) for k in ("sent", "identical", "different", "not compared")))
    for route in result.unreached:
        routes.add_row(route, "0", "-", "-", "not reached", style="yellow")
    console.print(routes)
    console.print(summary(before, after, result))


def _name(test: str) -> str:
    return test or "(outside any test)"


def summary(before: Recording, after: Recording, result: Replay) -> Table:
    table = Table(title="flask2fastapi verify (recorded tests)", show_header=True, header_style="bold")
    table.add_column("check")
    table.add_column("result", justify="right")
    totals = {k: sum(c[k] for c in result.routes.values()) for k in ("sent", "identical", "different", "not compared")}
    table.add_row("tests recorded (with requests)", f"{len(before.tests)} ({sum(bool(t.exchanges) for t in before.tests.values())})")
    table.add_row("requests recorded", str(totals["sent"]))
    table.add_row("requests identical", str(totals["identical"]))
    table.add_row("requests different", str(totals["different"]))
    table.add_row("requests not compared", str(totals["not compared"]))
    table.add_row("tests with other requests / not run / unstable", f"{len(result.sequences)} / {len(result.only_original)} / {len(result.unstable)}")
    ran = f"{len(after.tests)} (exit {after.returncode})"
    if before.returncode is not None:  # recorded in this run, not loaded
        ran = f"{len(before.tests)} (exit {before.returncode}) / {ran}"
    table.add_row("tests run: original / converted" if before.returncode is not None else "converted tests run", ran)
    rows = len(table_rows(before.routes))
    table.add_row("routes reached", f"{rows - len(result.unreached)} of {rows}")
    return table
