"""Load curves: a scenario describes its day (points, or a named curve), arrivals
follow it as a non-homogeneous Poisson process, handle times are fitted to its peak,
and bad curves are named field by field."""
from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import BadInput
from simulator.events import TrafficConfig, generate
from simulator.events.centre import handle_time_scale
from simulator.events.load import NAMED, LoadCurve, LoadPoint, curve_of
from simulator.scenario import parse_scenario

MIDNIGHT = 1767571200000  # 2026-01-05T00:00:00Z
HOUR_MS = 3_600_000
START = "v2.detail.events.conversation.{id}.customer.start"


def ramp(*points: tuple[float, float]) -> list[dict]:
    return [{"at_s": at, "conversations_per_minute": rate} for at, rate in points]


def expected(curve: LoadCurve, lo_s: float, hi_s: float) -> float:
    """Conversations the curve brings between two scenario seconds (the area under it)."""
    def area(s: float) -> float:
        return curve.mean_per_minute(s) * s / 60 if s else 0.0
    return area(hi_s) - area(lo_s)


def poisson_ok(count: int, expected: float, sigmas: float = 4.5) -> bool:
    return abs(count - expected) <= sigmas * math.sqrt(max(expected, 1))


def test_points_are_joined_by_straight_lines_and_the_last_rate_holds():
    curve = TrafficConfig(load=ramp((0, 20), (3600, 120), (5400, 60))).curve()
    assert [curve.rate_per_minute(s) for s in (0, 1800, 3600, 4500, 5400, 99_999)] == [20, 70, 120, 90, 60, 60]
    assert curve.peak_per_minute == 120
    assert curve.mean_per_minute(3600) == pytest.approx(70)


def test_the_contact_centre_day_has_its_shape():
    day = TrafficConfig(load="contact-centre-day", conversations_per_minute=200, start_ms=MIDNIGHT).curve()
    at = {h: day.rate_per_minute(h * 3600) for h in (3, 7, 8, 9, 9.5, 10, 11, 12.5, 14.5, 17, 19, 21, 23)}
    assert day.peak_per_minute == 200 and max(at.values()) == 200
    assert at[3] < at[7] < at[8] < at[9] and min(at[9.5], at[10]) == 200  # quiet start, morning peak
    assert at[12.5] < at[11] and at[12.5] < at[14.5] < at[10]  # lunch dip, a lower afternoon
    assert at[14.5] > at[17] > at[19] > at[21] >= at[23] > 0  # the evening tail, a trickle overnight
    assert all(0 < share <= 1 for _, share in NAMED["contact-centre-day"])


def test_a_named_day_is_read_from_the_time_of_day_the_scenario_starts():
    for hours in (0, 8.5, 13.25, 23.9):
        start = MIDNIGHT + int(hours * HOUR_MS)
        shifted = TrafficConfig(load="contact-centre-day", start_ms=start).curve()
        whole = TrafficConfig(load="contact-centre-day", start_ms=MIDNIGHT).curve()
        for s in (0, 900, 5000, 40_000, 86_400, 100_000):
            assert shifted.rate_per_minute(s) == pytest.approx(whole.rate_per_minute(hours * 3600 + s))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), rates=st.lists(st.floats(0, 300), min_size=1, max_size=5),
       step=st.floats(60, 3000))
def test_arrivals_follow_the_curve(seed, rates, step):
    """Counts in each stretch of the curve are Poisson with the area under it as mean."""
    points = tuple(LoadPoint(i * step, r) for i, r in enumerate(rates))
    if not any(p.conversations_per_minute for p in points):
        points = (LoadPoint(0, 10.0),)
    curve = LoadCurve(points)
    horizon = len(points) * step
    times = list(curve.arrivals(random.Random(seed), 0, horizon * 1000))
    assert times == sorted(times) and all(0 <= t < horizon * 1000 for t in times)
    for lo in range(0, int(horizon), int(step)):
        hi = min(lo + step, horizon)
        count = sum(lo * 1000 <= t < hi * 1000 for t in times)
        assert poisson_ok(count, expected(curve, lo, hi)), (lo, hi, count)


def test_conversations_arrive_over_a_day_as_the_curve_says():
    traffic = TrafficConfig(duration_s=24 * 3600, load="contact-centre-day", conversations_per_minute=12,
                            agents=30, start_ms=MIDNIGHT, transcription_rate=0)
    curve = traffic.curve()
    hours = Counter((e.time_ms - MIDNIGHT) // HOUR_MS for e in generate(6, traffic=traffic, topics=[START]))
    for hour in range(24):
        assert poisson_ok(hours[hour], expected(curve, hour * 3600, (hour + 1) * 3600), 5), (hour, hours[hour])
    assert hours[10] > 8 * hours[3]


def test_a_flat_rate_without_a_load_is_as_before():
    flat = TrafficConfig(duration_s=1200, conversations_per_minute=30)
    same = TrafficConfig(duration_s=1200, load=ramp((0, 30)))
    assert [e.event for e in generate(3, traffic=flat)] == [e.event for e in generate(3, traffic=same)]


def test_handle_times_are_fitted_to_the_peak():
    curve = TrafficConfig(load=ramp((0, 10), (1800, 120), (3600, 10)), agents=60)
    assert handle_time_scale(curve) == handle_time_scale(TrafficConfig(conversations_per_minute=120, agents=60))
    named = TrafficConfig(load="contact-centre-day", conversations_per_minute=90, agents=60)
    assert handle_time_scale(named) == handle_time_scale(TrafficConfig(conversations_per_minute=90, agents=60))


def test_queues_stay_short_through_the_peak():
    """Fitted to the peak, the busiest stretch is carried; fitted to the mean, the same
    agents fall behind for the whole peak."""
    traffic = TrafficConfig(duration_s=3600, load=ramp((0, 5), (2400, 5), (3000, 100), (3600, 100)), agents=40,
                            abandon_rate=0, flow_out_rate=0, transcription_rate=0)
    at_mean = handle_time_scale(TrafficConfig(conversations_per_minute=traffic.curve().mean_per_minute(3600),
                                              agents=40, abandon_rate=0, flow_out_rate=0))

    def peak_waits(t: TrafficConfig) -> list[int]:
        return sorted(e.event["detail"]["eventBody"]["connectedDurationMs"] for e in generate(2, traffic=t)
                      if e.topic.endswith("acd.end") and e.time_ms > t.start_ms + 3000_000)

    fitted, behind = peak_waits(traffic), peak_waits(traffic.replace(handle_time_scale=at_mean))
    assert len(fitted) > 500
    assert fitted[len(fitted) // 2] < 15_000 and fitted[int(len(fitted) * 0.9)] < 60_000
    assert behind[len(behind) // 2] > 10 * fitted[len(fitted) // 2]


def test_a_mid_size_centres_morning_is_at_least_50000_events():
    """The production-day traffic (300 agents, the climb into the morning peak)."""
    traffic = TrafficConfig(duration_s=1800, load="contact-centre-day", conversations_per_minute=120, agents=300,
                            queues=8, start_ms=MIDNIGHT + int(8.5 * HOUR_MS))
    topics = Counter(e.topic for e in generate(42, traffic=traffic))
    assert sum(topics.values()) >= 50_000
    assert len(topics) == 16


@pytest.mark.parametrize("load, where", [
    ("contact-centre-night", "traffic.load"),
    ({"at_s": 0}, "traffic.load"),
    ([], "traffic.load"),
    (ramp((0, 0), (60, 0)), "traffic.load"),
    ([5], "traffic.load[0]"),
    (ramp((10, 20)), "traffic.load[0].at_s"),
    (ramp((0, 20), (600, 30), (600, 40)), "traffic.load[2].at_s"),
    (ramp((0, 20), (-5, 30)), "traffic.load[1].at_s"),
    (ramp((0, 20), (60, -1)), "traffic.load[1].conversations_per_minute"),
    (ramp((0, 20), (60, "many")), "traffic.load[1].conversations_per_minute"),
    (ramp((0, 20), (60, True)), "traffic.load[1].conversations_per_minute"),
    ([{"at_s": 0, "conversations_per_minute": 1}, {"at_s": 60}], "traffic.load[1].conversations_per_minute"),
    ([{"at_s": 0, "conversations_per_minute": 1, "rate": 3}], "traffic.load[0].rate"),
])
def test_bad_load_names_the_point_and_field(load, where):
    with pytest.raises(BadInput) as info:
        TrafficConfig(load=load)
    assert info.value.where == where


def test_explicit_points_and_a_rate_are_one_too_many():
    with pytest.raises(BadInput) as info:
        TrafficConfig.from_mapping({"load": ramp((0, 20)), "conversations_per_minute": 50})
    assert info.value.where == "traffic.conversations_per_minute"
    # A named curve is scaled by it.
    named = TrafficConfig.from_mapping({"load": "contact-centre-day", "conversations_per_minute": 50})
    assert named.curve().peak_per_minute == 50


def test_a_scenario_file_points_at_the_bad_point():
    text = ("name: x\n"
            "traffic:\n"
            "  duration_s: 600\n"
            "  load:\n"
            "    - {at_s: 0, conversations_per_minute: 20}\n"
            "    - {at_s: 0, conversations_per_minute: 120}\n")
    with pytest.raises(BadInput) as info:
        parse_scenario(text, source="day.yaml")
    assert str(info.value).startswith("day.yaml:6: traffic.load[1].at_s: must be later than")


def test_a_scenario_file_takes_a_day():
    scenario = parse_scenario("name: x\ntraffic: {duration_s: 600, load: contact-centre-day, "
                              "conversations_per_minute: 90, agents: 50}\n")
    traffic = scenario.traffic_config()
    assert traffic.load == "contact-centre-day" and traffic.curve().peak_per_minute == 90
    points = parse_scenario("name: x\ntraffic:\n  duration_s: 600\n  load:\n"
                            "    - {at_s: 0, conversations_per_minute: 5}\n"
                            "    - {at_s: 300, conversations_per_minute: 50}\n").traffic_config()
    assert points.curve().rate_per_minute(150) == pytest.approx(27.5)
    assert points == points.replace() and hash(points) == hash(points.replace())


def test_curves_of_the_same_load_are_equal():
    assert curve_of("contact-centre-day", 60, MIDNIGHT) == curve_of("contact-centre-day", 60, MIDNIGHT + 86_400_000)
