"""A recorded test suite replayed against the converted app, request by request, per test.

The converted project's own tests are the replay: the converter converted them too, so running the
same command in the converted tree (with the recorder, codemod/recording.py) lets each test's
fixtures make its state (a database row, a config, a logged-in client) and send its requests,
with the cookies and ids of that run. The requests are then paired with the original's by test
(nodeid) and position. A pair is compared through codemod/masking.py with the masks found by
recording the original twice (``mask``): the requests must be the same (else the test sent a
different sequence, and what follows is not compared), and the answers the same (status, every
header but those of transport, cookies, the body parsed when JSON).

Tests recorded on one side only, tests whose sequence differs, and tests whose requests were not
the same in the original's two recordings (``unstable``) are listed, never dropped silently.
Each request counts for the Flask rule it matched in the original (``(no rule)``: Flask answered
it without one, a 404 or a 405); the Flask routes no test reached are listed too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from codemod.exchange_view import view
from codemod.masking import general, headers_of, masks, unmasked
from codemod.recording import Recording

IMPLICIT = frozenset({"HEAD", "OPTIONS"})
NO_RULE = "(no rule)"


def mask(first: Recording, *others: Recording) -> Recording:
    """``first`` with the masks that its differences from the ``others`` show (module doc)."""
    for name, test in first.tests.items():
        twins = [other.tests.get(name) for other in others]
        methods = [e["request"]["method"] for e in test.exchanges]
        if any(twin is None or methods != [e["request"]["method"] for e in twin.exchanges] for twin in twins):
            test.unstable = bool(test.exchanges)
            continue
        for index, exchange in enumerate(test.exchanges):
            masked: list[str] = []
            optional: list[str] = []
            for twin in twins:
                more, maybe = masks(view(exchange), view(twin.exchanges[index]))  # type: ignore[union-attr]
                masked += [p for p in more if p not in masked]
                optional += [p for p in maybe if p not in optional]
            exchange.update({k: v for k, v in (("masked", masked), ("optional", optional)) if v})
    return first


@dataclass
class Pair:
    test: str
    route: str
    before: dict[str, Any]
    differences: list[tuple[str, Any, Any]]


@dataclass
class Replay:
    routes: dict[str, Counter] = field(default_factory=dict)  # route -> sent, identical, different, not compared
    pairs: list[Pair] = field(default_factory=list)
    only_original: list[str] = field(default_factory=list)
    only_converted: list[str] = field(default_factory=list)
    sequences: list[tuple[str, str]] = field(default_factory=list)  # (test, what differs)
    unstable: list[str] = field(default_factory=list)
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (test, original, converted)
    unreached: list[str] = field(default_factory=list)
    through_flask: int = 0  # converted requests a Flask app answered directly, not the ASGI app

    @property
    def different(self) -> list[Pair]:
        return [p for p in self.pairs if p.differences]

    @property
    def same(self) -> bool:
        return not (self.different or self.only_original or self.sequences)


def route_of(exchange: dict[str, Any]) -> str:
    method = exchange["request"]["method"]
    return f"{'GET' if method == 'HEAD' else method} {exchange.get('rule') or NO_RULE}"


def compare(original: Recording, converted: Recording, cors: str = "strict") -> Replay:
    """Pair the converted run's requests with the original's and compare them (module doc)."""
    result = Replay()
    carried = _carried_masks(original)
    for name, test in original.tests.items():
        counts = [result.routes.setdefault(route_of(e), Counter()) for e in test.exchanges]
        for count in counts:
            count["sent"] += 1
        twin = converted.tests.get(name)
        if test.unstable or twin is None:
            for count in counts:
                count["not compared"] += 1
            if test.unstable:
                result.unstable.append(name)
            elif test.exchanges:
                result.only_original.append(name)
            continue
        if test.outcome != twin.outcome and test.outcome != "unknown":
            result.outcomes.append((name, test.outcome, twin.outcome))
        paired = _pair(name, test.exchanges, twin.exchanges, result, carried, cors)
        for count, pair in zip(counts, paired):
            count["different" if pair.differences else "identical"] += 1
        for count in counts[len(paired):]:
            count["not compared"] += 1
        result.pairs += paired
    result.only_converted = [n for n, t in converted.tests.items() if n not in original.tests and t.exchanges]
    result.through_flask = sum(e.get("via") == "wsgi" for t in converted.tests.values() for e in t.exchanges)
    result.unreached = unreached(original.routes, result.routes)
    return result


def _carried_masks(original: Recording) -> dict[str, tuple[set[str], set[str]]]:
    """Per route, the masks of all its requests, indices general; "" the headers masked anywhere."""
    carried: dict[str, tuple[set[str], set[str]]] = {"": (set(), set())}
    for test in original.tests.values():
        for exchange in test.exchanges:
            masked, optional = exchange.get("masked", []), exchange.get("optional", [])
            route = carried.setdefault(route_of(exchange), (set(), set()))
            route[0].update(general(masked))
            route[1].update(general(optional))
            carried[""][0].update(general(headers_of(masked)))
            carried[""][1].update(general(headers_of(optional)))
    return carried


def _pair(
    name: str,
    before: list[dict[str, Any]],
    after: list[dict[str, Any]],
    result: Replay,
    carried: dict[str, tuple[set[str], set[str]]],
    cors: str,
) -> list[Pair]:
    pairs = []
    for index, (one, other) in enumerate(zip(before, after)):
        if _identity(one) != _identity(other, one):
            sent = other["request"]
            result.sequences.append((name, f"request {index + 1}: {route_of(one)} ({_target(one)}) recorded, {sent['method']} {_target(other)} sent"))
            return pairs
        route = route_of(one)
        masked = {*one.get("masked", []), *carried[route][0], *carried[""][0]}
        optional = {*one.get("optional", []), *carried[route][1], *carried[""][1]}
        found = unmasked(view(one, cors), view(other, cors), masked, optional)
        pairs.append(Pair(name, route, one, found))
    if len(before) != len(after):
        what = "fewer" if len(after) < len(before) else "more"
        result.sequences.append((name, f"{len(after)} request(s) sent, {len(before)} recorded ({what})"))
    return pairs


def _identity(exchange: dict[str, Any], recorded: dict[str, Any] | None = None) -> tuple[str, str]:
    """What makes a request the same one: its method and its path (unless the path is masked:
    an id generated in the run)."""
    masked = (recorded or exchange).get("masked", [])
    path = None if "/request/path" in masked else exchange["request"]["path"]
    return exchange["request"]["method"], path  # type: ignore[return-value]


def _target(exchange: dict[str, Any]) -> str:
    request = exchange["request"]
    return request["path"] + (f"?{request['query']}" if request["query"] else "")


def table_rows(routes: list[list[Any]]) -> set[str]:
    """The route table as ``METHOD rule`` rows (Flask's static files left out)."""
    return {
        f"{method} {rule}"
        for rule, methods, endpoint in routes
        if endpoint != "static" and not endpoint.endswith(".static")
        for method in methods
        if method not in IMPLICIT
    }


def unreached(routes: list[list[Any]], counts: dict[str, Counter]) -> list[str]:
    """The route table's rows that no recorded request matched."""
    return sorted(table_rows(routes) - set(counts), key=lambda row: (row.split(" ", 1)[1], row))
