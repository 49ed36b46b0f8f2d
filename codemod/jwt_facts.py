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
from typing import Any

import libcst as cst
import libcst.matchers as m

from codemod.find import findall
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

VERIFY = frozenset({"flask_jwt_extended.verify_jwt_in_request", "flask_jwt_extended.view_decorators.verify_jwt_in_request"})
# verify_jwt_in_request's and jwt_required's options, which the runtime's verify and required take alike
OPTIONS = frozenset({"optional", "fresh", "refresh", "locations", "verify_type", "skip_revocation_check"})
LITERAL = m.Name("True") | m.Name("False") | m.Name("None") | m.SimpleString() | m.List() | m.Tuple()

Names = Callable[[cst.CSTNode], set[str]]


def literal_options(call: cst.Call) -> bool:
    """Every argument of ``call`` one of the options, by keyword, a literal."""
    return all(a.keyword is not None and a.keyword.value in OPTIONS and m.matches(a.value, LITERAL) for a in call.args)


def uses_jwt(function: cst.FunctionDef, names: Names) -> bool:
    """Whether the function refers to Flask-JWT-Extended."""
    return any(q.startswith("flask_jwt_extended") for n in findall(function, m.Name() | m.Attribute()) for q in names(n))


def verifies(statement: cst.BaseStatement, names: Names) -> cst.Call | None:
    """``verify_jwt_in_request(...)`` as a statement of its own, with literal options, not
    looking in the JSON body (which a hook made middleware does not read)."""
    if not m.matches(statement, m.SimpleStatementLine([m.Expr(m.Call())])):
        return None
    call = statement.body[0].value  # type: ignore[attr-defined]
    json = any(a.keyword is not None and a.keyword.value == "locations" and findall(a.value, m.SimpleString(m.MatchIfTrue(lambda v: "json" in v))) for a in call.args)
    return call if names(call.func) & VERIFY and literal_options(call) and not json else None


def answer(node: cst.CSTNode) -> cst.Call | None:
    """The ``jsonify(...)`` of ``return jsonify(...)`` or ``return jsonify(...), <status>``."""
    if not isinstance(node, cst.Return) or node.value is None:
        return None
    value = node.value
    if m.matches(value, m.Tuple([m.Element(m.Call()), m.Element(m.Integer())])):
        value = value.elements[0].value  # type: ignore[attr-defined]
    return value if isinstance(value, cst.Call) else None


def verification_problem(function: cst.FunctionDef, names: Names) -> str | None:
    """Why what a hook or a guard's check does with Flask-JWT-Extended cannot be the runtime's
    (None: it can): it may call ``verify_jwt_in_request(...)`` as a statement with literal
    options, read the token it verified (``get_jwt()``, ``current_user``...), and answer
    ``return jsonify(...)[, status]`` with a plain jsonify; nothing else of the extension."""
    allowed: set[cst.CSTNode] = set()
    for line in findall(function, m.SimpleStatementLine()):
        call = verifies(line, names)  # type: ignore[arg-type]
        if call is not None:
            allowed.add(call.func)
    for call in findall(function, m.Call()):
        if not call.args and names(call.func) & TOKEN_READS:  # type: ignore[attr-defined]
            allowed.add(call.func)  # type: ignore[attr-defined]
    for returned in findall(function, m.Return()):
        call = answer(returned)  # type: ignore[arg-type]
        if call is not None and plain_jsonify(call, names):
            allowed.add(call.func)
    bare = {f"flask_jwt_extended{module}.current_user" for module in ("", ".utils")}
    for node in findall(function, m.Name() | m.Attribute()):
        used = {q for q in names(node) if q.startswith("flask_jwt_extended.") or q in JSONIFY}
        # the attributes of what an allowed call returns (``get_jwt().get``) are the project's reads
        used = {q for q in used if q not in bare and not any(q.startswith(r + ".") for r in TOKEN_READS | bare)}
        if used and node not in allowed:
            return f"it uses {sorted(used)[0]}"
    return None


def jwt_check(guard: cst.FunctionDef, names: Names) -> cst.FunctionDef | None:
    """The wrapper of a guard decorator (``codemod/facts.is_guard``, or the decorator a factory
    returns) that is Flask-JWT-Extended's documented custom decorator: it first verifies the
    token (``verify_jwt_in_request(...)``), then checks what it read and answers
    ``jsonify(...)[, status]`` in the view's place, using nothing else of Flask."""
    from codemod.facts import _body, guard_kind

    kind = guard_kind(guard, names)
    if kind is None:
        return None
    decorator = _body(guard)[0] if kind == "factory" else guard
    wrapped = next(s for s in _body(decorator) if isinstance(s, cst.FunctionDef))  # type: ignore[arg-type]
    statements = _body(wrapped)
    if len(statements) < 2 or verifies(statements[0], names) is None or verification_problem(wrapped, names) is not None:
        return None
    returns = [r for s in statements[:-1] for r in findall(s, m.Return())]
    if any(answer(r) is None or not plain_jsonify(answer(r), names) for r in returns):  # type: ignore[arg-type]
        return None
    if findall(wrapped.body, m.FunctionDef() | m.Lambda() | m.ClassDef()):
        return None
    for node in findall(wrapped.body, m.Name() | m.Attribute()):
        if any(is_flask(q) and not q.startswith("flask_jwt_extended") and q not in JSONIFY for q in names(node)):
            return None
    return wrapped


def reads_token(function: cst.FunctionDef, names: Names) -> bool:
    """Whether a function reads the token a caller's ``@jwt_required`` verified: it refers to
    ``get_jwt()``, ``current_user``... and neither calls ``verify_jwt_in_request`` nor is
    decorated with ``jwt_required`` itself. A view converted to a dependency cannot call it."""
    used: set[str] = set()
    for node in findall(function, m.Name() | m.Attribute()):
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
    for call in findall(function.body, m.Call()):
        if plain_jsonify(call, names):  # type: ignore[arg-type]
            allowed.add(call.func)  # type: ignore[attr-defined]
    for node in findall(function.body, m.Name() | m.Attribute()):
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


def converted_guards(project: Any) -> frozenset[str]:
    """The JWT guards (``jwt_check``) that become dependencies (transforms/jwt_hooks.py): the
    project's manager becomes the runtime's ``JWTAuth``, and each guard is used only as the one
    decorator below the routes of native views (called where it is a factory), called nowhere."""
    if len(project.jwt_managers) != 1 or project.jwt_problems:
        return frozenset()
    guards = set(project.jwt_guards)
    views = set()
    for (path, name), view in project.views.items():
        views.add(f"{view.module}.{name}")
        plans = project.plan(path, name)
        for decorator in view.decorators:
            used = decorator.names & guards
            called = bool(used & project.guard_factories)
            if used and (len(view.decorators) != 1 or decorator.called != called or not plans or any(p.level != "native" for p in plans)):
                guards -= used
            if used and reaches_reader(project, f"{view.module}.{name}"):
                guards -= used  # a function the view calls reads the token from the extension's context
    for function in project.functions.values():
        guards -= function.calls | function.nested_calls
        if function.qualified not in views:
            guards -= {n for names in function.decorators for n in names}
    return frozenset(guards)


def reaches_reader(project: Any, start: str) -> str | None:
    """A project function ``start`` calls (transitively) that reads the token through
    Flask-JWT-Extended's context (``reads_token``): a dependency's token is not there."""
    functions = project.functions
    seen, todo = {start}, [start]
    while todo:
        facts = functions.get(todo.pop())
        for called in sorted((facts.calls | facts.nested_calls) - seen if facts else ()):
            if called in project.jwt_readers:
                return called
            if called in functions:
                seen.add(called)
                todo.append(called)
    return None


def hook_blocker(project: Any, hook: str) -> str | None:
    """Why a before hook using Flask-JWT-Extended cannot await the runtime's ``verify``
    (transforms/jwt_hooks.py makes it ``async def``): the manager stays Flask-JWT-Extended's, or
    the hook, or a project function it calls, blocks (it would then block the event loop)."""
    if len(project.jwt_managers) != 1 or project.jwt_problems:
        return "its Flask-JWT-Extended stays Flask's"
    seen, todo = {hook}, [hook]
    while todo:
        function = todo.pop()
        facts = project.async_facts.get(function)
        if facts is not None and facts.blocking:
            return f"it awaits the token's verification and blocks on {facts.blocking[0]}"
        called = project.functions[function].calls if function in project.functions else frozenset()
        todo += sorted(c for c in called - seen if c in project.functions)
        seen |= called
    return None
