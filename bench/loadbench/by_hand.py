"""The chat path of example_chatbot written by hand in FastAPI: the floor of the web layer.

What a FastAPI engineer would write for the two routes the load bench drives, with no converter
and no runtime in the request path: ``GET /health/live`` and ``POST
/conversations/{id}/messages`` (token check, owner check, history read, the connection released
before the upstream call, the write, the two messages as JSON, 201). Around them, the chatbot's
cross-cutting behaviour as plain ASGI middleware: the request id and response-time headers with
one log line per request, and Starlette's CORSMiddleware.

It serves the database the converted app's server set up (the same users, tokens and
conversations), through the same engine the converted app runs (the runtime's async twin of the
chatbot's own engine: asyncpg or aiosqlite, the same pool and ping) and one shared aiohttp
session, so the app's own work is the same statements on the same stack: only the web layer
differs. Its CPU per request, less the replayed app's own work, is what FastAPI, Starlette and
uvicorn cost for this request when nobody converted anything; no converter emitting FastAPI can
do better than that (bench/README.md, "Where the limit is").

    uvicorn --factory loadbench.by_hand:create_app   # env as the chatbot's: DATABASE_URL, LLM_*
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import aiohttp
from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from example_chatbot.db import make_engine
from example_chatbot.models import Conversation, Message, Token, User, utcnow
from flask2fastapi_runtime.async_db import async_engine

logger = logging.getLogger("example_chatbot")

HISTORY_LIMIT = 50
TITLE_LENGTH = 60
MAX_MESSAGE_CHARS = 8000
REQUEST_ID = "X-Request-ID"
RESPONSE_TIME = "X-Response-Time-ms"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIds:
    """Pure ASGI: the request id (kept if well formed) and the response time on every answer,
    and one log line per request, as the chatbot's before/after hooks do."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode()),
                                      (b"x-response-time-ms", f"{elapsed:.2f}".encode())]
                logger.info("%s %s -> %s in %.2f ms [%s]", scope["method"], scope["path"], message["status"],
                            elapsed, request_id)
            await send(message)

        await self.app(scope, receive, sending)


class MessageIn(BaseModel):
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


async def db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


Db = Annotated[AsyncSession, Depends(db)]


async def current_user(session: Db, authorization: Annotated[str, Header()] = "") -> User:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "missing bearer token")
    found = await session.scalar(select(Token).where(
        Token.token_hash == hashlib.sha256(token.strip().encode()).hexdigest(), Token.expires_at > utcnow()))
    if found is None:
        raise HTTPException(401, "invalid or expired token")
    return await session.get(User, found.user_id)


CurrentUser = Annotated[User, Depends(current_user)]


async def live():
    return {"status": "ok"}


async def send_message(conversation_id: int, body: MessageIn, session: Db, user: CurrentUser, request: Request):
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != user.id:
        raise HTTPException(404, "conversation not found")
    recent = (await session.scalars(select(Message).where(Message.conversation_id == conversation_id)
                                    .order_by(Message.id.desc()).limit(HISTORY_LIMIT))).all()
    history = [{"role": m.role, "content": m.content} for m in reversed(recent)]
    if conversation.system_prompt:
        history.insert(0, {"role": "system", "content": conversation.system_prompt})
    history.append({"role": "user", "content": body.content})
    await session.commit()  # hands the connection back for the upstream call
    state = request.app.state
    async with state.llm.post(state.upstream, json={"model": state.model, "messages": history}) as answer:
        if answer.status != 200:
            raise HTTPException(502, f"the language model answered with HTTP {answer.status}")
        reply = (await answer.json())["choices"][0]["message"]["content"]
    mine = Message(conversation_id=conversation.id, role="user", content=body.content)
    theirs = Message(conversation_id=conversation.id, role="assistant", content=reply)
    session.add_all([mine, theirs])
    if conversation.title is None:
        conversation.title = " ".join(body.content.split())[:TITLE_LENGTH]
    conversation.updated_at = utcnow()
    await session.commit()
    return {"message": mine.to_dict(), "reply": theirs.to_dict()}


def create_app() -> FastAPI:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper())
    engine = async_engine(make_engine(
        os.environ["DATABASE_URL"],
        pool_size=int(os.environ.get("DATABASE_POOL_SIZE", "5")),
        max_overflow=int(os.environ.get("DATABASE_MAX_OVERFLOW", "10")),
    ))
    timeout = aiohttp.ClientTimeout(total=float(os.environ.get("LLM_TIMEOUT", "30")))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512), timeout=timeout) as client:
            app.state.llm = client
            yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.state.sessions = async_sessionmaker(engine, expire_on_commit=False)
    app.state.upstream = os.environ["LLM_BASE_URL"].rstrip("/") + "/chat/completions"
    app.state.model = os.environ["LLM_MODEL"]
    app.add_middleware(RequestIds)
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"],
                       expose_headers=[REQUEST_ID, RESPONSE_TIME])
    app.get("/health/live")(live)
    app.post("/conversations/{conversation_id}/messages", status_code=201)(send_message)
    return app
