"""Consumer-side faults. They do not change the deliveries: they become
``Plan.consumer_faults``, which the runner applies to the consumer process
(``crash``, ``slow``, ``sqs_duplicate``) and to the effect sink (``sink_failure``).

- ``crash``: the consumer process dies at ``point`` on every ``every``-th
  occurrence and comes back ``restart_after_s`` later. ``after_effect`` (effect
  applied, message not yet deleted) is the one that exposes consumers which mark
  or apply before they acknowledge.
- ``slow``: a fraction of messages take ``delay_s`` to process; longer than the
  queue's visibility timeout, the message is handed to someone else meanwhile.
- ``sqs_duplicate``: SQS's own at-least-once copy. A fraction of messages is
  handed over again: the *same* message (same MessageId, a new receipt handle, a
  higher ApproximateReceiveCount), received again while the first receiver still
  processes it. Made on the real queue by the consumer's poll loop
  (ChangeMessageVisibility 0 as soon as it is received, and that receiver's
  delete lost), so only consumers that read an SQS queue see it. Not the same as
  ``redeliver``, which is EventBridge delivering an event twice: two messages.
- ``sink_failure``: the downstream API answers ``status`` (500, 429, 503; 200 with
  ``delay_s`` is merely slow) for a fraction of calls, optionally only inside
  ``window_s``. Several may be listed (e.g. a 429 storm and a background 500 rate).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from simulator.faults.params import Params, Probability, Seconds, Window
from simulator.model import CrashFault, SinkFault, SlowFault, SqsDuplicateFault


class CrashParams(Params):
    point: Literal["after_receive", "after_effect", "mid_batch"]
    every: int = Field(ge=1)
    restart_after_s: Seconds = 2.0


class SlowParams(Params):
    probability: Probability
    delay_s: Seconds


class SqsDuplicateParams(Params):
    probability: Probability


class SinkFailureParams(Params):
    probability: Probability
    status: Literal[200, 429, 500, 503] = 500
    delay_s: Seconds = 0.0
    window_s: Window | None = None


def crash(params: CrashParams) -> CrashFault:
    return CrashFault(point=params.point, every=params.every, restart_after_s=params.restart_after_s)


def slow(params: SlowParams) -> SlowFault:
    return SlowFault(probability=params.probability, delay_s=params.delay_s)


def sqs_duplicate(params: SqsDuplicateParams) -> SqsDuplicateFault:
    return SqsDuplicateFault(probability=params.probability)


def sink_failure(params: SinkFailureParams) -> SinkFault:
    return SinkFault(
        probability=params.probability, status=params.status, delay_s=params.delay_s, window_s=params.window_s
    )
