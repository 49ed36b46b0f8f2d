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
    .venv/bin/python bench/cpu_per_request.py --app chatbot --runs 5   # example_chatbot (converted into a temp dir)
    .venv/bin/python bench/cpu_per_request.py --app async-native --app async-native-hooked --runtime /tmp/old/runtime

Needs gunicorn, uvicorn, httptools, uvloop, psutil and aiohttp next to flask2fastapi-runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from serving import cpu_seconds, free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "runtime"
WORK = Path(tempfile.mkdtemp(prefix="f2f-cpu-"))  # converted trees, databases, server logs


@dataclass
class Target:
    """What one app is, in both shapes, and the requests it gets (cycled in order)."""

    original: str  # gunicorn's APP_MODULE
    converted: str  # uvicorn's factory
    pythonpath: list[Path]
    # method, path, JSON body, expected status[, headers]; the path and header values are
    # str.format templates of what ``login`` gave (every server has its own database and ids)
    requests: list[tuple]
    env: dict[str, str] = field(default_factory=dict)
    ready: str = "/"
    # where each kind of server runs (its cwd comes first on sys.path); default ROOT
    cwd: dict[str, Callable[[], Path]] = field(default_factory=dict)
    # before the timed part, once per server: (values for the paths, headers for every request)
    login: Callable[[aiohttp.ClientSession, str], Awaitable[tuple[dict, dict]]] | None = None
    fresh_database: bool = False  # each server gets BENCH_DATABASE_URL, a new SQLite file
    prepare: Callable[[], object] | None = None  # before any server starts


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

# An async native route (bench/async_native_app.py): with nothing registered it takes the
# runtime's fast path (no Flask cycle, no thread hop); "-hooked" adds an after_request hook, which
# keeps the slow one. Compare runtimes with --runtime (e.g. a checkout from before the fast path).
for _name, _suffix in (("async-native", ""), ("async-native-hooked", "_with_hook")):
    APPS[_name] = Target(
        original=f"async_native_app:flask_app{_suffix}()",
        converted=f"async_native_app:bridged_app{_suffix}",
        pythonpath=[ROOT / "bench", RUNTIME],
        requests=[("GET", "/items/3?q=x", None, 200)],
        ready="/ready",
    )

# example_chatbot as it is (the original, run from ROOT) and as ``flask2fastapi convert`` leaves
# it (run from a directory holding the converted package only). Both through the same factory
# wrapper, which gives create_app a mapping: this server's own SQLite file, the local responder.
CHATBOT_WRAPPER = """\
import os

from example_chatbot import create_app


def app():
    return create_app({
        "DATABASE_URL": os.environ["BENCH_DATABASE_URL"],
        "LLM_ENABLED": True, "LLM_BASE_URL": None, "LOCAL_RESPONDER_LATENCY_MS": 0,
    })
"""


def converted_chatbot() -> Path:
    """``flask2fastapi convert example_chatbot --out WORK/converted/example_chatbot``, once."""
    out = WORK / "converted"
    if not (out / "example_chatbot").exists():
        command = [str(ROOT / ".venv" / "bin" / "flask2fastapi"), "convert", "example_chatbot",
                   "--out", str(out / "example_chatbot"), "--ignore", "F2F151"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"convert exited {result.returncode}:\n{result.stdout}{result.stderr}")
    return out


def chatbot_wrapper() -> Path:
    folder = WORK / "wrapper"
    folder.mkdir(exist_ok=True)
    (folder / "chatbot_bench_app.py").write_text(CHATBOT_WRAPPER)
    return folder


async def chatbot_login(session: aiohttp.ClientSession, base: str) -> tuple[dict, dict]:
    """A user and its token; conversation ``read`` (two exchanges, then only read) and ``chat``
    (gets the timed messages; the prompt reads at most HISTORY_LIMIT of them). The timed
    POST /conversations are another user's (``writer``), so that the first user's list, which
    GET /conversations counts and sorts, does not grow from run to run."""

    async def call(method: str, path: str, body: dict, expected: int, headers: dict | None = None) -> dict:
        async with session.request(method, base + path, json=body, headers=headers) as response:
            if response.status != expected:
                raise SystemExit(f"{method} {path}: {response.status} {await response.text()}")
            return await response.json()

    tokens = {}
    for name in ("bench", "writer"):
        account = {"username": name, "password": "bench-password"}
        await call("POST", "/auth/register", account, 201)
        tokens[name] = (await call("POST", "/auth/login", account, 200))["access_token"]
    headers = {"Authorization": f"Bearer {tokens['bench']}"}
    read = (await call("POST", "/conversations", {"title": "read"}, 201, headers))["id"]
    for content in ("hello there", "how are you today?"):
        await call("POST", f"/conversations/{read}/messages", {"content": content}, 201, headers)
    chat = (await call("POST", "/conversations", {"title": "chat"}, 201, headers))["id"]
    return {"read": read, "chat": chat, "writer": f"Bearer {tokens['writer']}"}, headers


APPS["chatbot"] = Target(
    original="chatbot_bench_app:app()",
    converted="chatbot_bench_app:app",
    pythonpath=[WORK / "wrapper"],
    cwd={"converted": converted_chatbot},
    login=chatbot_login,
    fresh_database=True,
    prepare=chatbot_wrapper,
    ready="/health/live",
    # reads outnumber writes; every route of the mix is native in the converted app
    requests=[
        ("GET", "/health/live", None, 200),
        ("GET", "/auth/me", None, 200),
        ("GET", "/conversations", None, 200),
        ("GET", "/conversations/{read}", None, 200),
        ("POST", "/conversations", {"title": "bench"}, 201, {"Authorization": "{writer}"}),
        ("GET", "/auth/me", None, 200),
        ("GET", "/conversations/{read}", None, 200),
        ("POST", "/conversations/{chat}/messages", {"content": "What is the weather like?"}, 201),
    ],
)


def start(kind: str, target: Target, runtime: Path | None = None) -> tuple[subprocess.Popen, int]:
    """Start one server; ``runtime``: another copy of runtime/ to serve the converted app with."""
    port = free_port()
    env = {**os.environ, **target.env}
    if target.fresh_database:
        database = tempfile.mkstemp(suffix=".sqlite3", dir=WORK)[1]
        # WAL (kept in the file): in the default rollback journal, concurrent writers under load
        # got "database is locked" (a 500) now and then, from either server
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
        env["BENCH_DATABASE_URL"] = f"sqlite:///{database}"
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
    cwd = target.cwd.get(kind.split("@")[0], lambda: ROOT)()
    log = open(tempfile.mkstemp(prefix=f"{kind.split('@')[0]}-", suffix=".log", dir=WORK)[1], "w")
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=log)  # the app logs each request
    return process, port


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    values: dict = field(default_factory=dict)  # for the request paths (login)
    headers: dict = field(default_factory=dict)  # sent with every request (login)


async def load(server: Server, target: Target, count: int, concurrency: int) -> None:
    """``count`` requests, ``concurrency`` at a time (closed loop), checking every status."""
    port = server.port
    requests = [(method, path.format(**server.values), body, expected,
                 {name: value.format(**server.values) for name, value in headers[0].items()} if headers else None)
                for method, path, body, expected, *headers in target.requests]
    next_index = 0
    errors: list[str] = []
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(),
                                     headers=server.headers) as session:

        async def worker() -> None:
            nonlocal next_index
            while next_index < count:
                method, path, body, expected, headers = requests[next_index % len(requests)]
                next_index += 1
                async with session.request(method, base + path, json=body, headers=headers) as response:
                    await response.read()
                    if response.status != expected:
                        errors.append(f"{method} {path}: {response.status}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    if errors:
        raise SystemExit(f"{len(errors)} unexpected answers, e.g. {errors[:3]}")


async def check_shape(kind: str, port: int) -> None:
    """The converted server serves a FastAPI app (its /openapi.json), the original does not."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/openapi.json") as response:
            await response.read()
            if (response.status == 200) != kind.startswith("converted"):
                raise SystemExit(f"{kind} server: /openapi.json answered {response.status}: wrong app shape")


@dataclass
class Run:
    cpu_ms: float  # per request
    rps: float


async def measure(server: Server, target: Target, args: argparse.Namespace) -> Run:
    await load(server, target, args.warmup, args.concurrency)
    before = cpu_seconds(server.process.pid)
    started = time.perf_counter()
    await load(server, target, args.requests, args.concurrency)
    elapsed = time.perf_counter() - started
    after = cpu_seconds(server.process.pid)
    return Run((after - before) * 1000 / args.requests, args.requests / elapsed)


async def main(args: argparse.Namespace) -> None:
    rows = []
    for name in args.app:
        target = APPS[name]
        if target.prepare is not None:
            target.prepare()
        servers = {kind: Server(*start(kind, target)) for kind in ("original", "converted")}
        for runtime in args.runtime:
            servers[f"converted@{runtime}"] = Server(*start(f"converted@{runtime}", target, Path(runtime).resolve()))
        try:
            for kind, server in servers.items():
                await wait_ready(server.port, target.ready)
                await check_shape(kind, server.port)
                if target.login is not None:
                    async with aiohttp.ClientSession() as session:
                        server.values, server.headers = await target.login(session, f"http://127.0.0.1:{server.port}")
            runs: dict[str, list[Run]] = {kind: [] for kind in servers}
            for index in range(args.runs):
                for kind, server in servers.items():
                    run = await measure(server, target, args)
                    runs[kind].append(run)
                    print(f"{name} run {index + 1} {kind}: {run.cpu_ms:.3f} CPU ms/req, {run.rps:.0f} rps", flush=True)
        finally:
            for server in servers.values():
                server.process.terminate()
            for server in servers.values():
                server.process.wait(timeout=10)
        median = {kind: (statistics.median(r.cpu_ms for r in rs), statistics.median(r.rps for r in rs))
                  for kind, rs in runs.items()}
        rows.append((name, median))
    print()
    print(f"(servers' logs and databases: {WORK})")
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
