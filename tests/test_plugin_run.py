"""The scenario-running half of the pytest plugin, driven through pytester as a
user's project would drive it: real runs on the embedded backend (each ~10 s)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

# A user's consumers: one correct, one that drops about one event in five.
CONSUMERS = '''
import hashlib

from simulator.clients.api import ConsumerContext, Message


def dropped(correlation_id: str) -> bool:
    return int(hashlib.sha256(correlation_id.encode()).hexdigest()[:8], 16) % 5 == 0


class Correct:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        event = message.event()
        self.ctx.effect(event, idempotency_key=event["detail"]["metadata"]["CorrelationId"])


class DropsSome:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        event = message.event()
        cid = event["detail"]["metadata"]["CorrelationId"]
        if not dropped(cid):
            self.ctx.effect(event, idempotency_key=cid)
'''

# Small and short: ~80 logical events, some delivered twice.
SCENARIO = '''
SCENARIO = {
    "name": "plugin-small",
    "seed": 5,
    "clock": {"time_scale": 30},
    "traffic": {"duration_s": 60, "conversations_per_minute": 6, "agents": 3},
    "faults": [{"redeliver": {"probability": 0.2}}],
    "timeout_s": 15,
}
SCENARIO_TEXT = """
name: plugin-small-text
seed: 5
clock: {time_scale: 30}
traffic: {duration_s: 60, conversations_per_minute: 6, agents: 3}
faults: [{redeliver: {probability: 0.2}}]
timeout_s: 15
"""
'''

KEEP = '''
import json
from pathlib import Path


def keep(name, result, **extra):
    """What the outer test checks, written where it can read it."""
    score = result.consumers[0]
    Path(f"{name}.json").write_text(json.dumps({
        "seed": result.seed, "passed": result.passed, "exit_code": result.exit_code,
        "ledger": result.ledger_path, "missed": score.missed, "duplicated": score.duplicated,
        "events": score.logical_events, "name": score.name, **extra}))
'''


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A user's project: consumers, the scenario, and a helper that records results."""
    pytester.makepyfile(shop_consumers=CONSUMERS, shop_scenario=SCENARIO, keep=KEEP)
    return pytester


def read(pytester: pytest.Pytester, name: str) -> dict:
    return json.loads((pytester.path / f"{name}.json").read_text())


def test_correct_passes_buggy_fails_with_its_counts(project: pytest.Pytester):
    project.makepyfile(test_shop="""
        import pytest
        from keep import keep
        from shop_scenario import SCENARIO, SCENARIO_TEXT
        from simulator.pytest_plugin import assert_score

        def test_correct(genesys_run):
            result = genesys_run(SCENARIO, "python:shop_consumers.py:Correct")
            keep("correct", result)
            assert_score(result, missed=0, duplicated=0)
            assert_score(result)

        @pytest.mark.genesys_scenario(SCENARIO_TEXT, consumer="python:shop_consumers.py:DropsSome", seed=11)
        def test_buggy(genesys_result):
            keep("buggy", genesys_result)
            assert_score(genesys_result, missed=0, duplicated=0)
    """)
    result = project.runpytest("-p", "no:cacheprovider", "--strict-markers",
                               "--genesys-seed", "77", "--genesys-run-dir", "my-runs")
    result.assert_outcomes(passed=1, failed=1)

    correct, buggy = read(project, "correct"), read(project, "buggy")
    assert (correct["passed"], correct["exit_code"], correct["missed"], correct["duplicated"]) == (True, 0, 0, 0)
    assert correct["events"] > 0
    assert (buggy["passed"], buggy["exit_code"]) == (False, 1)
    assert 0 < buggy["missed"] < buggy["events"]
    # The failure names the consumer, the count it got, and shows the score table.
    result.stdout.fnmatch_lines([
        "*genesys-sim: scenario 'plugin-small-text' (seed 11, moto, sqs): 1 problem(s)",
        f"*python:shop_consumers.py:DropsSome: missed expected 0, got {buggy['missed']}",
        "*consumer*verdict*events*effects*missed*duplicated*",
        f"*python:shop_consumers.py:DropsSome*fail*{buggy['events']}*{buggy['missed']}*",
        f"*ledger: {project.path}*ledger.jsonl",
    ])
    # --genesys-seed applies where the test sets no seed; the marker's seed wins.
    assert (correct["seed"], buggy["seed"]) == (77, 11)
    # --genesys-run-dir is where the ledgers go, relative to where pytest was started.
    for kept in (correct, buggy):
        assert Path(kept["ledger"]).is_relative_to(project.path / "my-runs")
        assert Path(kept["ledger"]).is_file()


def test_each_xdist_worker_has_its_own_backend(project: pytest.Pytester):
    project.makepyfile(test_parallel="""
        import os
        from keep import keep
        from shop_scenario import SCENARIO, SCENARIO_TEXT
        from simulator.pytest_plugin import assert_score

        def run(genesys_run, genesys_harness, scenario):
            result = genesys_run(scenario, "python:shop_consumers.py:Correct")
            keep(os.environ["PYTEST_XDIST_WORKER"], result,
                 endpoint=genesys_harness.backend("moto").endpoint_url,
                 sink=genesys_harness.sink_base_url)
            assert_score(result, missed=0, duplicated=0)

        def test_one(genesys_run, genesys_harness):
            run(genesys_run, genesys_harness, SCENARIO)

        def test_two(genesys_run, genesys_harness):
            run(genesys_run, genesys_harness, SCENARIO_TEXT)
    """)
    result = project.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=2)
    # xdist hands two tests on two workers one each; every worker opened its own.
    workers = [read(project, "gw0"), read(project, "gw1")]
    assert workers[0]["endpoint"] != workers[1]["endpoint"]
    assert workers[0]["sink"] != workers[1]["sink"]
    assert {w["seed"] for w in workers} == {5}  # no --genesys-seed: the scenario's own


def test_backend_and_endpoint_options_are_used(pytester: pytest.Pytester):
    pytester.makepyfile(test_ls="""
        def test_run(genesys_run):
            genesys_run("ci-smoke", "ref:correct")
    """)
    closed = "http://127.0.0.1:9"  # discard port: nothing listens
    result = pytester.runpytest("-p", "no:cacheprovider", "--genesys-backend", "localstack",
                                "--genesys-endpoint", closed)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*genesys-sim: run of scenario 'ci-smoke' stopped:*{closed}*"])
    result.stdout.no_fnmatch_line("*Traceback*")
