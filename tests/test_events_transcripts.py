"""Transcription streams as live captures show them: utterance by utterance on both
channels, each notification with offsets, durations and confidences that add up,
partial results before some finals, then SESSION_ENDED; each a logical event."""
from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.events import TrafficConfig, generate

TRANSCRIPTION = "v2.conversations.{id}.transcription"
DIGITS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "ten": "10", "twelve": "12", "twenty": "20",
          "forty": "40", "fifty": "50", "hundred": "100", "first": "1st", "second": "2nd", "third": "3rd", "fifth": "5th"}
CONV = "v2.detail.events.conversation.{id}."


def body(event) -> dict:
    return event.event["detail"]["eventBody"]


def ms(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def sessions(events) -> dict[str, list]:
    """communicationId (the agent's leg) -> its transcription events, in order."""
    out: dict[str, list] = defaultdict(list)
    for e in events:
        if e.topic == TRANSCRIPTION:
            out[body(e)["communicationId"]].append(e)
    return out


def results(session: list) -> list[tuple[dict, dict]]:
    """(transcript, its one alternative) of every utterance notification."""
    out = []
    for e in session:
        for transcript in body(e).get("transcripts", []):
            (alternative,) = transcript["alternatives"]
            out.append((transcript, alternative))
    return out


@pytest.fixture(scope="module")
def calls():
    """Voice calls at real-world handle times (a well-staffed centre: no compression),
    every one transcribed."""
    traffic = TrafficConfig(duration_s=1800, conversations_per_minute=8, agents=300, transcription_rate=1,
                            media_mix={"VOICE": 1}, transfer_rate=0)
    return list(generate(4, traffic=traffic))


def test_a_call_is_transcribed_utterance_by_utterance(calls):
    by_session = sessions(calls)
    assert len(by_session) > 100
    per_minute, short_calls = [], []
    for session in by_session.values():
        length = body(session[-1])["status"]["offsetMs"]
        if length > 30_000:
            per_minute.append(len(session) / (length / 60_000))
        if 60_000 <= length <= 150_000:
            short_calls.append(len(session))
    # Live captures: 11-33 notifications for a one-to-two-minute call.
    assert 8 <= statistics.median(short_calls) <= 40
    assert 8 <= statistics.median(per_minute) <= 20


def test_both_channels_speak_and_the_agent_greets(calls):
    for session in sessions(calls).values():
        spoken = results(session)
        if body(session[-1])["status"]["offsetMs"] > 60_000:
            assert {t["channel"] for t, _ in spoken} == {"INTERNAL", "EXTERNAL"}
        if spoken:
            assert spoken[0][0]["channel"] == "INTERNAL"


def test_offsets_durations_and_confidences_add_up(calls):
    for session in sessions(calls).values():
        finals = [(t, a) for t, a in results(session) if t["isFinal"]]
        offsets = [a["offsetMs"] for _, a in finals]
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
        assert len({t["utteranceId"] for t, _ in finals}) == len(finals)
        for e in session:
            b = body(e)
            for t, a in results([e]):
                words = a["words"]
                assert a["transcript"] == " ".join(w["word"] for w in words) == a["transcript"].lower()
                # Decorated: the same words, numbers in digits ("forty" -> "40", "second" -> "2nd").
                assert a["decoratedTranscript"] == " ".join(d["word"] for d in a["decoratedWords"])
                for w, d in zip(words, a["decoratedWords"]):
                    assert d["word"] == DIGITS.get(w["word"], w["word"])
                starts = [w["offsetMs"] for w in words]
                assert starts[0] == a["offsetMs"] and starts == sorted(starts)
                assert all(w["offsetMs"] + w["durationMs"] <= n["offsetMs"] for w, n in zip(words, words[1:]))
                assert words[-1]["offsetMs"] + words[-1]["durationMs"] - a["offsetMs"] == a["durationMs"]
                assert all(w["durationMs"] % 80 == 0 for w in words) and a["offsetMs"] % 20 == 0
                # The utterance's confidence is the mean of its words'; decorated words round it.
                assert a["confidence"] == pytest.approx(sum(w["confidence"] for w in words) / len(words))
                assert [d["confidence"] for d in a["decoratedWords"]] == [round(w["confidence"], 2) for w in words]
                assert [d["offsetMs"] for d in a["decoratedWords"]] == starts
                assert b["status"] == {"offsetMs": a["offsetMs"], "status": "SESSION_ONGOING"}
                # Published after it was said: eventTime past its end, within seconds.
                said = b["sessionStartTimeMs"] + a["offsetMs"] + a["durationMs"]
                assert 0 < ms(b["eventTime"]) - said <= 9000


def test_partial_results_come_before_their_final(calls):
    partials = 0
    for session in sessions(calls).values():
        final_at: dict[str, tuple[int, list[str]]] = {}
        for e in session:
            for t, a in results([e]):
                if t["isFinal"]:
                    final_at[t["utteranceId"]] = (e.seq, [w["word"] for w in a["words"]])
        for e in session:
            for t, a in results([e]):
                if not t["isFinal"]:
                    partials += 1
                    seq, words = final_at[t["utteranceId"]]
                    assert e.seq < seq  # the partial goes out first
                    heard = [w["word"] for w in a["words"]]
                    assert 0 < len(heard) < len(words) and words[:len(heard)] == heard
    finals = sum(1 for s in sessions(calls).values() for t, _ in results(s) if t["isFinal"])
    assert 0.05 < partials / finals < 0.3


def test_numbers_are_spoken_in_words_and_decorated_in_digits(calls):
    pairs = {(w["word"], d["word"]) for s in sessions(calls).values() for _, a in results(s)
             for w, d in zip(a["words"], a["decoratedWords"]) if w["word"] != d["word"]}
    assert len(pairs) >= 5 and all(DIGITS[w] == d for w, d in pairs)


def test_each_session_ends_once_after_the_call(calls):
    ends = {}
    for e in calls:
        if e.topic == CONV + "user.end":
            ends[(body(e)["conversationId"], body(e)["userId"])] = body(e)
    answered = {body(e)["eventTime"]: body(e) for e in calls
                if e.topic == CONV + "acd.end" and body(e)["acdOutcome"] == "ANSWERED"}
    for session in sessions(calls).values():
        first, last = body(session[0]), body(session[-1])
        assert last["status"]["status"] == "SESSION_ENDED" and "transcripts" not in last
        assert sum(body(e)["status"]["status"] == "SESSION_ENDED" for e in session) == 1
        assert len({(body(e)["sessionStartTimeMs"], body(e)["transcriptionStartTimeMs"]) for e in session}) == 1
        assert 0 < first["sessionStartTimeMs"] - first["transcriptionStartTimeMs"] < 100
        # The session is the agent's leg: from the answer to the disconnect.
        leg = answered[first["sessionStartTimeMs"]]
        user_end = ends[(first["conversationId"], leg["answeredUserId"])]
        assert last["status"]["offsetMs"] == user_end["interactingDurationMs"] + user_end["heldDurationMs"]
        for _, a in results(session):
            assert a["offsetMs"] + a["durationMs"] < last["status"]["offsetMs"]


def test_each_notification_is_a_logical_event_of_its_own(calls):
    events = [e for e in calls if e.topic == TRANSCRIPTION]
    assert len({e.correlation_id for e in events}) == len({e.event["id"] for e in events}) == len(events)
    for e in events:
        b = body(e)
        assert e.entity == f"conversation:{b['conversationId']}:transcription"
        assert e.state == b["status"]["status"]
    for session in sessions(calls).values():
        times = [e.time_ms for e in session]
        assert times == sorted(times)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), cpm=st.floats(2, 60), agents=st.integers(2, 80))
def test_streams_hold_under_any_staffing(seed, cpm, agents):
    traffic = TrafficConfig(duration_s=600, conversations_per_minute=cpm, agents=agents, transcription_rate=1,
                            media_mix={"VOICE": 2, "CHAT": 1})
    events = list(generate(seed, traffic=traffic))
    media = {body(e)["conversationId"]: body(e)["mediaType"] for e in events if e.topic == CONV + "customer.start"}
    for session in sessions(events).values():
        assert media[body(session[0])["conversationId"]] == "VOICE"
        assert body(session[-1])["status"]["status"] == "SESSION_ENDED"
        offsets = [a["offsetMs"] for t, a in results(session) if t["isFinal"]]
        assert offsets == sorted(offsets)
