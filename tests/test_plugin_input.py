"""The pytest plugin's edges without a run: assert_score's rule and message, bad
input answered with one line (no traceback), options checked by pytest, and a
module light enough to load in every pytest run."""
from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from simulator.pytest_plugin import SCORE_FIELDS, assert_score
from simulator.report import RunResult
from simulator.scoring import ConsumerScore

counts = st.integers(min_value=0, max_value=50)
names = st.sampled_from(["ref:correct", "python:some/long/path/to/the_users_consumer_module.py:Consumer"])


def score(name: str, missed: int = 0, duplicated: int = 0, verdict: str = "pass") -> ConsumerScore:
    return ConsumerScore(name=name, logical_events=100, effects=100 - missed + duplicated, missed=missed,
                         duplicated=duplicated, extra_effects=duplicated, unexpected=0, dlq=0,
                         poison_dropped=0, stale_entities=None,
                         latency_ms={"p50": 1.0, "p95": 2.0, "p99": 3.0}, throughput_eps=10.0,
                         verdict=verdict, failures=[] if verdict == "pass" else ["missed > 0"])


def run_of(*scores: ConsumerScore, complete: bool = True) -> RunResult:
    return RunResult(scenario="unit", seed=3, backend="moto", delivery="sqs",
                     consumers=list(scores), complete=complete)


@given(name=names, missed=counts, duplicated=counts, want_missed=counts, want_duplicated=counts)
def test_counts_must_equal_and_the_message_says_which_and_shows_the_table(
        name, missed, duplicated, want_missed, want_duplicated):
    result = run_of(score(name, missed, duplicated))
    wrong = [(f, want, got) for f, want, got in (("missed", want_missed, missed),
                                                 ("duplicated", want_duplicated, duplicated)) if want != got]
    if not wrong:
        assert_score(result, missed=want_missed, duplicated=want_duplicated)
        return
    with pytest.raises(AssertionError) as failure:
        assert_score(result, missed=want_missed, duplicated=want_duplicated)
    message = str(failure.value)
    assert f"{len(wrong)} problem(s)" in message.splitlines()[0]
    for field, want, got in wrong:
        assert f"{name}: {field} expected {want}, got {got}" in message
    # The table row: the whole consumer name, never truncated, with its counts.
    row = next(line for line in message.splitlines() if line.startswith("│") and name in line)
    assert [cell.strip() for cell in row.split("│")[5:7]] == [str(missed), str(duplicated)]


@given(verdicts=st.lists(st.sampled_from(["pass", "fail"]), min_size=1, max_size=4))
def test_without_counts_every_verdict_must_pass(verdicts):
    result = run_of(*(score(f"c{i}", verdict=v) for i, v in enumerate(verdicts)))
    if all(v == "pass" for v in verdicts):
        assert_score(result)
        return
    with pytest.raises(AssertionError) as failure:
        assert_score(result)
    failing = {f"c{i}" for i, v in enumerate(verdicts) if v == "fail"}
    assert {line.split(":")[0].strip() for line in str(failure.value).splitlines()
            if "verdict fail" in line} == failing


def test_one_consumer_can_be_picked_by_name():
    result = run_of(score("good"), score("bad", missed=4, verdict="fail"))
    assert_score(result, "good", missed=0)
    with pytest.raises(AssertionError, match="bad: missed expected 0, got 4"):
        assert_score(result, "bad", missed=0)
    with pytest.raises(AssertionError, match="no consumer named 'other'.*consumers: good, bad"):
        assert_score(result, "other")


def test_an_incomplete_run_never_passes():
    with pytest.raises(AssertionError, match="did not complete"):
        assert_score(run_of(score("good"), complete=False), missed=0)


def test_an_unknown_field_is_a_mistake_in_the_test():
    with pytest.raises(TypeError, match="unknown score field.*mised.*expected some of.*missed"):
        assert_score(run_of(score("good")), mised=0)
    assert {"missed", "duplicated", "dlq", "verdict"} <= set(SCORE_FIELDS)


@pytest.mark.parametrize("call, message", [
    ('genesys_run("ci-smoke", "python:nowhere.py:Consumer")',
     "genesys-sim: consumer spec 'python:nowhere.py:Consumer': no such file: nowhere.py"),
    ('genesys_run("ci-smoke", "pigeon:coo")', "genesys-sim: consumer spec 'pigeon:coo': unknown kind 'pigeon'*"),
    ('genesys_run("no-such-scenario", "ref:correct")', "genesys-sim: no scenario file 'no-such-scenario'*"),
    ('genesys_run({"name": "x", "traffic": {"duration_s": -1}}, "ref:correct")',
     "genesys-sim: <genesys_run scenario dict>:*: traffic.duration_s: *"),
    ('genesys_run("name: x\\nclock: {time_scale: 0}\\n", "ref:correct")',
     "genesys-sim: <genesys_run scenario text>:2: clock.time_scale: *"),
    ('genesys_run("ci-smoke", "ref:correct", seed="7")', "genesys-sim: genesys_run(seed=...): expected a whole number*"),
    ('genesys_run("ci-smoke", "ref:correct", instances=0)', "genesys-sim: genesys_run(instances=...): expected a number between 1 and 64*"),
    ('genesys_run("ci-smoke", "ref:correct", backend="aws")', "genesys-sim: genesys_run(backend=...): unknown backend 'aws'*"),
    ('genesys_run("ci-smoke", [])', "genesys-sim: genesys_run(consumer): no consumer given"),
])
def test_bad_input_fails_the_test_with_one_line(pytester: pytest.Pytester, call: str, message: str):
    pytester.makepyfile(test_bad=f"""
        def test_it(genesys_run):
            {call}
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*def test_it*")  # no source listing either: pytrace=False
    result.stdout.no_fnmatch_line("*During handling of the above exception*")


@pytest.mark.parametrize("marker, message", [
    ("", "*genesys_result needs a scenario: @pytest.mark.genesys_scenario(*"),
    ('@pytest.mark.genesys_scenario("ci-smoke")', "*genesys_scenario on test_bad.py::test_it: no consumer*"),
    ('@pytest.mark.genesys_scenario("ci-smoke", consumr="ref:correct")',
     "*genesys_scenario on test_bad.py::test_it: unknown argument(s) consumr; expected consumer, *"),
])
def test_bad_marker_is_a_clear_error(pytester: pytest.Pytester, marker: str, message: str):
    pytester.makepyfile(test_bad=f"""
        import pytest

        {marker}
        def test_it(genesys_result):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([message])


@pytest.mark.parametrize("option, message", [
    (["--genesys-backend", "docker"], "*argument --genesys-backend: invalid choice: 'docker'*"),
    (["--genesys-seed", "seven"], "*argument --genesys-seed: invalid int value: 'seven'*"),
])
def test_bad_option_is_a_usage_error(pytester: pytest.Pytester, option: list[str], message: str):
    result = pytester.runpytest("-p", "no:cacheprovider", *option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_options_and_marker_are_documented(pytester: pytest.Pytester):
    result = pytester.runpytest("-p", "no:cacheprovider", "--help")
    result.stdout.fnmatch_lines(["genesys-sim scenario runs*", "*--genesys-backend=*", "*--genesys-endpoint=URL*",
                                 "*--genesys-seed=N*", "*--genesys-run-dir=DIR*"])
    markers = pytester.runpytest("-p", "no:cacheprovider", "--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.genesys_scenario(scenario, consumer=SPEC*"])


def test_loading_the_plugin_imports_nothing_heavy():
    # Every pytest run of a project with genesys-sim installed loads the module.
    heavy = ["boto3", "botocore", "moto", "flask", "yaml", "pydantic", "rich", "faker", "requests",
             "simulator.harness", "simulator.runner", "simulator.events"]
    code = ("import sys, simulator.pytest_plugin; "
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
