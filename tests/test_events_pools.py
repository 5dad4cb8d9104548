"""The cheap value sources behind the generator: they must equal the slow, obvious ones."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from simulator.events.pools import IsoClock, pools_for, uuid_from_bits


@given(st.integers(min_value=0, max_value=4_102_444_800_000))  # up to 2100
def test_iso_clock_agrees_with_datetime(epoch_ms):
    clock = IsoClock()
    expected = datetime.fromtimestamp(epoch_ms / 1000, timezone.utc)
    assert clock.seconds(epoch_ms) == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert clock.ms(epoch_ms) == expected.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_uuid_from_bits_is_a_canonical_version_4_uuid(bits):
    text = uuid_from_bits(bits)
    parsed = uuid.UUID(text)
    assert str(parsed) == text and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_pools_depend_only_on_the_seed():
    a, b = pools_for(12345), pools_for(54321)
    pools_for.cache_clear()
    assert pools_for(12345) == a and a != b


def test_pool_values_look_real():
    pools = pools_for(7)
    assert all(re.fullmatch(r"tel:\+1[2-9]\d{2}[2-9]\d{6}", p) for p in pools.phones)
    assert all(n[:1].isupper() for n in pools.first_names + pools.last_names)
    # Word confidences as live transcripts show them: from ~0.3 up to 1, mostly high.
    assert all(0.3 <= c <= 1 for c in pools.confidences)
    assert 0.72 < sum(pools.confidences) / len(pools.confidences) < 0.82
    assert pools.confidences_2dp == tuple(round(c, 2) for c in pools.confidences)
    assert pools.confidences[1024:] == pools.confidences[:len(pools.confidences) - 1024]  # runs slice, never wrap
    assert len(pools.phrase(10**9, 5)) == 5


def test_speech_timing_is_on_the_recognisers_grid():
    pools = pools_for(7)
    assert len(pools.word_ms) == len(pools.word_at) == len(pools.words)
    assert all(ms % 80 == 0 and 80 <= ms <= 640 for ms in pools.word_ms)
    # Each word starts after the previous one ends, at most 240 ms of silence later.
    for i in range(len(pools.words) - 1):
        gap = pools.word_at[i + 1] - pools.word_at[i] - pools.word_ms[i]
        assert gap in (0, 80, 160, 240)
    # Longer words take longer to say.
    by_length = sorted(zip(map(len, pools.words), pools.word_ms))
    short = [ms for n, ms in by_length if n <= 3]
    long = [ms for n, ms in by_length if n >= 8]
    assert sum(long) / len(long) > 2 * sum(short) / len(short)
