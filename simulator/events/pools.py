"""Cheap realistic values: per-seed pools of Faker output, fast UUIDs and timestamps.

Faker is slow (a name costs ~0.3 ms), so it is called only here, a few hundred
times per seed; events pick from the pools with ``random.Random``. Pools depend
only on the seed (and the installed Faker version), never on what was generated
before, so the same seed always yields the same values.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

# UUID version 4 layout inside a 128-bit integer: version nibble at bits 76-79,
# variant bits (0b10) at bits 62-63.
_UUID_CLEAR = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_UUID_SET = (0x4 << 76) | (0x2 << 62)


def uuid_from_bits(bits: int) -> str:
    """A canonical version-4 UUID string from 128 random bits (no uuid.UUID object)."""
    h = ((bits & _UUID_CLEAR) | _UUID_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IsoClock:
    """Epoch milliseconds to ISO-8601 UTC strings. This runs for every timestamp of
    every event, so seconds are cached (events cluster in time) and a miss is
    arithmetic on a per-day prefix; only the date goes through datetime."""

    __slots__ = ("_days", "_seconds")

    def __init__(self) -> None:
        self._days: dict[int, str] = {}
        self._seconds: dict[int, str] = {}

    def second(self, second: int) -> str:
        """``2026-01-05T09:00:01`` for epoch second ``second``."""
        text = self._seconds.get(second)
        if text is not None:
            return text
        day, in_day = divmod(second, 86_400)
        prefix = self._days.get(day)
        if prefix is None:
            if len(self._days) > 1024:
                self._days.clear()
            prefix = datetime.fromtimestamp(day * 86_400, timezone.utc).strftime("%Y-%m-%dT")
            self._days[day] = prefix
        hours, rest = divmod(in_day, 3600)
        minutes, seconds = divmod(rest, 60)
        text = f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}"
        if len(self._seconds) > 16_384:  # bounded: an endless stream keeps flat memory
            self._seconds.clear()
        self._seconds[second] = text
        return text

    def ms(self, epoch_ms: int) -> str:
        """``2026-01-05T09:00:01.234Z``"""
        second, milli = divmod(epoch_ms, 1000)
        return f"{self.second(second)}.{milli:03d}Z"

    def seconds(self, epoch_ms: int) -> str:
        """``2026-01-05T09:00:01Z`` (truncated, as EventBridge's envelope ``time``)."""
        return self.second(epoch_ms // 1000) + "Z"


@dataclass(frozen=True, slots=True)
class Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    words: tuple[str, ...]  # shuffled lorem words; a phrase is a slice
    spoken: tuple[str, ...]  # the same as speech-to-text writes them: lower case, a number now and then
    decorated: tuple[str, ...]  # spoken, with numbers in digits (decoratedTranscript, decoratedWords)
    phones: tuple[str, ...]  # tel:+1NXXNXXXXXX
    email_domains: tuple[str, ...]
    sentences: tuple[str, ...]
    companies: tuple[str, ...]
    # Speech-recognition word confidences, 3 decimals: 1024 values, then the first 64 again,
    # so that a run of up to 64 from any of the 1024 is a plain slice.
    confidences: tuple[float, ...]
    confidences_2dp: tuple[float, ...]  # the same to 2 decimals, as decoratedWords carry them
    # Speech timing of ``words`` as the recogniser reports it (20 ms frames, 80 ms steps):
    # word i lasts word_ms[i] and starts word_at[i] ms into a run that began at word 0.
    word_ms: tuple[int, ...]
    word_at: tuple[int, ...]

    def name(self, i: int, j: int) -> str:
        return f"{self.first_names[i % len(self.first_names)]} {self.last_names[j % len(self.last_names)]}"

    def phrase(self, start: int, n: int) -> list[str]:
        words = self.words
        start %= len(words) - n
        return list(words[start:start + n])


_NANP = re.compile(r"^[2-9]\d{2}[2-9]\d{6}$")
_faker_lock = threading.Lock()


@lru_cache(maxsize=16)
def pools_for(seed: int) -> Pools:
    """The value pools of ``seed`` (memoised: pools are immutable)."""
    with _faker_lock:  # one Faker instance, re-seeded: its state must not interleave
        fake = _faker()
        fake.seed_instance(seed)
        first = tuple(fake.first_name() for _ in range(64))
        last = tuple(fake.last_name() for _ in range(64))
        words = tuple(fake.words(nb=4096))
        phones: list[str] = []
        while len(phones) < 512:
            digits = re.sub(r"\D", "", fake.basic_phone_number())[-10:]
            if _NANP.match(digits):
                phones.append(f"tel:+1{digits}")
        domains = tuple(sorted({fake.free_email_domain() for _ in range(16)}))
        sentences = tuple(fake.sentence(nb_words=6).rstrip(".") for _ in range(128))
        companies = tuple(fake.company() for _ in range(16))
        # Mostly sure, sometimes not: live captures show word confidences from ~0.3 to 1.0
        # and utterance means around 0.8.
        confidences = tuple(round(1 - 0.7 * fake.random.random() ** 2, 3) for _ in range(1024))
        confidences += confidences[:64]
        word_ms, word_at = _speech_timing(words, fake.random)
    spoken = tuple(_NUMBERS[i // 37 % len(_NUMBERS)][0] if i % 37 == 11 else w.lower() for i, w in enumerate(words))
    decorated = tuple(_DIGITS.get(w, w) for w in spoken)
    return Pools(first, last, words, spoken, decorated, tuple(phones), domains, sentences,
                 companies, confidences, tuple(round(c, 2) for c in confidences), word_ms, word_at)


# Live transcripts write numbers out ("forty", "second") and decorate them as digits
# ("40", "2nd").
_NUMBERS = (("one", "1"), ("two", "2"), ("three", "3"), ("four", "4"), ("five", "5"), ("ten", "10"),
            ("twelve", "12"), ("twenty", "20"), ("forty", "40"), ("fifty", "50"), ("hundred", "100"),
            ("first", "1st"), ("second", "2nd"), ("third", "3rd"), ("fifth", "5th"))
_DIGITS = dict(_NUMBERS)


def _speech_timing(words: tuple[str, ...], rng) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Per word: how long it is spoken (80 ms steps, longer words longer) and when it
    starts in a run of the whole list (short silences of 0-240 ms between words)."""
    durations, starts, at = [], [], 0
    for word in words:
        steps = min(8, max(1, round(len(word) * (0.6 + 0.8 * rng.random()) / 3)))
        durations.append(80 * steps)
        starts.append(at)
        x = rng.random()
        at += 80 * steps + (0 if x < 0.45 else 80 if x < 0.8 else 160 if x < 0.95 else 240)
    return tuple(durations), tuple(starts)


@lru_cache(maxsize=1)
def _faker():  # imported lazily: Faker takes ~0.3 s to import
    from faker import Faker

    return Faker("en_US")
