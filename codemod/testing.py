"""Test helpers: every transform's EXAMPLES and every fixture folder become test cases.

``fixtures/<transform>/<case>/input.py`` is converted with all transforms in order (what a user
gets) and compared byte for byte with ``expected.py``; a case without expected.py must not
change. Every case is also checked for: output that parses, a second run that changes nothing,
and exactly one finding per marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import libcst as cst

from codemod.engine import FileResult, convert_source
from codemod.findings import markers_in
from codemod.project import gather
from codemod.transform import Options, Transform

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@dataclass(frozen=True)
class Case:
    id: str
    before: bytes
    after: bytes | None  # None: must not change
    codes: tuple[str, ...] | None = None  # None: not checked (fixture folders)
    filename: str = "example.py"


def example_cases(transforms: Sequence[type[Transform]]) -> Iterator[Case]:
    for transform in transforms:
        for index, example in enumerate(transform.EXAMPLES):
            after = example.after.encode() if example.after is not None else None
            yield Case(f"{transform.NAME}-example-{index}", example.before.encode(), after, example.codes)


def fixture_cases(root: Path = FIXTURES) -> Iterator[Case]:
    for input_file in sorted(root.glob("*/*/input.py")):
        expected = input_file.with_name("expected.py")
        case = input_file.parent
        yield Case(
            f"{case.parent.name}-{case.name}",
            input_file.read_bytes(),
            expected.read_bytes() if expected.exists() else None,
            filename=str(input_file),
        )


def convert_one(source: bytes, filename: str, transforms: Sequence[type[Transform]], options: Options = Options()) -> FileResult:
    """Convert one module on its own, with the project facts it gives itself."""
    path = Path(filename)
    return convert_source(path, source, gather(path, source), transforms, options)


def check_case(case: Case, transforms: Sequence[type[Transform]]) -> FileResult:
    """Assert everything a conversion must satisfy; return the first run's result."""
    first = convert_one(case.before, case.filename, transforms)
    assert first.status != "failed", first.findings
    output = first.new if first.new is not None else case.before
    expected = case.after if case.after is not None else case.before
    assert output.decode() == expected.decode()
    cst.parse_module(output)  # the output parses

    second = convert_one(output, case.filename, transforms)
    assert second.status == "unchanged", (second.new or b"").decode()
    markers = sorted((code, message) for _, code, message in markers_in(output.decode()))
    for result in (first, second):
        assert sorted((f.code, f.message) for f in result.findings) == markers
        assert all(f.line > 0 for f in result.findings)
    if case.codes is not None:
        assert sorted(f.code for f in first.findings) == sorted(case.codes)
    return first


def convert_copy(source: Path, out: Path, *options: str) -> Path:
    """``flask2fastapi convert SOURCE --out OUT`` through the CLI, which must find nothing for a
    person to do; the converted tree."""
    from typer.testing import CliRunner

    from codemod.cli import app

    result = CliRunner().invoke(app, ["convert", str(source), "--out", str(out), *options])
    assert result.exit_code == 0, result.output
    return out
