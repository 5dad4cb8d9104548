"""The AWS resources one run delivers through, created and torn down per run.

Three shapes, chosen by ``delivery``:

- ``sqs``: queue (+ DLQ by redrive). The producer writes straight to the queue.
- ``eventbridge``: custom bus -> rule -> SQS target queue (+ DLQ by redrive). The
  bus is a custom one named by a setting (default ``genesys-sim-<run_id>``): the
  emulators refuse partner-bus names (``aws.partner/...``). The rule matches
  ``source`` prefix ``aws.partner/genesys.com`` and, optionally, detail types.
  A FIFO target needs content-based deduplication on the queue and
  ``SqsParameters.MessageGroupId``; for a rule target that parameter is a static
  string (EventBridge rules take no JSONPath there, only Pipes do; moto passes it
  literally), so every event of the run lands in one message group and the FIFO
  queue keeps one total order: ``Topology.group_id``.
- ``push`` (also ``lambda`` / ``http``): EventBridge -> Lambda/HTTP target. Neither
  moto nor LocalStack implements target retries or target DLQs, so the harness
  simulates the rule (``invoker.EventBridgeTargetInvoker``); the only AWS resource
  is the target's DLQ, a standard queue as EventBridge requires. ``rule_arn`` names
  the simulated rule.

Names embed ``run_id`` so parallel runs never share a resource.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from simulator.errors import BadInput, EnvironmentFailure
from simulator.transport.backend import Backend

log = logging.getLogger(__name__)

GENESYS_SOURCE_PREFIX = "aws.partner/genesys.com"
DELIVERIES = {"sqs": "sqs", "eventbridge": "eventbridge", "push": "push",
              "lambda": "push", "http": "push"}
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,48}$")
BUS_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,256}$")
DEFAULT_GROUP_ID = "genesys"
TARGET_ID = "genesys-sim-queue"


@dataclass
class Topology:
    backend: Backend = field(repr=False)
    run_id: str
    delivery: str  # sqs | eventbridge | push
    queue_url: str | None  # None on the push path
    queue_arn: str | None
    dlq_url: str
    dlq_arn: str
    bus_name: str | None  # None on the sqs path
    rule_arn: str | None  # None on the sqs path; simulated on the push path
    fifo: bool = False
    group_id: str = DEFAULT_GROUP_ID  # the FIFO message group of the rule target
    rule_name: str | None = None
    detail_types: tuple[str, ...] | None = None  # the rule's detail-type filter
    _undo: list[Callable[[], Any]] = field(default_factory=list, repr=False)

    @property
    def account(self) -> str:
        return self.dlq_arn.split(":")[4]

    def routes(self, event: dict | None) -> bool:
        """Whether the run's rule sends ``event`` to the consumer's target: on the
        sqs path there is no rule (everything the producer writes arrives); on the
        eventbridge and push paths, the pattern ``_build`` gives the rule. Anything
        that is not an EventBridge event (poison written raw) bypasses the rule."""
        if self.delivery == "sqs" or event is None:
            return True
        source, detail_type = event.get("source"), event.get("detail-type")
        if not (isinstance(source, str) and source.startswith(GENESYS_SOURCE_PREFIX)):
            return False
        return self.detail_types is None or detail_type in self.detail_types

    def teardown(self) -> None:
        """Delete everything this run created, newest first; idempotent. Failures are
        logged, not raised: teardown runs after the result is known."""
        while self._undo:
            undo = self._undo.pop()
            try:
                undo()
            except (ClientError, BotoCoreError) as exc:
                log.warning("teardown of run %s: %s", self.run_id, exc)

    def __enter__(self) -> "Topology":
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()


def create_topology(backend: Backend, *, run_id: str, delivery: str, fifo: bool = False,
                    visibility_timeout_s: int = 30, max_receive_count: int = 5,
                    bus_name: str | None = None, detail_types: list[str] | None = None,
                    group_id: str = DEFAULT_GROUP_ID) -> Topology:
    """Create the resources for ``delivery`` (sqs | eventbridge | push; lambda and
    http mean push). ``visibility_timeout_s`` is REAL seconds (the caller has
    already divided the scenario's value by the time scale)."""
    shape = _check(run_id, delivery, fifo, visibility_timeout_s, max_receive_count, bus_name)
    sqs = backend.client("sqs")
    topo = Topology(backend=backend, run_id=run_id, delivery=shape, queue_url=None,
                    queue_arn=None, dlq_url="", dlq_arn="", bus_name=None, rule_arn=None,
                    fifo=fifo and shape != "push", group_id=group_id,
                    detail_types=tuple(detail_types) if detail_types and shape != "sqs" else None)
    try:
        _build(topo, sqs, visibility_timeout_s=visibility_timeout_s,
               max_receive_count=max_receive_count,
               bus_name=bus_name or f"genesys-sim-{run_id}", detail_types=detail_types)
    except (ClientError, BotoCoreError) as exc:
        topo.teardown()
        raise EnvironmentFailure(f"creating the {shape} topology for run {run_id} on "
                                 f"{backend.name} ({backend.endpoint_url or 'aws'}): {exc}",
                                 where=f"backend {backend.name}") from None
    return topo


def _check(run_id: str, delivery: str, fifo: bool, visibility_timeout_s: int,
           max_receive_count: int, bus_name: str | None) -> str:
    if not RUN_ID.match(run_id or ""):
        raise BadInput(f"run id {run_id!r} must be 1-48 letters, digits, '-' or '_' "
                       "(it is part of queue names)", where="run_id")
    if delivery not in DELIVERIES:
        raise BadInput(f"unknown delivery {delivery!r}; choose one of "
                       f"{', '.join(DELIVERIES)}", where="delivery")
    if fifo and DELIVERIES[delivery] == "push":
        raise BadInput("a FIFO queue has no place on a push delivery (EventBridge target "
                       "DLQs are standard queues)", where="queue.type")
    if not 0 <= int(visibility_timeout_s) <= 43200:
        raise BadInput(f"visibility timeout {visibility_timeout_s} s is outside SQS's "
                       "0-43200 s", where="queue.visibility_timeout_s")
    if not 1 <= int(max_receive_count) <= 1000:
        raise BadInput(f"max_receive_count {max_receive_count} is outside SQS's 1-1000",
                       where="queue.max_receive_count")
    if bus_name is not None and (not BUS_NAME.match(bus_name) or bus_name.startswith("aws.")):
        raise BadInput(f"bus name {bus_name!r}: use letters, digits and . _ / - and not "
                       "an aws.* (partner) name, which emulators refuse", where="bus_name")
    return DELIVERIES[delivery]


def _build(topo: Topology, sqs: Any, *, visibility_timeout_s: int, max_receive_count: int,
           bus_name: str, detail_types: list[str] | None) -> None:
    suffix = ".fifo" if topo.fifo else ""
    base = f"gsim-{topo.run_id}"
    fifo_attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if topo.fifo else {}

    topo.dlq_url, topo.dlq_arn = _create_queue(topo, sqs, f"{base}-dlq{suffix}", fifo_attrs)
    if topo.delivery == "push":
        topo.bus_name = bus_name
        topo.rule_name = base
        topo.rule_arn = (f"arn:aws:events:{topo.backend.region}:{topo.account}:rule/"
                         f"{bus_name}/{base}")
        _allow_eventbridge(sqs, topo.dlq_url, topo.dlq_arn, topo.rule_arn)
        return

    redrive = json.dumps({"deadLetterTargetArn": topo.dlq_arn,
                          "maxReceiveCount": int(max_receive_count)})
    topo.queue_url, topo.queue_arn = _create_queue(
        topo, sqs, f"{base}{suffix}",
        {**fifo_attrs, "VisibilityTimeout": str(int(visibility_timeout_s)),
         "RedrivePolicy": redrive})
    if topo.delivery == "sqs":
        return

    events = topo.backend.client("events")
    events.create_event_bus(Name=bus_name)
    topo.bus_name = bus_name
    topo._undo.append(lambda: events.delete_event_bus(Name=bus_name))

    pattern: dict[str, Any] = {"source": [{"prefix": GENESYS_SOURCE_PREFIX}]}
    if detail_types:
        pattern["detail-type"] = list(detail_types)
    topo.rule_name = base
    topo.rule_arn = events.put_rule(Name=base, EventBusName=bus_name, State="ENABLED",
                                    EventPattern=json.dumps(pattern))["RuleArn"]
    topo._undo.append(lambda: events.delete_rule(Name=base, EventBusName=bus_name))

    target: dict[str, Any] = {"Id": TARGET_ID, "Arn": topo.queue_arn}
    if topo.fifo:
        target["SqsParameters"] = {"MessageGroupId": topo.group_id}
    failed = events.put_targets(Rule=base, EventBusName=bus_name, Targets=[target])
    if failed.get("FailedEntryCount"):
        raise EnvironmentFailure(f"put_targets refused the queue target: {failed['FailedEntries']}",
                                 where=f"backend {topo.backend.name}")
    topo._undo.append(lambda: events.remove_targets(Rule=base, EventBusName=bus_name,
                                                    Ids=[TARGET_ID]))
    _allow_eventbridge(sqs, topo.queue_url, topo.queue_arn, topo.rule_arn)


def _create_queue(topo: Topology, sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    topo._undo.append(lambda: sqs.delete_queue(QueueUrl=url))
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _allow_eventbridge(sqs: Any, queue_url: str, queue_arn: str, rule_arn: str) -> None:
    """The queue policy EventBridge needs to send to a queue (target or DLQ)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "genesys-sim-eventbridge",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
        }],
    }
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)})
