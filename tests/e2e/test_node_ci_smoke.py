"""TypeScript handlers written the way the Genesys blueprints write theirs run
unchanged under lambda-sqs: and lambda-eb: on the real ci-smoke scenario (copies,
a re-send, reordering, crashes after effects, downstream 500s, poison), and are
scored as Python handlers are: the correct one passes, the buggy one shows its
anomalies with their evidence."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest

from e2e.buggy import touched
from node_support import HANDLERS
from simulator.clients.spec import parse_spec
from simulator.ledger import load
from simulator.runner import make_plan, run_scenario
from simulator.scenario import load_scenario

BLUEPRINT = HANDLERS / "blueprint"
QUEUE_SPEC = f"lambda-sqs:{BLUEPRINT}/queue.ts:handler"
EVENTBRIDGE_SPEC = f"lambda-eb:{BLUEPRINT}/app.ts:lambdaHandler"
BUGGY_SPEC = f"lambda-sqs:{BLUEPRINT}/buggy.ts:handler"
DROPS_SPEC = f"lambda-sqs:{BLUEPRINT}/buggy.ts:dropsSome"


@pytest.fixture(scope="module")
def ci_smoke():
    return load_scenario("ci-smoke")


@pytest.fixture(scope="module")
def presence_table(harness):
    """The blueprint's DynamoDB table, on the run's own backend; the handlers find
    it through process.env.PRESENCE_TABLE, as a SAM template would set it."""
    name = f"eb_user_presence_{uuid.uuid4().hex[:8]}"
    ddb = harness.backend("moto").client("dynamodb")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}])
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PRESENCE_TABLE", name)  # consumers inherit the harness's environment
        yield name


@pytest.fixture(scope="module")
def correct(harness, ci_smoke, presence_table):
    result = run_scenario(harness, ci_smoke, [parse_spec(QUEUE_SPEC), parse_spec(EVENTBRIDGE_SPEC)])
    return result, {c.name: c for c in result.consumers}


@pytest.fixture(scope="module")
def buggy(harness, ci_smoke):
    result = run_scenario(harness, ci_smoke, [parse_spec(BUGGY_SPEC), parse_spec(DROPS_SPEC)])
    return result, {c.name: c for c in result.consumers}


@pytest.mark.parametrize("spec", [QUEUE_SPEC, EVENTBRIDGE_SPEC])
def test_the_correct_typescript_handler_passes_ci_smoke(correct, spec):
    result, scores = correct
    score = scores[spec]
    assert result.complete
    assert (score.missed, score.duplicated, score.unexpected, score.poison_dropped) == (0, 0, 0, 0)
    if spec == QUEUE_SPEC:
        assert score.verdict == "pass", score.failures
        assert score.dlq == 0 and score.effects == score.logical_events > 400
    else:
        # Lambda's asynchronous invocation makes three attempts: an event whose three
        # all failed (the downstream's 5% of 500s, a crash) is in the function's DLQ,
        # as in production, and fails the verdict; the seed fixes the downstream's
        # answers per event, the crashes fall where the run's timing puts them.
        assert all(f.startswith("dlq ") for f in score.failures), score.failures
        history = load(result.ledger_path)
        events = {e.correlation_id for e in history.logical}
        parked = {d.correlation_id for d in history.dlq if d.consumer == spec and d.correlation_id in events}
        tries = Counter(a.correlation_id for a in history.attempts
                        if a.consumer == spec and a.error_code not in (None, "ColdStart"))
        # a parked delivery's event may have been applied all the same (an effect, then a
        # crash before the answer): processed, so not counted as dlq
        assert score.dlq <= len(parked) and all(tries[cid] >= 3 for cid in parked)  # copies add theirs
        assert score.effects + score.dlq == score.logical_events > 400
    assert score.poison_sent > 0 and score.failed_effects > 0  # the faults were there
    assert any(note.startswith(f"{spec}: ") and "planned crash(es), each restarted" in note
               for note in result.notes)


def test_the_sdk_client_made_at_module_load_wrote_the_blueprints_table(harness, correct, presence_table, ci_smoke):
    events, _ = make_plan(ci_smoke, ci_smoke.seed)
    users = {e.event["detail"]["topicName"].split(".")[2] for e in events if e.topic == "v2.users.{id}.presence"}
    items = harness.backend("moto").client("dynamodb").scan(TableName=presence_table)["Items"]
    assert users and {item["user_id"]["S"] for item in items} == users


def test_the_buggy_handler_shows_its_anomalies(buggy):
    _, scores = buggy
    score = scores[BUGGY_SPEC]
    assert score.verdict == "fail"
    # refused effects caught and acknowledged; re-sends and crash restarts applied again; poison swallowed
    assert score.missed > 0 and score.duplicated > 0 and score.poison_dropped > 0
    kinds = {a["kind"] for a in score.anomalies}
    assert {"missed", "duplicated", "poison_dropped"} <= kinds
    for kind, count in (("missed", score.missed), ("duplicated", score.duplicated)):
        assert sum(a["kind"] == kind for a in score.anomalies) == min(count, 25)
    duplicated = next(a for a in score.anomalies if a["kind"] == "duplicated")
    applied = [s for s in duplicated["history"] if s["what"] == "effect" and s["applied"]]
    received = [s for s in duplicated["history"] if s["what"] == "receive"]
    assert len(applied) >= 2 and received and all(s["instance"] == 0 for s in received)
    missed = next(a for a in score.anomalies if a["kind"] == "missed")
    assert any(s["what"] == "effect" and not s["applied"] for s in missed["history"])  # the 500 it swallowed


def test_a_bug_counted_from_the_plan_is_scored_exactly(buggy, ci_smoke):
    _, scores = buggy
    score = scores[DROPS_SPEC]
    events, _ = make_plan(ci_smoke, ci_smoke.seed)
    dropped = sum(touched(e.correlation_id) for e in events)
    assert dropped > 0
    assert (score.missed, score.duplicated, score.unexpected, score.poison_dropped) == (dropped, 0, 0, 0)
    assert score.effects == score.logical_events - dropped
