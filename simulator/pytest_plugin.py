"""pytest plugin of genesys-sim (registered through the ``pytest11`` entry point).

Scenario runs against your consumer, scored::

    from simulator.pytest_plugin import assert_score

    def test_survives_ci_smoke(genesys_run):
        result = genesys_run("ci-smoke", "python:my_consumer.py:Consumer")
        assert_score(result, missed=0, duplicated=0)

    @pytest.mark.genesys_scenario("ci-smoke", consumer="python:my_consumer.py:Consumer", seed=7)
    def test_marked(genesys_result):
        assert genesys_result.passed

Command-line options (group "genesys-sim"): ``--genesys-backend moto|localstack``,
``--genesys-endpoint URL``, ``--genesys-seed N``, ``--genesys-run-dir DIR``.

Under ``pytest -n auto`` each xdist worker is its own pytest session, so the
session-scoped ``genesys_harness`` gives each worker its own embedded moto, sink
app and Redis; on a shared LocalStack every run's queues, buses and rules are named
after a run id with a random part (simulator/transport/topology.py), so workers
never share a resource.

Fixture events for a consumer's unit tests::

    def test_my_handler(genesys_events):
        for event in genesys_events("v2.detail.events.conversation.{id}.acd.end", count=5):
            my_handler(event)

    @pytest.mark.genesys_topic("acd.end", seed=3)
    def test_one(genesys_event):
        ...

    @pytest.mark.parametrize("genesys_event", ["customer.start", "acw"], indirect=True)
    def test_each(genesys_event):
        ...

Every pytest run in a project that has genesys-sim installed loads this module, so
it imports nothing heavy until a fixture is used.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pytest

if TYPE_CHECKING:
    from simulator.clients.spec import ConsumerSpec
    from simulator.harness import Harness
    from simulator.report import RunResult
    from simulator.scenario import Scenario

MARKER = "genesys_topic"
SCENARIO_MARKER = "genesys_scenario"
BACKENDS = ("moto", "localstack")
# ConsumerScore fields assert_score compares (the plain numbers and the verdict).
SCORE_FIELDS = ("logical_events", "effects", "missed", "duplicated", "extra_effects", "unexpected",
                "dlq", "poison_dropped", "stale_entities", "effect_attempts", "failed_effects",
                "left_on_queue", "poison_sent", "verdict")
_MARKER_OPTIONS = ("consumer", "consumers", "seed", "instances", "backend")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("genesys-sim", "genesys-sim scenario runs (genesys_run, genesys_result)")
    group.addoption("--genesys-backend", choices=BACKENDS, default=None,
                    help="backend for every scenario run (default: each scenario's, usually moto)")
    group.addoption("--genesys-endpoint", metavar="URL", default=None,
                    help="emulator endpoint: a LocalStack, or a moto server you run "
                    "(default: embedded moto; LocalStack from AWS_ENDPOINT_URL / LOCALSTACK_HOST)")
    group.addoption("--genesys-seed", type=int, metavar="N", default=None,
                    help="seed for every scenario run that does not set one itself")
    group.addoption("--genesys-run-dir", metavar="DIR", default=None,
                    help="where run ledgers and consumer logs go (default: pytest's tmp dir)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(topic, seed=0): the topic (and seed) of the genesys_event fixture")
    config.addinivalue_line(
        "markers", f"{SCENARIO_MARKER}(scenario, consumer=SPEC, consumers=[...], seed=None, "
        "instances=None, backend=None): the run the genesys_result fixture makes for this test")


# ---- fixture events ----


@pytest.fixture
def genesys_events() -> Callable[..., list[dict]]:
    """A factory: ``genesys_events(topic, count=1, seed=0) -> list[dict]`` of
    EventBridge events (``topic``: a detail-type pattern, short name or glob, or a
    list of them). Same arguments, same events."""
    from simulator.events import events_of

    def make(topic: str | list[str], count: int = 1, seed: int = 0) -> list[dict]:
        return [event.event for event in events_of(topic, count, seed)]

    return make


@pytest.fixture
def genesys_event(request: pytest.FixtureRequest, genesys_events) -> dict:
    """One EventBridge event of the topic given by indirect parametrization or by
    the ``genesys_topic`` marker."""
    seed = 0
    topic = getattr(request, "param", None)
    if isinstance(topic, tuple):  # indirect=True with (topic, seed)
        topic, seed = topic
    if topic is None:
        marker = request.node.get_closest_marker(MARKER)
        if marker is None or not marker.args:
            pytest.fail(f"genesys_event needs a topic: @pytest.mark.{MARKER}('acd.end') or "
                        "@pytest.mark.parametrize('genesys_event', [...], indirect=True)", pytrace=False)
        topic = marker.args[0]
        seed = marker.kwargs.get("seed", 0)
    return genesys_events(topic, 1, seed)[0]


# ---- scenario runs ----


@pytest.fixture(scope="session")
def genesys_harness(request: pytest.FixtureRequest,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator["Harness"]:
    """The emulator backends, effect sink and Redis every run of this pytest process
    shares: one per xdist worker, each with its own embedded moto."""
    from simulator.harness import Harness

    config = request.config
    run_dir = config.getoption("genesys_run_dir")
    out = config.invocation_params.dir / run_dir if run_dir else tmp_path_factory.mktemp("genesys-runs")
    with Harness(out_dir=out, endpoint_url=config.getoption("genesys_endpoint")) as harness:
        yield harness


@pytest.fixture(scope="session")
def genesys_run(request: pytest.FixtureRequest, genesys_harness: "Harness") -> Callable[..., "RunResult"]:
    """``genesys_run(scenario, consumer, *more_consumers, seed=None, instances=None,
    backend=None) -> RunResult``. ``scenario``: a shipped scenario's name, a path, a
    dict or YAML text; consumers: spec strings (``python:my_consumer.py:Consumer``).
    Session-scoped, so a module-scoped fixture can run a scenario once for many tests."""
    config = request.config

    def run(scenario: Any, consumer: Any, *more_consumers: Any, seed: int | None = None,
            instances: int | None = None, backend: str | None = None) -> "RunResult":
        __tracebackhide__ = True
        return run_genesys_scenario(
            genesys_harness, scenario, [consumer, *more_consumers],
            seed=config.getoption("genesys_seed") if seed is None else seed,
            instances=instances, backend=backend or config.getoption("genesys_backend"))

    return run


@pytest.fixture
def genesys_result(request: pytest.FixtureRequest, genesys_run: Callable[..., "RunResult"]) -> "RunResult":
    """The RunResult of the run the test's ``genesys_scenario`` marker describes."""
    __tracebackhide__ = True
    scenario, consumers, options = _marked_run(request.node)
    return genesys_run(scenario, *consumers, **options)


def run_genesys_scenario(harness: "Harness", scenario: Any, consumers: list[Any], *,
                         seed: int | None = None, instances: int | None = None,
                         backend: str | None = None) -> "RunResult":
    """Run ``scenario`` against ``consumers`` on ``harness``. Bad input and a run that
    could not finish (backend unreachable) fail the test with a one-line message."""
    __tracebackhide__ = True
    from simulator.errors import SimError
    from simulator.options import RunOptions
    from simulator.runner import run_scenario

    try:
        loaded = _scenario(scenario)
        specs = [_spec(c, loaded) for c in _flatten(consumers)]
        options = RunOptions.checked(lambda name: f"genesys_run({name}=...)", backends=BACKENDS,
                                     seed=seed, instances=instances, backend=backend)
        result = run_scenario(harness, loaded, specs, options=options)
    except SimError as exc:
        # pytest.fail's exception, raised without the chain: one line, no traceback.
        raise pytest.fail.Exception(f"genesys-sim: {exc}", pytrace=False) from None
    if isinstance(result.abort, KeyboardInterrupt):
        raise result.abort
    if not result.complete:
        reason = result.stop.reason if result.stop else "incomplete"
        pytest.fail(f"genesys-sim: run of scenario {loaded.name!r} stopped: {reason} "
                    f"(exit {result.exit_code}; ledger: {result.ledger_path or '?'})", pytrace=False)
    return result


def assert_score(result: "RunResult", consumer: str | None = None, **expected: Any) -> None:
    """Assert on a run's scores; the AssertionError shows the score table.

    With no ``expected`` counts: every consumer's verdict passed (the scenario's
    ``expect`` thresholds held). With counts (``missed=0, duplicated=0``): each
    consumer's count equals the one given. ``consumer`` limits the check to the
    consumer of that name (its spec string, or the ref name)."""
    __tracebackhide__ = True
    unknown = sorted(set(expected) - set(SCORE_FIELDS))
    if unknown:
        raise TypeError(f"assert_score: unknown score field(s) {', '.join(unknown)}; "
                        f"expected some of {', '.join(SCORE_FIELDS)}")
    scores = [s for s in result.consumers if consumer is None or s.name == consumer]
    problems: list[str] = []
    if consumer is not None and not scores:
        problems.append(f"no consumer named {consumer!r} in this run "
                        f"(consumers: {', '.join(s.name for s in result.consumers) or 'none'})")
    if not result.complete:
        problems.append("the run did not complete")
    for score in scores:
        if expected:
            problems += [f"{score.name}: {name} expected {want!r}, got {getattr(score, name)!r}"
                         for name, want in expected.items() if getattr(score, name) != want]
        elif not score.passed:
            problems.append(f"{score.name}: verdict fail ({'; '.join(score.failures) or 'see table'})")
    if problems:
        raise AssertionError(_failure_message(result, problems))


def _failure_message(result: "RunResult", problems: list[str]) -> str:
    from simulator.report.terminal import render

    head = (f"genesys-sim: scenario {result.scenario!r} (seed {result.seed}, {result.backend}, "
            f"{result.delivery}): {len(problems)} problem(s)")
    # Wide enough that rich never truncates a consumer's spec string in the table.
    table = [line.rstrip() for line in render(result, width=400).rstrip().splitlines()]
    lines = [head, *(f"  {p}" for p in problems), "", *table]
    ledger = result.ledger_path
    if ledger:
        lines.append(f"ledger: {ledger}")
    return "\n".join(lines)


def _scenario(scenario: Any) -> "Scenario":
    """A Scenario from a Scenario, a mapping, YAML text (it has a line break), or a
    shipped name / path."""
    from simulator.errors import BadInput
    from simulator.scenario import Scenario, load_scenario, parse_scenario

    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        import yaml

        return parse_scenario(yaml.safe_dump(dict(scenario), sort_keys=False),
                              source="<genesys_run scenario dict>")
    if isinstance(scenario, str) and "\n" in scenario:
        return parse_scenario(scenario, source="<genesys_run scenario text>")
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    raise BadInput(f"expected a scenario name, path, dict or YAML text, got {type(scenario).__name__}",
                   where="genesys_run(scenario)")


def _spec(consumer: Any, scenario: "Scenario") -> "ConsumerSpec":
    """The consumer's spec, under the scenario's interpreter if it names one."""
    from simulator.clients.interpreter import consumer_specs
    from simulator.clients.spec import ConsumerSpec
    from simulator.errors import BadInput

    if not isinstance(consumer, (str, ConsumerSpec)):
        raise BadInput(f"expected a consumer spec string, got {type(consumer).__name__}",
                       where="genesys_run(consumer)")
    try:
        return consumer_specs([consumer], scenario)[0]
    except BadInput as exc:
        if exc.where:
            raise
        # Some checks (a missing file) do not say which spec they were checking.
        raise BadInput(str(exc), where=f"consumer spec {consumer!r}") from None


def _flatten(consumers: list[Any]) -> list[Any]:
    flat = [c for item in consumers for c in (item if isinstance(item, (list, tuple)) else [item])]
    if not flat:
        from simulator.errors import BadInput

        raise BadInput("no consumer given", where="genesys_run(consumer)")
    return flat


def _marked_run(node: pytest.Item) -> tuple[Any, list[Any], dict[str, Any]]:
    """(scenario, consumers, options) from the closest ``genesys_scenario`` marker."""
    __tracebackhide__ = True
    where = f"@pytest.mark.{SCENARIO_MARKER} on {node.nodeid}"
    marker = node.get_closest_marker(SCENARIO_MARKER)
    if marker is None or not marker.args:
        pytest.fail(f"genesys_result needs a scenario: @pytest.mark.{SCENARIO_MARKER}"
                    "('ci-smoke', consumer='python:my_consumer.py:Consumer')", pytrace=False)
    unknown = sorted(set(marker.kwargs) - set(_MARKER_OPTIONS))
    if unknown:
        pytest.fail(f"{where}: unknown argument(s) {', '.join(unknown)}; "
                    f"expected {', '.join(_MARKER_OPTIONS)}", pytrace=False)
    options = dict(marker.kwargs)
    consumers = [*marker.args[1:], *_flatten_or_empty(options.pop("consumer", None)),
                 *_flatten_or_empty(options.pop("consumers", None))]
    if not consumers:
        pytest.fail(f"{where}: no consumer; add consumer='python:my_consumer.py:Consumer'",
                    pytrace=False)
    return marker.args[0], consumers, options


def _flatten_or_empty(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
