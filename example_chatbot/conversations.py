"""Conversation CRUD, scoped to the logged-in user."""

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from sqlalchemy import func, select

from .auth import login_required
from .db import get_db
from .errors import validation_error
from .models import Conversation

bp = Blueprint("conversations", __name__, url_prefix="/conversations")

MAX_TITLE_LENGTH = 200
MAX_SYSTEM_PROMPT_LENGTH = 4000


def get_owned_conversation(conversation_id: int) -> Conversation:
    """Load a conversation of g.user; 404 if missing or owned by someone else."""
    conversation = get_db().get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != g.user.id:
        abort(404, description="conversation not found")
    return conversation


@bp.route("", methods=["POST"])
@login_required
def create_conversation():
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        abort(400, description="request body must be a JSON object")

    title = data.get("title")
    if title is not None:
        if not isinstance(title, str) or len(title) > MAX_TITLE_LENGTH:
            return validation_error(
                f"title must be a string of at most {MAX_TITLE_LENGTH} characters", "title"
            )
        title = title.strip() or None

    system_prompt = data.get("system_prompt")
    if system_prompt is not None:
        if not isinstance(system_prompt, str) or len(system_prompt) > MAX_SYSTEM_PROMPT_LENGTH:
            return validation_error(
                f"system_prompt must be a string of at most "
                f"{MAX_SYSTEM_PROMPT_LENGTH} characters",
                "system_prompt",
            )
        system_prompt = system_prompt.strip() or None

    conversation = Conversation(user_id=g.user.id, title=title, system_prompt=system_prompt)
    db = get_db()
    db.add(conversation)
    db.commit()

    location = url_for(".get_conversation", conversation_id=conversation.id)
    return jsonify(conversation.to_dict()), 201, {"Location": location}


@bp.route("", methods=["GET"])
@login_required
def list_conversations():
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = request.args.get(
        "per_page", current_app.config["DEFAULT_PAGE_SIZE"], type=int
    )
    per_page = min(max(per_page, 1), current_app.config["MAX_PAGE_SIZE"])

    db = get_db()
    owned = Conversation.user_id == g.user.id
    total = db.scalar(select(func.count()).select_from(Conversation).where(owned))
    conversations = db.scalars(
        select(Conversation)
        .where(owned)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()

    return jsonify(
        items=[conversation.to_dict() for conversation in conversations],
        page=page,
        per_page=per_page,
        total=total,
        pages=(total + per_page - 1) // per_page,
    )


@bp.get("/<int:conversation_id>")
@login_required
def get_conversation(conversation_id: int):
    conversation = get_owned_conversation(conversation_id)
    return jsonify(conversation.to_dict(include_messages=True))


@bp.delete("/<int:conversation_id>")
@login_required
def delete_conversation(conversation_id: int):
    conversation = get_owned_conversation(conversation_id)
    db = get_db()
    db.delete(conversation)
    db.commit()
    return "", 204
