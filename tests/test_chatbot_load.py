"""The converted chatbot under 5x its thread pool in concurrent requests (issue 9).

The first design's converted chatbot deadlocked at 200 users (MEASURED.md): each request crossed
the thread pool five times, and all 40 tokens ended up held by requests waiting for a pooled DB
connection held by requests waiting for a token. Here 200 authenticated requests (a token check
and a query each, the session closed at teardown) go at once to the converted app, in process,
with anyio's default 40 tokens and SQLAlchemy's default pool (5 + 10 overflow): all must be
answered, fast.
"""

import json
import subprocess
import sys
import textwrap

import pytest


SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, time
    import anyio.to_thread, httpx
    from example_chatbot import create_app
    from example_chatbot.config import TestingConfig

    class Config(TestingConfig):
        DATABASE_URL = "sqlite:///" + sys.argv[1]

    app = create_app(Config)

    async def main():
        tokens = anyio.to_thread.current_default_thread_limiter().total_tokens
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as client:
            user = {"username": "alice", "password": "correct-horse-battery"}
            assert (await client.post("/auth/register", json=user)).status_code == 201
            token = (await client.post("/auth/login", json=user)).json()["access_token"]
            headers = {"Authorization": "Bearer " + token}
            started = time.monotonic()
            responses = await asyncio.gather(*(client.get("/conversations", headers=headers) for _ in range(5 * tokens)))
            return tokens, [r.status_code for r in responses], time.monotonic() - started

    tokens, statuses, elapsed = asyncio.run(main())
    print(json.dumps({"tokens": tokens, "statuses": statuses, "elapsed": elapsed}))
    """
)


@pytest.fixture(scope="module")
def converted(converted_chatbot):
    """The session's conversion of the chatbot (tests/conftest.py)."""
    return converted_chatbot


def test_no_deadlock_at_five_times_the_thread_pool(converted, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "load.sqlite3")],
        cwd=converted, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tokens"] == 40
    assert result["statuses"] == [200] * 200
    assert result["elapsed"] < 30
