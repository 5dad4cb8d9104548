"""Load curves: the arrival rate of conversations over a scenario day.

``traffic.load`` is either a list of points, ``[{at_s: 0, conversations_per_minute: 20},
{at_s: 3600, conversations_per_minute: 120}, ...]`` (the rate is piecewise linear
between points, in scenario seconds from ``traffic.start_ms``, and holds the last
point's rate after it), or the name of a day in ``NAMED``: a rate by time of day
(UTC, standing for the centre's local time), scaled so that its peak is
``traffic.conversations_per_minute``, repeating every 24 h. A scenario picks its part
of the day with ``start_ms`` and ``duration_s``. Without a load the rate is
``conversations_per_minute`` all along.

Arrivals are a non-homogeneous Poisson process over the curve, drawn by thinning
(Lewis & Shedler 1979) segment by segment: candidates at the segment's highest
rate, each kept with probability rate(t) / that rate. Exact for piecewise-linear
rates, and a segment whose rate is zero costs nothing.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from simulator.errors import BadInput

# contact-centre-day: the weekday intraday profile of an inbound customer-service
# centre, as a fraction of the peak, by hour of the day. Shape after the weekday
# arrival rates of the Israeli bank call centre studied by Brown, Gans, Mandelbaum,
# Sakov, Shen, Zeltyn & Zhao, "Statistical Analysis of a Telephone Call Center: A
# Queueing-Science Perspective", JASA 100 (2005) (also the 1999 "callcenter" data of
# the R package Rfssa): a trickle overnight (digital channels keep arriving), quiet
# from 07:00, a steep rise to the morning peak between 09:00 and 11:00, a dip over
# lunch, a lower afternoon shoulder around 14:00-15:00, then a decline through the
# evening to a tail by 21:00-22:00.
_DAY = (
    (0.0, 0.02), (6.0, 0.02), (6.5, 0.05), (7.0, 0.12), (7.5, 0.25), (8.0, 0.45), (8.5, 0.70),
    (9.0, 0.92), (9.5, 1.00), (10.0, 1.00), (10.5, 0.97), (11.0, 0.90), (11.5, 0.80), (12.0, 0.68),
    (12.5, 0.62), (13.0, 0.65), (13.5, 0.74), (14.0, 0.82), (14.5, 0.84), (15.0, 0.80), (15.5, 0.73),
    (16.0, 0.64), (16.5, 0.55), (17.0, 0.45), (17.5, 0.35), (18.0, 0.26), (18.5, 0.19), (19.0, 0.14),
    (20.0, 0.08), (21.0, 0.04), (22.0, 0.02), (24.0, 0.02),
)
DAY_S = 86_400.0
NAMED: dict[str, tuple[tuple[float, float], ...]] = {
    "contact-centre-day": tuple((hours * 3600.0, share) for hours, share in _DAY),
}
MAX_RATE = 100_000.0  # conversations per minute, as traffic.conversations_per_minute


@dataclass(frozen=True, slots=True)
class LoadPoint:
    at_s: float
    conversations_per_minute: float


@dataclass(frozen=True, slots=True)
class LoadCurve:
    """Rates (conversations per minute) at scenario seconds; ``period_s`` repeats it."""

    points: tuple[LoadPoint, ...]
    period_s: float | None = None

    @property
    def peak_per_minute(self) -> float:
        return max(p.conversations_per_minute for p in self.points)

    def rate_per_minute(self, at_s: float) -> float:
        """The arrival rate at scenario second ``at_s`` (>= 0)."""
        if self.period_s:
            at_s %= self.period_s
        points = self.points
        for a, b in zip(points, points[1:]):
            if at_s < b.at_s:
                return _between(a, b, at_s)
        return points[-1].conversations_per_minute

    def mean_per_minute(self, duration_s: float) -> float:
        """The mean rate over the first ``duration_s`` seconds (the area under the curve)."""
        total = 0.0
        for a_s, b_s, r0, r1 in self._segments(duration_s):
            total += (b_s - a_s) * (r0 + r1) / 2
        return total / duration_s if duration_s > 0 else self.rate_per_minute(0.0)

    def arrivals(self, rng: random.Random, start_ms: float, end_ms: float | None) -> Iterator[float]:
        """Arrival times (epoch ms, increasing) from ``start_ms`` until ``end_ms``
        (None: for ever), a Poisson process of this rate."""
        if len(self.points) == 1 and not self.period_s:  # constant: no thinning, no rejections
            per_ms = self.points[0].conversations_per_minute / 60_000
            at = start_ms + rng.expovariate(per_ms)
            while end_ms is None or at < end_ms:
                yield at
                at += rng.expovariate(per_ms)
            return
        horizon = None if end_ms is None else (end_ms - start_ms) / 1000
        expo, rand = rng.expovariate, rng.random
        for a_s, b_s, r0, r1 in self._segments(horizon):
            top = max(r0, r1) / 60  # per second
            if top <= 0:
                continue
            t = a_s
            slope = (r1 - r0) / 60 / (b_s - a_s) if b_s > a_s else 0.0
            while True:
                t += expo(top)
                if t >= b_s:  # memoryless: the next segment starts afresh at its boundary
                    break
                if rand() * top < r0 / 60 + slope * (t - a_s):
                    yield start_ms + t * 1000

    def _segments(self, end_s: float | None) -> Iterator[tuple[float, float, float, float]]:
        """(from_s, to_s, rate at from, rate at to) covering [0, end_s), in order."""
        points = self.points
        offset = 0.0
        while True:
            for a, b in zip(points, points[1:]):
                lo, hi = offset + a.at_s, offset + b.at_s
                if end_s is not None and lo >= end_s:
                    return
                cut = hi if end_s is None else min(hi, end_s)
                yield lo, cut, a.conversations_per_minute, _between(a, b, cut - offset)
            last = points[-1]
            if not self.period_s:
                tail_from = offset + last.at_s
                if end_s is None or tail_from < end_s:
                    yield tail_from, math.inf if end_s is None else end_s, \
                        last.conversations_per_minute, last.conversations_per_minute
                return
            offset += self.period_s


def _between(a: LoadPoint, b: LoadPoint, at_s: float) -> float:
    if b.at_s <= a.at_s:
        return b.conversations_per_minute
    share = (at_s - a.at_s) / (b.at_s - a.at_s)
    return a.conversations_per_minute + (b.conversations_per_minute - a.conversations_per_minute) * share


def parse_load(load: Any, where: str = "traffic.load") -> str | tuple[LoadPoint, ...] | None:
    """``traffic.load`` as written -> a curve name, a tuple of LoadPoints, or None.
    Anything else is BadInput naming ``traffic.load[i].field``."""
    if load is None:
        return None
    if isinstance(load, str):
        if load not in NAMED:
            raise BadInput(f"unknown load curve {load!r} (known: {', '.join(sorted(NAMED))}; "
                           "or a list of {at_s, conversations_per_minute} points)", where=where)
        return load
    if isinstance(load, Mapping) or not isinstance(load, (list, tuple)):
        raise BadInput(f"must be a curve name or a list of {{at_s, conversations_per_minute}} points, "
                       f"got {load!r}", where=where)
    if not load:
        raise BadInput("must have at least one point", where=where)
    points: list[LoadPoint] = []
    for i, raw in enumerate(load):
        here = f"{where}[{i}]"
        if isinstance(raw, LoadPoint):
            raw = {"at_s": raw.at_s, "conversations_per_minute": raw.conversations_per_minute}
        if not isinstance(raw, Mapping):
            raise BadInput(f"must be a mapping {{at_s, conversations_per_minute}}, got {raw!r}", where=here)
        for key in raw:
            if key not in ("at_s", "conversations_per_minute"):
                raise BadInput(f"unknown key {key!r} (known: at_s, conversations_per_minute)",
                               where=f"{here}.{key}")
        for key in ("at_s", "conversations_per_minute"):
            if key not in raw:
                raise BadInput("missing", where=f"{here}.{key}")
        at_s, rate = raw["at_s"], raw["conversations_per_minute"]
        if not (is_number(at_s) and at_s >= 0):
            raise BadInput(f"must be a number of scenario seconds >= 0, got {at_s!r}", where=f"{here}.at_s")
        if i == 0 and at_s != 0:
            raise BadInput(f"the first point must be at 0 (the start of the scenario), got {at_s!r}",
                           where=f"{here}.at_s")
        if points and at_s <= points[-1].at_s:
            raise BadInput(f"must be later than the previous point's {points[-1].at_s!r}, got {at_s!r}",
                           where=f"{here}.at_s")
        if not (is_number(rate) and 0 <= rate <= MAX_RATE):
            raise BadInput(f"must be a number in [0, {MAX_RATE:.0f}], got {rate!r}",
                           where=f"{here}.conversations_per_minute")
        points.append(LoadPoint(float(at_s), float(rate)))
    if not any(p.conversations_per_minute > 0 for p in points):
        raise BadInput("every point has a rate of 0: no conversation would ever arrive", where=where)
    return tuple(points)


def curve_of(load: str | tuple[LoadPoint, ...] | None, conversations_per_minute: float,
             start_ms: int = 0) -> LoadCurve:
    """The curve a (parsed) ``traffic.load`` describes, in seconds from ``start_ms``: a
    named day peaks at ``conversations_per_minute`` and is read from the time of day
    ``start_ms`` falls on; no load is ``conversations_per_minute`` throughout."""
    if load is None:
        return LoadCurve((LoadPoint(0.0, float(conversations_per_minute)),))
    if not isinstance(load, str):
        return LoadCurve(load)
    day = LoadCurve(tuple(LoadPoint(at, share * conversations_per_minute) for at, share in NAMED[load]))
    # Rotate the day so that it starts at start_ms's time of day, and repeat it.
    phase = (start_ms / 1000) % DAY_S
    later = [LoadPoint(p.at_s - phase, p.conversations_per_minute) for p in day.points if phase < p.at_s < DAY_S]
    wrapped = [LoadPoint(p.at_s + DAY_S - phase, p.conversations_per_minute) for p in day.points
               if 0 < p.at_s < phase]
    edge = day.rate_per_minute(phase)
    return LoadCurve((LoadPoint(0.0, edge), *later, LoadPoint(DAY_S - phase, day.points[-1].conversations_per_minute),
                      *wrapped, LoadPoint(DAY_S, edge)) if phase else day.points, DAY_S)


def is_number(value: Any) -> bool:
    """A finite int or float, not a bool (YAML's ``yes`` is no rate)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
