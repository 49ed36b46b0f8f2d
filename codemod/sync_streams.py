"""Which streamed bodies of sync views open the request's resource themselves.

Flask's ``stream_with_context`` kept ``g`` alive while a view's streamed generator ran: a
generator that writes the audit log after its last ``yield`` (``record(g.user, ...)``) used the
connection ``get_db()`` kept on ``g``, which the teardown closed once the stream had ended. The
generator of a native view that stays ``def`` cannot be handed its view's dependency instead:
FastAPI may close that before the body is streamed (it did before 0.118). So the generator opens
the connection itself, with the getter's own opening code, and closes it as the teardown did
when it ends: ``with open_db(http_request) as db:`` around its body (transforms/request_state.py
writes ``open_db`` next to the dependency). An async view's generator does the same with the
async twin (transforms/async_routes.py).

Only where the view's own code does not use the resource: Flask gave the view and its stream one
connection, and two would differ (what the view wrote and did not commit, the stream would not
see, and sqlite3 would lock the stream's writes out until the view's connection closed).
"""

from __future__ import annotations

from codemod.async_facts import AsyncFacts
from codemod.state import StatePlan


def sync_streams(
    async_facts: dict[str, AsyncFacts], state: StatePlan, async_functions: frozenset[str], native_views: set[str],
) -> dict[str, frozenset[str]]:
    """Native views that stay ``def`` -> the resources (getters) their streamed generators open
    themselves: those the generators call the getter of, or call a function threaded with."""
    found: dict[str, frozenset[str]] = {}
    for view in sorted(native_views - async_functions):
        facts = async_facts.get(view)
        if facts is None or not facts.streamed_generators:
            continue
        used = {
            getter for getter in state.resources
            if getter in facts.streamed or any(getter in state.threaded.get(c, ()) for c in facts.streamed)
        }
        used -= set(state.views.get(view, {}))  # the view's own code takes it
        if used:
            found[view] = frozenset(used)
    return found
