"""The shipped JSON Schemas: valid draft 2020-12, one per topic, every generated event
validates, and every real capture validates except where its README documents a
deviation: the capture fails exactly there and passes once that is patched."""
from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from simulator.events import TOPICS, TrafficConfig, events_of, generate
from simulator.events.schemas import errors, schema_for, validator_for

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "simulator" / "schemas"
# The repository is cloned with shared/ beside it (/work/main and /work/shared).
CAPTURES = Path(__file__).resolve().parents[2] / "shared" / "genesys-captures"


def test_every_schema_file_is_valid_2020_12():
    files = sorted(SCHEMA_DIR.glob("*.json"))
    assert len(files) == len(TOPICS) + 1  # one per topic plus the shared definitions
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_every_topic_has_its_schema():
    for topic in TOPICS:
        schema = schema_for(topic.pattern)
        assert schema["title"] == topic.pattern
        assert schema["properties"]["detail-type"] == {"const": topic.pattern}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), cpm=st.floats(5, 120), agents=st.integers(1, 40),
       media=st.sets(st.sampled_from(["VOICE", "CHAT", "MESSAGE", "CALLBACK", "EMAIL"]), min_size=1),
       break_rate=st.floats(0, 1))
def test_every_generated_event_validates(seed, cpm, agents, media, break_rate):
    traffic = TrafficConfig(conversations_per_minute=cpm, agents=agents, media_mix={m: 1 for m in media},
                            break_rate=break_rate)
    for event in islice(generate(seed, traffic=traffic), 400):
        assert not errors(event.event), [e.message for e in errors(event.event)]


def test_every_audit_and_transcript_shape_validates():
    traffic = TrafficConfig(duration_s=3600, conversations_per_minute=1, agents=300, audits_per_hour=800,
                            transcription_rate=1, break_rate=0.3, media_mix={"VOICE": 1})
    seen, transcripts = set(), 0
    for event in generate(5, traffic=traffic):
        spoken = event.topic == "v2.conversations.{id}.transcription"
        transcripts += spoken
        if event.topic == "v2.audits.entitytype.{id}.entityid.{id}" or spoken and transcripts % 5 == 1:
            assert not errors(event.event), [e.message for e in errors(event.event)]
            b = event.event["detail"]["eventBody"]
            seen.add((b.get("entityType"), b.get("action")) if "action" in b
                     else (b["status"]["status"], b.get("transcripts", [{}])[0].get("isFinal")))
    assert len(seen) >= 25  # every entity type and action, partial and final utterances, session ends


@pytest.mark.parametrize("mutate, where", [
    (lambda ev: ev["detail"].__setitem__("id", "x"), "/detail"),  # detail.id does not exist
    (lambda ev: ev["detail"]["eventBody"].__setitem__("eventTime", "2026-01-05T09:00:00.000Z"),
     "/detail/eventBody/eventTime"),  # epoch ms on detail events
    (lambda ev: ev["detail"]["eventBody"].pop("conversationId"), "/detail/eventBody"),
    (lambda ev: ev["detail"]["eventBody"].__setitem__("acdOutcome", "answered"),
     "/detail/eventBody/acdOutcome"),
    (lambda ev: ev.__setitem__("time", ev["detail"]["timestamp"]), "/time"),
    (lambda ev: ev.__setitem__("detail-type", "v2.detail.events.conversation.x.acd.end"), "/detail-type"),
])
def test_schemas_reject_what_genesys_never_sends(mutate, where):
    event = copy.deepcopy(next(generate(3, topics=["acd.end"])).event)
    validator = validator_for(event["detail-type"])
    assert validator.is_valid(event)
    mutate(event)
    assert where in {pointer(e.absolute_path) for e in validator.iter_errors(event)}


def _first(topic: str, **traffic) -> dict:
    return copy.deepcopy(events_of(topic, 1, seed=3, traffic=TrafficConfig(**traffic))[0].event)


def _body(ev: dict) -> dict:
    return ev["detail"]["eventBody"]


CONFIG_AUDIT = {"break_rate": 0, "audits_per_hour": 600, "audit_mix": {"OAuthClient": {"Delete": 1}}}
SPOKEN = {"media_mix": {"VOICE": 1}, "transcription_rate": 1}


@pytest.mark.parametrize("topic, traffic, mutate, where", [
    ("audit", CONFIG_AUDIT, lambda b: b.__setitem__("action", "Destroy"), "/detail/eventBody/action"),
    ("audit", CONFIG_AUDIT, lambda b: b.__setitem__("serviceName", "People"), "/detail/eventBody/serviceName"),
    ("audit", CONFIG_AUDIT, lambda b: b["clientId"].__setitem__("id", "my-client"), "/detail/eventBody/clientId/id"),
    ("audit", CONFIG_AUDIT, lambda b: b["clientId"].__setitem__("name", "x"), "/detail/eventBody/clientId"),
    ("audit", CONFIG_AUDIT, lambda b: b.__setitem__("userHomeOrgId", "home"), "/detail/eventBody/userHomeOrgId"),
    ("audit", CONFIG_AUDIT, lambda b: b["propertyChanges"][0].pop("newValues"),
     "/detail/eventBody/propertyChanges/0"),
    ("audit", CONFIG_AUDIT, lambda b: b["propertyChanges"][1].__setitem__("oldValues", "users"),
     "/detail/eventBody/propertyChanges/1/oldValues"),
    ("transcription", SPOKEN, lambda b: b["transcripts"][0].__setitem__("isFinal", "true"),
     "/detail/eventBody/transcripts/0/isFinal"),
    ("transcription", SPOKEN, lambda b: b["transcripts"][0].__setitem__("channel", "AGENT"),
     "/detail/eventBody/transcripts/0/channel"),
    ("transcription", SPOKEN, lambda b: b["transcripts"][0]["alternatives"][0].__setitem__("confidence", 1.2),
     "/detail/eventBody/transcripts/0/alternatives/0/confidence"),
    ("transcription", SPOKEN, lambda b: b["status"].__setitem__("status", "DONE"), "/detail/eventBody/status/status"),
    ("acd.end", {}, lambda b: b.pop("conversationExternalContactIds"), "/detail/eventBody"),
    ("acd.end", {}, lambda b: b.__setitem__("conversationExternalContactIds", "abc"),
     "/detail/eventBody/conversationExternalContactIds"),
    ("acd.end", {}, lambda b: b.__setitem__("utilizationLabel", 5), "/detail/eventBody/utilizationLabel"),
    ("customer.start", {}, lambda b: b.__setitem__("externalOrganizationId", "America"),
     "/detail/eventBody/externalOrganizationId"),
])
def test_schemas_reject_the_new_shapes_gone_wrong(topic, traffic, mutate, where):
    event = _first(topic, **traffic)
    if topic == "transcription":  # an utterance, not the SESSION_ENDED notice
        event = next(copy.deepcopy(e.event) for e in events_of(topic, 50, seed=3, traffic=TrafficConfig(**traffic))
                     if "transcripts" in _body(e.event))
    validator = validator_for(event["detail-type"])
    assert validator.is_valid(event)
    mutate(_body(event))
    assert where in {pointer(e.absolute_path) for e in validator.iter_errors(event)}


# ---- the captures ----


def pointer(path) -> str:
    return "/" + "/".join(map(str, path)) if path else ""


def leaves(node, path: str = "") -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from leaves(value, f"{path}/{i}")
    else:
        yield path, node


def rewrite_strings(node, change: Callable[[str], str]):
    if isinstance(node, dict):
        return {k: rewrite_strings(v, change) for k, v in node.items()}
    if isinstance(node, list):
        return [rewrite_strings(v, change) for v in node]
    return change(node) if isinstance(node, str) else node


@dataclass(frozen=True)
class Deviation:
    readme: str  # the words of the README that document it
    where: Callable[[dict], set[str]]  # the JSON pointers at which the capture breaks the schema
    patch: Callable[[dict], dict]  # the capture as Genesys would send it

    def __repr__(self) -> str:
        return self.readme


SANITIZED_ID = re.compile(r"test-[A-Za-z0-9-]*[A-Za-z0-9]")


def _real_id(match: re.Match) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, match.group()))


SANITIZED_IDS = Deviation(
    "Sanitized sample (`test-*` ids",
    # utilizationLabel is free text in the notification model: nothing to break there.
    lambda ev: {p for p, v in leaves(ev) if isinstance(v, str) and SANITIZED_ID.search(v)
                and not p.endswith("/utilizationLabel")},
    lambda ev: rewrite_strings(ev, lambda s: SANITIZED_ID.sub(_real_id, s)))


def _set(path: str, value: Callable[[dict], object]) -> Callable[[dict], dict]:
    def patch(ev: dict) -> dict:
        ev = copy.deepcopy(ev)
        *parents, last = path.strip("/").split("/")
        node = ev
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value(ev)
        return ev
    return patch


ACCOUNT_9_DIGITS = Deviation("`account` is the 9-digit `123456789`", lambda ev: {"/account"},
                             _set("/account", lambda ev: "123456789012"))
TIME_WITH_MS = Deviation("Envelope `time` `2022-06-14T16:12:11.000Z` has milliseconds", lambda ev: {"/time"},
                         _set("/time", lambda ev: ev["time"][:19] + "Z"))
TEST_SOURCE = Deviation("`source` prefix is `aws.partner/genesys.com.test/...`", lambda ev: {"/source"},
                        _set("/source", lambda ev: ev["source"].replace("genesys.com.test/", "genesys.com/")))
HAND_EDITED_CONTACTS = Deviation(
    '`externalContactId` "uwu", `externalOrganizationId` "America", `conversationExternalContactIds` ["idk"]',
    lambda ev: {"/detail/eventBody/externalContactId", "/detail/eventBody/externalOrganizationId",
                "/detail/eventBody/conversationExternalContactIds/0"},
    lambda ev: rewrite_strings(ev, lambda s: str(uuid.uuid5(uuid.NAMESPACE_URL, s))
                               if s in ("uwu", "America", "idk") else s))
LOWER_CASE_FLOW_TYPE = Deviation(
    "`flowType` is lower-case `inqueuecall`", lambda ev: {"/detail/eventBody/flowType"},
    _set("/detail/eventBody/flowType", lambda ev: ev["detail"]["eventBody"]["flowType"].upper()))
TOPIC_NAME_MISMATCH = Deviation(
    "`topicName` `v2.conversations.test.attributes` does not match the detail-type",
    lambda ev: {"/detail/topicName"},
    _set("/detail/topicName",
         lambda ev: "v2.detail.events.conversation.{}.attributes".format(
             ev["detail"]["eventBody"]["conversationId"])))
ORG = uuid.uuid5(uuid.NAMESPACE_URL, "organisation")
SOURCE_WITHOUT_ORG = Deviation(
    "`source` `aws.partner/genesys.com/cloud/test` has no org/bus segments", lambda ev: {"/source"},
    _set("/source", lambda ev: ev["source"].replace("/cloud/", f"/cloud/{ORG}/")))

DEVIATIONS: dict[str, list[Deviation]] = {
    "acd-end__kanutomay.json": [SANITIZED_IDS, LOWER_CASE_FLOW_TYPE],
    "attributes__kanutomay.json": [SANITIZED_IDS, TOPIC_NAME_MISMATCH, SOURCE_WITHOUT_ORG],
    "audits-userpresence__GenesysCloudBlueprints.json": [ACCOUNT_9_DIGITS],
    "customer-end__GenesysCloudBlueprints.json": [TIME_WITH_MS, TEST_SOURCE],
    "customer-end__kanutomay.json": [SANITIZED_IDS],
    "customer-start__GenesysCloudBlueprints.json": [TEST_SOURCE, HAND_EDITED_CONTACTS],
    "flow-end__kanutomay.json": [SANITIZED_IDS],
    "flow-outcome__kanutomay.json": [SANITIZED_IDS],
    "transcription-session-ended__kanutomay.json": [SANITIZED_IDS],
    "transcription__kanutomay.json": [SANITIZED_IDS],
    "user-end__kanutomay.json": [SANITIZED_IDS],
    # Validate as they are: audits-oauthclient, transcription(-full)__Noel-Niko (live captures).
}


def captures() -> list[Path]:
    assert CAPTURES.is_dir(), f"the Genesys captures are missing: {CAPTURES}"
    return sorted(CAPTURES.glob("*.json"))


def failing(event: dict) -> set[str]:
    return {pointer(e.absolute_path) for e in errors(event)}


def patched(event: dict, deviations: list[Deviation]) -> dict:
    for deviation in deviations:
        event = deviation.patch(event)
    return event


@pytest.mark.parametrize("path", captures(), ids=lambda p: p.name)
def test_capture_fails_exactly_on_its_documented_deviations(path):
    event = json.loads(path.read_text())
    deviations = DEVIATIONS.get(path.name, [])
    expected: set[str] = set()
    for deviation in deviations:
        where = deviation.where(event)
        assert where, f"{deviation} is not in {path.name}"
        expected |= where
    assert failing(event) == expected


@pytest.mark.parametrize("path", [p for p in captures() if p.name in DEVIATIONS], ids=lambda p: p.name)
def test_capture_validates_once_its_deviations_are_patched(path):
    event = json.loads(path.read_text())
    deviations = DEVIATIONS[path.name]
    assert failing(patched(event, deviations)) == set()
    # Each deviation alone accounts for its own failures.
    for deviation in deviations:
        only_this = patched(event, [d for d in deviations if d is not deviation])
        assert failing(only_this) == deviation.where(only_this)


def test_every_deviation_is_documented_in_the_captures_readme():
    readme = (CAPTURES / "README.md").read_text()
    for name, deviations in DEVIATIONS.items():
        assert f"`{name}`" in readme
        for deviation in deviations:
            assert deviation.readme in readme, deviation
