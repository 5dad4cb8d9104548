"""pytest plugin of genesys-sim (registered through the ``pytest11`` entry point).

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

from typing import Callable

import pytest

MARKER = "genesys_topic"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(topic, seed=0): the topic (and seed) of the genesys_event fixture")


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
