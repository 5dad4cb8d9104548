"""Known bugs teams hit, reproduced by shipped scenarios against the real
Powertools library (README: "Known bugs, found by scenarios")."""
from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from simulator.accounts import accounts
from simulator.clients.spec import parse_spec
from simulator.evidence import anomalies
from simulator.ledger import load
from simulator.runner import run_scenario
from simulator.scenario import load_scenario


def test_powertools_times_out_after_its_effect_and_the_retry_applies_it_again(harness):
    """aws-powertools/powertools-lambda-python#8049: the handler makes its effect,
    stalls past the function timeout; the record stays INPROGRESS with an
    in-progress expiry of the remaining Lambda time, so the retry (after the
    visibility timeout, longer than the function timeout) runs the effect again."""
    result = run_scenario(harness, load_scenario("lambda-timeout-after-effect"), [parse_spec("ref:powertools")])
    (score,) = result.consumers
    assert result.complete, result.notes
    history = load(result.ledger_path)
    timeouts = Counter(c.event for c in history.lifecycle)["timeout"]
    assert timeouts >= 3
    assert score.duplicated >= 3 and score.missed == 0 and score.verdict == "fail"
    # each duplicate is one timed-out invocation's effect applied again: never more than the timeouts
    assert score.duplicated <= timeouts
    stories, _ = anomalies(history, accounts(history, score.name), kinds=["duplicated"], limit=None)
    assert len(stories) == score.duplicated
    for story in stories:
        assert "ran past its function timeout" in story["why"], story["why"]
        kinds = [step["what"] for step in story["history"]]
        first, last = kinds.index("effect"), len(kinds) - 1 - kinds[::-1].index("effect")
        assert "timeout" in kinds[first:last], kinds  # the timeout is on its timeline, between the effects


def test_the_same_scenario_passes_a_consumer_whose_effect_is_idempotent_downstream(harness):
    result = run_scenario(harness, load_scenario("lambda-timeout-after-effect"), [parse_spec("ref:correct")])
    (score,) = result.consumers
    assert result.complete, result.notes
    assert (score.missed, score.duplicated, score.verdict) == (0, 0, "pass")


OVERLAP = "python:consumers.powertools_function:Consumer"


def _overlapping(harness, python: str | None):
    from simulator.clients.interpreter import with_python

    spec = with_python(parse_spec(OVERLAP, check=python is None), python, where="--python")
    result = run_scenario(harness, load_scenario("overlapping-executions"), [spec])
    (score,) = result.consumers
    assert result.complete, result.notes
    return result, score


@pytest.mark.slow
def test_powertools_before_the_fix_takes_a_live_record_over_as_an_orphan(harness):
    """#8386: two executions of one event overlap (SQS's copy on the second
    instance while the first stalls after its effect); Powertools 3.34.0's Redis
    layer, with idempotent_function and no Lambda context, lets both apply it."""
    from simulator.clients.venvs import venv_python

    old = venv_python("powertools-3.34.0")  # cached under ~/.cache/genesys-sim/venvs
    version = subprocess.run([str(old), "-c", "import aws_lambda_powertools.shared.version as v; print(v.VERSION)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == "3.34.0"
    result, score = _overlapping(harness, str(old))
    assert score.duplicated >= 3 and score.missed == 0 and score.verdict == "fail"
    history = load(result.ledger_path)
    stories, _ = anomalies(history, accounts(history, score.name), kinds=["duplicated"], limit=None)
    # every duplicate is SQS's copy of a message run by a second instance, not a late retry
    assert all("same SQS message (same MessageId)" in s["why"] for s in stories)
    # the rerun command keeps the old interpreter: without it the bug is not there
    commands = {a["reproduce"] for a in score.anomalies}
    assert commands and all(c.endswith(f"--python {old} --consumer {OVERLAP}") for c in commands), commands
    instances = [{st["instance"] for st in s["history"] if st["what"] == "effect"} for s in stories]
    assert all(len(i) == 2 for i in instances), instances


@pytest.mark.slow
def test_powertools_with_the_fix_keeps_the_live_record_locked(harness):
    import aws_lambda_powertools.shared.version as v

    assert tuple(map(int, v.VERSION.split("."))) >= (3, 35, 0)
    result, score = _overlapping(harness, None)
    assert (score.missed, score.duplicated, score.dlq, score.verdict) == (0, 0, 0, "pass")
    history = load(result.ledger_path)
    copies = [r for r in history.receives if "sqs_duplicate" in r.faults]
    assert len(copies) >= 10  # the overlap happened: copies handed over while the first ran
