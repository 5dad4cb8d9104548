"""Where the keys live: the real fields are on every captured Genesys event, the
fields the guides read are on none of them."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers import fields
from test_consumers_kit import _CAPTURE_FILES, genesys_event, needs_captures

GUIDE_READERS = [fields.guide_detail_id, fields.guide_event_id, fields.guide_conversation_id]


@needs_captures
@pytest.mark.parametrize("path", _CAPTURE_FILES, ids=lambda p: p.stem)
def test_captures_have_the_real_fields_and_none_the_guides_read(path):
    event = json.loads(path.read_text())
    assert fields.envelope_id(event)
    assert fields.correlation_id(event)
    assert fields.entity_key(event)
    assert isinstance(fields.event_time_ms(event), int)
    assert fields.first_resource(event) is None  # resources is [] on every Genesys event
    assert [read(event) for read in GUIDE_READERS] == [None, None, None]


def test_readers_follow_the_event_they_are_given():
    event = genesys_event(envelope_id="e-1", correlation_id="c-1", conversation_id="conv-1",
                          event_time_ms=1765551713383)
    assert fields.envelope_id(event) == "e-1"
    assert fields.correlation_id(event) == "c-1"
    assert fields.conversation_id(event) == fields.entity_key(event) == "conv-1"
    assert fields.event_time_ms(event) == 1765551713383


def test_entity_of_an_event_without_conversation_is_its_concrete_topic():
    event = genesys_event()
    del event["detail"]["eventBody"]["conversationId"]
    assert fields.entity_key(event) == event["detail"]["topicName"]


@pytest.mark.parametrize("broken", [{}, {"detail": None}, {"detail": "x"}, {"detail": {"metadata": []}}, []])
def test_readers_answer_none_on_any_shape(broken):
    for read in [fields.correlation_id, fields.conversation_id, fields.event_time_ms, *GUIDE_READERS]:
        assert read(broken) is None


_instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=timezone.utc))


def _iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@given(_instants)
def test_event_time_is_the_same_instant_in_every_genesys_format(moment):
    epoch_ms = (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    as_number = genesys_event(event_time_ms=epoch_ms)
    as_iso = genesys_event()
    as_iso["detail"]["eventBody"]["eventTime"] = _iso_ms(moment)  # audit / transcription topics
    only_timestamp = genesys_event()
    del only_timestamp["detail"]["eventBody"]["eventTime"]
    only_timestamp["detail"]["timestamp"] = _iso_ms(moment)
    assert fields.event_time_ms(as_number) == fields.event_time_ms(as_iso) == \
        fields.event_time_ms(only_timestamp) == epoch_ms
