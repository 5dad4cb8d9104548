"""The pytest fixtures a consumer's own tests use, run through pytester as a user would
(tests/conftest.py enables pytester)."""
from __future__ import annotations

import pytest


def test_factory_fixture_gives_events_of_a_topic(pytester: pytest.Pytester):
    pytester.makepyfile("""
        def test_acd_end(genesys_events):
            events = genesys_events("v2.detail.events.conversation.{id}.acd.end", count=3, seed=1)
            assert len(events) == 3
            assert {e["detail-type"] for e in events} == {"v2.detail.events.conversation.{id}.acd.end"}
            assert events == genesys_events("acd.end", count=3, seed=1)  # same seed, same events
            assert events != genesys_events("acd.end", count=3, seed=2)
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_one_event_by_marker_or_indirect_parametrization(pytester: pytest.Pytester):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.genesys_topic("presence", seed=4)
        def test_marker(genesys_event):
            assert genesys_event["detail-type"] == "v2.users.{id}.presence"

        @pytest.mark.parametrize("genesys_event", ["customer.start", ("acw", 3)], indirect=True)
        def test_indirect(genesys_event):
            assert genesys_event["detail-type"].split(".")[-1] in ("start", "acw")
    """)
    pytester.runpytest("-p", "no:cacheprovider", "--strict-markers").assert_outcomes(passed=3)


def test_missing_topic_is_a_clear_failure(pytester: pytest.Pytester):
    pytester.makepyfile("""
        def test_no_topic(genesys_event):
            pass
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*genesys_event needs a topic*"])
