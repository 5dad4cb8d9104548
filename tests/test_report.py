"""The renderers: each format says the same thing about the same scores, in a
shape its reader (a CI parser, a browser, a JSON consumer) accepts."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import jsonschema
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import EXIT_PASS, EXIT_VERDICT_FAILED, BadInput
from simulator.model import Effect, History, LogicalEvent, Sent
from simulator.report import FORMATS, MatrixResult, RunResult, render, terminal
from simulator.report.schema import MATRIX_SCHEMA, RUN_SCHEMA
from simulator.scoring import ConsumerScore, Expect, score


def _history() -> History:
    logical = [LogicalEvent(i, f"c{i}", "t", i, f"e{i % 2}", "s", {}) for i in range(4)]
    sent = [Sent(name, i * 0.1, "original", f"c{i}", f"c{i}", f"b{i}")
            for name in ("good", "dup", "lossy") for i in range(4)]
    effects = [Effect("good", 1 + i * 0.1, f"c{i}", None, None, True, 200, True) for i in range(4)]
    effects += [Effect("dup", 1 + i * 0.1, f"c{i}", None, None, True, 200) for i in range(4)]
    effects += [Effect("dup", 2.0, "c0", None, None, True, 200)]
    effects += [Effect("lossy", 1.0, "c0", None, None, True, 200)]
    return History(logical=logical, sent=sent, effects=effects)


@pytest.fixture
def run() -> RunResult:
    h = _history()
    return RunResult(scenario="duplicate-storm", seed=42, backend="moto", delivery="sqs",
                     consumers=[score(h, n) for n in ("good", "dup", "lossy")], elapsed_s=1.5)


@pytest.fixture
def matrix(run) -> MatrixResult:
    h = _history()
    calm = RunResult("calm", 1, "moto", "sqs", [score(h, "good"), score(h, "dup", Expect(duplicated=None))])
    return MatrixResult([run, calm])


# Random scores, with names that break naive escaping.
NAMES = st.text(alphabet="ab|<>&\"' :/\n", min_size=1, max_size=12)
COUNT = st.integers(0, 10_000)


@st.composite
def scores(draw) -> ConsumerScore:
    lat = draw(st.lists(st.floats(0, 1e5, allow_nan=False), max_size=50))
    lat.sort()
    s = ConsumerScore(
        name=draw(NAMES), logical_events=draw(COUNT), effects=draw(COUNT), missed=draw(COUNT),
        duplicated=draw(COUNT), extra_effects=draw(COUNT), unexpected=draw(COUNT), dlq=draw(COUNT),
        poison_dropped=draw(COUNT), stale_entities=draw(st.none() | COUNT),
        latency_ms={p: (lat[-1] if lat else None) for p in ("p50", "p95", "p99")},
        throughput_eps=draw(st.floats(0, 1e6)), latencies_ms=lat)
    if draw(st.booleans()):
        s.verdict, s.failures = "fail", [f"missed {s.missed} > 0"]
    return s


runs = st.builds(RunResult, scenario=NAMES, seed=st.integers(0, 2**32), backend=st.just("moto"),
                 delivery=st.sampled_from(["sqs", "eventbridge"]),
                 consumers=st.lists(scores(), max_size=4), complete=st.booleans(),
                 elapsed_s=st.floats(0, 1e4))


# ---- the result objects ----


def test_exit_code_follows_verdicts(run, matrix):
    assert run.exit_code == EXIT_VERDICT_FAILED  # dup and lossy fail
    passing = RunResult("s", 1, "moto", "sqs", [run.consumers[0]])
    assert passing.exit_code == EXIT_PASS and passing.verdict == "pass"
    assert matrix.exit_code == EXIT_VERDICT_FAILED
    assert MatrixResult([passing]).exit_code == EXIT_PASS


def test_matrix_lists_scenarios_and_consumers_in_first_seen_order(matrix):
    assert matrix.scenarios == ["duplicate-storm", "calm"]
    assert matrix.consumer_names == ["good", "dup", "lossy"]
    assert matrix.cell("calm", "lossy") is None
    assert matrix.cell("calm", "dup").verdict == "pass"


def test_unknown_format_names_the_option(run):
    with pytest.raises(BadInput, match=r"^--report: unknown report format 'pdf'"):
        render(run, "pdf")
    assert set(FORMATS) >= {"json", "junit", "markdown", "html"}


# ---- json ----


@settings(max_examples=50, deadline=None)
@given(runs)
def test_json_matches_schema_for_any_run(result):
    data = orjson.loads(render(result, "json"))
    jsonschema.validate(data, RUN_SCHEMA)
    assert [c["name"] for c in data["consumers"]] == [c.name for c in result.consumers]
    assert data["verdict"] == result.verdict


def test_json_of_a_scored_run(run):
    data = orjson.loads(render(run, "json"))
    jsonschema.validate(data, RUN_SCHEMA)
    by_name = {c["name"]: c for c in data["consumers"]}
    assert by_name["dup"]["duplicated"] == 1 and by_name["dup"]["verdict"] == "fail"
    assert by_name["lossy"]["missed"] == 3
    assert by_name["good"]["stale_entities"] == 0 and by_name["dup"]["stale_entities"] is None
    assert "latencies_ms" not in by_name["good"]  # samples stay out of the report


def test_json_of_a_matrix(matrix):
    data = orjson.loads(render(matrix, "json"))
    jsonschema.validate(data, MATRIX_SCHEMA)
    assert [r["scenario"] for r in data["runs"]] == ["duplicate-storm", "calm"]


def test_schema_rejects_a_result_missing_a_required_field(run):
    data = run.to_dict()
    del data["consumers"][0]["missed"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, RUN_SCHEMA)


# ---- junit ----


@settings(max_examples=50, deadline=None)
@given(st.lists(runs, min_size=1, max_size=3))
def test_junit_parses_and_counts_failures(results):
    root = ET.fromstring(render(MatrixResult(results), "junit").encode())
    suites = root.findall("testsuite")
    assert len(suites) == len(results)
    failed = sum(1 for r in results for c in r.consumers if c.verdict == "fail")
    assert int(root.get("failures")) == failed == len(root.findall(".//failure"))
    assert int(root.get("tests")) == sum(len(r.consumers) for r in results)
    for suite, result in zip(suites, results):
        assert suite.get("name") == result.scenario
        assert [c.get("name") for c in suite.findall("testcase")] == [c.name for c in result.consumers]


def test_junit_failure_carries_the_broken_thresholds(run):
    root = ET.fromstring(render(run, "junit").encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["good"].find("failure") is None
    assert cases["dup"].find("failure").get("message") == "duplicated 1 > 0"
    assert cases["lossy"].find("failure").text == "missed 3 > 0"


# ---- markdown ----


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| consumer")]


@settings(max_examples=50, deadline=None)
@given(runs)
def test_markdown_has_one_row_per_consumer(result):
    rows = _table_rows(render(result, "markdown"))
    assert len(rows) == len(result.consumers)
    header_cells = render(result, "markdown").splitlines()[2].count(" | ")
    for line in rows:  # an escaped pipe in a name must not add a cell
        assert len(re.findall(r"(?<!\\) \| ", line)) == header_cells


def test_markdown_matrix_cells_are_missed_over_duplicated(matrix):
    text = render(matrix, "markdown")
    assert "| duplicate-storm | 0 / 0 | 0 / 1 ✗ | 3 / 0 ✗ |" in text
    assert "| calm | 0 / 0 | 0 / 1 | – |" in text


# ---- html ----


def _bars(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<rect class="bar (ok|bad)" data-consumer="([^"]*)"', html)


@settings(max_examples=30, deadline=None)
@given(runs)
def test_html_has_one_bar_per_consumer_per_chart_and_is_self_contained(result):
    html = render(result, "html")
    assert len(_bars(html)) == 2 * len(result.consumers)  # missed chart + duplicated chart
    assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', html, re.I)
    assert "<script" not in html and "<link" not in html
    assert html.count("<svg") == 2 + sum(1 for c in result.consumers if c.latencies_ms)


def test_html_colours_bars_by_count(run):
    html = render(run, "html")
    assert _bars(html)[:3] == [("ok", "good"), ("ok", "dup"), ("bad", "lossy")]  # missed
    assert _bars(html)[3:] == [("ok", "good"), ("bad", "dup"), ("ok", "lossy")]  # duplicated


def test_html_histogram_holds_every_sample(run):
    html = render(run, "html")
    counts = [int(n) for n in re.findall(r"<title>[^<]*: (\d+)</title></rect>", html)]
    assert sum(counts) == sum(len(c.latencies_ms) for c in run.consumers)


def test_html_matrix_grid(matrix):
    html = render(matrix, "html")
    assert '<td class="fail" title="missed 3 &gt; 0">3 / 0</td>' in html
    assert html.count('<section class="run">') == 2


# ---- terminal ----


def test_terminal_matrix_cells_are_coloured_by_verdict(matrix):
    table = terminal.matrix_table(matrix)
    cells = {col.header: list(col.cells) for col in table.columns}
    assert [str(c) for c in cells["dup"]] == ["0 / 1", "0 / 1"]
    assert [c.style for c in cells["dup"]] == ["bold red", "green"]
    assert str(cells["lossy"][1]) == "–"


def test_terminal_text_lists_every_consumer_and_failure(run):
    text = terminal.render(run)
    for name in ("good", "dup", "lossy"):
        assert name in text
    assert "dup: FAIL: duplicated 1 > 0" in text
    assert "\x1b[" not in text and "\x1b[" in terminal.render(run, color=True)
