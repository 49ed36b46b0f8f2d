"""Recordings of a test suite's HTTP traffic: made by running its own command, kept as a file.

``record(folder, command)`` runs the command (a shell command, in ``folder``, with the project's
own interpreter: the one the command names) with codemod/recorder.py loaded as a pytest plugin
through ``PYTEST_ADDOPTS``, and returns a ``Recording``: per test (pytest's nodeid), its outcome
and the requests it sent, in order, with their answers; and the Flask route table.

The file (``save`` / ``load``) is JSON lines, stable (keys sorted, tests and requests in order)
and diffable, one JSON object a line; a name ending in ``.gz`` is written gzip-compressed (the
same bytes on every save: no timestamp), for suites whose pages make the plain file large:

1. a header: ``{"format": "flask2fastapi-recording", "version": 1, "command": ..., "routes":
   [[rule, [methods], endpoint], ...]}`` (the Flask url_map the tests reached, HEAD and OPTIONS
   left out);
2. per test, a line ``{"test": nodeid, "outcome": "passed"|"failed"|"skipped"|"unknown",
   "unstable": bool}`` followed by its requests, each a line ``{"test", "seq", "via": "wsgi"|"asgi",
   "rule", "endpoint", "request": {"method", "path", "query", "headers": [[name, value]...],
   "body" | "body_base64"}, "response": {"status", "headers", "body" | "body_base64"[, "raised"]},
   "masked": [pointer...], "optional": [pointer...]}``. Header names are lower case; a body is
   text when it is UTF-8, else base64, and past 64 KiB only ``body_length`` and ``body_sha256``;
   ``raised`` names the exception a request raised into the test; ``rule`` and ``endpoint`` are
   Flask's match (null where Flask matched none: a 404, a 405). ``masked`` and ``optional`` (left
   out when empty) are JSON pointers into the exchange's comparable form (codemod/masking.py):
   values that differed between recordings of the original, and parts present in only some of
   them. ``unstable``: the test sent other requests in another recording; it is not compared.
   The test id ``""`` holds requests sent outside any test.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT, VERSION = "flask2fastapi-recording", 1
PLUGIN = "codemod.recorder"
# pytest-randomly would send the requests in another order each run; the cache is the project's
ADDOPTS = f"-p {PLUGIN} -p no:randomly -p no:cacheprovider"


@dataclass
class RecordedTest:
    outcome: str = "unknown"
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    unstable: bool = False


@dataclass
class Recording:
    command: str
    routes: list[list[Any]] = field(default_factory=list)
    tests: dict[str, RecordedTest] = field(default_factory=dict)
    returncode: int | None = None
    output: str = ""

    @property
    def requests(self) -> int:
        return sum(len(t.exchanges) for t in self.tests.values())


class RecordingError(RuntimeError):
    """A test command could not be run or recorded nothing; or a file is no recording."""


def plugin_path() -> Path:
    """A folder to put on PYTHONPATH so that ``codemod.recorder`` imports in any interpreter:
    ``codemod`` is a namespace package, so this portion joins an installed one, if any."""
    folder = Path(tempfile.mkdtemp(prefix="f2f-plugin-"))
    (folder / "codemod").mkdir()
    shutil.copy(Path(__file__).with_name("recorder.py"), folder / "codemod" / "recorder.py")
    return folder


def record(folder: Path, command: str, env: dict[str, str] | None = None, timeout: float = 3600) -> Recording:
    """Run ``command`` in ``folder`` with the recorder; what its tests sent and got."""
    plugin, out = plugin_path(), Path(tempfile.mkdtemp(prefix="f2f-record-"))
    variables = {**os.environ, **(env or {})}
    variables["PYTEST_ADDOPTS"] = f"{variables.get('PYTEST_ADDOPTS', '')} {ADDOPTS}".strip()
    variables["PYTHONPATH"] = os.pathsep.join(p for p in (str(plugin), variables.get("PYTHONPATH", "")) if p)
    variables["PYTHONDONTWRITEBYTECODE"] = "1"
    variables["FLASK2FASTAPI_RECORD_DIR"] = str(out)
    try:
        done = subprocess.run(
            command, shell=True, cwd=folder, env=variables, capture_output=True, text=True, timeout=timeout
        )
        lines = [json.loads(line) for path in sorted(out.glob("*.jsonl")) for line in path.read_text("utf-8").splitlines()]
    except subprocess.TimeoutExpired as error:
        raise RecordingError(f"`{command}` in {folder} did not end within {timeout:.0f} s") from error
    finally:
        shutil.rmtree(plugin, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    recording = merge(command, lines)
    recording.returncode, recording.output = done.returncode, (done.stdout + done.stderr)[-4000:]
    if not recording.tests:
        raise RecordingError(
            f"`{command}` in {folder} (exit {done.returncode}) sent no request through Flask or Starlette: "
            f"is it a pytest command?\n{recording.output}"
        )
    return recording


def merge(command: str, lines: list[dict[str, Any]]) -> Recording:
    """The recorder's lines (of every process) as one Recording."""
    recording = Recording(command)
    routes: set[tuple[str, tuple[str, ...], str]] = set()
    phases: dict[str, dict[str, str]] = {}
    for line in lines:
        if "routes" in line:
            routes |= {(rule, tuple(methods), endpoint) for rule, methods, endpoint in line["routes"]}
        elif "phase" in line:
            phases.setdefault(line["test"], {})[line["phase"]] = line["outcome"]
        else:
            recording.tests.setdefault(line["test"], RecordedTest()).exchanges.append(line)
    for test, outcomes in phases.items():
        recording.tests.setdefault(test, RecordedTest()).outcome = _outcome(outcomes)
    for test in recording.tests.values():
        test.exchanges.sort(key=lambda exchange: exchange["seq"])
        for index, exchange in enumerate(test.exchanges):
            exchange["seq"] = index  # numbered per test (the recorder numbers per process)
    recording.routes = [[rule, list(methods), endpoint] for rule, methods, endpoint in sorted(routes)]
    recording.tests = dict(sorted(recording.tests.items()))
    return recording


def _outcome(phases: dict[str, str]) -> str:
    if "failed" in phases.values():
        return "failed"
    if "skipped" in phases.values():
        return "skipped"
    return phases.get("call", "unknown")


def save(recording: Recording, path: Path) -> None:
    header = {"format": FORMAT, "version": VERSION, "command": recording.command, "routes": recording.routes}
    lines = [header]
    for name, test in recording.tests.items():
        lines.append({"test": name, "outcome": test.outcome, "unstable": test.unstable})
        lines += [{k: v for k, v in exchange.items() if k != "test"} | {"test": name} for exchange in test.exchanges]
    data = "".join(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.suffix == ".gz" else data)


def load(path: Path) -> Recording:
    try:
        data = path.read_bytes()
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
        lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, ValueError, EOFError) as error:
        raise RecordingError(f"{path}: {error}") from error
    if not lines or lines[0].get("format") != FORMAT or lines[0].get("version") != VERSION:
        raise RecordingError(f"{path}: not a {FORMAT} file of version {VERSION}")
    recording = Recording(lines[0]["command"], routes=lines[0].get("routes", []))
    for line in lines[1:]:
        test = recording.tests.setdefault(line["test"], RecordedTest())
        if "outcome" in line:
            test.outcome, test.unstable = line["outcome"], line.get("unstable", False)
        else:
            test.exchanges.append(line)
    return recording
