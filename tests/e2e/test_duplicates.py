"""Two kinds of duplicates reach an SQS consumer, and the harness makes both on
the real queue and tells them apart: EventBridge delivering an event twice (two
messages: new MessageId, same envelope id; the ``redeliver`` fault) and SQS's own
at-least-once copy (the same message again: same MessageId, new receipt handle;
the ``sqs_duplicate`` fault). An archive replay is a third way an event comes
back: a new envelope id with a ``replay-name``."""
from __future__ import annotations

from collections import Counter

from e2e.buggy import BUGGY
from simulator.accounts import accounts
from simulator.evidence import anomalies
from simulator.ledger import load

SQS_COPY = "[{sqs_duplicate: {probability: 0.3}}]"
EVENTBRIDGE_COPY = "[{redeliver: {probability: 0.3, delay_s: [1, 10]}}]"


def stories(result, name, kind="duplicated"):
    history = load(result.ledger_path)
    found, _ = anomalies(history, accounts(history, name), kinds=[kind], limit=None)
    return history, found


def test_a_consumer_keyed_on_the_sqs_message_id_catches_sqs_copies_not_eventbridge_copies(scenario, run):
    result, scores = run(scenario(faults=SQS_COPY), "ref:powertools-verbatim")
    score = scores["powertools-verbatim"]
    history = load(result.ledger_path)
    copies = Counter(r.message_id for r in history.receives)
    assert sum(1 for n in copies.values() if n >= 2) >= 5  # SQS did hand messages over again...
    assert score.duplicated == 0  # ...and a messageId key catches them, as in production
    _, scores = run(scenario(faults=EVENTBRIDGE_COPY), "ref:powertools-verbatim")
    assert scores["powertools-verbatim"].duplicated > 0  # a new message per copy: applied again


def test_the_evidence_tells_an_sqs_copy_from_an_eventbridge_copy(scenario, run):
    spec = f"python:{BUGGY}:AppliesEveryCopy"
    result, scores = run(scenario(faults=SQS_COPY, instances=2), spec)
    history, found = stories(result, spec)
    assert found and len(found) == scores[spec].duplicated
    for story in found:
        assert "the same SQS message (same MessageId) received again" in story["why"], story["why"]
        assert "sqs_duplicate" in story["faults"]
        receives = [s for s in story["history"] if s["what"] == "receive"]
        assert len({s["message_id"] for s in receives}) == 1 and {s["receive_count"] for s in receives} >= {1, 2}
    result, scores = run(scenario(faults=EVENTBRIDGE_COPY, instances=2), spec)
    _, found = stories(result, spec)
    assert found and all("a second message for the same event" in s["why"] for s in found), found[0]["why"]
    assert all("redeliver" in s["faults"] for s in found)


def test_an_archive_replay_catches_consumers_keyed_on_the_envelope_id(run):
    from simulator.scenario import load_scenario

    sc = load_scenario("archive-replay")
    result, scores = run(sc, "ref:correct", "ref:redis-nx-envelope")
    assert scores["correct"].verdict == "pass"
    replayed = scores["redis-nx-envelope"]
    assert replayed.duplicated > 0
    history = load(result.ledger_path)
    sent = [s for s in history.sent if s.consumer == "correct" and s.kind == "replay"]
    assert sent and all("replay" in s.faults for s in sent)
    _, found = stories(result, "redis-nx-envelope")
    assert any("an archive replay re-sent the event" in s["why"] for s in found), found[0]["why"]
