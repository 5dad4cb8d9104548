"""The same runner against a real LocalStack (started by scripts/localstack.sh in
CI): both queue paths deliver, and the checker's verdict matches the embedded run."""
from __future__ import annotations

import pytest

from simulator.clients.spec import parse_spec
from simulator.harness import Harness
from simulator.runner import RunOptions, run_scenario

pytestmark = pytest.mark.localstack


@pytest.fixture(scope="module")
def localstack_harness(localstack_endpoint, tmp_path_factory):
    with Harness(out_dir=tmp_path_factory.mktemp("runs-ls"), endpoint_url=localstack_endpoint) as h:
        yield h


@pytest.mark.parametrize("delivery", ["sqs", "eventbridge"])
def test_a_scenario_runs_on_localstack(localstack_harness, scenario, delivery):
    # LocalStack's PutEvents manages tens of events a second: keep the eventbridge run small.
    sc = scenario(f"ls-{delivery}", delivery=delivery, faults="[{redeliver: {probability: 0.2}}, {poison: {count: 2}}]")
    result = run_scenario(localstack_harness, sc,
                          [parse_spec("ref:correct"), parse_spec("ref:memory-window-verbatim")],
                          options=RunOptions(backend="localstack"))
    scores = {c.name: c for c in result.consumers}
    assert result.backend == "localstack" and result.complete
    correct = scores["correct"]
    assert correct.logical_events > 0 and correct.effects == correct.logical_events
    assert (correct.missed, correct.duplicated, correct.poison_dropped) == (0, 0, 0)
    assert scores["memory-window-verbatim"].missed > correct.logical_events // 2
