"""The app on a real socket, as the harness runs it, called by the consumer's Sink client."""
from __future__ import annotations

import logging
import socket
import threading
from typing import Iterator

import pytest
import requests

from simulator.app import RunRegistry, ServerHandle, create_app, serve_in_thread
from simulator.clients.api import DownstreamError, Sink
from simulator.ledger import Ledger
from simulator.model import SinkFault
from simulator.sink import EffectSink


@pytest.fixture
def registry() -> RunRegistry:
    return RunRegistry()


@pytest.fixture
def server(registry: RunRegistry) -> Iterator[ServerHandle]:
    handle = serve_in_thread(create_app(registry=registry))
    yield handle
    handle.stop()


def sink_url(server: ServerHandle, registry: RunRegistry, run_id: str, consumer: str) -> str:
    """The GENESYS_SIM_SINK_URL the runner would give ``consumer``."""
    return f"{server.url}{registry.sink_path(run_id, consumer)}"


def test_listens_on_loopback_by_default(server: ServerHandle) -> None:
    assert server.host == "127.0.0.1"
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert requests.get(f"{server.url}/health", timeout=5).json() == {"status": "ok"}


def test_sink_client_applies_effects_once_per_key(server: ServerHandle, registry: RunRegistry) -> None:
    ledger = Ledger()
    registry.open("run", EffectSink(ledger))
    client = Sink(sink_url(server, registry, "run", "ref:correct"), consumer="ref:correct", instance=1)
    event = {"id": "env-1", "detail": {"metadata": {"CorrelationId": "cid-1"}}}
    client.effect(event, idempotency_key="k")
    client.effect(event, idempotency_key="k")  # a duplicate key is a 200, not an error
    client.effect(correlation_id="cid-2", upsert=True)
    assert [(e.consumer, e.correlation_id, e.envelope_id, e.applied, e.instance, e.upsert)
            for e in ledger.history.effects] == [
        ("ref:correct", "cid-1", "env-1", True, 1, False),
        ("ref:correct", "cid-1", "env-1", False, 1, False),
        ("ref:correct", "cid-2", None, True, 1, True),
    ]


@pytest.mark.parametrize("status", [500, 429])
def test_failing_sink_raises_downstream_error(server: ServerHandle, registry: RunRegistry, status: int) -> None:
    ledger = Ledger()
    registry.open("run", EffectSink(ledger, faults=[SinkFault(probability=1.0, status=status)]))
    client = Sink(sink_url(server, registry, "run", "c"), consumer="c")
    with pytest.raises(DownstreamError) as info:
        client.effect(correlation_id="cid")
    assert info.value.status == status
    assert [(e.applied, e.status) for e in ledger.history.effects] == [(False, status)]


def test_unknown_run_raises_downstream_error(server: ServerHandle) -> None:
    with pytest.raises(DownstreamError) as info:
        Sink(f"{server.url}/runs/missing/sink/x/consumers/c").effect(correlation_id="cid")
    assert info.value.status == 404


def test_concurrent_clients_one_key_applied_once(server: ServerHandle, registry: RunRegistry) -> None:
    ledger = Ledger()
    registry.open("run", EffectSink(ledger))
    barrier = threading.Barrier(8)

    def consumer_instance(i: int) -> None:
        client = Sink(sink_url(server, registry, "run", "c"), consumer="c", instance=i)
        barrier.wait()
        for _ in range(10):
            client.effect(correlation_id="cid", idempotency_key="same")

    threads = [threading.Thread(target=consumer_instance, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.history.effects) == 80
    assert sum(e.applied for e in ledger.history.effects) == 1


def test_no_request_log_by_default(server: ServerHandle, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="werkzeug"):
        requests.get(f"{server.url}/health", timeout=5)
    assert [r for r in caplog.records if r.name == "werkzeug"] == []


def test_stop_releases_the_port(registry: RunRegistry) -> None:
    handle = serve_in_thread(create_app(registry=registry))
    port = handle.port
    handle.stop()
    assert not handle.thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
