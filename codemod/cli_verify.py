"""The ``verify`` and ``routes`` commands of the command line (codemod/cli.py registers them):
their options and what they print. The work is done in codemod/verify.py, codemod/replay_report.py
(--record-tests, --replay) and codemod/route_report.py; exit codes as codemod/cli.py lists them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from codemod.cli_shared import EXIT_DIFFERENT, EXIT_ERRORS, EXIT_OK, err, fail, out


def verify(
    original: Path = typer.Argument(..., help="The folder the original Flask app is imported from."),
    converted: Path = typer.Argument(..., help="The folder the converted FastAPI app is imported from."),
    app_spec: Optional[str] = typer.Option(
        None, "--app", help="module:app or module:create_app() (the same in both folders); optional with --record-tests or --replay."
    ),
    requests_file: Optional[Path] = typer.Option(None, "--requests", help="A JSON list of requests to send to both apps."),
    env: Optional[List[str]] = typer.Option(None, "--env", help="NAME=VALUE set for both apps (repeatable)."),
    record_tests: Optional[str] = typer.Option(
        None, "--record-tests", help="The original's pytest command (a shell command, run in each folder): record its requests, replay them."
    ),
    replay: Optional[Path] = typer.Option(None, "--replay", help="A recording kept from --record-tests --recording FILE: replay it."),
    recording: Optional[Path] = typer.Option(None, "--recording", help="With --record-tests: keep the original's recording in FILE."),
    converted_tests: Optional[str] = typer.Option(
        None, "--converted-tests", help="The test command in the converted folder (default: the recorded one)."
    ),
    cors: str = typer.Option("strict", "--cors", help="strict: CORS headers byte for byte; browser: as a browser reads them."),
    runs: int = typer.Option(2, "--runs", min=2, help="With --record-tests: record the original this many times to find what changes."),
) -> None:
    """Check that the converted app has the original's routes and answers the same requests."""
    from codemod.verify import VerifyError

    for folder in (original, converted):
        if not folder.is_dir():
            raise fail(f"{folder}: no such folder")
    recorded = record_tests is not None or replay is not None
    if app_spec is None and not recorded:
        raise fail("--app is needed (unless --record-tests or --replay is given)")
    if recording is not None and record_tests is None:
        raise fail("--recording is written by --record-tests")
    if cors not in ("strict", "browser"):
        raise fail(f"--cors {cors}: strict or browser")
    variables = dict(item.partition("=")[::2] for item in env or [])
    same = True
    try:
        if app_spec is not None:
            same = _verify_requests(original, converted, app_spec, requests_file, variables)
        if recorded:
            from codemod.recording import RecordingError
            from codemod.replay_report import run

            try:
                same = run(original, converted, record_tests, replay, variables, recording, converted_tests, err, cors, runs) and same
            except RecordingError as error:
                err.print(f"[bold red]error:[/] {error}", markup=True, soft_wrap=True)
                raise typer.Exit(EXIT_ERRORS)
    except VerifyError as error:
        err.print(f"[bold red]error:[/] {error}", markup=True)
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_OK if same else EXIT_DIFFERENT)


def _verify_requests(original: Path, converted: Path, app_spec: str, requests_file: Optional[Path], variables: dict[str, str]) -> bool:
    """The route tables and the answers to ``--requests``, compared and printed."""
    from codemod.verify import compare

    requests: list = []
    if requests_file is not None:
        try:
            requests = json.loads(requests_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise fail(f"--requests {requests_file}: {error}")
    result = compare(original, converted, app_spec, requests, variables)
    for method, path in result.missing_routes:
        err.print(f"[red]missing route[/] {method} {path}", markup=True)
    for method, path in result.extra_routes:
        err.print(f"[yellow]extra route[/] {method} {path}", markup=True)
    for before, after in result.differences:
        err.print(f"[red]different answer[/] {before['request']}", markup=True)
        for key in ("status", "media_type", "body", "headers"):
            if before[key] != after[key]:
                err.print(f"  {key}: {before[key]!r} -> {after[key]!r}", markup=False, soft_wrap=True)
    table = Table(title="flask2fastapi verify", show_header=True, header_style="bold")
    table.add_column("check")
    table.add_column("result", justify="right")
    table.add_row("routes missing / extra", f"{len(result.missing_routes)} / {len(result.extra_routes)}")
    table.add_row("answers different", f"{len(result.differences)} of {len(requests)}")
    err.print(table)
    return result.same


def routes(
    path: Path = typer.Argument(..., help="The folder the app is imported from (a Flask app or a converted one)."),
    app_spec: str = typer.Option(..., "--app", help="module:app or module:create_app()."),
    compare: Optional[Path] = typer.Option(
        None, "--compare", help="The folder of the app to compare with (the original), imported with the same --app: exit 1 when a route differs."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the table (and the comparison) as one JSON document on stdout."),
    env: Optional[List[str]] = typer.Option(None, "--env", help="NAME=VALUE set for the app (repeatable)."),
) -> None:
    """Show an app's route table: method, path, endpoint and the level each route reached."""
    from codemod.route_report import differences, route_rows
    from codemod.review import routes_table
    from codemod.verify import VerifyError

    for folder in (path, *([compare] if compare is not None else [])):
        if not folder.is_dir():
            raise fail(f"{folder}: no such folder")
    variables = dict(item.partition("=")[::2] for item in env or [])
    try:
        rows = route_rows(path, app_spec, variables)
        other = route_rows(compare, app_spec, variables) if compare is not None else None
    except VerifyError as error:
        err.print(f"[bold red]error:[/] {error}", markup=True)
        raise typer.Exit(EXIT_ERRORS)
    missing, extra = differences(rows, other) if other is not None else ([], [])
    if as_json:
        document: dict = {"routes": rows}
        if other is not None:
            document.update(compare={"routes": other, "missing": missing, "extra": extra})
        out.print_json(data=document)
    else:
        out.print(routes_table(rows, other, title=f"routes of {app_spec} in {path}"))
        for method, route in missing:
            err.print(f"[red]missing route[/] {method} {route}", markup=True)
        for method, route in extra:
            err.print(f"[yellow]extra route[/] {method} {route}", markup=True)
    raise typer.Exit(EXIT_DIFFERENT if missing or extra else EXIT_OK)
