"""The EventBridge envelope and the LogicalEvent fields, for every generated event
(DESIGN.md "Facts: the Genesys EventBridge wire format")."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone
from itertools import islice

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.events import TrafficConfig, generate
from simulator.events.admin import AUDITED

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ISO_EVENT_TIME = {"v2.audits.entitytype.{id}.entityid.{id}", "v2.conversations.{id}.transcription"}
ENTITY_TYPES = {"UserPresence", *AUDITED}  # the audit topic names the entity type


def epoch_ms(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def sample(seed: int, n: int = 700) -> list:
    # A dense stream, so every topic turns up in a few hundred events.
    traffic = TrafficConfig(conversations_per_minute=60, agents=30, break_rate=0.2)
    return list(islice(generate(seed, traffic=traffic), n))


@SETTINGS
@given(seed=st.integers(0, 2**32))
def test_envelope_follows_the_wire_format(seed):
    for e in sample(seed):
        env, detail = e.event, e.event["detail"]
        assert list(env) == ["version", "id", "detail-type", "source", "account", "time", "region",
                             "resources", "detail"]
        assert env["version"] == "0" and env["resources"] == [] and re.fullmatch(r"\d{12}", env["account"])
        assert UUID.match(env["id"])
        assert env["detail-type"] == e.topic
        assert re.fullmatch(rf"aws\.partner/genesys\.com/cloud/{ID}/genesys-sim", env["source"])
        assert list(detail) == ["topicName", "version", "eventBody", "metadata", "timestamp"]
        assert detail["version"] == "2" and detail["metadata"] == {"CorrelationId": e.correlation_id}
        assert UUID.match(e.correlation_id)
        # detail-type is the pattern; topicName the same with real ids in place of {id}.
        pattern = re.escape(e.topic).replace(r"\{id\}", "([^.]+)")
        ids = re.fullmatch(pattern, detail["topicName"]).groups()
        assert ids and all(re.fullmatch(ID, i) or i in ENTITY_TYPES for i in ids)
        # time is the timestamp truncated to the second; time_ms is the timestamp.
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", detail["timestamp"])
        assert env["time"] == detail["timestamp"][:19] + "Z"
        assert epoch_ms(detail["timestamp"]) == e.time_ms


@SETTINGS
@given(seed=st.integers(0, 2**32))
def test_event_time_precedes_publication_by_a_little(seed):
    for e in sample(seed):
        event_time = e.event["detail"]["eventBody"].get("eventTime")
        if e.topic in ISO_EVENT_TIME:
            assert isinstance(event_time, str)
            lag = e.time_ms - epoch_ms(event_time)
        elif e.topic.startswith("v2.detail.events."):
            assert isinstance(event_time, int) and not isinstance(event_time, bool)
            lag = e.time_ms - event_time
        else:
            assert event_time is None  # presence, routing status, queue snapshot carry no eventTime
            continue
        # Genesys publishes a few hundred ms after the fact (an audit's eventTime is a whole second).
        assert 0 <= lag < 2000, (e.topic, lag)


@SETTINGS
@given(seed=st.integers(0, 2**32))
def test_logical_event_names_its_entity_and_state(seed):
    for e in sample(seed, 500):
        body, name = e.event["detail"]["eventBody"], e.event["detail"]["topicName"]
        if e.topic.startswith("v2.detail.events.conversation."):
            assert e.entity == body["conversationId"]
            assert e.state == e.topic.split("{id}.")[1]
        elif e.topic == "v2.users.{id}.presence":
            assert e.entity == f"user:{name.split('.')[2]}:presence"
            assert e.state == body["presenceDefinition"]["systemPresence"]
        elif e.topic == "v2.users.{id}.routingStatus":
            assert e.entity == f"user:{body['id']}:routing" and e.state == body["routingStatus"]["status"]
        elif e.topic == "v2.audits.entitytype.{id}.entityid.{id}":
            assert e.entity == f"audit:{body['entityType']}:{body['entity']['id']}"
            if body["entityType"] == "UserPresence":  # the presence it changed to
                assert e.state == body["propertyChanges"][0]["newValues"][0]
            else:  # a configuration change: what was done to the entity
                assert e.state == body["action"]
        elif e.topic == "v2.conversations.{id}.transcription":
            assert e.entity == f"conversation:{body['conversationId']}:transcription"
            assert e.state == body["status"]["status"]
        else:
            assert e.topic == "v2.routing.queues.{id}.conversations"
            assert e.entity == f"queue:{name.split('.')[3]}"
            assert e.state.endswith(":" + body["id"])


def test_there_is_no_detail_id_type_or_event_id():
    # Published consumer code reads these and so drops every real event.
    for e in sample(1, 300):
        assert not {"id", "type", "eventId"} & set(e.event["detail"])


def test_events_are_plain_json():
    for e in sample(2, 300):
        assert orjson.loads(orjson.dumps(e.event)) == e.event


def test_envelope_settings_come_from_traffic():
    traffic = TrafficConfig(org_id="0b3f1e4c-5a6d-4e7f-8a9b-0c1d2e3f4a5b", source_suffix="prod-bus",
                            account="210987654321", region="eu-west-1", start_ms=1_700_000_000_000)
    e = next(generate(0, traffic=traffic))
    assert e.event["source"] == "aws.partner/genesys.com/cloud/0b3f1e4c-5a6d-4e7f-8a9b-0c1d2e3f4a5b/prod-bus"
    assert (e.event["account"], e.event["region"]) == ("210987654321", "eu-west-1")
    assert 1_700_000_000_000 <= e.time_ms < 1_700_000_000_000 + 600_000


def test_envelope_ids_are_version_4_uuids():
    for e in sample(3, 200):
        assert uuid.UUID(e.event["id"]).version == 4
        assert datetime.fromtimestamp(e.time_ms / 1000, timezone.utc).year == 2026
