"""`genesys-sim explain RUN_DIR` tells the same stories the run reported, read back
from the ledger alone; it works on an interrupted run too."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def explain(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator", "explain", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def late_copies(harness):
    from simulator.clients.spec import parse_spec
    from simulator.runner import run_scenario
    from simulator.scenario import parse_scenario

    from e2e.conftest import SMALL

    text = SMALL.format(name="late", seed=5, delivery="sqs", instances=1,
                        faults="[{redeliver: {probability: 0.3, delay_s: [320, 400]}}, {poison: {count: 2}}]")
    return run_scenario(harness, parse_scenario(text), [parse_spec("ref:memory-window")])


def test_explain_prints_the_stories_the_run_reported(late_copies):
    (score,) = late_copies.consumers
    assert score.duplicated > 0
    done = explain(late_copies.run_dir, "--json", "--limit", "0")
    assert done.returncode == 0, done.stderr
    (told,) = json.loads(done.stdout)["consumers"]
    by_id = {a["id"]: a for a in told["anomalies"]}
    assert len(told["anomalies"]) == score.duplicated + score.unexpected + score.poison_dropped
    for reported in score.anomalies:
        assert by_id[reported["id"]]["why"] == reported["why"]
        assert by_id[reported["id"]]["history"] == reported["history"]


def test_explain_one_event_and_one_kind(late_copies):
    (score,) = late_copies.consumers
    first = next(a for a in score.anomalies if a["kind"] == "duplicated")
    cid = first["event"]["correlation_id"]
    done = explain(late_copies.run_dir, "--event", cid)
    assert done.returncode == 0
    assert first["why"] in done.stdout and cid in done.stdout
    assert "receive" in done.stdout and "effect" in done.stdout
    kind = explain(late_copies.run_dir, "--kind", "poison_dropped", "--limit", "1")
    assert "poison_dropped:" in kind.stdout and "duplicated:" not in kind.stdout


def test_explain_reads_an_interrupted_run(late_copies, tmp_path):
    lines = Path(late_copies.ledger_path).read_bytes().splitlines(keepends=True)
    cut = tmp_path / "ledger.jsonl"
    cut.write_bytes(b"".join(lines[: len(lines) * 2 // 3]) + lines[-2][:17])  # no end, torn last line
    done = explain(str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "INCOMPLETE" in done.stdout and "run incomplete" not in done.stderr


@pytest.mark.parametrize("args, where", [
    (["/nonexistent/run"], "RUN_DIR"),
    (["{run}", "--consumer", "nobody"], "--consumer"),
    (["{run}", "--limit", "-1"], "--limit"),
])
def test_explain_bad_input_is_exit_2_naming_it(late_copies, args, where):
    done = explain(*[a.format(run=late_copies.run_dir) for a in args])
    assert done.returncode == 2
    assert where in done.stderr and "Traceback" not in done.stderr
