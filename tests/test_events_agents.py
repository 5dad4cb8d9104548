"""Agents are consistent with the conversations they handle: INTERACTING while on
one (and on one at a time), OFF_QUEUE on a break, and every presence change audited."""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.events import TrafficConfig, generate

ROUTING = "v2.users.{id}.routingStatus"
PRESENCE = "v2.users.{id}.presence"
AUDIT = "v2.audits.entitytype.{id}.entityid.{id}"
CONV = "v2.detail.events.conversation.{id}."
TITLES = {"AVAILABLE": "Available", "AWAY": "Away", "BUSY": "Busy", "BREAK": "Break", "MEAL": "Meal",
          "MEETING": "Meeting", "TRAINING": "Training", "OFFLINE": "Offline", "ON_QUEUE": "On Queue",
          "IDLE": "Idle"}


def ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def body(event) -> dict:
    return event.event["detail"]["eventBody"]


def user_of(event) -> str:
    return event.event["detail"]["topicName"].split(".")[2]


def check_agents(events: list) -> None:
    routing: dict[str, list[tuple[int, str]]] = defaultdict(list)
    presence: dict[str, list[tuple[int, str]]] = defaultdict(list)
    sessions: dict[str, dict[str, list[int]]] = defaultdict(dict)  # user -> participant -> [start, acw]
    for e in events:
        b = body(e)
        if e.topic == ROUTING:
            routing[b["id"]].append((ms(b["routingStatus"]["startTime"]), b["routingStatus"]["status"]))
        elif e.topic == PRESENCE:
            presence[user_of(e)].append((ms(b["modifiedDate"]), b["presenceDefinition"]["systemPresence"]))
        elif e.topic == CONV + "user.start":
            sessions[b["userId"]][b["participantId"]] = [b["eventTime"]]
        elif e.topic == CONV + "acw":
            sessions[b["userId"]][b["participantId"]].append(b["eventTime"])
    for user, changes in routing.items():
        assert changes == sorted(changes, key=lambda c: c[0])  # published in order
        statuses = [s for _, s in changes]
        assert all(a != b for a, b in zip(statuses, statuses[1:])), statuses  # every event is a change
    for user, by_participant in sessions.items():
        spans = sorted(by_participant.values())
        times = [t for t, _ in routing[user]]
        for start, *rest in spans:
            # Routing status at every moment of the interaction is INTERACTING.
            status_at = routing[user][bisect_right(times, start) - 1][1]
            assert status_at == "INTERACTING", (user, start)
            if rest:
                inside = [s for t, s in routing[user] if start < t < rest[0]]
                assert set(inside) <= {"INTERACTING"}
        for (_, end), (next_start, *_) in zip(spans, spans[1:]):
            assert end <= next_start  # one interaction at a time
    for user, changes in presence.items():
        for at, system_presence in changes:
            # The routing status follows the presence at once (and a waiting customer may
            # alert the agent right after that).
            after = [s for t, s in routing[user] if at <= t <= at + 1000]
            assert after[:1] == (["IDLE"] if system_presence == "ON_QUEUE" else ["OFF_QUEUE"]), after


@pytest.fixture(scope="module")
def shift():
    traffic = TrafficConfig(duration_s=3600, conversations_per_minute=10, agents=8, break_rate=0.3)
    return list(generate(21, traffic=traffic))


def test_agents_interact_one_conversation_at_a_time_and_breaks_take_them_off_queue(shift):
    assert sum(e.topic == PRESENCE for e in shift) > 20
    check_agents(shift)


def test_every_presence_change_is_audited(shift):
    changes = [e for e in shift if e.topic == PRESENCE]
    audits = [e for e in shift if e.topic == AUDIT and body(e)["entityType"] == "UserPresence"]
    assert len(changes) == len(audits)
    previous: dict[str, str] = {}
    by_user: dict[str, list] = defaultdict(list)
    for a in audits:
        by_user[body(a)["entity"]["id"]].append(a)
    for change in changes:
        user, new = user_of(change), body(change)["presenceDefinition"]["systemPresence"]
        audit = body(by_user[user].pop(0))
        assert audit["entityType"] == "UserPresence" and audit["serviceName"] == "Presence"
        assert audit["userId"] == user and audit["action"] == "Update"
        (prop,) = audit["propertyChanges"]
        assert prop == {"property": "PRESENCE", "oldValues": [TITLES[previous.get(user, "ON_QUEUE")]],
                        "newValues": [TITLES[new]]}
        # The audit service stamps the change's whole second.
        assert audit["eventTime"] == body(change)["modifiedDate"][:19] + ".000Z"
        previous[user] = new


def test_agent_names_are_people(shift):
    names = {body(a)["entity"]["name"] for a in shift if a.topic == AUDIT and body(a)["entityType"] == "UserPresence"}
    assert names and all(len(n.split(" ")) >= 2 and n[0].isupper() for n in names)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), cpm=st.floats(1, 60), agents=st.integers(1, 25),
       break_rate=st.floats(0, 1))
def test_agents_stay_consistent_under_any_load(seed, cpm, agents, break_rate):
    traffic = TrafficConfig(duration_s=600, conversations_per_minute=cpm, agents=agents,
                            break_rate=break_rate)
    check_agents(list(generate(seed, traffic=traffic)))
