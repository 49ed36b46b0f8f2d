"""The ``flask2fastapi`` command line: convert, verify, routes, lint, list, explain (verify's and
routes' options and reports are in codemod/cli_verify.py; the consoles in codemod/cli_shared.py).

routes (route table, levels, --compare) exits as verify does: 0 the same routes, 1 a route
missing or extra, 4 an app could not be loaded.

Exit codes (also in the README):
  0  done; nothing needs a person (verify: same routes and answers; lint: no blocking call)
  1  --check: at least one file would change (verify: a route or an answer differs; lint: a
     blocking call inside an async def)
  2  usage error (bad option, path or code)
  3  converted, but TODO markers need a person
  4  at least one file could not be converted (syntax error, transform error, unreadable);
     verify: an app could not be loaded; lint: a file could not be read or parsed
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.syntax import Syntax
from rich.table import Table

from codemod.engine import (
    FileResult,
    convert_paths,
    copy_tree,
    discover,
    out_path,
    out_root,
    requirement_files,
    write_atomic,
)
from codemod.blocking import BlockingCalls
from codemod.cache import Cache
from codemod.findings import ENGINE_CODES, by_code, catalogue
from codemod.review import diff_lines, file_summary, line_counts, total_line
from codemod.transform import Options
from codemod.vendor import VENDORED, vendor
from transforms.leave_flask import LeaveFlaskTransform
from transforms import BY_NAME, ORDER
from codemod.cli_shared import (  # noqa: F401 (the exit codes: the command line's API)
    EXIT_BLOCKING, EXIT_DIFFERENT, EXIT_ERRORS, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, EXIT_WOULD_CHANGE, err, fail, out,
)
from codemod.cli_verify import routes, verify

PROGRESS_THRESHOLD = 8  # files; fewer finish before a bar is worth drawing

app = typer.Typer(
    name="flask2fastapi",
    help="Convert a Flask code base to FastAPI with a deterministic LibCST codemod.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _split(values: Optional[List[str]]) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@app.command()
def convert(
    paths: List[Path] = typer.Argument(..., help="Files or folders to convert."),
    out_dir: Optional[Path] = typer.Option(None, "--out", help="Write a converted copy of the whole tree to DIR; PATH stays as it is."),
    diff: bool = typer.Option(False, "--diff", help="Print each changed file's summary (routes and their levels, findings) and diff; write nothing."),
    stat: bool = typer.Option(False, "--stat", help="With --diff: only the summaries, and a total line; write nothing."),
    check: bool = typer.Option(False, "--check", help="Write nothing; exit 1 when any file would change."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these transforms or finding codes (comma-separated)."),
    ignore: Optional[List[str]] = typer.Option(
        None, "--ignore", help="Skip these transforms or finding codes (comma-separated); leave_flask keeps the Flask app and the bridge."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (default: all cores; one file runs inline)."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write a JSON report: every file's status and every finding."),
    vendor_runtime: bool = typer.Option(
        False,
        "--vendor-runtime",
        help="Copy the runtime modules the project uses into it (_flask2fastapi_runtime) instead of requiring flask2fastapi-runtime.",
    ),
    native_validation: bool = typer.Option(
        False,
        "--native-validation",
        help="Let FastAPI answer parameters that do not validate with its 422 (FlaskBridge(app, flask_errors=False)).",
    ),
    cache_dir: Optional[Path] = typer.Option(
        None,
        "--cache-dir",
        envvar="FLASK2FASTAPI_CACHE_DIR",
        help="Keep what this run computes in DIR, and reuse what an earlier run kept: a rerun on an unchanged tree converts nothing again.",
    ),
) -> None:
    """Rewrite Flask code as FastAPI code (in place, or into --out DIR)."""
    for path in paths:
        if not path.exists():
            raise fail(f"{path}: no such file or folder")
    codes = catalogue(ORDER)
    selected, ignored = _split(select), _split(ignore)
    names = [*BY_NAME, LeaveFlaskTransform.NAME]
    for item in (*selected, *ignored):
        if item not in names and item not in codes:
            raise fail(f"{item!r} is neither a transform ({', '.join(names)}) nor a finding code (see `flask2fastapi list`)")
    chosen = [t for t in ORDER if t.NAME in selected] or list(ORDER)
    chosen = [t for t in chosen if t.NAME not in ignored]
    # the last step runs after all the others, so only in a whole run (or where it is selected)
    some = any(item in BY_NAME for item in selected)
    leave = (not some or LeaveFlaskTransform.NAME in selected) and LeaveFlaskTransform.NAME not in ignored
    options = Options(
        ignore_codes=frozenset(c for c in ignored if c in codes),
        select_codes=frozenset(c for c in selected if c in codes),
        native_validation=native_validation,
        leave_flask=leave,
    )
    writes = not (diff or stat or check)
    if out_dir is not None:
        _check_out(out_dir, paths)
    try:
        cache = Cache(cache_dir) if cache_dir is not None else None
    except ValueError as error:
        raise fail(f"--cache-dir {error}") from None

    skipped: list[tuple[Path, str]] = []
    files = discover(paths, skipped)
    for where, why in skipped:  # someone else's code: never converted (codemod/discovery.py)
        err.print(f"skipped {_display(str(where))}: {why}", soft_wrap=True, markup=False)
    results = _run(files, chosen, options, jobs or os.cpu_count() or 1, cache, paths)
    if cache is not None and cache.write_error is not None:
        err.print(f"--cache-dir {cache_dir}: not written ({cache.write_error}); the run went on without it", soft_wrap=True, markup=False)

    requirements = vendor(results) if vendor_runtime else requirement_files(paths, results)
    if diff or stat:
        _print_review(results, requirements, stat)
    if writes:
        if out_dir is not None:
            _write_out(results, paths, out_dir, requirements)
        else:
            for result in results:
                if result.status == "changed" and result.new is not None:
                    write_atomic(Path(result.path), result.new)
            for path, content in requirements.items():
                write_atomic(path, content)
    if report is not None:
        document = {
            "files": [r.to_json() for r in results],
            "routes": [route for r in results for route in r.routes],
            "error_handlers": [handler for r in results for handler in r.error_handlers],
            "requirements": [str(p) for p in requirements],
        }
        report.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    _summary(results, requirements, written=writes)
    raise typer.Exit(_exit_code(results, requirements, check))


def _check_out(out_dir: Path, paths: list[Path]) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise fail(f"--out {out_dir}: exists and is not an empty folder")
    for path in paths:
        if path.is_dir() and out_dir.resolve().is_relative_to(path.resolve()):
            raise fail(f"--out {out_dir}: is inside {path}, which is being converted")


def _run(files: list[Path], chosen, options: Options, jobs: int, cache: Cache | None, roots: list[Path]) -> list[FileResult]:
    if len(files) < PROGRESS_THRESHOLD:
        return convert_paths(files, chosen, options, jobs, cache=cache, roots=roots)
    columns = (TextColumn("converting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("convert", total=len(files))
        return convert_paths(files, chosen, options, jobs, on_done=lambda: progress.advance(task), cache=cache, roots=roots)


def _write_out(results: list[FileResult], paths: list[Path], out_dir: Path, requirements: dict[Path, bytes]) -> None:
    for path in paths:
        copy_tree(path, out_root(path, paths, out_dir))
    for result in results:
        if result.status == "changed" and result.new is not None:
            write_atomic(out_path(Path(result.path), paths, out_dir), result.new)
    for path, content in requirements.items():
        try:
            target = out_path(path, paths, out_dir)
        except ValueError:  # the folder of a converted file given alone
            target = out_dir / path.name
        write_atomic(target, content)


def _print_review(results: list[FileResult], requirements: dict[Path, bytes], stat: bool) -> None:
    """Each changed file's summary, then its diff (``--stat``: the summaries and a total line)."""
    changed = [r for r in results if r.status == "changed"]
    changed += [FileResult(str(p), "changed", old=p.read_bytes() if p.exists() else b"", new=c) for p, c in requirements.items()]
    added = removed = 0
    for result in changed:
        name = _display(result.path)
        lines = diff_lines(result, name)
        counts = line_counts(lines)
        added, removed = added + counts[0], removed + counts[1]
        for line in file_summary(result, name, counts, reasons=not stat):
            out.print(line, soft_wrap=True)
        if not stat:
            out.print(Syntax("".join(lines), "diff", theme="ansi_dark", background_color="default"), soft_wrap=True)
    if stat:
        routes = [route for r in changed for route in r.routes]
        out.print(total_line(len(changed), (added, removed), routes, [f for r in changed for f in r.findings]), soft_wrap=True)


def _display(path: str) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    relative = os.path.relpath(path)
    return path.lstrip("/") if relative.startswith("..") else relative


def _summary(results: list[FileResult], requirements: dict[Path, bytes], written: bool) -> None:
    findings = [f for r in results for f in r.findings]
    for finding in findings:
        colour = "red" if finding.code in {c.code for c in ENGINE_CODES} else "yellow"
        err.print(f"{_display(finding.path)}:{finding.line}: [{colour}]{finding.code}[/] {finding.message}", markup=True, soft_wrap=True)
    table = Table(title="flask2fastapi", show_header=True, header_style="bold")
    table.add_column("files")
    table.add_column("count", justify="right")
    counts = {s: sum(r.status == s for r in results) for s in ("changed", "unchanged", "failed")}
    table.add_row("converted" if written else "would change", str(counts["changed"]))
    table.add_row("unchanged", str(counts["unchanged"]))
    table.add_row("failed", str(counts["failed"]))
    if requirements:
        copied = all(path.parent.name == VENDORED for path in requirements)
        label = ("runtime files copied" if written else "runtime files to copy") if copied else (
            "requirement files updated" if written else "requirement files to update"
        )
        table.add_row(label, str(len(requirements)))
    routes = [route for r in results for route in r.routes]
    for level in ("async", "idiomatic", "native", "bridged"):
        table.add_row(f"routes {level}", str(sum(route["level"] == level for route in routes)))
    table.add_row("routes with an async def view", str(sum(bool(route.get("async")) for route in routes)))
    handlers = [handler for r in results for handler in r.error_handlers]
    table.add_row("error handlers FastAPI's", str(sum(bool(h["fastapi"]) for h in handlers)))
    table.add_row("error handlers Flask's", str(sum(not h["fastapi"] for h in handlers)))
    table.add_row("Flask uses left", str(sum(r.flask_uses for r in results if r.status != "failed")))
    blockers = [b for r in results for b in r.flask_blockers]
    if any(b"NativeApp(" in (r.new or b"") for r in results) and not blockers:
        table.add_row("Flask left the project", "yes")
    for code, count in by_code(findings).items():
        table.add_row(f"finding {code}", str(count))
    err.print(table)
    if blockers:  # what keeps the Flask app, the bridge and the dependency on Flask (leave_flask)
        err.print(f"Flask stays for {len(blockers)} use(s), first: {_display(blockers[0])}", soft_wrap=True)


def _exit_code(results: list[FileResult], requirements: dict[Path, bytes], check: bool) -> int:
    if any(r.status == "failed" for r in results):
        return EXIT_ERRORS
    if check:
        return EXIT_WOULD_CHANGE if requirements or any(r.status == "changed" for r in results) else EXIT_OK
    return EXIT_FINDINGS if any(r.findings for r in results) else EXIT_OK


app.command()(verify)


@app.command()
def lint(
    paths: List[Path] = typer.Argument(..., help="Files or folders to check, as one program."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these finding codes (comma-separated), such as F2F406."),
    as_json: bool = typer.Option(False, "--json", help="Print the findings as one JSON document on stdout."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (default: all cores)."),
) -> None:
    """Report blocking calls (requests, time.sleep, sqlite3, sync SQLAlchemy...) inside async def."""
    from codemod.lint import lint_paths

    for path in paths:
        if not path.exists():
            raise fail(f"{path}: no such file or folder")
    codes = {c.code for c in BlockingCalls.FINDINGS.values()}
    ignored = set(_split(ignore))
    for item in ignored - codes:
        raise fail(f"--ignore {item}: not a lint code ({', '.join(sorted(codes))})")
    result = lint_paths(paths, jobs or os.cpu_count() or 1)
    findings = [f for f in result.findings if f.code not in ignored]
    if as_json:
        document = {
            "findings": [f.to_json() for f in findings],
            "errors": [e.to_json() for e in result.errors],
            "files": result.files,
            "files_resolved": result.resolved,
            "async_functions": result.async_functions,
        }
        out.print_json(data=document)
    else:
        for error in result.errors:
            out.print(f"{_display(error.path)}: [red]{error.code}[/] {error.message}", markup=True, soft_wrap=True)
        for finding in findings:
            out.print(f"{_display(finding.path)}:{finding.line}:{finding.col}: [yellow]{finding.code}[/] {finding.message}", markup=True, soft_wrap=True)
        table = Table(title="flask2fastapi lint", show_header=True, header_style="bold")
        table.add_column("checked")
        table.add_column("count", justify="right")
        table.add_row("files", str(result.files))
        table.add_row("files resolved", str(result.resolved))
        table.add_row("async functions", str(result.async_functions))
        table.add_row("blocking calls", str(len(findings)))
        table.add_row("files not parsed", str(len(result.errors)))
        for code, count in by_code(findings).items():
            table.add_row(f"finding {code}", str(count))
        err.print(table)
    if result.errors:
        raise typer.Exit(EXIT_ERRORS)
    raise typer.Exit(EXIT_BLOCKING if findings else EXIT_OK)


@app.command("list")
def list_transforms() -> None:
    """Show the transforms in the order they run, with their finding codes."""
    table = Table(show_header=True, header_style="bold")
    for column in ("#", "transform", "what it converts", "findings"):
        # a transform's name is what --only and --ignore take: never cut short
        table.add_column(column, no_wrap=column == "transform", min_width=max(len(t.NAME) for t in ORDER) if column == "transform" else None)
    for index, transform in enumerate(ORDER, 1):
        table.add_row(str(index), transform.NAME, transform.DESCRIPTION, " ".join(c.code for c in transform.FINDINGS.values()))
    lint_codes = " ".join(c.code for c in BlockingCalls.FINDINGS.values())
    table.add_row("", BlockingCalls.NAME, BlockingCalls.DESCRIPTION, lint_codes)
    out.print(table)


@app.command()
def explain(code: str = typer.Argument(..., help="A finding code, such as F2F131.")) -> None:
    """Say what a finding means and what to do by hand."""
    owners = (*ORDER, BlockingCalls)
    codes = catalogue(owners)
    entry = codes.get(code.upper())
    if entry is None:
        raise fail(f"unknown finding code {code!r}; `flask2fastapi list` shows them all")
    owner = next((t.NAME for t in owners if entry in t.FINDINGS.values()), "engine")
    out.print(f"[bold]{entry.code}[/] ({owner})")
    if owner == BlockingCalls.NAME:
        out.print(f"reported by `flask2fastapi lint`: {entry.template}", markup=False)
    else:
        out.print(f"marker: # TODO[{entry.code}]: {entry.template}", markup=False)
    out.print(entry.explanation, markup=False)


app.command()(routes)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
