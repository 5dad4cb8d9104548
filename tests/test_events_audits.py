"""The audit topic carries what a real org's does: configuration changes to many
entity types (users, queues, flows, roles, OAuth clients, integrations), created,
updated and deleted, in a configurable mix, with ids that are the organisation's,
besides the agents' presence changes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.events import TrafficConfig, generate, producible_topics
from simulator.events.admin import AUDITED, action_shares

AUDIT = "v2.audits.entitytype.{id}.entityid.{id}"
CONV = "v2.detail.events.conversation.{id}."
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SERVICES = {"User": "Directory", "Queue": "ContactCenter", "Flow": "Architect", "Role": "PeoplePermissions",
            "OAuthClient": "PeoplePermissions", "Integration": "Integrations", "UserPresence": "Presence"}


def body(event) -> dict:
    return event.event["detail"]["eventBody"]


def org_of(event) -> str:
    return event.event["source"].split("/")[3]


def audits(events) -> list:
    return [e for e in events if e.topic == AUDIT and body(e)["entityType"] != "UserPresence"]


def ms(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


@pytest.fixture(scope="module")
def day():
    """A long stretch of default traffic with a busy admin team: every kind of change turns up."""
    traffic = TrafficConfig(duration_s=4 * 3600, conversations_per_minute=6, agents=12, audits_per_hour=150)
    return list(generate(8, traffic=traffic))


def test_the_audit_topic_carries_many_entity_types_and_actions(day):
    kinds = Counter(body(e)["entityType"] for e in day if e.topic == AUDIT)
    assert set(kinds) == set(AUDITED) | {"UserPresence"}
    actions = Counter((body(e)["entityType"], body(e)["action"]) for e in audits(day))
    for kind, (_, pairs) in AUDITED.items():
        assert {a for k, a in actions if k == kind} == {a for a, _ in pairs}, kind
    for e in day:
        if e.topic == AUDIT:
            assert body(e)["serviceName"] == SERVICES[body(e)["entityType"]]


def test_configuration_changes_have_the_captured_shape(day):
    for e in audits(day):
        b = body(e)
        assert list(b) == ["id", "userId", "userHomeOrgId", "username", "clientId", "serviceName", "eventTime",
                           "action", "entityType", "entity", "propertyChanges"]
        assert b["userHomeOrgId"] == org_of(e) and b["username"] == {"id": ""}
        assert b["clientId"] == {} or set(b["clientId"]) == {"id"} and UUID.match(b["clientId"]["id"])
        assert b["eventTime"].endswith(".000Z")  # the audit service stamps whole seconds
        assert e.event["detail"]["topicName"] == f"v2.audits.entitytype.{b['entityType']}.entityid.{b['entity']['id']}"
        assert set(b["entity"]) == {"id", "name"} and b["entity"]["name"]
        for change in b["propertyChanges"]:
            assert change["property"] and ({"oldValues", "newValues"} & set(change))
            assert all(isinstance(v, str) for side in ("oldValues", "newValues") for v in change.get(side, []))
        # A logical event of its own: the entity it is about, what was done to it.
        assert e.entity == f"audit:{b['entityType']}:{b['entity']['id']}" and e.state == b["action"]
    assert len({e.correlation_id for e in day}) == len(day)


def test_an_oauth_client_delete_looks_like_the_capture():
    traffic = TrafficConfig(duration_s=6 * 3600, conversations_per_minute=1, agents=2,
                            audit_mix={"OAuthClient": {"Delete": 1}}, audits_per_hour=20)
    deletes = [e for e in audits(generate(3, traffic=traffic)) if body(e)["action"] == "Delete"]
    assert len(deletes) > 60
    for e in deletes:
        b = body(e)
        assert b["serviceName"] == "PeoplePermissions" and b["entityType"] == "OAuthClient"
        assert b["clientId"] == {"id": b["entity"]["id"]}  # as captured: the client names itself
        deleted_on, scopes = b["propertyChanges"]
        assert set(deleted_on) == {"property", "newValues"} and deleted_on["property"] == "deleted_on"
        assert set(scopes) == {"property", "oldValues"} and scopes["property"] == "scopes" and scopes["oldValues"]
        (when,) = deleted_on["newValues"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", when)
        assert 0 <= ms(b["eventTime"]) - ms(when.replace("Z", ".000Z")) <= 300_000


def test_ids_are_the_organisations(day):
    """Changes are made by the org's users to its own entities: queues and flows the
    conversations use, agents who take calls, entities created earlier in the stream;
    nothing is changed (or used as a client) after it was deleted."""
    org = {org_of(day[0])}
    queues = {body(e)["queueId"] for e in day if e.topic == CONV + "acd.start"}
    flows = {body(e)["flowId"] for e in day if e.topic == CONV + "flow.start"}
    agents = {body(e)["userId"] for e in day if e.topic == CONV + "user.start"}
    actors = {body(e)["userId"] for e in audits(day)}
    known = {"Queue": set(queues), "Flow": set(flows), "User": agents | actors}
    created: dict[str, set[str]] = defaultdict(set)
    deleted: set[str] = set()
    for e in audits(day):
        b = body(e)
        kind, entity, action = b["entityType"], b["entity"]["id"], b["action"]
        assert {b["userHomeOrgId"]} == org
        assert entity not in deleted and b["clientId"].get("id") not in deleted
        assert b["userId"] not in deleted
        if action == "Create":
            assert entity not in known.get(kind, set()) and entity not in created[kind]
            created[kind].add(entity)
        elif action == "Delete":
            # Only what the centre does not run on is deleted.
            assert entity not in queues | flows | agents | actors
            deleted.add(entity)
        if kind == "Queue" and action in ("MemberAdd", "MemberRemove"):
            (change,) = b["propertyChanges"]
            assert change["property"] == f"queueId:{entity}:members"
            (member,) = change.get("newValues", []) + change.get("oldValues", [])
            user = member.removeprefix("queueMember:")
            assert user in actors | created["User"] and user not in deleted
        if kind == "Role" and action in ("MemberAdd", "MemberRemove"):
            (change,) = b["propertyChanges"]
            (user,) = change.get("newValues", []) + change.get("oldValues", [])
            assert user in agents | actors | created["User"] and user not in deleted
    assert created["Queue"] and created["User"] and deleted
    # Admins are few, and never agents.
    assert 2 <= len(actors) <= 4 and not actors & agents


def test_a_published_flow_is_the_version_conversations_run_on(day):
    published: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for e in audits(day):
        b = body(e)
        if b["action"] == "Publish":
            (change,) = b["propertyChanges"]
            published[b["entity"]["id"]].append((ms(b["eventTime"]), change["newValues"][0]))
    starts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for e in day:
        if e.topic == CONV + "flow.start":
            starts[body(e)["flowId"]].append((body(e)["eventTime"], body(e)["flowVersion"]))
    bumped = [flow for flow in published if flow in starts]
    assert bumped
    for flow in bumped:
        runs = sorted(starts[flow])
        assert [float(v) for _, v in runs] == sorted(float(v) for _, v in runs)  # never back to an old one
        for at, version in published[flow]:
            after = [v for t, v in runs if t > at + 5000]
            assert not after or float(after[0]) >= float(version)
        last_at, last = published[flow][-1]
        assert all(v == last for t, v in runs if t > last_at + 5000)


def test_the_mix_sets_the_proportions():
    traffic = TrafficConfig(duration_s=40 * 3600, conversations_per_minute=0.2, agents=2, break_rate=0,
                            audits_per_hour=60, audit_mix={"User": {"Update": 3}, "Queue": {"Update": 1}})
    kinds = Counter(body(e)["entityType"] for e in audits(generate(5, traffic=traffic)))
    n = sum(kinds.values())
    assert set(kinds) == {"User", "Queue"} and n > 2000
    for kind, p in (("User", 0.75), ("Queue", 0.25)):
        assert abs(kinds[kind] / n - p) < 4 * (p * (1 - p) / n) ** 0.5, kinds
    named = TrafficConfig(duration_s=20 * 3600, conversations_per_minute=0.2, agents=2, audits_per_hour=60,
                          audit_mix={"Role": {"Update": 1, "MemberAdd": 1}})
    actions = Counter(body(e)["action"] for e in audits(generate(5, traffic=named)))
    assert set(actions) == {"Update", "MemberAdd"}
    assert abs(actions["Update"] / sum(actions.values()) - 0.5) < 0.05


def test_action_shares_follow_the_type_weights():
    shares = action_shares({"Queue": 2.0, "OAuthClient": {"Delete": 1.0, "Create": 1.0}})
    assert sum(shares.values()) == pytest.approx(1)
    assert shares[("OAuthClient", "Delete")] == pytest.approx(0.25)
    queue = {a: s for (k, a), s in shares.items() if k == "Queue"}
    assert sum(queue.values()) == pytest.approx(0.5) and queue["Update"] == pytest.approx(0.5 * 3 / 10)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), rate=st.floats(1, 400),
       kinds=st.sets(st.sampled_from(sorted(set(AUDITED) - {"Flow"})), min_size=1))
def test_audits_change_nothing_but_the_audit_topic(seed, rate, kinds):
    base = TrafficConfig(duration_s=900, conversations_per_minute=20, agents=10, break_rate=0.2)
    quiet = [e.event for e in generate(seed, traffic=base.replace(audits_per_hour=0)) if not is_config_audit(e)]
    busy = list(generate(seed, traffic=base.replace(audits_per_hour=rate, audit_mix={k: 1 for k in kinds})))
    assert [e.event for e in busy if not is_config_audit(e)] == quiet
    assert {body(e)["entityType"] for e in audits(busy)} <= kinds


def is_config_audit(event) -> bool:
    return event.topic == AUDIT and body(event)["entityType"] != "UserPresence"


def test_no_configuration_changes_when_the_rate_is_zero():
    traffic = TrafficConfig(duration_s=1800, audits_per_hour=0)
    assert not audits(generate(2, traffic=traffic))
    assert AUDIT not in producible_topics(traffic.replace(break_rate=0))
    assert AUDIT in producible_topics(TrafficConfig(break_rate=0))


@pytest.mark.parametrize("block, where", [
    ({"audit_mix": {"Printer": 1}}, "traffic.audit_mix.Printer"),
    ({"audit_mix": {"Queue": {"Explode": 1}}}, "traffic.audit_mix.Queue.Explode"),
    ({"audit_mix": {"Queue": {}}}, "traffic.audit_mix.Queue"),
    ({"audit_mix": {"Queue": -1}}, "traffic.audit_mix.Queue"),
    ({"audit_mix": {"Queue": {"Delete": "lots"}}}, "traffic.audit_mix.Queue.Delete"),
    ({"audit_mix": {"Queue": 0, "User": 0}}, "traffic.audit_mix"),
    ({"audit_mix": []}, "traffic.audit_mix"),
    ({"audits_per_hour": -2}, "traffic.audits_per_hour"),
    ({"audits_per_hour": True}, "traffic.audits_per_hour"),
])
def test_bad_audit_settings_name_the_field(block, where):
    with pytest.raises(BadInput) as info:
        TrafficConfig.from_mapping(block)
    assert info.value.where == where


def test_audits_do_not_depend_on_the_process():
    # The admin model has sets and a string-seeded stream: nothing may depend on hashing.
    code = ("from simulator.events import generate, TrafficConfig\n"
            "t = TrafficConfig(duration_s=3600, conversations_per_minute=2, agents=3, audits_per_hour=400)\n"
            "import orjson, sys\n"
            "sys.stdout.buffer.write(b''.join(orjson.dumps(e.event) for e in generate(7, traffic=t)))\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120,
                           env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    assert runs[0].returncode == runs[1].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.count(b'"MemberRemove"') > 5


def test_admin_work_is_done_by_the_end_of_the_traffic():
    """A change that needs something made first (a member added before one is removed)
    follows minutes later, but never after the traffic ends: it would stretch a run."""
    traffic = TrafficConfig(duration_s=300, conversations_per_minute=0.5, agents=2, audits_per_hour=600,
                            audit_mix={"Queue": {"MemberRemove": 1}, "Role": {"MemberRemove": 1}})
    changes = audits(generate(9, traffic=traffic))
    assert sum(body(e)["action"] == "MemberRemove" for e in changes) > 20
    assert max(e.time_ms for e in changes) < traffic.start_ms + 300_000 + 5_000
