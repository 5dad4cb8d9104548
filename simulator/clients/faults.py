"""Consumer-side faults applied inside a consumer process: crashes at a point,
processing slower than the visibility timeout, and SQS handing a message over
again (the poll loop makes it visible again on the real queue). The nemesis
decided them (``Plan.consumer_faults``); the host applies them here, where they
happen."""
from __future__ import annotations

import os
import random
import sys
import threading
import time
from typing import Callable

from simulator.model import CrashFault, SlowFault, SqsDuplicateFault, StallFault

# Exit status of a planned crash: the supervisor restarts the instance after
# ``restart_after_s`` and does not count it as the consumer's own failure.
CRASH_EXIT = 86
# Exit status of a host whose handler ran past its function timeout: as Lambda
# does, the execution environment is thrown away and a fresh one starts at once.
TIMEOUT_EXIT = 87


class FaultInjector:
    def __init__(self, *, crash: CrashFault | None, slow: SlowFault | None,
                 time_scale: float, seed: int, instance: int,
                 sqs_duplicate: SqsDuplicateFault | None = None, stall: StallFault | None = None) -> None:
        self.crash = crash
        self.stall = stall
        self._stalls = random.Random(f"{seed}:stall:{instance}")
        self.slow = slow
        self.sqs_duplicate = sqs_duplicate
        self.time_scale = time_scale
        self._rng = random.Random(f"{seed}:slow:{instance}")
        self._copies = random.Random(f"{seed}:sqs_duplicate:{instance}")
        self._counts = {"after_receive": 0, "after_effect": 0, "mid_batch": 0}
        self._lock = threading.Lock()
        # Work the host has done but not yet sent (deletes in flight) is sent first.
        self.before_exit: Callable[[], None] | None = None
        # Called at a planned crash instead of exiting at once (it raises): the
        # lambda-eb host runs several invocations, each Lambda's own environment.
        self.on_crash: Callable[[], None] | None = None

    def _tick(self, point: str) -> None:
        if not self.crash or self.crash.point != point:
            return
        with self._lock:
            self._counts[point] += 1
            due = self._counts[point] % self.crash.every == 0
        if due:
            if self.before_exit is not None:
                self.before_exit()
            if self.on_crash is not None:
                self.on_crash()  # a host that runs several invocations crashes only the one
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(CRASH_EXIT)  # abrupt: no cleanup, no delete, in-memory state gone

    def after_receive(self, messages: int) -> None:
        for _ in range(messages):
            self._tick("after_receive")

    def after_effect(self) -> None:
        self._tick("after_effect")
        # After the crash point: a crash due here wins, a stall holds what is left
        # (the delete, the COMPLETED record, the answer) past the effect.
        if self.stall and self._stalls.random() < self.stall.probability:
            time.sleep(self.stall.delay_s / self.time_scale)

    def mid_batch(self) -> None:
        self._tick("mid_batch")

    def sqs_duplicates(self, message_ids: list[str], receive_counts: list[int]) -> set[str]:
        """The messages of a receive that SQS will hand over again: each on its
        first receive, with the fault's probability."""
        if not self.sqs_duplicate:
            return set()
        p = self.sqs_duplicate.probability
        return {mid for mid, count in zip(message_ids, receive_counts)
                if count == 1 and self._copies.random() < p}

    def before_handle(self) -> None:
        if self.slow and self._rng.random() < self.slow.probability:
            time.sleep(self.slow.delay_s / self.time_scale)
