"""Load benchmark of issue 11: the example chatbot as Flask wrote it against its conversion.

One command starts everything on loopback and tears it down at the end (also on Ctrl-C):
a PostgreSQL server in a temporary folder (and SQLite files), an OpenAI-compatible LLM stub whose
latency is set per run, the original chatbot under gunicorn (sync workers, 2 per core; and its
best gthread configuration, searched), and the chatbot as ``flask2fastapi convert`` leaves it
today (converted at run time from this checkout) under uvicorn, and beside it the chat path written
by hand in FastAPI (loadbench/by_hand.py: what no converter emitting FastAPI can beat, on the same
engine and client). A closed-loop load generator
(its own process) steps the users up, alternating the servers at each step, and reports rps,
p50/p95/p99, errors and CPU per request; then the app's own work per request is replayed without
a framework, to show where the limit is. Tables, plots and the raw results go to --out.

    .venv/bin/pip install -e '.[test,bench]'
    .venv/bin/python bench/load.py --quick       # a smoke run, about 3 minutes
    .venv/bin/python bench/load.py               # the full run, about 40 minutes
    .venv/bin/python bench/load.py --report bench/load-results/results.json   # redraw only
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

from loadbench import report, stats
from loadbench.postgres import TempPostgres
from loadbench.servers import ROOT, Kind, Server, by_hand_kind, converted_kind, gthread_kind, start, sync_kind
from loadbench.upstream import REPLY
from serving import free_port, wait_ready

BENCH = Path(__file__).resolve().parent
SERVERS = 4  # stepped at each latency: sync, the best gthread, converted, FastAPI by hand


@dataclass
class Plan:
    steps: list[int]
    latencies: list[float]
    databases: list[str]
    warmup: float  # at least; a step warms up for max(warmup, latency + 1) s
    duration: float  # the measured window of a step
    search_duration: float  # the window of a step of the gthread search
    candidates: list[tuple[int, int]]  # gthread workers x threads
    accounts: int
    converted_workers: int = 2
    probe_rounds: int = 3  # of the framework probe, at each database's first latency
    pool_size: int = 10
    max_overflow: int = 10

    def warmup_for(self, latency: float) -> float:
        return max(self.warmup, latency + 1)

    def duration_for(self, latency: float) -> float:
        """At least three upstream latencies: a 2 s upstream gives a user few requests per window."""
        return max(self.duration, 3 * latency)

    def timeout_for(self, latency: float) -> float:
        return max(10.0, 5 * latency)

    def expected_seconds(self) -> tuple[float, float]:
        """(a likely duration, an upper bound): a server stops stepping once it collapses, and the
        search stops a candidate at its first failed step, which makes the likely case shorter."""
        likely = bound = 20.0 + 15 * len(self.databases)  # conversion, servers, accounts
        for latency in self.latencies:
            step = self.warmup_for(latency) + self.duration_for(latency) + 1.5
            search = self.warmup_for(latency) + self.search_duration + 1.5
            stall = self.timeout_for(latency)  # a collapsing step waits for its timeouts
            per_db = SERVERS * len(self.steps) * step + len(self.candidates) * len(self.steps) * search
            if latency == self.latencies[0]:
                per_db += SERVERS * self.probe_rounds * (self.warmup_for(0.0) + PROBE_SECONDS + 1.5)
            bound += len(self.databases) * (per_db + 3 * stall + 6)
            likely += len(self.databases) * (0.7 * per_db + 2 * stall + 6)
        return likely + 30, bound + 30


PRESETS = {
    "full": Plan(steps=[5, 10, 25, 50, 100, 150, 200, 300, 400, 600, 800], latencies=[0.2, 2.0], databases=["postgres", "sqlite"],
                 warmup=2, duration=6, search_duration=3, candidates=[(2, 16), (2, 32), (2, 64), (2, 128)],
                 accounts=10),
    "quick": Plan(steps=[10, 50], latencies=[0.2], databases=["postgres", "sqlite"], warmup=1, duration=3,
                  search_duration=2, candidates=[(2, 16), (2, 64)], accounts=3, probe_rounds=1),
}


@dataclass
class Context:
    plan: Plan
    work: Path
    converted: Path
    upstream_port: int
    upstream_pid: int
    cores: int
    database_pid: int = 0  # the PostgreSQL postmaster, 0 on SQLite
    urls: dict[str, str] = field(default_factory=dict)  # database name -> URL
    pairs: dict[str, list] = field(default_factory=dict)  # database name -> [token, conversation]

    @property
    def upstream(self) -> str:
        return f"http://127.0.0.1:{self.upstream_port}/v1"

    def env(self, database: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.urls[database],
            "DATABASE_POOL_SIZE": str(self.plan.pool_size),
            "DATABASE_MAX_OVERFLOW": str(self.plan.max_overflow),
            "LLM_ENABLED": "true", "LLM_BASE_URL": self.upstream, "LLM_MODEL": "bench-model",
            "LLM_TIMEOUT": "30", "SECRET_KEY": "bench-secret", "LOG_LEVEL": "INFO",
        }


def python_module(module: str, *args: str, timeout: float) -> dict:
    """Run a loadbench module in its own process and return the JSON it prints."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=BENCH, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{module} {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout)


def loadgen(ctx: Context, command: str, spec: dict, timeout: float) -> dict:
    path = ctx.work / f"spec-{command}.json"
    path.write_text(json.dumps(spec))
    return python_module("loadbench.loadgen", command, str(path), timeout=timeout)


def convert(work: Path) -> Path:
    """``flask2fastapi convert example_chatbot --out WORK/converted/example_chatbot --ignore F2F151``
    with this checkout's converter: the benchmark measures what the converter makes today."""
    out = work / "converted"
    code = "import sys; from codemod.cli import main; sys.argv[0] = 'flask2fastapi'; main()"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "runtime")])}
    done = subprocess.run([sys.executable, "-c", code, "convert", "example_chatbot", "--out",
                           str(out / "example_chatbot"), "--ignore", "F2F151"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"flask2fastapi convert exited {done.returncode}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return out


def converted_shape(converted: Path) -> dict[str, str]:
    """What the converted chatbot runs on: its routes (def or async def), DB session, LLM client."""
    package = converted / "example_chatbot"
    text = "\n".join(path.read_text() for path in package.glob("*.py"))
    chat = (package / "chat.py").read_text()
    asynchronous = "async def send_message" in chat
    session = "async" if ("AsyncSession" in text or "async_db" in text or "create_async_engine" in text) else "sync"
    client = next((name for name in ("aiohttp", "httpx") if f"import {name}" in text or f"from {name}" in text),
                  "requests")
    return {"routes": "async def" if asynchronous else "def (thread pool)", "session": session, "client": client}


def setup_upstream(stack: ExitStack, work: Path) -> tuple[int, int]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(BENCH)}
    with open(work / "upstream.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "loadbench.upstream", "--port", str(port)], cwd=BENCH,
                                   env=env, stdout=log, stderr=log, start_new_session=True)
    stack.callback(_stop_process, process)
    asyncio.run(wait_ready(port, "/_bench/stats"))
    return port, process.pid


def _stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def set_latency(ctx: Context, seconds: float) -> None:
    async def post() -> None:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{ctx.upstream_port}/_bench/latency"
            async with session.post(url, json={"seconds": seconds}) as response:
                response.raise_for_status()

    asyncio.run(post())


async def _check_shape(server: Server) -> None:
    """Only the FastAPI servers (converted, by hand) serve /openapi.json: the right app runs."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{server.base}/openapi.json") as response:
            await response.read()
            if (response.status == 200) != (server.kind.shape in ("converted", "by_hand")):
                raise SystemExit(f"{server.kind.label}: /openapi.json answered {response.status}: wrong app")


def launch(ctx: Context, stack: ExitStack, kind: Kind, database: str) -> Server:
    if kind.shape == "by_hand" and database not in ctx.pairs:
        # the hand-written app has only the chat route: a converted server sets its database up
        # (accounts, tokens, conversations), as each server's own database is set up
        with ExitStack() as setup:
            launch(ctx, setup, converted_kind(1), database)
    server = start(kind, ctx.env(database), ctx.converted, ctx.work)
    server.database = database
    stack.callback(server.stop)
    try:
        asyncio.run(wait_ready(server.port, "/health/live", timeout=60))
        asyncio.run(_check_shape(server))
    except BaseException:
        server.stop()
        raise SystemExit(f"{kind.label} did not start; its log ({server.log}):\n{server.log.read_text()[-3000:]}")
    if database not in ctx.pairs:
        spec = {"base": server.base, "accounts": ctx.plan.accounts, "conversations": max(ctx.plan.steps),
                "expected_reply": REPLY, "prefix": database}
        ctx.pairs[database] = loadgen(ctx, "setup", spec, timeout=600)["pairs"]
    return server


def run_step(ctx: Context, server: Server, users: int, latency: float, duration: float,
             probe: str | None = None) -> stats.Step:
    pids = {"server": server.process.pid, "upstream": ctx.upstream_pid}
    if ctx.database_pid:
        pids["database"] = ctx.database_pid
    spec = {"base": server.base, "users": users, "pairs": ctx.pairs[server.database][:users],
            "warmup": ctx.plan.warmup_for(latency), "duration": duration, "stagger": latency,
            "timeout": ctx.plan.timeout_for(latency), "pids": pids, "probe": probe}
    limit = spec["warmup"] + duration + spec["timeout"] + 60
    raw = loadgen(ctx, "step", spec, timeout=limit)
    step = stats.summarize(server.kind.label, users, raw["seconds"], raw["latencies"],
                           sum(raw["errors"].values()), raw["cpu"], raw["errors"])
    print(f"  {server.kind.label:>16} {users:>4} users: {step.rps:7.1f} rps  p50 {_ms(step.p50)}  "
          f"p95 {_ms(step.p95)}  p99 {_ms(step.p99)}  errors {step.error_rate:6.1%}  "
          f"CPU {step.cpu_ms_per_request():6.2f} ms/req", flush=True)
    return step


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms" if seconds != float("inf") else "  failed"


# The framework probe: each server answers GET /health/live (``{"status": "ok"}``: no database,
# no upstream, but the app's hooks, CORS and error handling as on every request) as fast as it
# can; its CPU per request is the framework and server's cost of a request, measured rather than
# left over from a subtraction. A few short rounds, alternating the servers; the median counts.
PROBE, PROBE_USERS, PROBE_SECONDS = "/health/live", 16, 4.0


def search_gthread(ctx: Context, stack: ExitStack, latency: float) -> tuple[Kind, list[dict]]:
    """The best gthread workers x threads for this latency: each candidate steps up the users (short
    steps) until it misses the SLO; the most users wins, then the most rps at the step it missed
    (the one that bears overload best: under a CPU-bound load, the one with the least overhead)."""
    rows, best = [], None
    for workers, threads in ctx.plan.candidates:
        kind = gthread_kind(workers, threads)
        with ExitStack() as own:
            server = launch(ctx, own, kind, "search")
            steps = []
            for users in ctx.plan.steps:
                step = run_step(ctx, server, users, latency, ctx.plan.search_duration)
                steps.append(step)
                if not stats.meets_slo(step, latency):
                    break
                server.settle()
        top = stats.capacity(steps, latency)
        past = steps[-1].rps  # the step it missed, or the last one if it missed none
        rows.append({"kind": kind.label, "capacity": top, "rps_past_capacity": past,
                     "steps": [asdict(s) for s in steps]})
        if best is None or (top, past) > (best[1], best[2]):
            best = (kind, top, past)
    print(f"  gthread search: {best[0].label} (capacity {best[1]} users)", flush=True)
    return best[0], rows


def run_latency(ctx: Context, stack: ExitStack, backend: str, latency: float, probe: bool) -> dict:
    set_latency(ctx, latency)
    load_before = os.getloadavg()
    started = time.monotonic()
    print(f"{backend}, upstream {latency * 1000:.0f} ms: gthread search", flush=True)
    best, search = search_gthread(ctx, stack, latency)
    kinds = [sync_kind(ctx.cores), best, converted_kind(ctx.plan.converted_workers),
             by_hand_kind(ctx.plan.converted_workers)]
    databases = {"sync": "sync", "gthread": "gthread", "converted": "converted", "by_hand": "by_hand"}
    results: dict[str, list[stats.Step]] = {kind.label: [] for kind in kinds}
    notes: dict[str, str] = {}
    probes: dict[str, list[dict]] = {kind.label: [] for kind in kinds}
    with ExitStack() as own:
        running = {kind: launch(ctx, own, kind, databases[kind.shape]) for kind in kinds}
        if probe:
            print(f"{backend}: framework probe ({PROBE})", flush=True)
        for _ in range(ctx.plan.probe_rounds if probe else 0):  # alternating, as the steps do
            for kind in kinds:
                probes[kind.label].append(asdict(run_step(ctx, running[kind], PROBE_USERS, 0.0, PROBE_SECONDS, PROBE)))
                running[kind].settle()
        print(f"{backend}, upstream {latency * 1000:.0f} ms: stepping up", flush=True)
        for index, users in enumerate(ctx.plan.steps):
            order = kinds[index % len(kinds):] + kinds[:index % len(kinds)]  # no server always first
            for kind in order:
                if kind not in running:
                    continue
                step = run_step(ctx, running[kind], users, latency, ctx.plan.duration_for(latency))
                results[kind.label].append(step)
                if stats.collapsed(step, latency):
                    notes[kind.label] = f"stopped after {users} users (collapsed)"
                    running.pop(kind).stop()  # its queue would keep the CPU busy for the next server
                else:
                    running[kind].settle()
            if not running:
                break
    return {
        "backend": backend, "latency": latency, "search": search, "best_gthread": best.label,
        "servers": [kind.label for kind in kinds],
        "steps": {label: [asdict(s) for s in steps] for label, steps in results.items()},
        "notes": notes, "probes": probes, "load_before": load_before, "load_after": os.getloadavg(),
        "seconds": time.monotonic() - started,
    }


def sqlite_urls(work: Path, names: list[str]) -> dict[str, str]:
    urls = {}
    for name in names:
        path = work / f"{name}.sqlite3"
        # WAL, kept in the file: in the default rollback journal, concurrent writers get "database is
        # locked" (a 500) now and then, from any server (bench/README.md, CPU per request)
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
        urls[name] = f"sqlite:///{path}"
    return urls


def create_schemas(urls) -> None:
    """The chatbot's tables, made once before any server starts: each worker process runs the app's
    create_all at start, and on a fresh PostgreSQL database several at once race (a duplicate type)."""
    code = ("import sys\nfrom example_chatbot.db import make_engine\nfrom example_chatbot.models import Base\n"
            "for url in sys.argv[1:]:\n    engine = make_engine(url)\n    Base.metadata.create_all(engine)\n"
            "    engine.dispose()\n")
    subprocess.run([sys.executable, "-c", code, *urls], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


def profile_app_work(ctx: Context, backend: str) -> dict:
    """The app's own work per request, replayed without a framework (loadbench.workload)."""
    set_latency(ctx, 0)
    url = ctx.urls["work"]
    out = {}
    for flavor in ("sync", "async"):
        out[flavor] = python_module("loadbench.workload", "--flavor", flavor, "--database-url", url,
                                    "--upstream", ctx.upstream, "--pool-size", str(ctx.plan.pool_size),
                                    "--max-overflow", str(ctx.plan.max_overflow), timeout=300)["ms_per_request"]
        print(f"  app work, {backend}, {flavor}: " + ", ".join(f"{k} {v:.2f}" for k, v in out[flavor].items())
              + " ms/req", flush=True)
    return out


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("flask", "werkzeug", "fastapi", "starlette", "uvicorn", "gunicorn", "sqlalchemy", "psycopg",
                 "asyncpg", "aiosqlite", "requests", "aiohttp", "httptools", "uvloop"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    return found


def commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")


def run(args: argparse.Namespace, plan: Plan) -> dict:
    likely, bound = plan.expected_seconds()
    print(f"{'quick' if args.quick else 'full'} run: about {likely / 60:.0f} min, at most {bound / 60:.0f} min; "
          f"steps {plan.steps} users, upstream {[f'{x * 1000:.0f} ms' for x in plan.latencies]}, "
          f"databases {plan.databases}", flush=True)
    results = {"started": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit(),
               "plan": asdict(plan), "cores": os.cpu_count(), "versions": versions(),
               "load_at_start": os.getloadavg(), "runs": [], "app_work": {}}
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="f2f-load-"))
        if not args.keep:
            stack.callback(shutil.rmtree, work, ignore_errors=True)
        print(f"work folder (logs, databases): {work}", flush=True)
        converted = convert(work)
        results["converted"] = converted_shape(converted)
        print(f"converted chatbot: {results['converted']}", flush=True)
        port, pid = setup_upstream(stack, work)
        ctx = Context(plan, work, converted, port, pid, os.cpu_count() or 1)
        names = ["sync", "gthread", "converted", "by_hand", "search", "work"]
        for backend in plan.databases:
            ctx.pairs = {}
            with ExitStack() as database:
                if backend == "postgres":
                    pg = database.enter_context(TempPostgres())
                    for name in names:
                        pg.create(name)
                    ctx.urls, ctx.database_pid = {name: pg.url(name) for name in names}, pg.pid
                else:
                    (work / backend).mkdir()
                    ctx.urls, ctx.database_pid = sqlite_urls(work / backend, names), 0
                create_schemas(ctx.urls.values())
                for latency in plan.latencies:
                    results["runs"].append(run_latency(ctx, database, backend, latency, probe=latency == plan.latencies[0]))
                    _save(args, results)
                results["app_work"][backend] = profile_app_work(ctx, backend)
                _save(args, results)
    results["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["load_at_end"] = os.getloadavg()
    return results


def _save(args: argparse.Namespace, results: dict) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))


def _interrupt(_signal, _frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (two small steps, 200 ms only)")
    parser.add_argument("--out", type=Path, help="results, tables and plots (default: bench/load-results, "
                        "or a temporary folder with --quick)")
    parser.add_argument("--database", action="append", choices=["postgres", "sqlite"], help="default: both")
    parser.add_argument("--latency", action="append", type=float, help="upstream seconds (repeatable)")
    parser.add_argument("--steps", help="users per step, comma-separated")
    parser.add_argument("--duration", type=float, help="seconds of a step's measured window")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, SQLite files)")
    parser.add_argument("--readme", action="store_true", help="also write the tables into bench/README.md")
    parser.add_argument("--report", type=Path, metavar="RESULTS_JSON", help="only redraw tables and plots")
    args = parser.parse_args()
    if args.report:
        results = json.loads(args.report.read_text())
        args.out = args.out or args.report.parent
    else:
        plan = PRESETS["quick" if args.quick else "full"]
        if args.database:
            plan.databases = args.database
        if args.latency:
            plan.latencies = args.latency
        if args.steps:
            plan.steps = [int(x) for x in args.steps.split(",")]
        if args.duration:
            plan.duration = args.duration
        args.out = args.out or (Path(tempfile.mkdtemp(prefix="f2f-load-quick-")) if args.quick
                                else BENCH / "load-results")
        # Ctrl-C and SIGTERM unwind through the ExitStacks: every server, the database, the folders
        signal.signal(signal.SIGTERM, _interrupt)
        results = run(args, plan)
        _save(args, results)
    markdown = report.write(results, args.out)
    print()
    print(markdown)
    print(f"(results, tables and plots: {args.out})")
    if args.readme:
        report.update_readme(BENCH / "README.md", markdown)


if __name__ == "__main__":
    main()
