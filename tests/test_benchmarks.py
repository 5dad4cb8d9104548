"""benchmarks/run_all.py: figures read back from each benchmark, a crash told apart
from a missed goal, and the record it writes."""
from __future__ import annotations

import importlib.util
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


run_all = _load("run_all")

seconds = st.integers(1, 99_999).map(lambda n: n / 100)  # as printed: 2 decimals


def transport_output(bare_w, bare_c, inj_w, inj_c, w5, c5, w20, c20) -> str:
    """bench_transport.py's lines for the two goal figures, printed with its own format strings."""
    return (
        "\n1. injection of 5000 events on the sqs path (5 interleaved rounds each; wall / CPU of harness + server)\n"
        f"   {'min':6s} bare boto3 loop: {bare_w:5.2f} s / {bare_c:5.2f} s CPU   "
        f"SqsInjector: {inj_w:5.2f} s / {inj_c:5.2f} s CPU   "
        f"ratio: wall {inj_w / bare_w:.3f}, CPU {inj_c / bare_c:.3f}  (goal <= 1.1)\n"
        "\n2. backlog: send N, then drain (receive 10 + delete batch); best of 2, wall / CPU\n"
        f"   patched moto   5k: {w5:6.2f} s / {c5:6.2f} s CPU   20k: {w20:6.2f} s / {c20:6.2f} s CPU\n"
        f"   patched 20k/5k: wall {w20 / w5:.2f}, CPU {c20 / c5:.2f}  (goal <= 4.5; linear = 4)\n"
    )


@given(st.tuples(*[seconds] * 8))
def test_transport_figures_read_back_what_was_printed(values):
    bare_w, bare_c, inj_w, inj_c, w5, c5, w20, c20 = values
    figures = {f["name"]: f for f in run_all.transport_figures(transport_output(*values))}
    wall, cpu = figures["sqs injection (wall)"], figures["sqs injection (CPU)"]
    assert (wall["value"], wall["baseline"], cpu["value"], cpu["baseline"]) == (inj_w, bare_w, inj_c, bare_c)
    assert wall["met"] == (inj_w / bare_w <= 1.1)
    backlog = figures["backlog 20k vs 5k (wall)"]
    assert (backlog["value"], backlog["baseline"]) == (w20, w5)
    assert backlog["met"] == (w20 / w5 <= 4.5)


def test_transport_output_without_its_goal_figures_is_an_error():
    with pytest.raises(ValueError, match="injection or backlog"):
        run_all.transport_figures("1. injection of 5000 events\nTraceback (most recent call last):\n")


@pytest.fixture
def bench(tmp_path):
    """A benchmark whose script is ``body`` (Python), run through run_all.run."""
    def go(body: str, **kwargs):
        script = tmp_path / "bench_fake.py"
        script.write_text(textwrap.dedent(body))
        benchmark = run_all.Benchmark("fake", str(script), "a fake", **kwargs)
        return run_all.run(benchmark, quick=False, verbose=False, tmp=tmp_path, logs=tmp_path)
    return go


FIGURES = """
    import json, sys
    figures = [{"name": "speed", "value": 30.0, "unit": "s", "baseline": 20.0, "baseline_label": "floor",
                "goal": "< 25 s", "met": False, "note": "n"},
               {"name": "other", "skipped": "nothing to compare with"}]
    json.dump({"benchmark": "fake", "figures": figures}, open(sys.argv[sys.argv.index("--json") + 1], "w"))
    print("printed")
    sys.exit(STATUS)
"""


def test_a_missed_goal_is_a_figure_not_a_crash(bench):
    outcome = bench(FIGURES.replace("STATUS", "0"))
    assert outcome.error is None
    speed = outcome.figures[0]
    assert speed["ratio"] == pytest.approx(1.5) and speed["benchmark"] == "fake"
    assert "printed" in outcome.log.read_text()
    table = run_all.rows([outcome])
    assert table[0][-1] == "❌ MISSED" and table[0][4] == "1.5×"
    assert table[1][2] == "skipped: nothing to compare with"


@pytest.mark.parametrize("body, error", [
    (FIGURES.replace("STATUS", "3"), "exited 3"),
    ("print('no figures')", "reported no figures"),
    ("import sys; open(sys.argv[-1], 'w').write('{\"figures\": []}')", "reported no figures"),
    ("import sys; open(sys.argv[-1], 'w').write('{not json')", "Expecting property name"),
])
def test_a_crash_is_reported_with_its_log(bench, body, error):
    outcome = bench(body)
    assert outcome.error.startswith(error)
    assert "CRASHED" in run_all.rows([outcome])[0][2]


def test_printed_figures_are_parsed_when_the_script_has_no_json_option(bench):
    outcome = bench(f"print({transport_output(2, 2, 2.1, 2.1, 4, 4, 16, 16)!r})", parse=run_all.transport_figures)
    assert outcome.error is None and "--json" not in outcome.command
    assert [f["met"] for f in outcome.figures] == [True, True, True, True]


def test_markdown_names_the_machine_and_has_a_row_per_figure(bench):
    outcome = bench(FIGURES.replace("STATUS", "0").replace('"note": "n"', '"note": "a | b"'))
    record = {"command": "benchmarks/run_all.py", "quick": False, "started": "2026-01-01T00:00:00+00:00",
              "seconds": 60.0, "load_average_end": [1.0, 1.0, 1.0], "machine": run_all.machine((2.5, 2.0, 1.5))}
    text = run_all.markdown(record, [outcome])
    assert f"{os.cpu_count()} cores" in text and "2.50 / 2.00 / 1.50 at start" in text
    table = [line for line in text.splitlines() if line.startswith("| fake |")]
    assert len(table) == 2
    assert "a \\| b" in text  # a note's pipe does not split the table


def test_unknown_benchmark_names_the_option(capsys):
    with pytest.raises(SystemExit) as exit_:
        run_all.main(["--only", "generate,nope"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "--only" in err and "nope" in err and "checker" in err


def test_race_figures_are_named_by_their_section():
    text = transport_output(2, 2, 2.1, 2.1, 4, 4, 16, 16) + textwrap.dedent("""
        4a. races over HTTP: 8 consumer processes x 500 messages, 3 trials
           patched moto: received twice 0, missing 0, failed deletes 0 (of 1500 messages)
        4b. races in moto's model: 8 threads x 500 messages, 3 trials
           patched moto: received twice 0, missing 0, failed deletes 0 (of 1500 messages)
           shipped moto: received twice 310, missing 2, failed deletes 40 (of 1500 messages)
    """)
    races = {f["name"]: f["value"] for f in run_all.transport_figures(text) if f["name"].startswith("races")}
    assert races == {"races over HTTP, patched moto": 0, "races in moto's model, patched moto": 0,
                     "races in moto's model, shipped moto": 352}
