"""The shipped production-day at production shape: a mid-size centre's morning
(300 agents, more than 50,000 logical events, every fault on) passes the correct
consumer on the embedded moto and on a real LocalStack, and every fault did fire."""
from __future__ import annotations

from collections import Counter

import pytest

from simulator.clients.spec import parse_spec
from simulator.harness import Harness
from simulator.ledger import load
from simulator.runner import RunOptions, run_scenario
from simulator.scenario import load_scenario

pytestmark = pytest.mark.slow


@pytest.fixture(params=["moto", pytest.param("localstack", marks=pytest.mark.localstack)])
def day_run(request, tmp_path):
    endpoint = request.getfixturevalue("localstack_endpoint") if request.param == "localstack" else None
    with Harness(out_dir=tmp_path, endpoint_url=endpoint) as harness:
        result = run_scenario(harness, load_scenario("production-day"), [parse_spec("ref:correct")],
                              options=RunOptions(backend=request.param))
    return request.param, result


def test_a_production_morning_passes_the_correct_consumer(day_run):
    backend, result = day_run
    assert result.backend == backend and result.complete, result.notes
    score, = result.consumers
    assert score.logical_events >= 50_000
    assert score.verdict == "pass", score.failures
    assert score.effects == score.logical_events
    history = load(result.ledger_path)
    kinds = Counter(s.kind for s in history.sent)
    # every delivery fault was on the wire, and the consumer lived through the rest
    assert {"redeliver", "republish", "poison"} <= kinds.keys(), kinds
    assert kinds["poison"] >= 50 and score.poison_dropped == 0
    assert sum(1 for c in history.lifecycle if c.event == "crash") >= 10
    assert score.failed_effects > 0  # the flaky sink answered 500s
