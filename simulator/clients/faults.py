"""Consumer-side faults applied inside a consumer process: crashes at a point, and
processing slower than the visibility timeout. The nemesis decided them
(``Plan.consumer_faults``); the host applies them here, where they happen."""
from __future__ import annotations

import os
import random
import sys
import time

from simulator.model import CrashFault, SlowFault

# Exit status of a planned crash: the supervisor restarts the instance after
# ``restart_after_s`` and does not count it as the consumer's own failure.
CRASH_EXIT = 86


class FaultInjector:
    def __init__(self, *, crash: CrashFault | None, slow: SlowFault | None,
                 time_scale: float, seed: int, instance: int) -> None:
        self.crash = crash
        self.slow = slow
        self.time_scale = time_scale
        self._rng = random.Random(f"{seed}:slow:{instance}")
        self._counts = {"after_receive": 0, "after_effect": 0, "mid_batch": 0}

    def _tick(self, point: str) -> None:
        if not self.crash or self.crash.point != point:
            return
        self._counts[point] += 1
        if self._counts[point] % self.crash.every == 0:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(CRASH_EXIT)  # abrupt: no cleanup, no delete, in-memory state gone

    def after_receive(self, messages: int) -> None:
        for _ in range(messages):
            self._tick("after_receive")

    def after_effect(self) -> None:
        self._tick("after_effect")

    def mid_batch(self) -> None:
        self._tick("mid_batch")

    def before_handle(self) -> None:
        if self.slow and self._rng.random() < self.slow.probability:
            time.sleep(self.slow.delay_s / self.time_scale)
