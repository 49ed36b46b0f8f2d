"""Sending messages to a conversation, with plain and streamed (SSE) replies."""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    request,
    stream_with_context,
)
from sqlalchemy import select

from . import llm
from .auth import login_required
from .conversations import get_owned_conversation
from .db import get_db
from .errors import APIError, error_body, validation_error
from .models import Conversation, Message, utcnow

bp = Blueprint("chat", __name__, url_prefix="/conversations")

TITLE_FROM_MESSAGE_LENGTH = 60


def _read_content():
    """Return (content, None) for a valid JSON body, else (None, a 400 response)."""
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        abort(400, description="request body must be a JSON object")
    content = data.get("content")
    if not isinstance(content, str) or not content.strip():
        return None, validation_error("content must be a non-empty string", "content")
    max_chars = current_app.config["MAX_MESSAGE_CHARS"]
    if len(content) > max_chars:
        return None, validation_error(
            f"content must be at most {max_chars} characters", "content"
        )
    return content, None


def _chat_history(conversation: Conversation, content: str) -> list[dict[str, str]]:
    """The prompt for the model: system prompt, recent history, then the new message."""
    recent = get_db().scalars(
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(current_app.config["HISTORY_LIMIT"])
    ).all()
    messages = [{"role": m.role, "content": m.content} for m in reversed(recent)]
    if conversation.system_prompt:
        messages.insert(0, {"role": "system", "content": conversation.system_prompt})
    messages.append({"role": "user", "content": content})
    return messages


def _store_exchange(
    conversation: Conversation, content: str, reply: str
) -> tuple[Message, Message]:
    db = get_db()
    user_message = Message(conversation_id=conversation.id, role="user", content=content)
    reply_message = Message(conversation_id=conversation.id, role="assistant", content=reply)
    db.add_all([user_message, reply_message])
    if conversation.title is None:
        conversation.title = " ".join(content.split())[:TITLE_FROM_MESSAGE_LENGTH]
    conversation.updated_at = utcnow()
    db.commit()
    return user_message, reply_message


def _release_connection() -> None:
    """End the read transaction before the model is called.

    The model takes seconds; a session that kept its transaction open would hold
    a pooled connection all that time, and the pool size would cap how many chats
    run at once. Nothing is pending, so this only hands the connection back; the
    session's expire_on_commit=False keeps the loaded conversation usable, and
    _store_exchange checks one out again for the write.
    """
    get_db().commit()


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


@bp.post("/<int:conversation_id>/messages")
@login_required
def send_message(conversation_id: int):
    conversation = get_owned_conversation(conversation_id)
    content, error = _read_content()
    if error:
        return error

    history = _chat_history(conversation, content)
    _release_connection()
    reply = llm.complete(history)
    user_message, reply_message = _store_exchange(conversation, content, reply)
    return jsonify(message=user_message.to_dict(), reply=reply_message.to_dict()), 201


@bp.post("/<int:conversation_id>/messages/stream")
@login_required
def stream_message(conversation_id: int):
    conversation = get_owned_conversation(conversation_id)
    content, error = _read_content()
    if error:
        return error

    # Opens the upstream request now, so its failures still get a JSON status.
    history = _chat_history(conversation, content)
    _release_connection()
    fragments = llm.stream(history)

    def generate():
        # Runs after the view returned: the request session has been closed and
        # get_db() opens a new one, so objects loaded above are detached here.
        yield _sse("start", {"conversation_id": conversation_id})
        parts = []
        try:
            for fragment in fragments:
                parts.append(fragment)
                yield _sse("delta", {"content": fragment})
        except APIError as exc:
            current_app.logger.warning("stream aborted: %s: %s", exc.code, exc.message)
            yield _sse("error", error_body(exc.code, exc.message))
            return

        current = get_db().get(Conversation, conversation_id)
        if current is None:  # deleted while the reply was streaming
            yield _sse("error", error_body("not_found", "conversation not found"))
            return
        user_message, reply_message = _store_exchange(current, content, "".join(parts))
        yield _sse("done", {"message": user_message.to_dict(), "reply": reply_message.to_dict()})

    return Response(
        stream_with_context(generate()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
