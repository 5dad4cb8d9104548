"""A run started over HTTP (`genesys-sim serve`'s POST /runs) goes through the
same runner and reports its status and result."""
from __future__ import annotations

import time

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


def test_post_runs_refuses_code_named_in_the_request(tmp_path):
    app = create_app(registry=RunRegistry(), start_run=lambda request: "never")
    client = app.test_client()
    answer = client.post("/runs", json={"scenario": "ci-smoke", "consumers": ["python:os:system"]})
    assert answer.status_code == 400
    assert "python:" in answer.get_json()["error"]
