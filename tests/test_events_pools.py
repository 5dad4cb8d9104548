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
    assert all(0.55 <= c <= 1 for c in pools.confidences)
    assert len(pools.phrase(10**9, 5)) == 5
