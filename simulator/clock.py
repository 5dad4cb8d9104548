"""The scenario clock: scenario seconds run ``time_scale`` times faster than real
ones, so windows of minutes, hours and days (a 5-minute dedup window, 24 h of
EventBridge retries, 4 days of Genesys re-sends) fit in a run of seconds."""
from __future__ import annotations

import time


class ScenarioClock:
    def __init__(self, time_scale: float = 1.0, *, start: float | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = time_scale
        self.start = time.monotonic() if start is None else start

    def now_s(self) -> float:
        """Scenario seconds since the run started."""
        return (time.monotonic() - self.start) * self.time_scale

    def real_s(self, scenario_s: float) -> float:
        """How many real seconds a scenario duration takes."""
        return scenario_s / self.time_scale

    def sleep_until(self, scenario_s: float) -> None:
        delay = (self.start + scenario_s / self.time_scale) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
