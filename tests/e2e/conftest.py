"""End-to-end fixtures: one harness (embedded moto, sink app, Redis) per module,
and small scenarios written inline."""
from __future__ import annotations

from pathlib import Path

import pytest

from simulator.clients.spec import parse_spec
from simulator.harness import Harness
from simulator.runner import RunOptions, make_plan, run_scenario
from simulator.scenario import parse_scenario



SMALL = """
name: {name}
seed: {seed}
delivery: {delivery}
queue: {{type: standard, visibility_timeout_s: 30, max_receive_count: 4}}
clock: {{time_scale: 30}}
traffic: {{duration_s: 90, conversations_per_minute: 6, agents: 3}}
faults: {faults}
consumers: {{instances: {instances}}}
timeout_s: 20
"""


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    with Harness(out_dir=tmp_path_factory.mktemp("runs")) as h:
        yield h


@pytest.fixture
def scenario():
    def build(name="e2e", *, seed=3, delivery="sqs", faults="[]", instances=1, extra=""):
        text = SMALL.format(name=name, seed=seed, delivery=delivery, faults=faults,
                            instances=instances) + extra
        return parse_scenario(text, source=f"<{name}>")
    return build


@pytest.fixture
def run(harness):
    def go(scenario, *specs, **options):
        result = run_scenario(harness, scenario, [parse_spec(s) for s in specs],
                              options=RunOptions(**options))
        return result, {c.name: c for c in result.consumers}
    return go


@pytest.fixture
def plan_of():
    def plan(scenario):
        return make_plan(scenario, scenario.seed)
    return plan
