"""Which async HTTP client converted code should call (issue 11): the runtime's shared aiohttp
session against a shared httpx.AsyncClient, behind the same FastAPI endpoint.

Three processes on loopback: an upstream that answers after ``--latency`` (200 ms), a FastAPI
app under uvicorn (1 worker) whose ``async def`` endpoint calls the upstream once per request
through one shared client (created in the lifespan, pool sized above the users), and this
process, driving ``--users`` closed-loop users (each sends its next request when its last one is
answered) for ``--seconds`` per step after a warm-up. Steps alternate the clients at each user
count. Reported per step: requests/s, p50 and p95 latency, errors, and the app process's CPU
time (user + sys) per request. The three processes share the machine's cores (2 here), with
whatever else runs on it.

    .venv/bin/python bench/http_clients.py                      # 100, 400, 800 users, 8 s a step
    .venv/bin/python bench/http_clients.py --users 50 200 --seconds 5

Needs uvicorn, uvloop, httptools, psutil, httpx and aiohttp next to flask2fastapi-runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POOL = 2000  # connections each client may open: above any user count, so no one queues for one


# -- the processes --------------------------------------------------------------------------------
def upstream_main(port: int, latency: float) -> None:
    from aiohttp import web

    async def complete(request: web.Request) -> web.Response:
        await request.read()
        await asyncio.sleep(latency)
        return web.json_response({"choices": [{"message": {"content": "hello"}}]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", complete)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=4096)


def make_app(client: str, upstream: str):
    """The FastAPI app: ``POST /chat`` asks the upstream and answers with its content."""
    from fastapi import FastAPI

    from flask2fastapi_runtime import HttpClientOptions, http_client, read_json, with_http_client

    url = upstream + "/v1/chat/completions"
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    if client == "aiohttp":
        app = FastAPI(lifespan=with_http_client(options=HttpClientOptions(limit=POOL)))

        @app.post("/chat")
        async def chat() -> dict:
            response = await http_client().post(url, json=payload)
            return {"reply": (await read_json(response))["choices"][0]["message"]["content"]}

        return app

    import httpx

    shared: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(app):
        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        async with httpx.AsyncClient(limits=limits, timeout=None) as http:
            shared["client"] = http
            yield

    app = FastAPI(lifespan=lifespan)

    @app.post("/chat")
    async def chat() -> dict:
        response = await shared["client"].post(url, json=payload)
        return {"reply": response.json()["choices"][0]["message"]["content"]}

    return app


def app_main(client: str, port: int, upstream: str) -> None:
    import uvicorn

    uvicorn.run(make_app(client, upstream), host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096)


# -- the load -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def spawn(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "runtime"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, __file__, *args], env=env)


async def drive(url: str, users: int, seconds: float, warmup: float) -> tuple[list[float], int]:
    """Closed-loop users for ``warmup`` then ``seconds``: the latencies and errors of the second part."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    start = time.monotonic()
    measure_from, stop = start + warmup, start + warmup + seconds
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def user() -> None:
            nonlocal errors
            while (now := time.monotonic()) < stop:
                try:
                    async with session.post(url) as response:
                        await response.read()
                        failed = response.status != 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    failed = True
                if now >= measure_from:
                    latencies.append(time.monotonic() - now)
                    errors += failed

        await asyncio.gather(*(user() for _ in range(users)))
    return latencies, errors


def step(client: str, users: int, upstream: str, seconds: float, warmup: float) -> dict[str, float]:
    import psutil

    port = free_port()
    server = spawn("app", client, str(port), upstream)
    try:
        wait_for(port)
        process = psutil.Process(server.pid)
        url = f"http://127.0.0.1:{port}/chat"
        cpu: dict[str, float] = {}

        async def measured() -> tuple[list[float], int]:
            async def mark() -> None:
                await asyncio.sleep(warmup)
                times = process.cpu_times()
                cpu["start"] = times.user + times.system

            marker = asyncio.ensure_future(mark())
            result = await drive(url, users, seconds, warmup)
            await marker
            return result

        latencies, errors = asyncio.run(measured())
        times = process.cpu_times()
        cpu_used = times.user + times.system - cpu["start"]
    finally:
        server.terminate()
        server.wait()
    latencies.sort()
    count = len(latencies)
    return {
        "rps": count / seconds,
        "p50": latencies[count // 2] * 1000 if count else float("nan"),
        "p95": latencies[int(count * 0.95)] * 1000 if count else float("nan"),
        "errors": errors / count * 100 if count else 100.0,
        "cpu_ms": cpu_used / count * 1000 if count else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[100, 400, 800])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--latency", type=float, default=0.2)
    options = parser.parse_args()
    port = free_port()
    upstream = spawn("upstream", str(port), str(options.latency))
    try:
        wait_for(port)
        print(f"upstream latency {options.latency * 1000:.0f} ms, {options.seconds:.0f} s a step after {options.warmup:.0f} s warm-up")
        print("| client | users | req/s | p50 ms | p95 ms | errors % | app CPU ms/req |")
        print("|---|---|---|---|---|---|---|")
        for users in options.users:
            for client in ("aiohttp", "httpx"):
                r = step(client, users, f"http://127.0.0.1:{port}", options.seconds, options.warmup)
                print(
                    f"| {client} | {users} | {r['rps']:.0f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['errors']:.1f} | {r['cpu_ms']:.2f} |",
                    flush=True,
                )
    finally:
        upstream.terminate()
        upstream.wait()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "upstream":
        upstream_main(int(sys.argv[2]), float(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "app":
        app_main(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()
