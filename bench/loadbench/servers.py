"""The servers of the load benchmark: the original chatbot under gunicorn (sync or gthread
workers), the converted one under uvicorn, and the chat path written by hand in FastAPI
(loadbench.by_hand) under uvicorn the same way, each in its own process group on a loopback port,
configured through the environment as a deployment would (example_chatbot.config)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from serving import cpu_seconds, free_port

ROOT = Path(__file__).resolve().parent.parent.parent
RUNTIME = ROOT / "runtime"


@dataclass(frozen=True)
class Kind:
    """How one server runs: ``sync`` (gunicorn sync workers), ``gthread``, ``converted`` or
    ``by_hand``."""

    name: str  # as the tables show it
    shape: str
    workers: int
    threads: int = 1

    @property
    def label(self) -> str:
        if self.shape == "gthread":
            return f"gthread {self.workers}x{self.threads}"
        return self.name


def sync_kind(cores: int) -> Kind:
    return Kind(f"sync {2 * cores}w", "sync", 2 * cores)


def gthread_kind(workers: int, threads: int) -> Kind:
    return Kind(f"gthread {workers}x{threads}", "gthread", workers, threads)


def converted_kind(workers: int) -> Kind:
    return Kind(f"converted {workers}w", "converted", workers)


def by_hand_kind(workers: int) -> Kind:
    return Kind(f"FastAPI by hand {workers}w", "by_hand", workers)


@dataclass
class Server:
    kind: Kind
    process: subprocess.Popen
    port: int
    log: Path
    database: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)

    def settle(self, quiet: float = 0.03, window: float = 0.25, limit: float = 10.0) -> float:
        """Wait until the server is idle (less than ``quiet`` of a core over ``window`` s): a step
        must not run while another server still works off its queue. Returns the seconds waited."""
        started = time.monotonic()
        last = self.cpu()
        while time.monotonic() - started < limit:
            time.sleep(window)
            now = self.cpu()
            if now - last < quiet * window:
                break
            last = now
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            except ProcessLookupError:
                pass


def start(kind: Kind, env: dict[str, str], converted_root: Path, logs: Path) -> Server:
    port = free_port()
    bind = f"127.0.0.1:{port}"
    environment = {**os.environ, **env}
    if kind.shape in ("converted", "by_hand"):
        factory = "example_chatbot:create_app" if kind.shape == "converted" else "loadbench.by_hand:create_app"
        command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
                   "--port", str(port), "--workers", str(kind.workers), "--no-access-log",
                   "--log-level", "warning", "--backlog", "2048"]
        for option, module in (("--http", "httptools"), ("--loop", "uvloop")):
            if _importable(module):
                command += [option, module]
        if kind.shape == "converted":
            cwd = converted_root  # its example_chatbot is the converted package
            paths = [str(RUNTIME)]
        else:  # the original's models and engine, the runtime's async engine, loadbench
            cwd = ROOT
            paths = [str(ROOT), str(RUNTIME), str(ROOT / "bench")]
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [*paths, env.get("PYTHONPATH", "")]))
    else:
        command = [sys.executable, "-m", "gunicorn", "--worker-class", kind.shape, "--workers", str(kind.workers),
                   "--bind", bind, "--log-level", "warning", "--backlog", "2048", "example_chatbot:create_app()"]
        if kind.shape == "gthread":
            command[command.index("--workers"):command.index("--workers")] = ["--threads", str(kind.threads)]
        cwd = ROOT
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    log = logs / f"{kind.label.replace(' ', '-')}-{port}.log"
    with open(log, "w") as stream:  # the app logs a line per request, as in production
        process = subprocess.Popen(command, env=environment, cwd=cwd, stdout=stream, stderr=stream,
                                   start_new_session=True)
    return Server(kind, process, port, log)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
