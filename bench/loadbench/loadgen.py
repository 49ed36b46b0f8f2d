"""The closed-loop load generator of bench/load.py, a process of its own (asyncio + aiohttp).

    python -m loadbench.loadgen setup SPEC.json   # accounts, tokens, conversations; prints JSON
    python -m loadbench.loadgen step SPEC.json    # one step: N users for a warm-up + a window

A step: every simulated user loops POST /conversations/<its own id>/messages (token check,
history read, the LLM upstream, the write), or GETs the spec's ``probe`` path, with no think
time, the users' first requests spread over the first upstream latency so that they do not move
in lockstep. Requests that start inside the measured window count; when it ends no user starts
another, and those in flight are awaited (up to the client timeout). The CPU of the given process
trees is read at the window's edges.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time

import aiohttp
import psutil

from serving import cpu_seconds

MESSAGE = {"content": "What is the weather like today, and should I take an umbrella?"}
PASSWORD = "bench-password-1"


async def _call(session: aiohttp.ClientSession, method: str, url: str, expected: int, **options) -> object:
    async with session.request(method, url, **options) as response:
        body = await response.text()
        if response.status != expected:
            raise SystemExit(f"{method} {url}: HTTP {response.status}, expected {expected}: {body[:500]}")
        return json.loads(body) if body and response.content_type == "application/json" else body


async def setup(spec: dict) -> dict:
    """Register and log in ``accounts`` users (each password hash costs a few hundred ms of the
    server's CPU: that is why there are fewer accounts than simulated users), then make
    ``conversations`` conversations, dealt to the accounts in turn. Checks the chat endpoint once,
    plain and streamed, and that its reply is the upstream stub's (not the app's local responder)."""
    base = spec["base"]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        limit = asyncio.Semaphore(2)

        async def account(index: int) -> str:
            user = {"username": f"{spec.get('prefix', 'bench')}-{index}", "password": PASSWORD}
            async with limit:
                await _call(session, "POST", f"{base}/auth/register", 201, json=user)
                login = await _call(session, "POST", f"{base}/auth/login", 200, json=user)
            return login["access_token"]

        tokens = await asyncio.gather(*(account(i) for i in range(spec["accounts"])))
        limit = asyncio.Semaphore(16)

        async def conversation(index: int) -> list:
            token = tokens[index % len(tokens)]
            async with limit:
                made = await _call(session, "POST", f"{base}/conversations", 201,
                                   json={"title": f"load {index}"}, headers={"Authorization": f"Bearer {token}"})
            return [token, made["id"]]

        pairs = await asyncio.gather(*(conversation(i) for i in range(spec["conversations"])))
        token, conversation_id = pairs[0]
        headers = {"Authorization": f"Bearer {token}"}
        chat = await _call(session, "POST", f"{base}/conversations/{conversation_id}/messages", 201,
                           json=MESSAGE, headers=headers)
        if chat["reply"]["content"] != spec["expected_reply"]:
            raise SystemExit(f"the chat reply is not the upstream stub's: {chat['reply']['content']!r}")
        stream = await _call(session, "POST", f"{base}/conversations/{conversation_id}/messages/stream", 200,
                             json=MESSAGE, headers=headers)
        if "event: done" not in stream or "event: error" in stream:
            raise SystemExit(f"the streamed chat did not finish: {stream[-500:]!r}")
    return {"pairs": pairs}


async def step(spec: dict) -> dict:
    base, users, pairs = spec["base"], spec["users"], spec["pairs"]
    probe = spec.get("probe")  # a path to GET in place of the chat request (bench/load.py's framework probe)
    if len(pairs) < users and not probe:
        raise SystemExit(f"{users} users need {users} conversations, there are {len(pairs)}")
    warmup, duration, stagger = spec["warmup"], spec["duration"], spec["stagger"]
    started = time.monotonic()
    window_start, window_end = started + warmup, started + warmup + duration
    latencies: list[float] = []
    errors: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=spec["timeout"])
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:

        async def user(index: int) -> None:
            if probe:  # the framework probe: GET probe, nothing else
                method, url, expected, options = "GET", f"{base}{probe}", 200, {}
            else:
                token, conversation_id = pairs[index]
                method, url, expected = "POST", f"{base}/conversations/{conversation_id}/messages", 201
                options = {"json": MESSAGE, "headers": {"Authorization": f"Bearer {token}"}}
            await asyncio.sleep(random.Random(index).uniform(0, stagger))
            while (begun := time.monotonic()) < window_end:
                kind = None
                try:
                    async with session.request(method, url, **options) as response:
                        await response.read()
                        if response.status != expected:
                            kind = f"HTTP {response.status}"
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    kind = type(exc).__name__
                if begun >= window_start:
                    if kind is None:
                        latencies.append(time.monotonic() - begun)
                    else:
                        errors[kind] = errors.get(kind, 0) + 1
                if kind is not None:
                    await asyncio.sleep(0.05)  # no busy loop on a refused connection

        async def cpu_window() -> tuple[dict, dict]:
            await asyncio.sleep(max(0.0, window_start - time.monotonic()))
            before = _cpu(spec["pids"])
            await asyncio.sleep(max(0.0, window_end - time.monotonic()))
            return before, _cpu(spec["pids"])

        window = asyncio.ensure_future(cpu_window())
        await asyncio.gather(*(user(i) for i in range(users)))
        before, after = await window
    return {"latencies": latencies, "errors": errors, "seconds": duration,
            "cpu": {name: after[name] - before[name] for name in before},
            "overrun": time.monotonic() - window_end}


def _cpu(pids: dict[str, int]) -> dict[str, float]:
    values = {name: cpu_seconds(pid) for name, pid in pids.items()}
    own = psutil.Process().cpu_times()
    values["loadgen"] = own.user + own.system
    machine = psutil.cpu_times()  # every core, every process: what else ran shows as the rest
    values["machine"] = sum(getattr(machine, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))
    return values


def main() -> None:
    command, path = sys.argv[1], sys.argv[2]
    spec = json.loads(open(path).read())
    try:
        import uvloop
    except ImportError:
        uvloop = None
    run = {"setup": setup, "step": step}[command](spec)
    result = uvloop.run(run) if uvloop else asyncio.run(run)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
