"""The load ladder of ``genesys-sim bench``: a scenario's traffic, offered faster
and faster (the plan is the scenario's own; only its clock runs faster, so every
window and TTL keeps its meaning), one step at a time, until the consumer falls
behind. Each step is an ordinary scored run.

A step *falls behind* when the consumer did not keep up with what was offered:
it achieved less than ``KEEP_UP`` of the offered rate, or its p99 latency went
over the bound, or the queue still held more than ``BACKLOG_S`` seconds of
traffic when the step's sending ended. The null consumer's ladder, run in the
same harness, is the harness's own ceiling: a consumer that falls behind at
about the rate the null consumer does is harness-bound, not consumer-bound.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from simulator.options import RunOptions

KEEP_UP = 0.9  # achieved / offered below this: behind
BACKLOG_S = 2.0  # queue depth at the end of sending, in seconds of offered traffic
HARNESS_BOUND = 0.85  # a consumer's ceiling this close to the null consumer's: harness-bound
RATE_STEP = 1.6  # each step offers this many times the previous one


@dataclass
class Step:
    """One rung: what was offered and what the consumer did with it."""

    consumer: str
    offered_eps: float
    achieved_eps: float
    latency_ms: dict[str, float | None]
    backlog: int  # messages left on the queue when the step's sending ended
    events: int
    missed: int
    duplicated: int
    verdict: str
    behind: bool
    reasons: list[str] = field(default_factory=list)
    time_scale: float = 1.0
    elapsed_s: float = 0.0
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class Ladder:
    consumer: str
    spec: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ceiling_eps(self) -> float:
        """The most it achieved at any step: once offered more than it can take, a
        consumer achieves its capacity."""
        return max((s.achieved_eps for s in self.steps), default=0.0)

    @property
    def fell_behind_at(self) -> float | None:
        return next((s.offered_eps for s in self.steps if s.behind), None)


@dataclass
class BenchSettings:
    scenario: Any
    step_s: float = 10.0
    start_rate: float = 25.0
    max_rate: float = 2000.0
    p99_bound_ms: float = 1000.0
    faults: bool = True
    options: RunOptions = field(default_factory=RunOptions)

    def rates(self) -> list[float]:
        rates, rate = [], self.start_rate
        while rate <= self.max_rate * 1.0001:
            rates.append(rate)
            rate *= RATE_STEP
        return rates


def native_rate(scenario: Any, seed: int) -> float:
    """Logical events per scenario second of the scenario's traffic (its plan's own
    pace, before any clock scaling)."""
    from simulator.runner import make_plan

    events, plan = make_plan(scenario, seed)
    span = max((d.at_s for d in plan.deliveries), default=0.0)
    return len(events) / span if span > 0 else float(len(events))


def step_scenario(scenario: Any, rate: float, native: float, settings: BenchSettings) -> Any:
    """The scenario at ``rate`` logical events per real second for ``step_s``: the
    same traffic, the clock ``rate / native`` times faster, the traffic long
    enough to last the step."""
    time_scale = rate / native
    traffic = scenario.traffic.model_copy(update={"duration_s": settings.step_s * time_scale})
    update: dict[str, Any] = {"clock": scenario.clock.model_copy(update={"time_scale": time_scale}),
                              "traffic": traffic, "name": f"{scenario.name}@{rate:.0f}eps"}
    if not settings.faults:
        update["faults"] = []
    return scenario.model_copy(update=update)


def run_ladder(harness: Any, spec: Any, name: str, settings: BenchSettings, *,
               native: float, on_step: Callable[[Step], None] | None = None,
               progress: Callable[[dict], None] | None = None,
               stop_rate: float | None = None) -> Ladder:
    """Step the offered load up for one consumer until it falls behind (or the
    ladder ends, or ``stop_rate`` is passed)."""
    from simulator.runner import run_scenario

    ladder = Ladder(consumer=name, spec=spec.raw)
    for rate in settings.rates():
        if stop_rate is not None and rate > stop_rate:
            break
        scenario = step_scenario(settings.scenario, rate, native, settings)
        backlog = _Backlog(progress)
        started = time.monotonic()
        result = run_scenario(harness, scenario, [spec], options=settings.options, progress=backlog)
        step = _step(result, name, rate, backlog.at_end_of_sending, settings,
                     time_scale=scenario.clock.time_scale, elapsed_s=time.monotonic() - started)
        ladder.steps.append(step)
        if on_step:
            on_step(step)
        if not result.complete or step.behind:
            break
    return ladder


class _Backlog:
    """Progress callbacks, forwarded; remembers the queue depth reported first
    after the sending ended (the backlog the step left)."""

    def __init__(self, forward: Callable[[dict], None] | None) -> None:
        self.forward = forward
        self.at_end_of_sending: int | None = None

    def __call__(self, state: dict) -> None:
        if state.get("phase") == "draining" and self.at_end_of_sending is None:
            self.at_end_of_sending = int(state.get("pending", 0))
        if self.forward:
            self.forward(state)


def _step(result: Any, name: str, rate: float, backlog: int | None, settings: BenchSettings, *,
          time_scale: float, elapsed_s: float) -> Step:
    (score,) = result.consumers
    offered = _offered(result, score, rate)
    achieved = score.throughput_eps
    p99 = score.latency_ms.get("p99")
    reasons = []
    if achieved < KEEP_UP * offered:
        reasons.append(f"achieved {achieved:.0f} < {KEEP_UP:.0%} of offered {offered:.0f} events/s")
    if p99 is not None and p99 > settings.p99_bound_ms:
        reasons.append(f"p99 {p99:.0f} ms > {settings.p99_bound_ms:.0f} ms")
    if backlog is not None and backlog > BACKLOG_S * offered:
        reasons.append(f"backlog {backlog} > {BACKLOG_S:g} s of traffic")
    if not result.complete:
        reasons.append(f"run incomplete: {result.stop.reason if result.stop else '?'}")
    return Step(consumer=name, offered_eps=offered, achieved_eps=achieved, latency_ms=dict(score.latency_ms),
                backlog=backlog or 0, events=score.logical_events, missed=score.missed,
                duplicated=score.duplicated, verdict=score.verdict, behind=bool(reasons), reasons=reasons,
                time_scale=time_scale, elapsed_s=elapsed_s, complete=result.complete)


def _offered(result: Any, score: Any, rate: float) -> float:
    """The rate the plan asked for: its logical events over the real span of its
    first deliveries (the nominal ``rate`` when there is nothing to measure)."""
    from simulator.ledger import load

    try:
        history = load(result.ledger_path)
    except (OSError, ValueError):
        return rate
    planned = [s.planned_at for s in history.sent if s.planned_at is not None]
    if len(planned) < 2:
        return rate
    span = max(planned) - min(planned)
    events = len(history.logical)
    return events / span if span > 0 and math.isfinite(span) else rate


def harness_bound(ladder: Ladder, null: Ladder | None) -> bool:
    """The consumer's ceiling is about the harness's own: the limit is ours."""
    if null is None or not null.steps:
        return False
    return ladder.ceiling_eps >= HARNESS_BOUND * null.ceiling_eps
