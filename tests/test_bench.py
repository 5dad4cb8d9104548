"""`genesys-sim bench`: the ladder's rules (when a step falls behind, when a result
is harness-bound), its options checked before anything runs, and one short real
bench end to end (terminal table, JSON and HTML with both charts)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from hypothesis import given, strategies as st

from simulator.bench import ladder as ladder_mod
from simulator.bench.ladder import BenchSettings, Ladder, Step, harness_bound, step_scenario
from simulator.bench.result import BenchResult, render
from simulator.cli import main
from simulator.scenario import load_scenario


def step(achieved: float, *, offered: float = 100.0, behind: bool = False) -> Step:
    return Step(consumer="c", offered_eps=offered, achieved_eps=achieved, latency_ms={"p50": 5.0, "p99": 9.0},
                backlog=0, events=10, missed=0, duplicated=0, verdict="pass", behind=behind)


def fake_result(achieved: float, p99: float | None, *, complete: bool = True) -> SimpleNamespace:
    score = SimpleNamespace(throughput_eps=achieved, latency_ms={"p50": 1.0, "p99": p99}, logical_events=100,
                            missed=0, duplicated=0, verdict="pass")
    return SimpleNamespace(consumers=[score], complete=complete, ledger_path="/nonexistent",
                           stop=SimpleNamespace(reason="SIGTERM") if not complete else None)


@given(offered=st.floats(10, 5000), share=st.floats(0, 1.5), p99=st.floats(1, 5000),
       backlog=st.integers(0, 20000))
def test_a_step_falls_behind_exactly_when_a_rule_says_so(offered, share, p99, backlog):
    settings = BenchSettings(scenario=None, p99_bound_ms=1000.0)
    s = ladder_mod._step(fake_result(offered * share, p99), "c", offered, backlog, settings,
                         time_scale=1.0, elapsed_s=1.0)
    expected = [share * offered < ladder_mod.KEEP_UP * offered, p99 > 1000.0,
                backlog > ladder_mod.BACKLOG_S * offered]
    assert s.behind == any(expected)
    assert len(s.reasons) == sum(expected)


def test_an_incomplete_step_is_behind_and_says_why():
    s = ladder_mod._step(fake_result(100.0, 5.0, complete=False), "c", 100.0, 0, BenchSettings(scenario=None),
                         time_scale=1.0, elapsed_s=1.0)
    assert s.behind and not s.complete and s.reasons == ["run incomplete: SIGTERM"]


def test_harness_bound_compares_ceilings_with_the_null_consumer():
    null = Ladder("null", "n", [step(100), step(200, behind=True)])
    near = Ladder("c", "c", [step(90), step(180)])
    far = Ladder("c", "c", [step(90), step(120, behind=True)])
    assert harness_bound(near, null) and not harness_bound(far, null)
    assert not harness_bound(near, None)
    result = BenchResult("clean", "moto", 1, 10.0, True, [near, far], null=null)
    assert result.verdict_of(far).startswith("consumer-bound: fell behind at 100")
    assert result.ratio() == pytest.approx(180 / 120)


def test_a_step_runs_the_scenario_s_own_plan_faster():
    scenario = load_scenario("ci-smoke")
    settings = BenchSettings(scenario=scenario, step_s=5.0, faults=False)
    stepped = step_scenario(scenario, 200.0, 4.0, settings)
    assert stepped.clock.time_scale == 50.0
    assert stepped.traffic.duration_s == 250.0  # five real seconds of it
    assert stepped.faults == [] and stepped.seed == scenario.seed


@pytest.mark.parametrize("argv, named", [
    (["--step-s", "0"], "--step-s"),
    (["--max-rate", "-5"], "--max-rate"),
    (["--start-rate", "500", "--max-rate", "100"], "--start-rate"),
    (["--instances", "0"], "--instances"),
    (["--scenario", "no-such-scenario"], "no-such-scenario"),
])
def test_bad_options_exit_2_naming_the_option(capsys, argv, named):
    code = main(["bench", "--consumer", "ref:correct", "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and named in err and "Traceback" not in err


@pytest.mark.slow
def test_a_short_bench_reports_every_step_with_charts(tmp_path, capsys):
    out_json, out_html = tmp_path / "bench.json", tmp_path / "bench.html"
    code = main(["bench", "--consumer", "ref:correct", "--consumer", "ref:memory-window", "--step-s", "2",
                 "--start-rate", "20", "--max-rate", "60", "--quiet", "--run-dir", str(tmp_path / "runs"),
                 "--report", "json", "--out", str(out_json), "--report", "html", "--out", str(out_html)])
    assert code == 0
    shown = capsys.readouterr().out
    assert "raw emulator loop" in shown and "correct / memory-window" in shown
    report = json.loads(out_json.read_text())
    assert report["raw_loop"]["loop_mps"] > 0 and report["harness"]["steps"]
    for ladder in report["consumers"]:
        offered = [s["offered_eps"] for s in ladder["steps"]]
        assert 8 <= offered[0] <= 32 and offered == sorted(offered)  # measured, about the nominal 20, rising
        assert all(s["events"] > 0 and s["verdict"] == "pass" for s in ladder["steps"])  # clean.yaml
    html = out_html.read_text()
    assert html.count('<svg class="chart line"') == 2 and "correct p99" in html
    assert render(BenchResult("clean", "moto", 1, 2.0, True, []), "markdown").startswith("#")
