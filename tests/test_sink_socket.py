"""The sink's framed socket answers exactly as its HTTP route does: same sinks
behind the same unguessable paths, same checks, same statuses and bodies."""
from __future__ import annotations

import json
import socket

import pytest
import requests
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator.app import RunRegistry, create_app, serve_in_thread
from simulator.app.sink_socket import SinkSocketServer
from simulator.clients.api import DownstreamError, Sink
from simulator.clients.frames import read_frame, write_frame
from simulator.ledger import Ledger
from simulator.model import SinkFault
from simulator.sink import EffectSink


@pytest.fixture
def both():
    """(registry, ledger, http base url, framed socket) around one consumer's sink."""
    registry, ledger = RunRegistry(), Ledger()
    registry.open("run-1", EffectSink(ledger, consumer="c"))
    http = serve_in_thread(create_app(registry=registry))
    framed = SinkSocketServer(registry)
    yield registry, ledger, http.url, framed
    framed.close()
    http.stop()


def framed_call(framed: SinkSocketServer, path: str, effect) -> tuple[int, dict]:
    with socket.create_connection(framed.address) as sock:
        write_frame(sock, {"path": path, "effect": effect})
        answer = read_frame(sock)
    return answer["status"], answer["body"]


payloads = st.one_of(
    st.fixed_dictionaries({"correlation_id": st.text(min_size=1, max_size=8)},
                          optional={"idempotency_key": st.sampled_from(["k1", "k2"]), "upsert": st.booleans()}),
    st.dictionaries(st.sampled_from(["event", "bogus", "instance", "correlation_id"]),
                    st.one_of(st.none(), st.integers(-2, 3), st.text(max_size=3)), max_size=3),
    st.lists(st.integers(), max_size=2), st.none(), st.text(max_size=4),
)


@settings(max_examples=25, deadline=None)
@given(effects=st.lists(payloads, min_size=1, max_size=6))
@example(effects=[[2**64], {"correlation_id": "c", "instance": 2**70}])  # past orjson's 64 bits
def test_the_socket_answers_as_http_does(effects):
    # Two identical sinks, one per transport: every answer must match.
    registry = RunRegistry()
    ledgers = [Ledger(), Ledger()]
    registry.open("h", EffectSink(ledgers[0], consumer="c"))
    registry.open("s", EffectSink(ledgers[1], consumer="c"))
    http = serve_in_thread(create_app(registry=registry))
    framed = SinkSocketServer(registry)
    try:
        for effect in effects:
            response = requests.post(f"{http.url}{registry.sink_path('h', 'c')}/effects",
                                     data=json.dumps(effect))
            status, body = framed_call(framed, registry.sink_path("s", "c"), effect)
            assert (status, body) == (response.status_code, response.json())
        assert [(e.applied, e.status, e.idempotency_key) for e in ledgers[0].history.effects] == [
            (e.applied, e.status, e.idempotency_key) for e in ledgers[1].history.effects]
    finally:
        framed.close()
        http.stop()


def test_a_wrong_token_or_path_is_the_same_404(both):
    registry, _, _, framed = both
    good = registry.sink_path("run-1", "c")
    wrong = good.replace("/sink/", "/sink/x")
    for path in (wrong, "/nothing", "/runs/other/sink/t/consumers/c"):
        assert framed_call(framed, path, {"correlation_id": "c1"})[0] == 404


def test_the_client_uses_the_socket_and_keeps_its_connection(both):
    registry, ledger, url, framed = both
    sink = Sink(url + registry.sink_path("run-1", "c"), consumer="c", socket_address=framed.spec)
    for i in range(5):
        sink.effect(correlation_id=f"c{i}", idempotency_key=f"c{i}")
    sink.effect(correlation_id="c0", idempotency_key="c0")  # a repeat: answered 200, not applied
    assert [e.applied for e in ledger.history.effects] == [True] * 5 + [False]
    assert sink._local.sock is not None  # one connection for all six


def test_a_failing_downstream_raises_through_the_socket(both):
    registry, ledger, url, framed = both
    registry.open("run-2", EffectSink(Ledger(), consumer="c", faults=[SinkFault(probability=1.0)]))
    sink = Sink(url + registry.sink_path("run-2", "c"), consumer="c", socket_address=framed.spec)
    with pytest.raises(DownstreamError) as info:
        sink.effect(correlation_id="c1")
    assert info.value.status == 500
