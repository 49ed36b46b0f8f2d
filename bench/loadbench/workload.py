"""The app's own work per chat request, replayed without any web framework (issue 11, "Know
where the limit is").

What POST /conversations/<id>/messages does besides the framework, statement by statement as
example_chatbot's send_message does it (the token check of login_required, the owner check, the
history read of _chat_history, the release, the write of _store_exchange, the to_dict bodies),
one request after another in one process, with the app's own models and engine settings:

- ``sync``: the original's libraries (a Session; psycopg or sqlite3; ``requests`` to the upstream,
  a new connection per call as llm._post makes it);
- ``async``: what an async conversion runs (an AsyncSession on the runtime's async twin of the
  app's engine, as the converted app makes it: asyncpg or aiosqlite, the same pool settings and
  pre-ping; one shared aiohttp ClientSession).

CPU (process_time) is split into the database (the ORM and the driver), JSON (the request body,
the upstream's payload and answer, the response body), the upstream client, and the rest of the
app's code (building dicts, to_dict). A server can not spend less than the first three per request.

    python -m loadbench.workload --flavor sync --database-url sqlite:///x.db --upstream http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select

from example_chatbot.auth import hash_token
from example_chatbot.db import make_engine
from example_chatbot.models import Base, Conversation, Message, Token, User, utcnow

REQUEST_BODY = json.dumps({"content": "What is the weather like today, and should I take an umbrella?"})
HISTORY_LIMIT = 50


class Clock:
    """process_time by category; nested ``spend`` calls are not supported (nor needed)."""

    def __init__(self) -> None:
        self.spent = {"db": 0.0, "json": 0.0, "client": 0.0}

    @contextmanager
    def spend(self, category: str):
        started = time.process_time()
        try:
            yield
        finally:
            self.spent[category] += time.process_time() - started


def seed(url: str) -> tuple[str, int]:
    """A user, a token and a conversation (straight into the database: no password hashing)."""
    from sqlalchemy.orm import Session

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    raw = secrets.token_urlsafe(32)
    with Session(engine, expire_on_commit=False) as session:
        user = User(username=f"work-{secrets.token_hex(4)}", password_hash="x")
        session.add(user)
        session.flush()
        now = utcnow()
        session.add(Token(user_id=user.id, token_hash=hash_token(raw), created_at=now,
                          expires_at=now + timedelta(days=1)))
        conversation = Conversation(user_id=user.id, title=None)
        session.add(conversation)
        session.commit()
    engine.dispose()
    return raw, conversation.id


def token_query(raw: str):
    return select(Token).where(Token.token_hash == hash_token(raw), Token.expires_at > utcnow())


def history_query(conversation_id: int):
    return (select(Message).where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc()).limit(HISTORY_LIMIT))


def prompt(conversation: Conversation, recent: list[Message], content: str) -> list[dict]:
    messages = [{"role": m.role, "content": m.content} for m in reversed(recent)]
    if conversation.system_prompt:
        messages.insert(0, {"role": "system", "content": conversation.system_prompt})
    messages.append({"role": "user", "content": content})
    return messages


def exchange(session, conversation: Conversation, content: str, reply: str) -> tuple[Message, Message]:
    user_message = Message(conversation_id=conversation.id, role="user", content=content)
    reply_message = Message(conversation_id=conversation.id, role="assistant", content=reply)
    session.add_all([user_message, reply_message])
    if conversation.title is None:
        conversation.title = " ".join(content.split())[:60]
    conversation.updated_at = utcnow()
    return user_message, reply_message


def run_sync(args: argparse.Namespace, raw: str, conversation_id: int) -> tuple[Clock, float]:
    import requests
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(args.database_url, pool_size=args.pool_size, max_overflow=args.max_overflow)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    url = args.upstream.rstrip("/") + "/chat/completions"

    def one(clock: Clock) -> None:
        with clock.spend("json"):
            content = json.loads(REQUEST_BODY)["content"]
        session = factory()
        try:
            with clock.spend("db"):
                token = session.scalar(token_query(raw))
                user = token.user
                conversation = session.get(Conversation, conversation_id)
                assert conversation.user_id == user.id
                recent = session.scalars(history_query(conversation_id)).all()
            messages = prompt(conversation, recent, content)
            with clock.spend("db"):
                session.commit()
            with clock.spend("client"):
                response = requests.post(url, json={"model": "bench", "messages": messages}, timeout=30)
                reply = response.json()["choices"][0]["message"]["content"]
            pair = exchange(session, conversation, content, reply)
            with clock.spend("db"):
                session.commit()
            body = {"message": pair[0].to_dict(), "reply": pair[1].to_dict()}
            with clock.spend("json"):
                json.dumps(body)
        finally:
            with clock.spend("db"):
                session.close()

    for _ in range(args.warmup):
        one(Clock())
    clock = Clock()
    started = time.process_time()
    for _ in range(args.requests):
        one(clock)
    total = time.process_time() - started
    engine.dispose()
    return clock, total


async def run_async(args: argparse.Namespace, raw: str, conversation_id: int) -> tuple[Clock, float]:
    import aiohttp
    from flask2fastapi_runtime.async_db import async_engine
    from sqlalchemy.ext.asyncio import async_sessionmaker

    # the async twin of the app's own engine, as the converted app derives it (the runtime's
    # async_db: same pool settings, the project's connect listeners, its one-round-trip ping)
    engine = async_engine(make_engine(args.database_url, pool_size=args.pool_size, max_overflow=args.max_overflow))
    factory = async_sessionmaker(bind=engine, expire_on_commit=False)
    upstream = args.upstream.rstrip("/") + "/chat/completions"
    client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))

    async def one(clock: Clock) -> None:
        with clock.spend("json"):
            content = json.loads(REQUEST_BODY)["content"]
        session = factory()
        try:
            with clock.spend("db"):
                token = await session.scalar(token_query(raw))
                user = await session.get(User, token.user_id)
                conversation = await session.get(Conversation, conversation_id)
                assert conversation.user_id == user.id
                recent = (await session.scalars(history_query(conversation_id))).all()
            messages = prompt(conversation, recent, content)
            with clock.spend("db"):
                await session.commit()
            with clock.spend("client"):
                async with client.post(upstream, json={"model": "bench", "messages": messages}) as response:
                    reply = (await response.json())["choices"][0]["message"]["content"]
            pair = exchange(session, conversation, content, reply)
            with clock.spend("db"):
                await session.commit()
            body = {"message": pair[0].to_dict(), "reply": pair[1].to_dict()}
            with clock.spend("json"):
                json.dumps(body)
        finally:
            with clock.spend("db"):
                await session.close()

    try:
        for _ in range(args.warmup):
            await one(Clock())
        clock = Clock()
        started = time.process_time()
        for _ in range(args.requests):
            await one(clock)
        total = time.process_time() - started
    finally:
        await client.close()
        await engine.dispose()
    return clock, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flavor", choices=["sync", "async"], required=True)
    parser.add_argument("--database-url", required=True, help="the sync URL, as the app is configured")
    parser.add_argument("--upstream", required=True, help="the LLM base URL (answering at once)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=40, help="also fills the history to its limit")
    parser.add_argument("--pool-size", type=int, default=5)
    parser.add_argument("--max-overflow", type=int, default=10)
    args = parser.parse_args()
    raw, conversation_id = seed(args.database_url)
    if args.flavor == "sync":
        clock, total = run_sync(args, raw, conversation_id)
    else:
        try:
            import uvloop
            clock, total = uvloop.run(run_async(args, raw, conversation_id))
        except ImportError:
            clock, total = asyncio.run(run_async(args, raw, conversation_id))
    per = {name: seconds * 1000 / args.requests for name, seconds in clock.spent.items()}
    per["app"] = total * 1000 / args.requests - sum(per.values())
    per["total"] = total * 1000 / args.requests
    json.dump({"flavor": args.flavor, "requests": args.requests, "ms_per_request": per}, sys.stdout)


if __name__ == "__main__":
    main()
