"""The ``stall`` fault: a consumer fault (no planned copy), validated at the
edge, applied by the host after the effect and only after it."""
from __future__ import annotations

import time

import pytest

from simulator.clients.faults import CRASH_EXIT, FaultInjector
from simulator.errors import BadInput
from simulator.faults import plan
from simulator.model import StallFault
from test_faults_support import make_events


def test_stall_is_a_consumer_fault_not_a_plan_change():
    events = make_events(20)
    p = plan(events, [{"stall": {"probability": 0.5, "delay_s": 120}}], seed=0)
    assert p.deliveries == plan(events, [], seed=0).deliveries
    assert p.consumer_faults.stall == StallFault(0.5, 120.0)
    assert p.consumer_faults.sink == ()


@pytest.mark.parametrize("raw, message", [
    ({"stall": {"probability": 1.5, "delay_s": 1}}, "faults[0].stall.probability: expected a number between 0 and 1"),
    ({"stall": {"probability": 1, "delay_s": -1}}, "faults[0].stall.delay_s: expected a number >= 0"),
    ({"stall": {"probability": 1}}, "faults[0].stall.delay_s"),
    ({"stall": {"probability": 1, "delay_s": 1, "after": "x"}}, "faults[0].stall"),
])
def test_bad_stall_names_the_field(raw, message):
    with pytest.raises(BadInput) as caught:
        plan(make_events(3), [raw], seed=0)
    assert message in str(caught.value)


def test_only_one_stall():
    with pytest.raises(BadInput, match="only one 'stall'"):
        plan(make_events(3), [{"stall": {"probability": 1, "delay_s": 1}},
                              {"stall": {"probability": 1, "delay_s": 2}}], seed=0)


def _injector(probability: float, delay_s: float, scale: float = 10.0) -> FaultInjector:
    return FaultInjector(crash=None, slow=None, stall=StallFault(probability, delay_s),
                         time_scale=scale, seed=1, instance=0)


def test_the_host_stalls_after_the_effect_for_scaled_delay():
    faults = _injector(1.0, 3.0)  # 3 scenario seconds at scale 10: 0.3 s
    faults.before_handle()  # nothing before the message
    start = time.monotonic()
    faults.after_effect()
    assert 0.28 <= time.monotonic() - start < 1.0


def test_the_stall_hits_about_its_fraction_of_effects(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("simulator.clients.faults.time.sleep", slept.append)
    faults = _injector(0.25, 60.0, scale=60.0)
    for _ in range(400):
        faults.after_effect()
    assert 60 <= len(slept) <= 140 and set(slept) == {1.0}
    none = _injector(0.0, 60.0)
    for _ in range(50):
        none.after_effect()


def test_a_crash_due_at_the_effect_wins_over_the_stall(monkeypatch):
    from simulator.model import CrashFault

    exits: list[int] = []
    slept: list[float] = []
    monkeypatch.setattr("simulator.clients.faults.time.sleep", slept.append)
    monkeypatch.setattr("simulator.clients.faults.os._exit", lambda code: exits.append(code))
    faults = FaultInjector(crash=CrashFault("after_effect", 1, 1.0), slow=None,
                           stall=StallFault(1.0, 5.0), time_scale=1.0, seed=0, instance=0)
    faults.after_effect()
    assert exits == [CRASH_EXIT]
