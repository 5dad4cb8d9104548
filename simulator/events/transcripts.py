"""The speech-to-text stream of one transcribed leg, as Genesys publishes it on
``v2.conversations.{id}.transcription``: utterance by utterance on both channels
(INTERNAL the agent, EXTERNAL the customer), each a notification of its own with
offsets, durations and confidences, some preceded by a partial result (``isFinal``
false, a prefix of the words), then one SESSION_ENDED notice.

Timings follow the live EventBridge capture in ../shared/genesys-captures
(transcription-full__Noel-Niko, and the rest of its conversation): utterances of
1 to ~15 words, 80 ms word steps on a 20 ms grid, 1-5 s between utterances with the
odd long silence, each published 1-3.5 s after it was spoken (median ~1.6 s), in
the order spoken: 11-33 notifications for a one-to-two-minute call.
"""
from __future__ import annotations

import random
from typing import Iterator

from simulator.events.pools import Pools, uuid_from_bits

MEAN_EXTRA_WORDS = 5.0  # words per utterance: 1 + exponential, so most are short
MAX_WORDS = 30
PARTIAL_RATE = 0.2  # utterances of 4+ words that get a partial result first
SAME_SPEAKER = 0.45  # the speaker goes on after an utterance (else the other one answers)
PAUSE_RATE = 0.15  # a long silence: looking something up, reading back a number


def session(rng: random.Random, pools: Pools, start: int, end: int, held: int
            ) -> Iterator[tuple[int, tuple | None]]:
    """The notifications of a session from ``start`` (the agent answers) to ``end``
    (disconnect), ``held`` ms of it on hold (silence): (time it describes, utterance),
    the utterance None for the closing SESSION_ENDED. An utterance is (utteranceId,
    channel, offsetMs, first word index, word count, confidence index, isFinal)."""
    r, expo = rng.random, rng.expovariate
    at_, ms_ = pools.word_at, pools.word_ms
    span = len(pools.words) - MAX_WORDS
    hold_from = start + int((end - held - start) * (0.2 + 0.6 * r())) if held else None
    t = start + 800 + int(r() * 3500)
    channel, other = "INTERNAL", "EXTERNAL"  # the agent greets first
    out = start  # when the latest result went out: results go out in the order they were heard
    while True:
        if hold_from is not None and t >= hold_from:
            t += held
            hold_from = None
        n = min(MAX_WORDS, 1 + int(expo(1 / MEAN_EXTRA_WORDS)))
        k = int(r() * span)
        duration = at_[k + n - 1] - at_[k] + ms_[k + n - 1]
        if t + duration + 300 >= end:
            break
        offset = (t - start) // 20 * 20
        uid = uuid_from_bits(rng.getrandbits(128))
        conf = int(r() * 1024)
        if n >= 4 and r() < PARTIAL_RATE:
            m = n // 2
            heard = at_[k + m - 1] - at_[k] + ms_[k + m - 1]
            out = max(out + 20, start + offset + heard + 250 + int(r() * 450))
            yield out, (uid, channel, offset, k, m, conf, False)
        out = max(out + 20, start + offset + duration + 800 + min(4000, int(expo(1 / 800))))
        yield out, (uid, channel, offset, k, n, conf, True)
        x = r()
        if x < PAUSE_RATE:
            gap = 5000 + r() * 11_000
        elif x < PAUSE_RATE + SAME_SPEAKER:
            gap = 900 + r() * 2100
        else:
            gap = 1500 + r() * 3000
            channel, other = other, channel
        t += duration + int(gap)
    yield max(out, end) + 300 + int(r() * 1200), None
