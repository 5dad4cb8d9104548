"""``genesys-sim fixtures``: realistic events on stdout or in a file, byte-identical per
seed, and a one-line error (exit 2, no traceback) for every bad option."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from simulator.cli import main
from simulator.events.schemas import errors

ACD_END = "v2.detail.events.conversation.{id}.acd.end"


def run(capsysbinary, *argv: str) -> tuple[int, bytes, str]:
    code = main(["fixtures", *argv])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def test_three_acd_end_events_as_documented(capsysbinary):
    code, out, err = run(capsysbinary, "--topic", ACD_END, "--count", "3", "--seed", "1",
                         "--format", "eventbridge")
    assert code == 0 and err == ""
    events = [orjson.loads(line) for line in out.splitlines()]
    assert len(events) == 3
    for event in events:
        assert event["detail-type"] == ACD_END
        assert not errors(event)
        assert event["detail"]["eventBody"]["acdOutcome"] in ("ANSWERED", "ABANDON", "FLOW_OUT")


def test_same_seed_same_bytes_different_seed_different_bytes(capsysbinary):
    outputs = {}
    for seed in ("7", "7", "8"):
        code, out, _ = run(capsysbinary, "--count", "200", "--seed", seed, "--format", "lambda-sqs")
        assert code == 0
        outputs.setdefault(seed, []).append(out)
    assert outputs["7"][0] == outputs["7"][1]
    assert outputs["7"][0] != outputs["8"][0]


def test_several_topics_and_a_count_mean_that_many_of_those_topics(capsysbinary):
    code, out, _ = run(capsysbinary, "--topic", "presence", "--topic", "v2.users.{id}.routingStatus",
                       "--count", "25", "--format", "json")
    events = orjson.loads(out)
    assert code == 0 and len(events) == 25
    assert {e["detail-type"] for e in events} <= {"v2.users.{id}.presence", "v2.users.{id}.routingStatus"}


def test_duration_writes_every_event_of_that_much_time(capsysbinary, tmp_path: Path):
    target = tmp_path / "events.jsonl"
    code, out, _ = run(capsysbinary, "--duration", "120", "--out", str(target))
    assert code == 0 and out == b""
    events = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    starts = [e for e in events if e["detail-type"].endswith("customer.start")]
    ends = [e for e in events if e["detail-type"].endswith("customer.end")]
    assert starts and len(starts) == len(ends)


@pytest.mark.parametrize("fmt", ["eventbridge", "json", "sqs", "lambda-sqs", "lambda-eb"])
def test_every_format_is_accepted(capsysbinary, fmt):
    code, out, _ = run(capsysbinary, "--count", "12", "--format", fmt)
    assert code == 0 and out


@pytest.mark.parametrize("argv, culprit", [
    (["--topic", "v2.users.{id}.mood"], "--topic"),
    (["--format", "xml"], "--format"),
    (["--count", "0"], "--count"),
    (["--count", "-3"], "--count"),
    (["--count", "many"], "--count"),
    (["--duration", "0"], "--duration"),
    (["--seed", "x"], "--seed"),
    (["--out", "/nonexistent-dir/events.jsonl"], "--out"),
])
def test_bad_options_are_one_line_errors(capsysbinary, argv, culprit):
    code, out, err = run(capsysbinary, *argv)
    assert code == 2 and out == b""
    assert err.startswith(f"genesys-sim: error: {culprit}: ") and err.count("\n") == 1


def test_a_path_that_cannot_be_a_file_is_bad_input(capsysbinary, tmp_path: Path):
    plain = tmp_path / "plain"
    plain.write_text("")
    code, out, err = run(capsysbinary, "--out", str(plain / "events.jsonl"))
    assert code == 2 and out == b""
    assert err == f"genesys-sim: error: --out: cannot write {plain / 'events.jsonl'}: Not a directory\n"


def test_console_script_prints_no_traceback():
    result = subprocess.run([sys.executable, "-m", "simulator", "fixtures", "--format", "yaml"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == ("genesys-sim: error: --format: unknown format 'yaml' "
                                     "(known: eventbridge, json, sqs, lambda-sqs, lambda-eb)")


def test_no_progress_bar_when_stderr_is_not_a_terminal(capsysbinary):
    code, _, err = run(capsysbinary, "--count", "10001", "--topic", "attributes")
    assert code == 0 and err == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_for_large_counts(monkeypatch, tmp_path: Path):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["fixtures", "--count", "12000", "--topic", "attributes", "--out", str(tmp_path / "x")]) == 0
    assert "generating events" in terminal.getvalue()
    assert len((tmp_path / "x").read_bytes().splitlines()) == 12000


def test_output_does_not_depend_on_the_process():
    # String hashing is randomised per process; nothing the generator emits may depend on it.
    runs = [subprocess.run([sys.executable, "-m", "simulator", "fixtures", "--count", "400", "--seed", "3"],
                           capture_output=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": seed})
            for seed in ("1", "2")]
    assert runs[0].returncode == runs[1].returncode == 0
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.count(b"\n") == 400
