"""Scenario files: the shape, the defaults, and messages that name file, line and field."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.faults import plan
from simulator.scenario import SHIPPED_SCENARIOS, Scenario, ScenarioError, load_scenario, shipped_scenarios

from test_faults_support import make_events

MINIMAL = "name: tiny\n"


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


def problem(path: Path) -> str:
    with pytest.raises(BadInput) as caught:
        load_scenario(path)
    return str(caught.value)


# ---- what a valid file gives ----


def test_defaults_fill_everything_left_out(write):
    s = load_scenario(write(MINIMAL))
    assert (s.seed, s.backend, s.delivery, s.timeout_s) == (0, "moto", "sqs", 30.0)
    assert (s.queue.type, s.queue.visibility_timeout_s, s.queue.max_receive_count) == ("standard", 30.0, 5)
    assert (s.queue.batch_size, s.queue.wait_time_s) == (10, 1.0)
    assert s.eventbridge.max_entry_bytes == 262144 and s.eventbridge.bus_name is None
    assert (s.eventbridge.retry.maximum_retry_attempts, s.eventbridge.retry.maximum_event_age_s) == (185, 86400)
    assert s.clock.time_scale == 1.0 and s.consumers.instances == 1
    assert s.faults == [] and s.fault_specs() == () and s.expect == {}


def test_design_example_loads(write):
    s = load_scenario(write("""
        name: duplicate-storm
        description: SQS standard queue delivers 20% of events twice
        seed: 42
        backend: moto
        delivery: sqs
        queue: {type: standard, visibility_timeout_s: 30, max_receive_count: 5}
        clock: {time_scale: 60}
        traffic: {duration_s: 600, conversations_per_minute: 30, agents: 20}
        faults:
          - redeliver: {probability: 0.2, copies: 1}
          - republish: {probability: 0.05, delay_s: 3600}
          - reorder: {window: 20}
          - clock_skew: {nodes: 3, offset_s: [-5, 5], drift_ppm: 200, jitter_ms: 50}
          - poison: {count: 10}
          - crash: {point: after_effect, every: 200, restart_after_s: 2}
          - sink_failure: {probability: 0.05, status: 500}
        consumers: {instances: 2}
        expect: {missed: 0, duplicated: 0}
    """))
    assert [spec.name for spec in s.fault_specs()] == [
        "redeliver", "republish", "reorder", "clock_skew", "poison", "crash", "sink_failure"]
    assert s.fault_specs()[1].params.delay_s == (3600.0, 3600.0)
    assert s.expect == {"missed": 0, "duplicated": 0}  # only what was written
    assert s.traffic.model_dump(exclude_unset=True) == {"duration_s": 600, "conversations_per_minute": 30, "agents": 20}
    assert s.path and s.path.name == "scenario.yaml"


def test_a_bare_name_finds_the_shipped_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_scenario("ci-smoke").path == SHIPPED_SCENARIOS / "ci-smoke.yaml"
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "ci-smoke.yaml").write_text("name: local-smoke\n")
    assert load_scenario("ci-smoke").name == "local-smoke"  # the current directory's comes first


def test_an_unknown_name_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BadInput, match="no scenario named 'no-such-thing'"):
        load_scenario("no-such-thing")
    with pytest.raises(BadInput, match="not found: sub/none.yaml"):
        load_scenario("sub/none.yaml")


# ---- errors: file, line, field, what was expected ----


@pytest.mark.parametrize(
    "text, line, field, expected",
    [
        ("name: x\nseed: [1]\n", 2, "seed", "expected a whole number, got [1]"),
        ("name: x\nbackend: docker\n", 2, "backend", "expected one of 'moto', 'localstack' or 'aws', got 'docker'"),
        ("name: x\nqueue:\n  type: fifo\n  batch_size: 11\n", 4, "queue.batch_size", "expected a number <= 10, got 11"),
        ("name: x\nqueue: {wait_time_s: 25}\n", 2, "queue.wait_time_s", "<= 20"),
        ("name: x\nclock: {time_scale: 0}\n", 2, "clock.time_scale", "expected a number > 0, got 0"),
        ("name: x\neventbridge:\n  retry: {maximum_retry_attempts: 186}\n", 3,
         "eventbridge.retry.maximum_retry_attempts", "<= 185"),
        ("name: x\neventbridge: {max_entry_bytes: 2097152}\n", 2, "eventbridge.max_entry_bytes", "<= 1048576"),
        ("name: x\nconsumers: {instances: 0}\n", 2, "consumers.instances", ">= 1"),
        ("name: x\nexpect: {missed: -1}\n", 2, "expect.missed", "expected a number >= 0, got -1"),
        ("name: x\nexpect: {dupes: 0}\n", 2, "expect.dupes", "unknown key 'dupes'"),
        ("name: x\nqueue: {visiblity_timeout_s: 5}\n", 2, "queue.visiblity_timeout_s",
         "did you mean 'visibility_timeout_s'?"),
        ("name: x\ncolour: red\n", 2, "colour", "unknown key 'colour'"),
        ("seed: 3\n", 1, "name", "required, but missing"),
        ("name: x\ntraffic:\n  agents: many\n", 3, "traffic.agents", "expected a whole number, got 'many'"),
        ("name: x\ntraffic:\n  duration_s: 60\n  weather: rainy\n", 4, "traffic.weather", "unknown traffic setting 'weather'"),
        ("name: x\nfaults:\n  - reorder: {window: 5}\n  - redeliver:\n      probability: 1.5\n", 5,
         "faults[1].redeliver.probability", "expected a number between 0 and 1, got 1.5"),
        ("name: x\nfaults:\n  - reorder: {window: 0}\n", 3, "faults[0].reorder.window", ">= 1, got 0"),
        ("name: x\nfaults:\n  - republish: {probability: 0.1, delay_s: -5}\n", 3,
         "faults[0].republish.delay_s", "expected seconds >= 0"),
        ("name: x\nfaults:\n  - redeliver: {probability: 0.1}\n    reorder: {window: 3}\n", 3,
         "faults[0]", "expected one fault per list item, got 2"),
        ("name: x\nfaults:\n  - {}\n", 3, "faults[0]", "got an empty mapping"),
        ("name: x\nfaults:\n  - reordr: {window: 3}\n", 3, "faults[0]", "unknown fault 'reordr' (did you mean 'reorder'?)"),
        ("name: x\nfaults:\n  - crash: {point: after_effect, every: 3}\n  - crash: {point: mid_batch, every: 9}\n",
         4, "faults[1].crash", "only one 'crash' fault is allowed"),
        ("name: x\nfaults:\n  - sink_failure: {probability: 0.1, window_s: [60, 30]}\n", 3,
         "faults[0].sink_failure.window_s", "0 <= start < end"),
        ("name: x\nfaults: {redeliver: {probability: 0.1}}\n", 2, "faults", "expected a list"),
        ("name: x\nseed: 1\nseed: 2\n", 3, "seed", "duplicate key"),
        ("name: x\nfaults:\n  - slow: {probability: 0.1, delay_s: .inf}\n", 3, "faults[0].slow.delay_s",
         "expected a finite number"),
        ("name: x\ntimeout_s: .nan\n", 2, "timeout_s", "expected a finite number"),
        ("name: x\ntraffic:\n  duration_s: null\n", 3, "traffic.duration_s", "expected a number, got nothing"),
        ("name: x\ntraffic:\n  agents: 3\n  region: mars\n", 4, "traffic.region", "AWS region"),
        ("name: x\ntraffic:\n  media_mix: {VOICE: 1, FAX: 1}\n", 3, "traffic.media_mix.FAX", "FAX"),
    ],
)
def test_bad_values_name_file_line_and_field(write, text, line, field, expected):
    path = write(text)
    message = problem(path)
    assert message.startswith(f"{path}:{line}: {field}: "), message
    assert expected in message


def test_yaml_syntax_errors_name_the_line(write):
    path = write("name: x\nfaults:\n  - redeliver: {probability: 0.2\n  - reorder: {window: 3}\n")
    message = problem(path)
    assert message.startswith(f"{path}:") and "YAML syntax error" in message
    assert int(message.split(":")[1]) in (3, 4)


@pytest.mark.parametrize("text", ["", "- just\n- a list\n", "42\n"])
def test_the_top_level_must_be_a_mapping(write, text):
    assert "expected a mapping of scenario settings" in problem(write(text))


def test_every_problem_is_reported_in_line_order(write):
    path = write("name: x\nseed: one\nqueue: {batch_size: 0}\nclock: {time_scale: -1}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    lines = [int(p.split(":")[1]) for p in caught.value.problems]
    assert lines == [2, 3, 4]
    assert "(and 2 more)" in str(caught.value)


@settings(max_examples=30, deadline=None)
@given(probability=st.floats(allow_nan=False, allow_infinity=False).filter(lambda p: not 0 <= p <= 1))
def test_any_probability_outside_0_1_is_refused(tmp_path_factory, probability):
    path = tmp_path_factory.mktemp("p") / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "p", "faults": [{"slow": {"probability": probability, "delay_s": 1}}]}))
    with pytest.raises(BadInput, match=r"faults\[0\]\.slow\.probability: expected a number between 0 and 1"):
        load_scenario(path)


fault_entries = st.lists(
    st.one_of(
        st.builds(lambda p, lo, span: {"redeliver": {"probability": p, "delay_s": [lo, lo + span]}},
                  st.floats(0, 1), st.floats(0, 1e5), st.floats(0, 1e5)),
        st.builds(lambda w: {"reorder": {"window": w}}, st.integers(1, 100)),
        st.builds(lambda n, o: {"clock_skew": {"nodes": n, "offset_s": [-o, o]}}, st.integers(1, 9), st.floats(0, 600)),
        st.builds(lambda p, s: {"sink_failure": {"probability": p, "status": s}}, st.floats(0, 1), st.sampled_from([429, 500])),
    ),
    max_size=6,
)


@settings(max_examples=30, deadline=None)
@given(faults=fault_entries, seed=st.integers(0, 2**31), scale=st.floats(0.01, 1e4))
def test_what_is_written_is_what_is_loaded(tmp_path_factory, faults, seed, scale):
    path = tmp_path_factory.mktemp("rt") / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "rt", "seed": seed, "clock": {"time_scale": scale}, "faults": faults}))
    s = load_scenario(path)
    assert (s.seed, s.clock.time_scale) == (seed, scale)
    assert [spec.to_mapping() for spec in s.fault_specs()] == [
        {name: {**s.fault_specs()[i].to_mapping()[name], **{k: v for k, v in params.items()}}}
        for i, f in enumerate(faults) for name, params in f.items()
    ]


# ---- the shipped library ----


def test_the_library_has_the_promised_stories():
    names = {p.stem for p in shipped_scenarios()}
    assert len(names) >= 12
    assert {"clean", "ci-smoke", "late-duplicate", "clock-skew", "fifo", "poison", "burst"} <= names


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_every_shipped_scenario_validates_and_plans(path):
    s = load_scenario(path)
    assert s.name == path.stem and s.summary and isinstance(s.seed, int)
    events = make_events(60, spacing_ms=int(s.traffic.duration_s * 1000 / 60))  # spans the scenario's traffic
    p = plan(events, s.fault_specs(), seed=s.seed, fifo=s.queue.type == "fifo",
             max_entry_bytes=s.eventbridge.max_entry_bytes)
    assert sum(d.kind == "original" for d in p.deliveries) == len(events)


def real_seconds(s: Scenario) -> float:
    """Real time from the first to the last delivery, with the real generator."""
    events = pytest.importorskip("simulator.events")
    logical = list(events.generate(s.seed, traffic=s.traffic_config()))
    p = plan(logical, s.fault_specs(), seed=s.seed, fifo=s.queue.type == "fifo",
             max_entry_bytes=s.eventbridge.max_entry_bytes)
    return p.deliveries[-1].at_s / s.clock.time_scale


def test_the_library_fits_the_ci_budget():
    # production-day is a production-sized day on purpose, with a budget of its own
    slow = {p.stem: round(t) for p in shipped_scenarios()
            if p.stem != "production-day" and (t := real_seconds(load_scenario(p))) > 40}
    assert not slow, f"real seconds of delivery per scenario; CI runs the whole matrix: {slow}"
    assert real_seconds(load_scenario("production-day")) <= 240  # runs in under 5 real minutes


def test_ci_smoke_is_small_but_faulty():
    s = load_scenario("ci-smoke")
    assert {"redeliver", "republish", "reorder", "crash", "sink_failure", "poison"} <= set(s.fault_names())
    assert s.fault_specs()[s.fault_names().index("crash")].params.point == "after_effect"
    assert real_seconds(s) <= 15


def test_scenario_is_a_plain_frozen_description():
    s = Scenario(name="direct")
    with pytest.raises(Exception):
        s.seed = 3
