"""Findings: what a person has to finish by hand, with stable codes.

A transform that recognises something it cannot convert safely leaves the code working, puts
``# TODO[F2Fnnn]: <message>`` on the line above it and records the same Finding. Codes are never
reused. F2F0xx belong to the engine; every transform declares its own codes in ``FINDINGS``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping

MARKER_RE = re.compile(r"#\s*TODO\[(F2F\d{3})\]:\s?(.*)$")
IGNORE_RE = re.compile(r"#\s*f2f:\s*ignore(?:\[([A-Z0-9, ]+)\])?")


@dataclass(frozen=True)
class Code:
    """One entry of the catalogue: a template for the marker and what to do about it."""

    code: str
    template: str
    explanation: str

    def message(self, **fields: object) -> str:
        # Markers are single comment lines, so no field may break the line.
        return " ".join(self.template.format(**fields).split())


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    message: str

    def marker(self) -> str:
        return marker_text(self.code, self.message)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def marker_text(code: str, message: str) -> str:
    return f"# TODO[{code}]: {message}"


PARSE_ERROR = Code(
    "F2F001",
    "{error}",
    "The file is not valid Python for LibCST's parser, so it was left byte-identical. Fix the "
    "syntax error (or convert that file by hand) and run the conversion again.",
)
TRANSFORM_ERROR = Code(
    "F2F002",
    "{error}",
    "A transform raised an exception on this file. The file was left byte-identical and the run "
    "went on. Please report it with the file (or a reduced copy); convert that file by hand.",
)
READ_ERROR = Code(
    "F2F003",
    "{error}",
    "The file could not be read or decoded. It was left untouched.",
)
ENGINE_CODES: tuple[Code, ...] = (PARSE_ERROR, TRANSFORM_ERROR, READ_ERROR)
# Codes of the first version's transforms, retired with the Flask emulation (issue 9): a marker
# with one of them in an old converted file means what it meant then, so none is given again.
RETIRED_CODES = frozenset(
    f"F2F{n}" for n in (
        101, 102, 103, 104, 105, 106, 111, 112, 113, 114, 115, 121, 122, 123, 124, 125, 131, 132, 133,
        134, 135, 136, 142, 143, 171, 172, 191, 192, 193, 194, 201, 202, 203, 211, 212, 213, 221, 222,
        223, 231,
    )
)


def catalogue(transforms: Iterable[type]) -> dict[str, Code]:
    """Every finding code, the engine's first, then each transform's in order."""
    codes: dict[str, Code] = {c.code: c for c in ENGINE_CODES}
    for transform in transforms:
        for code in getattr(transform, "FINDINGS", {}).values():
            if code.code in codes:
                raise ValueError(f"finding code {code.code} is declared twice")
            if code.code in RETIRED_CODES:
                raise ValueError(f"finding code {code.code} was retired and is never reused")
            codes[code.code] = code
    return codes


def markers_in(text: str) -> list[tuple[int, str, str]]:
    """The TODO markers in a converted file: (line of the flagged code, code, message)."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = MARKER_RE.search(line.strip())
        if not match or not line.lstrip().startswith("#"):
            continue
        target = index + 1
        while target < len(lines) and MARKER_RE.search(lines[target].strip()):
            target += 1
        found.append((target + 1, match.group(1), match.group(2)))
    return found


def locate(findings: Iterable[tuple[str, str]], text: str, path: str) -> list[Finding]:
    """Give each (code, message) recorded by the transforms the line its marker points at.

    Lines refer to the converted text. Identical markers are matched in file order. Markers
    left by an earlier run that no transform recorded this time are findings too: every marker
    in the file is something a person still has to do.
    """
    free: dict[tuple[str, str], list[int]] = {}
    for line, code, message in markers_in(text):
        free.setdefault((code, message), []).append(line)
    located = []
    for code, message in findings:
        lines = free.get((code, message))
        located.append(Finding(code, path, lines.pop(0) if lines else 0, message))
    for (code, message), lines in free.items():
        located.extend(Finding(code, path, line, message) for line in lines)
    return sorted(located, key=lambda f: (f.line, f.code))


def ignored_codes(comments: Iterable[str]) -> set[str] | None:
    """Codes silenced by ``# f2f: ignore[...]`` comments; None when nothing is silenced.

    A bare ``# f2f: ignore`` silences every code, reported as {"*"}.
    """
    silenced: set[str] = set()
    for comment in comments:
        for match in IGNORE_RE.finditer(comment):
            if match.group(1) is None:
                silenced.add("*")
            else:
                silenced.update(c.strip() for c in match.group(1).split(",") if c.strip())
    return silenced or None


def by_code(findings: Iterable[Finding]) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    return dict(sorted(counts.items()))
