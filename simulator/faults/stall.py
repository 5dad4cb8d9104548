"""``stall``: a consumer stops making progress right *after* an effect, before it
returns, for a fraction of the effects: a downstream call that returned but a
connection pool, a log flush or a follow-up call that hangs. The effect is done,
the acknowledgement (delete, COMPLETED record, HTTP answer) is not.

It is the fault behind two bugs teams hit with idempotency libraries:
- under a Lambda function timeout shorter than ``delay_s``, the invocation
  times out after its effect (aws-powertools/powertools-lambda-python#8049: the
  record stays INPROGRESS with an in-progress expiry of the remaining Lambda
  time, so the retry runs the effect again);
- with a copy of the message handed to a second instance meanwhile
  (``sqs_duplicate``), two executions of one event overlap while the first one's
  record is still INPROGRESS (#8386).

Unlike ``slow`` (which delays a message before it is handled), the stall comes
after the effect, inside the handler's own time. Any hosted consumer can be run
under it: the host hooks it on every effect reported through the harness."""
from __future__ import annotations

from simulator.faults.params import Params, Probability, Seconds
from simulator.model import StallFault


class StallParams(Params):
    probability: Probability
    delay_s: Seconds


def stall(params: StallParams) -> StallFault:
    return StallFault(probability=params.probability, delay_s=params.delay_s)
