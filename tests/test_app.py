"""The Flask app through its test client: every endpoint, and every way to ask it wrong."""
from __future__ import annotations

import json
import sys
import types
import uuid
from pathlib import Path
from typing import Iterator

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.app import RunRegistry, create_app
from simulator.errors import BadInput
from simulator.ledger import Ledger
from simulator.model import LogicalEvent, Receive, SinkFault
from simulator.sink import EffectSink

SCENARIOS = {
    "duplicate-storm.yaml": "name: duplicate-storm\ndescription: SQS delivers 20% twice\nseed: 42\n",
    "calm.yml": "name: calm\nseed: 1\n",
    "nameless.yaml": "description: uses its file name\n",
    "broken.yaml": "name: [unclosed\n",
}


class StartRunSpy:
    """Stands in for the runner: records each request and hands out ids."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.error: Exception | None = None

    def __call__(self, request: dict) -> str:
        if self.error:
            raise self.error
        self.requests.append(request)
        return f"run-{len(self.requests)}"


@pytest.fixture
def scenarios_dir(tmp_path: Path) -> Path:
    for name, text in SCENARIOS.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.fixture
def registry() -> RunRegistry:
    return RunRegistry()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    # Written to a file, as in a real run: every recorded effect must encode.
    led = Ledger(tmp_path / "ledger.jsonl")
    yield led
    led.close()


@pytest.fixture
def start_run() -> StartRunSpy:
    return StartRunSpy()


@pytest.fixture
def app(registry: RunRegistry, start_run: StartRunSpy, scenarios_dir: Path):
    return create_app(registry=registry, start_run=start_run, scenarios_dir=scenarios_dir,
                      max_content_length=4096)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def run(registry: RunRegistry, ledger: Ledger) -> str:
    registry.open("r1", EffectSink(ledger))
    return "r1"


def effects_url(registry: RunRegistry, run_id: str, consumer: str) -> str:
    """The run's own sink path, as the runner hands it to a consumer."""
    return f"{registry.sink_path(run_id, consumer)}/effects"


def assert_error(resp, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert body.get("field") == field
    return body


def test_health(client) -> None:
    resp = client.get("/health")
    assert (resp.status_code, resp.get_json()) == (200, {"status": "ok"})


def test_unknown_route_and_method_are_json(client, registry: RunRegistry, run: str) -> None:
    body = assert_error(client.get("/nowhere"), 404)
    assert "/nowhere" in body["error"]
    resp = client.get(effects_url(registry, run, "c"))
    assert_error(resp, 405)
    assert "POST" in resp.headers["Allow"]


def test_internal_error_is_json_without_details(registry: RunRegistry, scenarios_dir: Path) -> None:
    def exploding(request: dict) -> str:
        raise RuntimeError("secret internals")

    client = create_app(registry=registry, start_run=exploding, scenarios_dir=scenarios_dir).test_client()
    body = assert_error(client.post("/runs", json={"scenario": "calm", "consumers": ["ref:x"]}), 500)
    assert "secret" not in body["error"]


# ---- the sink ----

def test_effect_is_applied_and_recorded_for_the_url_consumer(client, registry: RunRegistry, run: str, ledger: Ledger) -> None:
    cid = str(uuid.uuid4())
    resp = client.post(effects_url(registry, run, "ref:correct"), json={"correlation_id": cid, "instance": 1})
    assert (resp.status_code, resp.get_json()) == (200, {"applied": True})
    (effect,) = ledger.history.effects
    assert (effect.consumer, effect.correlation_id, effect.instance, effect.applied) == (
        "ref:correct", cid, 1, True)


def test_duplicate_key_over_http(client, registry: RunRegistry, run: str) -> None:
    payload = {"correlation_id": "x", "idempotency_key": "k"}
    assert client.post(effects_url(registry, run, "c"), json=payload).get_json() == {"applied": True}
    resp = client.post(effects_url(registry, run, "c"), json=payload)
    assert (resp.status_code, resp.get_json()) == (200, {"applied": False, "duplicate_key": True})


def test_consumer_names_with_slashes_reach_the_sink(client, registry: RunRegistry, run: str, ledger: Ledger) -> None:
    name = "http:http://127.0.0.1:9000/events#2"
    assert client.post(effects_url(registry, run, name), json={"correlation_id": "x"}).status_code == 200
    assert ledger.history.effects[0].consumer == name


def test_body_consumer_must_match_url(client, registry: RunRegistry, run: str, ledger: Ledger) -> None:
    assert client.post(effects_url(registry, run, "a"), json={"correlation_id": "x", "consumer": "a"}).status_code == 200
    assert_error(client.post(effects_url(registry, run, "a"), json={"correlation_id": "x", "consumer": "b"}), 400, "consumer")


def test_unknown_run_is_404(client) -> None:
    assert_error(client.post("/runs/nope/sink/x/consumers/c/effects", json={"correlation_id": "x"}), 404, "path")


def test_knowing_the_run_id_is_not_enough_to_post_effects(client, registry: RunRegistry, run: str,
                                                          ledger: Ledger) -> None:
    """Every miss is the same 404: a wrong token for a real run, a token of another
    run, a run that does not exist, and the pre-token path shape."""
    registry.open("other", EffectSink(ledger))
    right = effects_url(registry, run, "c")
    token = right.split("/")[4]
    assert len(token) >= 22  # >= 128 bits from secrets
    misses = [right.replace(token, "A" * len(token)),
              right.replace(token, token[:-1]),
              effects_url(registry, "other", "c").replace("/runs/other/", f"/runs/{run}/"),
              right.replace(f"/runs/{run}/", "/runs/ghost/"),
              f"/runs/{run}/consumers/c/effects"]
    answers = [client.post(url, json={"correlation_id": "x"}) for url in misses]
    assert {(a.status_code, a.get_data()) for a in answers[:4]} == {
        (404, answers[0].get_data())}, [a.get_data() for a in answers]
    assert run not in answers[0].get_data(as_text=True) and "ghost" not in answers[3].get_data(as_text=True)
    assert answers[4].status_code == 404
    assert ledger.history.effects == []
    assert client.post(right, json={"correlation_id": "x"}).status_code == 200


def test_each_run_has_its_own_sink_token(registry: RunRegistry) -> None:
    tokens = set()
    for i in range(50):
        registry.open(f"r{i}", EffectSink(Ledger()))
        tokens.add(registry.sink_path(f"r{i}", "c").split("/")[4])
    assert len(tokens) == 50


def test_run_without_sink_yet_is_retryable(client, registry: RunRegistry) -> None:
    registry.open("early")
    assert_error(client.post(effects_url(registry, "early", "c"), json={"correlation_id": "x"}), 503, "run_id")


@pytest.mark.parametrize(("data", "field"), [
    (b"{not json", "body"),
    (b"", "body"),
    (b"[1, 2]", "body"),
    (b'{"event": 3}', "event"),
    (b'{"correlation_id": "x", "upsert": 1}', "upsert"),
    (b'{"correlation_id": "x", "idempotency_key": ["k"]}', "idempotency_key"),
])
def test_bad_effect_bodies_are_400(client, registry: RunRegistry, run: str, data: bytes, field: str) -> None:
    assert_error(client.post(effects_url(registry, run, "c"), data=data, content_type="application/json"), 400, field)


def test_effect_without_content_type_is_still_read(client, registry: RunRegistry, run: str) -> None:
    assert client.post(effects_url(registry, run, "c"), data=b'{"correlation_id": "x"}').status_code == 200


def test_oversized_body_is_413(client, registry: RunRegistry, run: str, ledger: Ledger) -> None:
    big = orjson.dumps({"correlation_id": "x", "event": {"pad": "x" * 5000}})
    body = assert_error(client.post(effects_url(registry, run, "c"), data=big, content_type="application/json"), 413)
    assert "4096" in body["error"]
    assert ledger.history.effects == []


def test_injected_sink_failure_over_http(client, registry: RunRegistry, ledger: Ledger) -> None:
    registry.open("faulty", EffectSink(ledger, faults=[SinkFault(probability=1.0, status=500)]))
    resp = client.post(effects_url(registry, "faulty", "c"), json={"correlation_id": "x"})
    assert resp.status_code == 500
    assert resp.get_json()["applied"] is False


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["event", "correlation_id", "idempotency_key", "upsert", "instance", "consumer", "x"]),
        inner, max_size=4),
    max_leaves=12)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_body_gets_an_answer_never_a_crash(client, registry: RunRegistry, run: str, value) -> None:
    resp = client.post(effects_url(registry, run, "c"), data=json.dumps(value), content_type="application/json")
    assert resp.status_code in (200, 400)
    if resp.status_code == 400:
        assert resp.get_json()["field"]


# ---- scenarios and runs ----

def test_scenarios_lists_shipped_files_by_name(client) -> None:
    resp = client.get("/scenarios")
    assert resp.status_code == 200
    listed = {s["name"]: s["description"] for s in resp.get_json()["scenarios"]}
    assert listed == {"duplicate-storm": "SQS delivers 20% twice", "calm": None,
                      "nameless": "uses its file name"}


def test_post_run_starts_a_shipped_scenario(client, start_run: StartRunSpy, scenarios_dir: Path) -> None:
    resp = client.post("/runs", json={"scenario": "duplicate-storm", "seed": 7,
                                      "consumers": ["ref:correct", "http:http://127.0.0.1:9000/events"]})
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["run_id"] == "run-1"
    assert body["status_url"].endswith("/runs/run-1")
    assert resp.headers["Location"] == body["status_url"]
    assert start_run.requests == [{
        "scenario": "duplicate-storm", "seed": 7,
        "consumers": ["ref:correct", "http:http://127.0.0.1:9000/events"],
        "scenario_file": str(scenarios_dir / "duplicate-storm.yaml"),
    }]


@pytest.mark.parametrize("spec", ["python:mymod:Consumer", "lambda-sqs:handler.py:main",
                                  "lambda-eb:handler:main", "cmd:rm -rf /", "wsgi:app:app"])
def test_specs_that_name_code_are_refused(client, start_run: StartRunSpy, spec: str) -> None:
    body = assert_error(client.post("/runs", json={"scenario": "calm", "consumers": ["ref:correct", spec]}),
                        400, "consumers[1]")
    assert "code" in body["error"]
    assert start_run.requests == []


@pytest.mark.parametrize(("request_body", "field"), [
    ({"scenario": "no-such", "consumers": ["ref:x"]}, "scenario"),
    ({"scenario": "broken", "consumers": ["ref:x"]}, "scenario"),
    ({"scenario": 3, "consumers": ["ref:x"]}, "scenario"),
    ({"consumers": ["ref:x"]}, "scenario"),
    ({"scenario": "calm"}, "consumers"),
    ({"scenario": "calm", "consumers": []}, "consumers"),
    ({"scenario": "calm", "consumers": "ref:x"}, "consumers"),
    ({"scenario": "calm", "consumers": [7]}, "consumers[0]"),
    ({"scenario": "calm", "consumers": ["ref:../../etc/passwd"]}, "consumers[0]"),
    ({"scenario": "calm", "consumers": ["ref:"]}, "consumers[0]"),
    ({"scenario": "calm", "consumers": ["http:ftp://host/x"]}, "consumers[0]"),
    ({"scenario": "calm", "consumers": ["gopher:x"]}, "consumers[0]"),
    ({"scenario": "calm", "consumers": ["ref:x"], "seed": "7"}, "seed"),
    ({"scenario": "calm", "consumers": ["ref:x"], "seed": True}, "seed"),
    ({"scenario": "calm", "consumers": ["ref:x"], "backend": "aws"}, "backend"),
    (["calm"], "body"),
])
def test_bad_run_requests_are_400(client, start_run: StartRunSpy, request_body, field: str) -> None:
    assert_error(client.post("/runs", json=request_body), 400, field)
    assert start_run.requests == []


def test_bare_loopback_url_is_accepted_as_http_spec(client, start_run: StartRunSpy) -> None:
    resp = client.post("/runs", json={"scenario": "calm", "consumers": ["https://127.0.0.1:9443/x"]})
    assert resp.status_code == 202
    assert start_run.requests[0]["consumers"] == ["http:https://127.0.0.1:9443/x"]


def test_runner_refusal_is_400_naming_its_field(client, start_run: StartRunSpy) -> None:
    start_run.error = BadInput("no reference consumer named 'nope'", where="consumers[0]")
    body = assert_error(client.post("/runs", json={"scenario": "calm", "consumers": ["ref:nope"]}),
                        400, "consumers[0]")
    assert "nope" in body["error"]


def test_app_without_runner_cannot_start_runs(scenarios_dir: Path) -> None:
    client = create_app(scenarios_dir=scenarios_dir).test_client()
    assert_error(client.post("/runs", json={"scenario": "calm", "consumers": ["ref:x"]}), 503)


def test_run_status_counts_and_result(client, registry: RunRegistry, ledger: Ledger) -> None:
    sink = EffectSink(ledger)
    registry.open("r9", sink)
    ledger.record(LogicalEvent(0, "cid", "topic", 0, "conv", "ended", {}))
    ledger.record(Receive("c", 0, 0.1, "m1", "e1", "cid"))
    sink.apply("c", {"correlation_id": "cid", "idempotency_key": "k"})
    sink.apply("c", {"correlation_id": "cid", "idempotency_key": "k"})
    registry.update("r9", progress={"phase": "sending", "sent": 1})

    body = client.get("/runs/r9").get_json()
    assert body["status"] == "running"
    assert body["progress"] == {"phase": "sending", "sent": 1}
    assert body["counts"]["logical"] == 1
    assert body["counts"]["receives"] == 1
    assert body["counts"]["effects"]["attempts"] == 2
    assert body["counts"]["effects"]["applied"] == 1
    assert "result" not in body

    registry.update("r9", status="done", result={"verdict": "pass"})
    assert client.get("/runs/r9").get_json()["result"] == {"verdict": "pass"}
    assert client.get("/runs").get_json() == {"runs": [{"run_id": "r9", "status": "done"}]}


def test_unknown_run_status_is_404(client) -> None:
    assert_error(client.get("/runs/nope"), 404, "run_id")


def test_registry_refuses_bad_updates(registry: RunRegistry) -> None:
    registry.open("r")
    with pytest.raises(ValueError):
        registry.update("r", status="exploded")
    with pytest.raises(TypeError):
        registry.update("r", colour="red")
    with pytest.raises(KeyError):
        registry.open("r")
    snapshot = registry.get("r")
    snapshot.progress["mutated"] = True  # a copy: the registry is untouched
    assert registry.get("r").progress == {}


def test_apps_do_not_share_state(scenarios_dir: Path) -> None:
    first, second = create_app(scenarios_dir=scenarios_dir), create_app(scenarios_dir=scenarios_dir)
    reg = first.extensions["genesys_sim"].registry
    reg.open("only-in-first", EffectSink(Ledger()))
    url = effects_url(reg, "only-in-first", "c")
    assert first.test_client().post(url, json={"correlation_id": "x"}).status_code == 200
    assert second.test_client().post(url, json={"correlation_id": "x"}).status_code == 404


# ---- generated events ----

def fake_events_module(seen: list) -> types.ModuleType:
    """A stand-in generator (the real one is simulator.events, tested by its owner):
    endless, deterministic per seed, refusing unknown topics."""
    module = types.ModuleType("simulator.events")

    def generate(seed, *, topics=None, traffic=None):
        seen.append((seed, topics))
        allowed = {"customer.end", "acd.end"}
        if topics and set(topics) - allowed:
            raise ValueError(f"unknown topic {sorted(set(topics) - allowed)[0]!r}")
        i = 0
        while True:
            topic = (topics or ["customer.end"])[i % len(topics or ["customer.end"])]
            cid = f"{seed}-{i}"
            yield LogicalEvent(i, cid, topic, 1_700_000_000_000 + i, "conv", "s",
                               {"id": f"env-{cid}", "detail-type": topic,
                                "detail": {"metadata": {"CorrelationId": cid}}})
            i += 1

    module.generate = generate
    return module


@pytest.fixture
def generated(monkeypatch) -> list:
    seen: list = []
    monkeypatch.setitem(sys.modules, "simulator.events", fake_events_module(seen))
    return seen


def ndjson(resp) -> list[dict]:
    return [orjson.loads(line) for line in resp.get_data().splitlines()]


def test_events_stream_count_envelopes(client, generated: list) -> None:
    resp = client.get("/events?count=1000&seed=5&topic=customer.end,acd.end")
    assert resp.status_code == 200
    assert resp.mimetype == "application/x-ndjson"
    events = ndjson(resp)
    assert len(events) == 1000
    assert events[0]["detail"]["metadata"]["CorrelationId"] == "5-0"
    assert {e["detail-type"] for e in events} == {"customer.end", "acd.end"}
    assert generated == [(5, ["customer.end", "acd.end"])]


def test_events_logical_format(client, generated: list) -> None:
    (record,) = ndjson(client.get("/events?count=1&format=logical"))
    assert set(record) == {"seq", "correlation_id", "topic", "time_ms", "entity", "state", "event"}
    assert record["correlation_id"] == record["event"]["detail"]["metadata"]["CorrelationId"]


def test_events_repeated_topic_params(client, generated: list) -> None:
    client.get("/events?count=1&topic=customer.end&topic=acd.end")
    assert generated[-1][1] == ["customer.end", "acd.end"]


@pytest.mark.parametrize(("query", "field"), [
    ("count=abc", "count"), ("count=0", "count"), ("count=100001", "count"), ("seed=-1", "seed"),
    ("seed=1.5", "seed"), ("format=xml", "format"), ("colour=red", "colour"),
    ("topic=no.such.topic", "topic"),
])
def test_bad_event_params_are_400(client, generated: list, query: str, field: str) -> None:
    assert_error(client.get(f"/events?{query}"), 400, field)


def test_events_through_the_real_generator(client) -> None:
    try:
        from simulator.events import generate  # noqa: F401
    except ImportError:
        pytest.skip("simulator.events not built yet")
    events = ndjson(client.get("/events?count=20&seed=3"))
    assert len(events) == 20
    assert all(e["detail"]["metadata"]["CorrelationId"] for e in events)
