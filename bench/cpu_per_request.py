"""Server CPU per request: the original Flask app against the converted one (issue 9).

The original runs under gunicorn (gthread, 1 worker x 32 threads), the converted app (a
FlaskBridge) under uvicorn (1 worker, httptools, uvloop, no access log: gunicorn logs none
either). Each listens on a loopback port. For each run, one server at a time gets a warm-up, then
a fixed number of requests from a closed-loop aiohttp client (``--concurrency`` requests in
flight); the CPU time (user + sys) of the server's whole process tree is read from psutil before
and after. Runs alternate (original, converted, original, converted...) and the medians are
reported.

    .venv/bin/python bench/cpu_per_request.py                        # the shop app, 5 runs
    .venv/bin/python bench/cpu_per_request.py --app shop --runs 3 --requests 3000 --concurrency 20

Needs gunicorn, uvicorn, httptools, uvloop, psutil and aiohttp next to flask2fastapi-runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psutil

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "runtime"


@dataclass
class Target:
    """What one app is, in both shapes, and the requests it gets (cycled in order)."""

    original: str  # gunicorn's APP_MODULE
    converted: str  # uvicorn's factory
    pythonpath: list[Path]
    requests: list[tuple[str, str, dict | None, int]]  # method, path, JSON body, expected status
    env: dict[str, str] = field(default_factory=dict)
    ready: str = "/"


APPS: dict[str, Target] = {
    # runtime/tests/shop.py: the same app as Flask wrote it and as the converter leaves it.
    # Two native routes (a GET with a path and a query parameter, a POST with a JSON body) and a
    # bridged one (a Flask view served by Flask inside the bridge); app and blueprint hooks,
    # session, url_for and jsonify on the way.
    "shop": Target(
        original="shop:flask_app()",
        converted="shop:bridged_app",
        pythonpath=[RUNTIME / "tests", RUNTIME],
        requests=[
            ("GET", "/items/3?q=x", None, 200),
            ("POST", "/items/", {"name": "pen"}, 201),
            ("GET", "/items/bridged/zz", None, 200),
        ],
        ready="/items/bridged/ready",
    ),
}
# Single-route variants of the shop, to tell a native route's cost from a bridged one's.
for _name, _request in (("native-get", 0), ("native-post", 1), ("bridged", 2)):
    APPS[f"shop-{_name}"] = Target(**{**APPS["shop"].__dict__, "requests": [APPS["shop"].requests[_request]]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(kind: str, target: Target, runtime: Path | None = None) -> tuple[subprocess.Popen, int]:
    """Start one server; ``runtime``: another copy of runtime/ to serve the converted app with."""
    port = free_port()
    env = {**os.environ, **target.env}
    first = [runtime / "tests", runtime] if runtime is not None else []
    env["PYTHONPATH"] = os.pathsep.join(map(str, [*first, *target.pythonpath, env.get("PYTHONPATH", "")])).rstrip(os.pathsep)
    bind = f"127.0.0.1:{port}"
    if kind == "original":
        command = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1",
                   "--threads", "32", "--bind", bind, "--log-level", "warning", target.original]
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", target.converted, "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "1", "--http", "httptools", "--loop", "uvloop",
                   "--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    return process, port


async def wait_ready(port: int, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}{path}") as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


def cpu_seconds(pid: int) -> float:
    """user + sys of the process and every process below it (gunicorn's master and its worker)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


async def load(port: int, target: Target, count: int, concurrency: int) -> None:
    """``count`` requests, ``concurrency`` at a time (closed loop), checking every status."""
    requests = target.requests
    next_index = 0
    errors: list[str] = []
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def worker() -> None:
            nonlocal next_index
            while next_index < count:
                method, path, body, expected = requests[next_index % len(requests)]
                next_index += 1
                async with session.request(method, base + path, json=body) as response:
                    await response.read()
                    if response.status != expected:
                        errors.append(f"{method} {path}: {response.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if errors:
        raise SystemExit(f"{len(errors)} unexpected answers, e.g. {errors[:3]}")


@dataclass
class Run:
    cpu_ms: float  # per request
    rps: float


async def measure(process: subprocess.Popen, port: int, target: Target, args: argparse.Namespace) -> Run:
    await load(port, target, args.warmup, args.concurrency)
    before = cpu_seconds(process.pid)
    started = time.perf_counter()
    await load(port, target, args.requests, args.concurrency)
    elapsed = time.perf_counter() - started
    after = cpu_seconds(process.pid)
    return Run((after - before) * 1000 / args.requests, args.requests / elapsed)


async def main(args: argparse.Namespace) -> None:
    rows = []
    for name in args.app:
        target = APPS[name]
        servers = {kind: start(kind, target) for kind in ("original", "converted")}
        for runtime in args.runtime:
            servers[f"converted@{runtime}"] = start("converted", target, Path(runtime).resolve())
        try:
            for process, port in servers.values():
                await wait_ready(port, target.ready)
            runs: dict[str, list[Run]] = {kind: [] for kind in servers}
            for index in range(args.runs):
                for kind, (process, port) in servers.items():
                    run = await measure(process, port, target, args)
                    runs[kind].append(run)
                    print(f"{name} run {index + 1} {kind}: {run.cpu_ms:.3f} CPU ms/req, {run.rps:.0f} rps", flush=True)
        finally:
            for process, _ in servers.values():
                process.terminate()
            for process, _ in servers.values():
                process.wait(timeout=10)
        median = {kind: (statistics.median(r.cpu_ms for r in rs), statistics.median(r.rps for r in rs))
                  for kind, rs in runs.items()}
        rows.append((name, median))
    print()
    print(f"{args.requests} requests per run, {args.concurrency} in flight, medians of {args.runs} alternating runs")
    print()
    print("| app | original CPU ms/req | converted CPU ms/req | ratio | original rps | converted rps |")
    print("|---|---|---|---|---|---|")
    for name, median in rows:
        (o_cpu, o_rps) = median["original"]
        for kind, (c_cpu, c_rps) in median.items():
            if kind != "original":
                label = name if kind == "converted" else f"{name} ({kind})"
                print(f"| {label} | {o_cpu:.3f} | {c_cpu:.3f} | {c_cpu / o_cpu:.2f}x | {o_rps:.0f} | {c_rps:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({name: median for name, median in rows}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", action="append", choices=sorted(APPS), help="default: shop")
    parser.add_argument("--requests", type=int, default=3000, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=300, help="requests before each measured batch")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5, help="runs per app and server (alternating)")
    parser.add_argument("--json", help="write the medians here too")
    parser.add_argument("--runtime", action="append", default=[], metavar="DIR",
                        help="also serve the converted app with this copy of runtime/ (A/B of a runtime change)")
    arguments = parser.parse_args()
    arguments.app = arguments.app or ["shop"]
    asyncio.run(main(arguments))
