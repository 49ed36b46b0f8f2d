"""A blueprint's own error handlers (``@bp.errorhandler(404)``, ``bp.register_error_handler(401,
f)``), written as FastAPI exception handlers where the app's would be.

Flask looks a blueprint's handlers up before the app's, for the blueprint's requests only;
FastAPI has no handlers per router. The runtime's ``blueprint_handlers(bp, {key: handler})``
keeps Flask's reach: it registers each converted handler with the Flask blueprint (its views'
errors, which Flask answers in a bridged app) and returns them for RequestHooks'
``BlueprintHooks(handlers=...)`` (the errors of the hooks, an ``abort(401)`` in a before hook
included, transforms/aborts.py). A handler converts so when every registration of it is a plain
one (not ``app_errorhandler``) on one module-level blueprint variable of the handler's own
module: there the transform writes the mapping, after the last registration, before any code
that registers the blueprint with the app can run. Its body converts as an app handler's
(codemod/error_handlers.py).

The blueprint object stays: a project whose blueprints keep handlers this way keeps Flask
(transforms/leave_flask.py names ``bp`` as what is left).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemod.error_handlers import Registration

SUFFIX = "_handlers"  # ``bp`` -> ``bp_handlers``, the mapping's variable


def blueprint_of(handler: str, registrations: Iterable[Registration], kind: Callable[[frozenset[str]], str | None]) -> str:
    """The qualified name of the one blueprint variable every registration of ``handler`` is on
    (``pkg.team.bp``), in the handler's module; "" otherwise."""
    registrations = list(registrations)
    receivers = {r.receiver.names for r in registrations}
    if not registrations or len(receivers) != 1 or any(r.method == "app_errorhandler" or r.receiver.function for r in registrations):
        return ""
    (names,) = receivers
    if len(names) != 1 or kind(names) != "blueprint":
        return ""
    (variable,) = names
    if variable.rpartition(".")[0] != handler.rpartition(".")[0]:
        return ""
    return variable


def app_wide_of(registrations: Iterable[Registration], kind: Callable[[frozenset[str]], str | None]) -> str:
    """The blueprint variable of a handler every registration of which is an
    ``app_errorhandler`` on that one blueprint, else "". Flask adds such a handler to the app
    where the blueprint is registered: converted, it is ``api.add_exception_handler(key, f)``
    right after that ``register_blueprint`` (transforms/error_handlers.py), where the project
    registers the blueprint once, on an app it bridges."""
    registrations = list(registrations)
    receivers = {r.receiver.names for r in registrations}
    if not registrations or len(receivers) != 1 or any(r.method != "app_errorhandler" or r.receiver.function for r in registrations):
        return ""
    (names,) = receivers
    if len(names) != 1 or kind(names) != "blueprint":
        return ""
    return next(iter(names))


def mapping_variable(blueprint: str) -> str:
    """``pkg.team.bp`` -> ``pkg.team.bp_handlers``."""
    return blueprint + SUFFIX


def blueprint_handler_sets(project) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Flask name of a blueprint -> the qualified name of its handlers' mapping, for each
    blueprint some handler of which converts so."""
    found: dict[str, str] = {}
    for plan in project.error_handlers.values():
        facts = project.blueprints.get(plan.blueprint) if plan.convert and plan.blueprint and not plan.app_wide else None
        if facts is not None and facts.name is not None:
            found[facts.name] = mapping_variable(plan.blueprint)
    return found
