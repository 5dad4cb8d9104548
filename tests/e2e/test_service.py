"""A run started over HTTP (`genesys-sim serve`'s POST /runs) goes through the
same runner and reports its status and result."""
from __future__ import annotations

import json
import time
from pathlib import Path

import requests

from simulator.app import RunRegistry, create_app, serve_in_thread
from simulator.service import RunService

TINY = """name: tiny
description: two minutes of traffic, copies on
seed: 5
clock: {time_scale: 30}
traffic: {duration_s: 60, conversations_per_minute: 6, agents: 2}
faults:
  - redeliver: {probability: 0.3}
timeout_s: 15
"""


def test_post_runs_runs_a_scenario_and_reports_the_result(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "tiny.yaml").write_text(TINY)
    registry = RunRegistry()
    services: list[RunService] = []
    app = create_app(registry=registry, scenarios_dir=scenarios,
                     start_run=lambda request: services[0].start(request))
    with serve_in_thread(app) as server:
        services.append(RunService(registry, sink_base_url=server.url, out_dir=tmp_path / "runs"))
        answer = requests.post(f"{server.url}/runs", json={
            "scenario": "tiny", "consumers": ["ref:correct", "ref:memory-window-verbatim"]}, timeout=10)
        assert answer.status_code == 202, answer.text
        status_url = answer.json()["status_url"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = requests.get(status_url, timeout=10).json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(0.5)
        services[0].join(5)
    assert state["status"] == "done", state
    verdicts = {c["name"]: c["verdict"] for c in state["result"]["consumers"]}
    assert verdicts == {"correct": "pass", "memory-window-verbatim": "fail"}

    # Finished: every run and consumer sink is closed, holding a summary and no history.
    assert all(registry.get(i).closed and registry.get(i).sink is None for i in registry.ids())
    report = json.loads(Path(state["report_path"]).read_text())
    assert {c["name"]: c["verdict"] for c in report["consumers"]} == verdicts
    sinks = [registry.get(i) for i in registry.ids() if i != state["run_id"]]
    assert len(sinks) == 2
    assert all(s.counts["effects"]["attempts"] > 0 and Path(s.report_path).name == "ledger.jsonl" for s in sinks)


def test_post_runs_refuses_code_named_in_the_request(tmp_path):
    app = create_app(registry=RunRegistry(), start_run=lambda request: "never")
    client = app.test_client()
    answer = client.post("/runs", json={"scenario": "ci-smoke", "consumers": ["python:os:system"]})
    assert answer.status_code == 400
    assert "python:" in answer.get_json()["error"]


def test_a_long_lived_harness_keeps_no_finished_consumer_sink(harness, scenario, run):
    """As in a matrix: one harness, many runs. Each consumer's sink is closed when
    its part of the run ends, not when the harness does."""
    for seed in (1, 2):
        result, scores = run(scenario(f"release-{seed}", seed=seed), "ref:correct")
        assert scores["correct"].verdict == "pass"
        states = [harness.registry.get(i) for i in harness.registry.ids()]
        assert states and all(s.closed and s.sink is None and s.counts for s in states)
    assert len(harness.registry.ids()) == 2
