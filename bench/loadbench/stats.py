"""Pure helpers of the load benchmark: percentiles, one step's summary, capacity."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Capacity: the most users whose step kept p95 within the upstream's latency plus this margin,
# with fewer than this share of errors (issue 11).
SLO_MARGIN_S = 0.3
MAX_ERROR_RATE = 0.01


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of unsorted ``values``; NaN when empty.

    Nearest rank, not interpolation: a p99 of 100 samples is the 99th value, a latency that
    some request really had."""
    if not values:
        return math.nan
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], not {share}")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@dataclass
class Step:
    """One server at one number of users."""

    server: str
    users: int
    requests: int  # finished, started within the measured window
    errors: int
    seconds: float  # the measured window
    p50: float
    p95: float
    p99: float
    cpu: dict[str, float]  # seconds of CPU during the window, by process tree (server, database, ...)
    error_kinds: dict[str, int]

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 1.0

    def cpu_ms_per_request(self, tree: str = "server") -> float:
        done = self.requests - self.errors
        return self.cpu.get(tree, math.nan) * 1000 / done if done else math.nan


def summarize(server: str, users: int, seconds: float, latencies: Iterable[float], errors: int,
              cpu: dict[str, float], error_kinds: dict[str, int] | None = None) -> Step:
    """A step from the latencies (seconds) of its successful requests and its error count.

    The percentiles are over every request, failures counted as slower than any success: a
    timed-out request must not make p95 look better."""
    ok = sorted(latencies)
    every = ok + [math.inf] * errors
    return Step(server, users, len(every), errors, seconds, percentile(every, 0.50),
                percentile(every, 0.95), percentile(every, 0.99), cpu, dict(error_kinds or {}))


def meets_slo(step: Step, latency: float) -> bool:
    return step.requests > 0 and step.p95 <= latency + SLO_MARGIN_S and step.error_rate < MAX_ERROR_RATE


def capacity(steps: Iterable[Step], latency: float) -> int:
    """The most users of a step that met the SLO, provided every smaller step met it too (a server
    that failed at 50 users and passed at 100 by luck has a capacity below 50); 0 if none did."""
    best = 0
    for step in sorted(steps, key=lambda s: s.users):
        if not meets_slo(step, latency):
            break
        best = step.users
    return best


def collapsed(step: Step, latency: float) -> bool:
    """Far past its limit (5% errors, or p95 over 4x the SLO's): more steps up would only add
    timeouts and queue draining."""
    return step.error_rate >= 0.05 or step.p95 > 4 * (latency + SLO_MARGIN_S)
