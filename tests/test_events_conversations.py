"""Conversations tell a consistent story: lifecycle order, shared ids, durations that
add up with the timestamps, realistic outcome proportions, transfers as extra legs,
transcripts inside the agent's session, queue snapshots that match the legs."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.events import TrafficConfig, generate

CONV = "v2.detail.events.conversation.{id}."
SHARED = ("mediaType", "provider", "direction", "ani", "dnis", "addressTo", "addressFrom", "subject",
          "messageType", "callbackUserName", "callbackNumbers", "conversationExternalContactIds")


def kind(event) -> str:
    return event.topic[len(CONV):] if event.topic.startswith(CONV) else event.topic


def body(event) -> dict:
    return event.event["detail"]["eventBody"]


def conversations(events) -> dict[str, list]:
    by_id: dict[str, list] = defaultdict(list)
    for e in events:
        if e.topic.startswith(CONV):
            by_id[body(e)["conversationId"]].append(e)
    return by_id


def legs(story: list) -> list[dict]:
    """Per acd participant: its acd.start/acd.end and, if answered, the agent's events."""
    out: dict[str, dict] = {}
    for e in story:
        if kind(e) in ("acd.start", "acd.end"):
            out.setdefault(body(e)["participantId"], {})[kind(e)] = body(e)
    for leg in out.values():
        user = leg["acd.end"].get("answeredUserId")
        starts = [body(e) for e in story if kind(e) == "user.start" and body(e)["userId"] == user
                  and leg["acd.start"]["eventTime"] <= body(e)["eventTime"] <= leg["acd.end"]["eventTime"]]
        if user:
            assert len(starts) == 1
            pid = starts[0]["participantId"]
            for name in ("user.start", "user.end", "acw"):
                (leg[name],) = [body(e) for e in story if kind(e) == name and body(e)["participantId"] == pid]
    return sorted(out.values(), key=lambda leg: leg["acd.start"]["eventTime"])


@pytest.fixture(scope="module")
def shift():
    """Half an hour of a busy centre; every conversation finishes."""
    traffic = TrafficConfig(duration_s=1800, conversations_per_minute=20, agents=15, transfer_rate=0.2,
                            transcription_rate=0.5, break_rate=0.1)
    return list(generate(11, traffic=traffic))


@pytest.fixture(scope="module")
def stories(shift):
    return conversations(shift)


def test_every_topic_turns_up(shift):
    assert len({e.topic for e in shift}) == 16


def test_a_conversation_starts_once_and_ends_once(stories):
    for story in stories.values():
        kinds = [kind(e) for e in story]
        assert kinds[0] == "customer.start"
        assert kinds.count("customer.start") == kinds.count("customer.end") == 1
        after_end = kinds[kinds.index("customer.end") + 1:]
        assert set(after_end) <= {"acw"}  # only the last agent's wrap-up outlives the customer


def test_a_conversations_events_are_published_in_the_order_they_happen(stories):
    for story in stories.values():
        times = [body(e)["eventTime"] for e in story]
        assert times == sorted(times)


def test_lifecycle_order_within_each_leg(stories):
    for story in stories.values():
        kinds = [kind(e) for e in story]
        if "flow.start" in kinds:
            assert kinds.index("flow.start") < kinds.index("flow.end")
            assert all(kinds.index("flow.end") < i for i, k in enumerate(kinds) if k == "acd.start")
        for leg in legs(story):
            assert leg["acd.start"]["eventTime"] <= leg["acd.end"]["eventTime"]
            if "user.start" in leg:
                # The agent is alerted while the customer waits; answering ends the queue leg.
                alerted = leg["user.start"]["eventTime"]
                assert leg["acd.start"]["eventTime"] <= alerted <= leg["acd.end"]["eventTime"]
                assert leg["acd.end"]["eventTime"] <= leg["user.end"]["eventTime"] <= leg["acw"]["eventTime"]


def test_ids_are_consistent_across_a_conversation(stories):
    for cid, story in stories.items():
        for field in SHARED:
            assert len({repr(body(e).get(field)) for e in story if kind(e) != "attributes"}) == 1, field
        customer = {body(e)["participantId"] for e in story
                    if kind(e) in ("customer.start", "customer.end", "attributes")}
        assert len(customer) == 1
        assert all(e.event["detail"]["topicName"] == e.topic.replace("{id}", cid) for e in story)
        for leg in legs(story):
            assert leg["acd.start"]["queueId"] == leg["acd.end"]["queueId"]
            if "user.start" in leg:
                assert leg["acd.end"]["answeredUserId"] == leg["user.start"]["userId"] == leg["acw"]["userId"]
                assert leg["user.start"]["queueId"] == leg["acd.end"]["queueId"]
                assert leg["user.start"]["participantId"] != leg["acd.start"]["participantId"]


def test_durations_add_up_with_the_timestamps(stories):
    for story in stories.values():
        by_kind = {kind(e): body(e) for e in story}
        start, end = by_kind["customer.start"], by_kind["customer.end"]
        assert end["interactingDurationMs"] == end["eventTime"] - start["eventTime"]
        if "flow.start" in by_kind:
            flow_end = by_kind["flow.end"]
            flow_start = by_kind["flow.start"]
            assert flow_end["connectedDurationMs"] == flow_end["eventTime"] - flow_start["eventTime"]
        if "flow.outcome" in by_kind:
            outcome = by_kind["flow.outcome"]
            assert flow_start["eventTime"] <= outcome["flowOutcomeStartTime"] <= outcome["flowOutcomeEndTime"]
            assert outcome["flowOutcomeEndTime"] <= outcome["eventTime"] <= by_kind["flow.end"]["eventTime"]
            stamps = [m["milestoneTime"] for m in outcome["flowMilestones"]]
            assert stamps == sorted(stamps) and outcome["flowOutcomeStartTime"] <= stamps[0]
        for leg in legs(story):
            queued = leg["acd.end"]["eventTime"] - leg["acd.start"]["eventTime"]
            assert leg["acd.end"]["connectedDurationMs"] == queued
            if "user.start" in leg:
                user_end = leg["user.end"]
                spent = user_end["eventTime"] - leg["user.start"]["eventTime"]
                assert spent == (user_end["alertingDurationMs"] + user_end["interactingDurationMs"]
                                 + user_end["heldDurationMs"])
                assert leg["acw"]["eventTime"] - user_end["eventTime"] == leg["acw"]["wrapupDurationMs"]


def test_outcomes_come_in_the_configured_proportions():
    traffic = TrafficConfig(duration_s=3600, conversations_per_minute=30, agents=30, abandon_rate=0.2,
                            flow_out_rate=0.1, transfer_rate=0)
    outcomes = Counter(body(e)["acdOutcome"] for e in generate(4, traffic=traffic) if kind(e) == "acd.end")
    n = sum(outcomes.values())
    assert n > 1000
    for outcome, p in (("ABANDON", 0.2), ("FLOW_OUT", 0.1), ("ANSWERED", 0.7)):
        sigma = (p * (1 - p) / n) ** 0.5
        assert abs(outcomes[outcome] / n - p) < 4 * sigma, outcome


def test_unanswered_legs_have_no_agent(stories):
    for story in stories.values():
        for leg in legs(story):
            outcome = leg["acd.end"]["acdOutcome"]
            assert ("user.start" in leg) == (outcome == "ANSWERED")
            assert leg["acd.end"]["disconnectType"] == {"ANSWERED": "TRANSFER", "FLOW_OUT": "TRANSFER",
                                                        "ABANDON": "PEER"}[outcome]


def test_transfers_make_more_than_one_leg(stories):
    counts = Counter(len(legs(story)) for story in stories.values()
                     if any(kind(e) == "acd.start" for e in story))
    assert counts[1] and counts[2]
    for story in stories.values():
        story_legs = legs(story)
        for earlier, later in zip(story_legs, story_legs[1:]):
            assert earlier["user.end"]["disconnectType"] == "TRANSFER"
            assert earlier["acd.end"]["queueId"] != later["acd.start"]["queueId"]
            assert earlier["user.end"]["eventTime"] < later["acd.start"]["eventTime"]


def test_no_transfers_when_the_rate_is_zero():
    traffic = TrafficConfig(duration_s=900, transfer_rate=0)
    assert all(len(legs(s)) <= 1 for s in conversations(generate(6, traffic=traffic)).values())


def test_transcripts_fall_inside_an_answered_voice_leg(shift, stories):
    sessions: dict[str, list] = defaultdict(list)
    for e in shift:
        if e.topic == "v2.conversations.{id}.transcription":
            sessions[body(e)["conversationId"]].append(body(e))
    assert sessions
    for cid, notices in sessions.items():
        story = stories[cid]
        assert body(story[0])["mediaType"] == "VOICE"
        agent_comms = {n["communicationId"] for n in notices}
        ended = [n for n in notices if n["status"]["status"] == "SESSION_ENDED"]
        assert len(ended) == len(agent_comms)  # one session per transcribed leg, each closed
        for n in notices:
            at = datetime.fromisoformat(n["eventTime"].replace("Z", "+00:00")).timestamp() * 1000
            assert n["transcriptionStartTimeMs"] <= n["sessionStartTimeMs"] <= at
            for t in n.get("transcripts", []):
                (alternative,) = t["alternatives"]
                assert alternative["transcript"] == " ".join(w["word"] for w in alternative["words"])
                assert n["sessionStartTimeMs"] + alternative["offsetMs"] + alternative["durationMs"] <= at
        assert notices[-1]["status"]["status"] == "SESSION_ENDED"


def test_queue_snapshots_follow_the_legs(shift, stories):
    snapshots: dict[str, list] = defaultdict(list)
    for e in shift:
        if e.topic == "v2.routing.queues.{id}.conversations":
            snapshots[body(e)["id"]].append(e)
    for cid, story in stories.items():
        queues = {leg["acd.start"]["queueId"] for leg in legs(story)}
        seen = {e.event["detail"]["topicName"].split(".")[3] for e in snapshots.get(cid, [])}
        assert seen == queues
        last_leg = legs(story)[-1] if queues else {}
        if last_leg.get("user.end", {}).get("disconnectType") in ("PEER", "CLIENT"):  # answered, then ended
            last = body(snapshots[cid][-1])
            assert {p["purpose"] for p in last["participants"]} == {"customer", "acd", "agent"}
            comms = [c for p in last["participants"]
                     for key in ("calls", "chats", "messages", "callbacks", "emails") for c in p.get(key, [])]
            assert {c["state"] for c in comms} == {"disconnected"}


def test_voice_numbers_are_tel_e164(stories):
    for story in stories.values():
        first = body(story[0])
        if first["mediaType"] == "VOICE":
            assert re.fullmatch(r"tel:\+1[2-9]\d{2}[2-9]\d{6}", first["ani"])
            assert re.fullmatch(r"tel:\+1[2-9]\d{2}[2-9]\d{6}", first["dnis"])
        if first["mediaType"] == "CALLBACK":
            assert all(n.startswith("tel:+1") for n in first["callbackNumbers"])


def test_media_profiles_use_real_providers_and_flows(stories):
    providers = {"VOICE": "Edge", "CHAT": "PureCloud Webchat v2", "MESSAGE": "PureCloud Messaging",
                 "CALLBACK": "PureCloud Callback", "EMAIL": "PureCloud Email"}
    flows = {"VOICE": "INBOUNDCALL", "CHAT": "INBOUNDCHAT", "MESSAGE": "INBOUNDSHORTMESSAGE",
             "EMAIL": "INBOUNDEMAIL"}
    for story in stories.values():
        media = body(story[0])["mediaType"]
        assert body(story[0])["provider"] == providers[media]
        flow = [body(e)["flowType"] for e in story if kind(e) == "flow.start"]
        assert flow == ([flows[media]] if media in flows else [])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), cpm=st.floats(1, 120), agents=st.integers(1, 40),
       abandon=st.floats(0, 0.5), transfer=st.floats(0, 0.5), self_service=st.floats(0, 1),
       media=st.sets(st.sampled_from(["VOICE", "CHAT", "MESSAGE", "CALLBACK", "EMAIL"]), min_size=1))
def test_stories_hold_under_any_traffic(seed, cpm, agents, abandon, transfer, self_service, media):
    traffic = TrafficConfig(duration_s=300, conversations_per_minute=cpm, agents=agents, abandon_rate=abandon,
                            transfer_rate=transfer, self_service_rate=self_service,
                            media_mix={m: 1 for m in media})
    for story in conversations(generate(seed, traffic=traffic)).values():
        kinds = [kind(e) for e in story]
        assert kinds[0] == "customer.start" and kinds.count("customer.end") == 1
        times = [body(e)["eventTime"] for e in story]
        assert times == sorted(times)
        assert body(story[0])["mediaType"] in media
        for leg in legs(story):
            assert leg["acd.end"]["connectedDurationMs"] >= 0


def test_contact_ids_are_always_a_list(shift, stories):
    """Consumers iterate conversationExternalContactIds unguarded: every detail event
    carries it, empty when the customer is no known contact (attributes carry none,
    as captured)."""
    known = unknown = 0
    for story in stories.values():
        start = body(story[0])
        contact = start.get("externalContactId")
        for e in story:
            if kind(e) == "attributes":
                assert "conversationExternalContactIds" not in body(e)
                continue
            assert body(e)["conversationExternalContactIds"] == ([contact] if contact else [])
        known += bool(contact)
        unknown += not contact
    assert known and unknown


def test_known_contacts_may_belong_to_an_external_organisation(stories):
    orgs = Counter()
    for story in stories.values():
        for e in story:
            if kind(e) in ("customer.start", "customer.end"):
                b = body(e)
                assert "externalOrganizationId" not in b or "externalContactId" in b
                orgs[b.get("externalOrganizationId") is not None] += 1
        ends = [body(e) for e in story if kind(e) in ("customer.start", "customer.end")]
        assert len({e.get("externalOrganizationId") for e in ends}) == 1
    assert orgs[True] and orgs[False] > orgs[True]


def test_answered_queue_legs_carry_their_utilization_label(stories):
    labels: dict[str, set[str]] = defaultdict(set)
    for story in stories.values():
        for leg in legs(story):
            end = leg["acd.end"]
            if end["acdOutcome"] == "ANSWERED":
                labels[end["queueId"]].add(end["utilizationLabel"])
            else:
                assert "utilizationLabel" not in end
    assert labels and all(len(v) == 1 for v in labels.values())  # one label per queue
