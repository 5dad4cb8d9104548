"""Topologies: created per run with names no other run shares, wired as documented,
and gone after teardown. Run on the embedded moto, and on LocalStack when one is up."""
from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from simulator.errors import BadInput, EnvironmentFailure
from simulator.transport import create_topology, open_backend


@pytest.fixture
def run_id() -> str:
    return "t" + uuid.uuid4().hex[:10]


def queue_attributes(backend, url) -> dict:
    return backend.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def queue_exists(backend, url) -> bool:
    name = url.rsplit("/", 1)[1]
    try:
        backend.client("sqs").get_queue_url(QueueName=name)
        return True
    except ClientError:
        return False


def test_sqs_topology_is_a_queue_redriving_to_its_dlq(backend, run_id):
    with create_topology(backend, run_id=run_id, delivery="sqs", visibility_timeout_s=7,
                         max_receive_count=3) as topo:
        assert topo.bus_name is None and topo.rule_arn is None
        assert run_id in topo.queue_url and run_id in topo.dlq_url
        attrs = queue_attributes(backend, topo.queue_url)
        assert attrs["VisibilityTimeout"] == "7"
        assert attrs["QueueArn"] == topo.queue_arn
        assert json.loads(attrs["RedrivePolicy"]) == {"deadLetterTargetArn": topo.dlq_arn,
                                                      "maxReceiveCount": 3}
        urls = (topo.queue_url, topo.dlq_url)
    assert not any(queue_exists(backend, url) for url in urls)


def test_eventbridge_topology_routes_genesys_sources_to_the_queue(backend, run_id):
    events = backend.client("events")
    with create_topology(backend, run_id=run_id, delivery="eventbridge",
                         detail_types=["v2.detail.events.conversation.{id}.customer.end"]) as topo:
        assert topo.bus_name == f"genesys-sim-{run_id}"
        rule = events.describe_rule(Name=topo.rule_name, EventBusName=topo.bus_name)
        assert rule["Arn"] == topo.rule_arn
        assert json.loads(rule["EventPattern"]) == {
            "source": [{"prefix": "aws.partner/genesys.com"}],
            "detail-type": ["v2.detail.events.conversation.{id}.customer.end"]}
        (target,) = events.list_targets_by_rule(Rule=topo.rule_name,
                                                EventBusName=topo.bus_name)["Targets"]
        assert target["Arn"] == topo.queue_arn
        policy = json.loads(queue_attributes(backend, topo.queue_url)["Policy"])
        (statement,) = policy["Statement"]
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == topo.rule_arn
        bus = topo.bus_name
    names = [b["Name"] for b in events.list_event_buses()["EventBuses"]]
    assert bus not in names


def test_fifo_eventbridge_topology_has_content_dedup_and_a_group(backend, run_id):
    events = backend.client("events")
    with create_topology(backend, run_id=run_id, delivery="eventbridge", fifo=True,
                         group_id="conversations") as topo:
        assert topo.queue_url.endswith(".fifo") and topo.dlq_url.endswith(".fifo")
        attrs = queue_attributes(backend, topo.queue_url)
        assert attrs["FifoQueue"] == "true" and attrs["ContentBasedDeduplication"] == "true"
        (target,) = events.list_targets_by_rule(Rule=topo.rule_name,
                                                EventBusName=topo.bus_name)["Targets"]
        assert target["SqsParameters"] == {"MessageGroupId": "conversations"}


def test_push_topology_is_only_a_standard_dlq(backend, run_id):
    with create_topology(backend, run_id=run_id, delivery="http") as topo:
        assert topo.delivery == "push" and topo.queue_url is None
        assert "FifoQueue" not in queue_attributes(backend, topo.dlq_url)
        assert topo.rule_arn.endswith(f"rule/genesys-sim-{run_id}/gsim-{run_id}")
        assert topo.account in topo.rule_arn
        dlq = topo.dlq_url
    assert not queue_exists(backend, dlq)


def test_parallel_runs_share_nothing(backend):
    with create_topology(backend, run_id="run-a", delivery="eventbridge") as a, \
            create_topology(backend, run_id="run-b", delivery="eventbridge") as b:
        assert {a.queue_url, a.dlq_url}.isdisjoint({b.queue_url, b.dlq_url})
        assert a.bus_name != b.bus_name and a.rule_arn != b.rule_arn


def test_a_failed_creation_removes_what_it_made(backend, run_id):
    events = backend.client("events")
    events.create_event_bus(Name=f"taken-{run_id}")
    try:
        with pytest.raises(EnvironmentFailure, match=run_id):
            create_topology(backend, run_id=run_id, delivery="eventbridge", bus_name=f"taken-{run_id}")
        queues = backend.client("sqs").list_queues(QueueNamePrefix=f"gsim-{run_id}")
        assert not queues.get("QueueUrls")
    finally:
        events.delete_event_bus(Name=f"taken-{run_id}")


def test_teardown_twice_is_harmless(backend, run_id):
    topo = create_topology(backend, run_id=run_id, delivery="sqs")
    topo.teardown()
    topo.teardown()


@pytest.mark.parametrize("kwargs, where", [
    ({"run_id": "has space", "delivery": "sqs"}, "run_id"),
    ({"run_id": "x" * 49, "delivery": "sqs"}, "run_id"),
    ({"run_id": "ok", "delivery": "kinesis"}, "delivery"),
    ({"run_id": "ok", "delivery": "http", "fifo": True}, "queue.type"),
    ({"run_id": "ok", "delivery": "sqs", "visibility_timeout_s": 50000}, "queue.visibility_timeout_s"),
    ({"run_id": "ok", "delivery": "sqs", "max_receive_count": 0}, "queue.max_receive_count"),
    ({"run_id": "ok", "delivery": "eventbridge", "bus_name": "aws.partner/genesys.com/x"}, "bus_name"),
])
def test_bad_settings_are_bad_input_naming_the_field(kwargs, where):
    class NoBackend:  # the check runs before any call
        name = "none"

        def client(self, service):
            raise AssertionError("no AWS call expected")

    with pytest.raises(BadInput) as refused:
        create_topology(NoBackend(), **kwargs)
    assert refused.value.where == where
