"""A stop is a stop: Ctrl-C and SIGTERM end a run the same way (consumers stopped,
ledger closed, the report written and marked incomplete, the documented exit
status), and no process a run starts outlives it, however it ends (SIGKILL too)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simulator.ledger import load


def start_run(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "report.json"
    argv = [sys.executable, "-m", "simulator", "run", "ci-smoke", "--consumer", "ref:correct",
            "--report", "json", "--out", str(out), "--run-dir", str(tmp_path / "runs"), "--quiet", *extra]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, out


def wait_for_effects(tmp_path: Path, count: int = 20, timeout_s: float = 60.0) -> Path:
    """The run's ledger once it holds ``count`` effects (the run is well under way)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for ledger in (tmp_path / "runs").glob("*/ledger.jsonl"):
            if ledger.read_bytes().count(b'"r":"effect"') >= count:
                return ledger
        time.sleep(0.2)
    raise AssertionError("the run made no progress")


def children_of(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] if Path(f"/proc/{pid}").exists() else "X"
    return state != "Z"


def gone_within(pids: set[int], timeout_s: float) -> set[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return set()
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


@pytest.mark.parametrize("sig, code, reason", [(signal.SIGTERM, 3, "terminated (SIGTERM)"),
                                               (signal.SIGINT, 130, "interrupted (Ctrl-C)")])
def test_a_signal_ends_the_run_incomplete_with_its_report_written(tmp_path, sig, code, reason):
    proc, out = start_run(tmp_path)
    ledger = wait_for_effects(tmp_path)
    started = children_of(proc.pid)
    assert started, "the run should have started consumer hosts and the emulator"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    report = json.loads(out.read_text())
    assert report["complete"] is False and report["verdict"] == "fail"
    assert report["stopped"] == reason and report["exit_code"] == code
    (score,) = report["consumers"]
    assert score["failures"][0] == f"run incomplete: {reason}"
    # Never sent is not missed; what was sent and not processed is held, not lost.
    assert score["unsent"] > 0
    assert score["missed"] == score["left_on_queue"]
    history = load(ledger)
    assert history.complete is False and history.stopped == reason
    assert not gone_within(started, 10), "processes of the run outlived it"


def test_no_process_outlives_a_run_killed_outright(tmp_path):
    proc, _ = start_run(tmp_path)
    wait_for_effects(tmp_path, count=5)
    started = children_of(proc.pid)
    assert len(started) >= 2  # the embedded moto server and a consumer host at least
    proc.kill()
    proc.wait(timeout=10)
    assert not gone_within(started, 15), "processes of the run outlived a SIGKILL"


def test_a_cmd_consumer_and_its_children_die_with_the_harness(tmp_path):
    # A program that ignores SIGTERM and starts a child of its own.
    script = tmp_path / "stubborn.sh"
    script.write_text("trap '' TERM\nsleep 3600 &\nwhile true; do sleep 1; done\n")
    out = tmp_path / "r.json"
    argv = [sys.executable, "-m", "simulator", "run", "ci-smoke", "--consumer", f"cmd:sh {script}",
            "--run-dir", str(tmp_path / "runs"), "--quiet", "--report", "json", "--out", str(out)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            "sleep 3600" in _cmdline(p) for p in children_of(proc.pid)):
        time.sleep(0.2)
    started = children_of(proc.pid)
    assert any("sleep 3600" in _cmdline(p) for p in started)
    proc.kill()
    proc.wait(timeout=10)
    assert not gone_within(started, 15)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
