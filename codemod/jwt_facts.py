"""What the project does with Flask-JWT-Extended, and whether the runtime's ``JWTAuth`` can take
its ``JWTManager``'s place (transforms/jwt_auth.py).

``JWTAuth`` takes the manager's loaders as they are, so every loader must run without Flask: a
refusal loader may answer ``jsonify(...)`` of keywords or of a dict or list literal (written as
that dict or list, which Flask's ``make_response`` and the runtime answer alike), and use
nothing else of Flask. ``JWTAuth`` has every public method of ``JWTManager`` (``init_app`` and
the loader decorators); a manager made in a function, made with more than the app, or a second
manager keep Flask-JWT-Extended. This module is pure: facts in, facts out.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst
import libcst.matchers as m

from codemod.levels import is_flask

MANAGERS = frozenset({"flask_jwt_extended.JWTManager", "flask_jwt_extended.jwt_manager.JWTManager"})
RUNTIME_AUTH = frozenset({"flask2fastapi_runtime.JWTAuth", "flask2fastapi_runtime.jwt_auth.JWTAuth"})
JSONIFY = frozenset({"flask.jsonify", "flask.json.jsonify"})
LOADERS = frozenset({
    "additional_claims_loader", "additional_headers_loader", "decode_key_loader", "encode_key_loader",
    "expired_token_loader", "invalid_token_loader", "needs_fresh_token_loader", "revoked_token_loader",
    "token_in_blocklist_loader", "token_verification_failed_loader", "token_verification_loader",
    "unauthorized_loader", "user_identity_loader", "user_lookup_error_loader", "user_lookup_loader",
})

# what reads the request's token in Flask-JWT-Extended's request context, and what puts it there
TOKEN_READS = frozenset(
    f"flask_jwt_extended{module}.{name}"
    for module in ("", ".utils")
    for name in ("get_jwt", "get_jwt_identity", "get_jwt_header", "get_jwt_request_location", "get_current_user", "current_user")
)
VERIFIERS = frozenset({
    "flask_jwt_extended.verify_jwt_in_request", "flask_jwt_extended.view_decorators.verify_jwt_in_request",
    "flask_jwt_extended.jwt_required", "flask_jwt_extended.view_decorators.jwt_required",
})

Names = Callable[[cst.CSTNode], set[str]]


def reads_token(function: cst.FunctionDef, names: Names) -> bool:
    """Whether a function reads the token a caller's ``@jwt_required`` verified: it refers to
    ``get_jwt()``, ``current_user``... and neither calls ``verify_jwt_in_request`` nor is
    decorated with ``jwt_required`` itself. A view converted to a dependency cannot call it."""
    used: set[str] = set()
    for node in m.findall(function, m.Name() | m.Attribute()):
        used |= names(node)
    return bool(used & TOKEN_READS) and not used & VERIFIERS


def plain_jsonify(call: cst.Call, names: Names) -> bool:
    """``jsonify(k=v, ...)``, ``jsonify({...})``, ``jsonify([...])``: a call whose JSON a dict
    or list literal gives alike."""
    if not names(call.func) & JSONIFY or any(a.star for a in call.args) or not call.args:
        return False
    keywords = [a for a in call.args if a.keyword is not None]
    if keywords:
        return len(keywords) == len(call.args) and all(a.keyword.value != "self" for a in keywords)  # type: ignore[union-attr]
    return len(call.args) == 1 and isinstance(call.args[0].value, (cst.Dict, cst.List))


def loader_problem(function: cst.FunctionDef, names: Names) -> str | None:
    """Why a loader cannot run without Flask: a use of Flask other than a plain ``jsonify``."""
    allowed: set[cst.CSTNode] = set()
    for call in m.findall(function.body, m.Call()):
        if plain_jsonify(call, names):  # type: ignore[arg-type]
            allowed.add(call.func)  # type: ignore[attr-defined]
    for node in m.findall(function.body, m.Name() | m.Attribute()):
        if node in allowed:
            continue
        used = sorted(q for q in names(node) if is_flask(q))
        if used:
            return f"the loader {function.name.value} uses {used[0]}"
    return None


def app_takers(managers: set[str], problems: list[str], auths: set[str]) -> set[str]:
    """What may be handed the app once Flask left: JWTAuth (it binds to a FastAPI app alike),
    the ``init_app`` of a JWTAuth, and of the JWTManager it takes the place of."""
    taken = auths | (managers if not problems else set())
    return set(RUNTIME_AUTH) | {f"{name}.init_app" for name in taken}
