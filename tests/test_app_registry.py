"""Runs leave the registry: a closed run keeps a small summary (status, counts,
report path) and lets go of its sink, ledger and history."""
from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

import pytest

from simulator.app import RunRegistry, create_app
from simulator.harness import Harness
from simulator.ledger import Ledger
from simulator.model import LogicalEvent
from simulator.sink import EffectSink


def open_run(registry: RunRegistry, run_id: str, path: Path | None = None) -> tuple[EffectSink, Ledger]:
    ledger = Ledger(path)
    ledger.record(LogicalEvent(0, f"cid-{run_id}", "topic", 0, "conv", "ended", {"big": "x" * 10_000}))
    sink = EffectSink(ledger)
    registry.open(run_id, sink)
    sink.apply("c", {"correlation_id": f"cid-{run_id}"})
    return sink, ledger


def test_close_keeps_a_summary_and_releases_the_history(tmp_path: Path) -> None:
    registry = RunRegistry()
    sink, ledger = open_run(registry, "r1", tmp_path / "ledger.jsonl")
    gone = weakref.ref(ledger), weakref.ref(sink)
    path = registry.sink_path("r1", "c") + "/effects"
    ledger.close()
    del sink, ledger

    closed = registry.close("r1")
    gc.collect()
    assert [ref() for ref in gone] == [None, None]
    assert closed.status == "done" and closed.closed and closed.sink is None
    assert closed.counts["logical"] == 1
    assert closed.counts["effects"]["applied"] == 1
    assert closed.report_path == str(tmp_path / "ledger.jsonl")

    client = create_app(registry=registry).test_client()
    body = client.get("/runs/r1").get_json()
    assert body["status"] == "done"
    assert body["counts"] == closed.counts
    assert body["report_path"] == closed.report_path
    assert client.post(path, json={"correlation_id": "x"}).status_code == 404


def test_close_sets_the_given_fields_once() -> None:
    registry = RunRegistry()
    registry.open("api-run")
    closed = registry.close("api-run", status="failed", error="backend down", report_path="/r/report.json")
    assert (closed.status, closed.error, closed.report_path) == ("failed", "backend down", "/r/report.json")
    again = registry.close("api-run", status="done")
    assert again.status == "failed"  # closing twice changes nothing
    assert registry.close("never-opened") is None
    with pytest.raises(KeyError):
        registry.update("api-run", progress={"late": True})
    with pytest.raises(ValueError):
        registry.close("other", status="exploded")


def test_only_the_latest_closed_summaries_are_kept() -> None:
    registry = RunRegistry(keep_closed=3)
    for i in range(6):
        open_run(registry, f"r{i}")
    registry.open("still-running")
    for i in range(6):
        registry.close(f"r{i}")
    assert registry.ids() == ["r3", "r4", "r5", "still-running"]
    assert registry.get("r0") is None


def test_closing_while_effects_arrive_loses_no_recorded_effect() -> None:
    registry = RunRegistry()
    sink, ledger = open_run(registry, "r")
    client = create_app(registry=registry).test_client()
    url = registry.sink_path("r", "c") + "/effects"
    answers: list[int] = []
    started = threading.Event()

    def post() -> None:
        for i in range(200):
            answers.append(client.post(url, json={"correlation_id": f"c{i}"}).status_code)
            started.set()

    thread = threading.Thread(target=post)
    thread.start()
    started.wait(10)
    closed = registry.close("r")
    thread.join()
    assert set(answers) <= {200, 404}
    # Every 200 answered is in the ledger; the summary counted what was applied by then.
    assert len(ledger.history.effects) == 1 + answers.count(200)
    assert closed.counts["effects"]["applied"] <= 1 + answers.count(200)


def test_harness_sinks_are_closed_by_the_runner_or_at_exit(tmp_path: Path) -> None:
    with Harness(out_dir=tmp_path) as harness:
        url = harness.open_sink("k1", EffectSink(Ledger()), consumer="ref:correct")
        harness.open_sink("k2", EffectSink(Ledger()), consumer="c")
        assert url.startswith(harness.sink_base_url + "/runs/k1/sink/")
        assert url.endswith("/consumers/ref%3Acorrect")
        harness.close_sink("k1")
        registry = harness.registry
        assert registry.get("k1").closed and not registry.get("k2").closed
    assert registry.get("k2").closed and registry.get("k2").sink is None
