"""What the command line's modules share: the exit codes, the two consoles (stdout for what a
command prints as its result, stderr for its report) and the usage error."""

from __future__ import annotations

import typer
from rich.console import Console

EXIT_OK, EXIT_WOULD_CHANGE, EXIT_USAGE, EXIT_FINDINGS, EXIT_ERRORS = 0, 1, 2, 3, 4
EXIT_DIFFERENT = 1  # verify: the converted app differs from the original
EXIT_BLOCKING = 1  # lint: a blocking call inside an async def

out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)


def fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(EXIT_USAGE)
