"""No deadlock between thread tokens and pooled resources (MEASURED.md: the first design's
chatbot stalled at 200 users, each request crossing the thread pool five times).

Five "connections" are taken by a before_request hook and given back at teardown, as a DB
session per request is. 200 concurrent requests (5x anyio's 40 thread tokens) must all be
answered: Flask's hooks, the view and the teardown run in one thread-pool call, so a request
never waits for a token while it holds a connection.
"""

from __future__ import annotations

import asyncio
import queue
import time

import anyio.to_thread
import httpx
from fastapi import APIRouter
from flask import Flask, g

from flask2fastapi_runtime import FlaskBridge, FlaskRoute

CONCURRENT = 200
POOL_SIZE = 5


def pooled_app() -> FlaskBridge:
    app = Flask(__name__)
    pool: queue.Queue[int] = queue.Queue()
    for connection in range(POOL_SIZE):
        pool.put(connection)

    @app.before_request
    def take_connection():
        g.connection = pool.get(timeout=10)

    @app.teardown_request
    def give_back(error):
        if "connection" in g:
            pool.put(g.pop("connection"))

    @app.route("/bridged")
    def bridged():
        time.sleep(0.005)
        return {"connection": g.connection}

    router = APIRouter(route_class=FlaskRoute)

    @router.get("/native/{n}", name="native")
    def native(n: int):
        time.sleep(0.005)
        return {"n": n, "connection": g.connection}

    api = FlaskBridge(app)
    api.include_router(router)
    return api


async def _burst(api: FlaskBridge) -> list[int]:
    assert anyio.to_thread.current_default_thread_limiter().total_tokens * 5 == CONCURRENT
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as client:
        paths = [f"/native/{i}" if i % 2 else "/bridged" for i in range(CONCURRENT)]
        responses = await asyncio.gather(*(client.get(path) for path in paths))
    return [response.status_code for response in responses]


def test_five_times_the_thread_pool_in_flight() -> None:
    started = time.monotonic()
    statuses = asyncio.run(_burst(pooled_app()))
    assert statuses == [200] * CONCURRENT
    assert time.monotonic() - started < 10  # a stall would wait for the pool's 10 s timeouts
