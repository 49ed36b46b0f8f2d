"""Registration, login and bearer-token authentication."""

import functools
import hashlib
import re
import secrets
from datetime import timedelta

from flask import Blueprint, abort, current_app, g, jsonify, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db
from .errors import Conflict, validation_error
from .models import Token, User, isoformat, utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")

USERNAME_RE = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def login_required(view):
    """Require a valid `Authorization: Bearer <token>` header; sets g.user."""

    @functools.wraps(view)
    def wrapped_view(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if not header:
            abort(401, description="missing bearer token")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            abort(401, description="authorization header must be 'Bearer <token>'")

        db_token = get_db().scalar(
            select(Token).where(
                Token.token_hash == hash_token(token),
                Token.expires_at > utcnow(),
            )
        )
        if db_token is None:
            abort(401, description="invalid or expired token")

        g.user = db_token.user
        g.auth_token = db_token
        return view(*args, **kwargs)

    return wrapped_view


def _json_object() -> dict:
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        abort(400, description="request body must be a JSON object")
    return data


@bp.post("/register")
def register():
    if not current_app.config["ALLOW_REGISTRATION"]:
        abort(403, description="registration is disabled")

    data = _json_object()
    username = data.get("username")
    password = data.get("password")
    if not isinstance(username, str) or not USERNAME_RE.fullmatch(username):
        return validation_error(
            "username must be 3-32 characters of letters, digits, '_', '.' or '-'",
            "username",
        )
    if not isinstance(password, str) or not (
        MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH
    ):
        return validation_error(
            f"password must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters",
            "password",
        )

    username = username.lower()
    db = get_db()
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("username is already taken")

    user = User(
        username=username,
        password_hash=generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        ),
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError:  # lost a race with a concurrent registration
        db.rollback()
        raise Conflict("username is already taken") from None
    return jsonify(user.to_dict()), 201


@bp.post("/login")
def login():
    data = _json_object()
    username = data.get("username")
    password = data.get("password")
    if not isinstance(username, str) or not username:
        return validation_error("username is required", "username")
    if not isinstance(password, str) or not password:
        return validation_error("password is required", "password")

    db = get_db()
    user = db.scalar(select(User).where(User.username == username.lower()))
    if user is None or not check_password_hash(user.password_hash, password):
        abort(401, description="invalid username or password")

    now = utcnow()
    ttl = current_app.config["AUTH_TOKEN_TTL"]
    raw_token = secrets.token_urlsafe(32)
    token = Token(
        user_id=user.id,
        token_hash=hash_token(raw_token),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl),
    )
    db.execute(delete(Token).where(Token.user_id == user.id, Token.expires_at <= now))
    db.add(token)
    db.commit()

    return jsonify(
        access_token=raw_token,
        token_type="Bearer",
        expires_in=ttl,
        expires_at=isoformat(token.expires_at),
    )


@bp.post("/logout")
@login_required
def logout():
    db = get_db()
    db.delete(g.auth_token)
    db.commit()
    return "", 204


@bp.get("/me")
@login_required
def me():
    return jsonify(g.user.to_dict())
