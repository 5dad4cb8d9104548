"""Traffic: how much contact-centre activity to generate and of what kind.

A scenario's ``traffic:`` block maps onto ``TrafficConfig`` key for key
(``TrafficConfig.from_mapping``), so field names stay plain.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from simulator.errors import BadInput
from simulator.events.admin import DEFAULT_AUDIT_MIX, parse_audit_mix
from simulator.events.load import LoadCurve, curve_of, is_number, parse_load
from simulator.events.topics import resolve_topics

MEDIA_TYPES = ("VOICE", "CHAT", "MESSAGE", "CALLBACK", "EMAIL")
START_MS = 1767603600000  # 2026-01-05T09:00:00Z: a fixed Monday morning, so output is reproducible

_RATES = ("abandon_rate", "flow_out_rate", "transfer_rate", "self_service_rate",
          "flow_outcome_rate", "transcription_rate", "break_rate", "known_contact_rate")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _default_mix() -> dict[str, float]:
    return {"VOICE": 0.6, "CHAT": 0.15, "MESSAGE": 0.15, "CALLBACK": 0.07, "EMAIL": 0.03}


@dataclass(frozen=True)
class TrafficConfig:
    """The load and mix of generated activity; every field has a default. Rates are
    probabilities; invalid values raise BadInput naming ``traffic.<field>``."""

    duration_s: float | None = None  # scenario seconds of arrivals; None: endless
    conversations_per_minute: float = 30.0  # the rate; with a named load curve, its peak
    # The arrival rate over the scenario: a list of {at_s, conversations_per_minute}
    # points (piecewise linear, from start_ms), or the name of a day
    # (simulator.events.load.NAMED, read from start_ms's time of day). None: flat.
    load: str | tuple | None = None
    agents: int = 20
    queues: int = 4
    media_mix: Mapping[str, float] = field(default_factory=_default_mix)
    abandon_rate: float = 0.08  # per queue leg: the customer hangs up waiting
    flow_out_rate: float = 0.03  # per queue leg: an in-queue flow takes it out (voicemail)
    transfer_rate: float = 0.12  # per answered leg: the agent transfers to another queue
    self_service_rate: float = 0.1  # the conversation ends in the IVR / bot
    flow_outcome_rate: float = 0.6  # the IVR reports a flow outcome
    transcription_rate: float = 0.3  # answered voice legs that are transcribed
    break_rate: float = 0.05  # after a conversation, the agent goes off queue for a while
    known_contact_rate: float = 0.4  # the customer is a known external contact
    # Multiplies alerting, talk, hold, wrap-up and break times. None: fitted so the agents
    # are about 75% occupied (at most real-world times), so queues neither idle nor explode
    # whatever the ratio of conversations_per_minute to agents (to the peak, with a load curve).
    handle_time_scale: float | None = None
    audits_per_hour: float = 12.0  # configuration changes by administrators (presence audits aside)
    # Which changes (simulator.events.admin): entity type -> weight, spread over its usual
    # actions, or -> {action: weight}, e.g. {OAuthClient: {Delete: 1}, Queue: 2}.
    audit_mix: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_AUDIT_MIX))
    topics: tuple[str, ...] | None = None  # subscribed topics (patterns, names, globs); None: all
    start_ms: int = START_MS
    org_id: str | None = None  # None: derived from the seed
    source_suffix: str = "genesys-sim"
    account: str = "123456789012"
    region: str = "us-east-1"

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> BadInput:
            return BadInput(f"{why}, got {getattr(self, name)!r}", where=f"traffic.{name}")

        if self.duration_s is not None and not (_is_number(self.duration_s) and self.duration_s > 0):
            raise bad("duration_s", "must be a number > 0 (or null for endless)")
        cpm = self.conversations_per_minute
        if not (_is_number(cpm) and 0 < cpm <= 100_000):
            raise bad("conversations_per_minute", "must be a number in (0, 100000]")
        for name in ("agents", "queues"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000):
                raise bad(name, "must be an integer in [1, 100000]")
        for name in _RATES:
            value = getattr(self, name)
            if not (_is_number(value) and 0 <= value <= 1):
                raise bad(name, "must be a number in [0, 1]")
        scale = self.handle_time_scale
        if scale is not None and not (_is_number(scale) and 0 < scale <= 100):
            raise bad("handle_time_scale", "must be a number in (0, 100] (or null to fit the load)")
        if self.abandon_rate + self.flow_out_rate > 1:
            raise BadInput("abandon_rate + flow_out_rate must not exceed 1",
                           where="traffic.abandon_rate")
        object.__setattr__(self, "media_mix", _media_mix(self.media_mix))
        object.__setattr__(self, "load", parse_load(self.load))
        if not (_is_number(self.audits_per_hour) and 0 <= self.audits_per_hour <= 100_000):
            raise bad("audits_per_hour", "must be a number in [0, 100000]")
        object.__setattr__(self, "audit_mix", parse_audit_mix(self.audit_mix))
        if self.topics is not None:
            topics = [self.topics] if isinstance(self.topics, str) else list(self.topics)
            resolve_topics(topics, where="traffic.topics")
            object.__setattr__(self, "topics", tuple(topics))
        if not (isinstance(self.start_ms, int) and not isinstance(self.start_ms, bool)
                and 0 <= self.start_ms < 10**14):
            raise bad("start_ms", "must be epoch milliseconds (an integer)")
        if self.org_id is not None and not (isinstance(self.org_id, str) and _UUID.match(self.org_id)):
            raise bad("org_id", "must be a lower-case UUID")
        suffix = self.source_suffix
        if not (isinstance(suffix, str) and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", suffix)):
            raise bad("source_suffix", "must be 1-64 of A-Z a-z 0-9 . _ -")
        if not (isinstance(self.account, str) and re.fullmatch(r"\d{12}", self.account)):
            raise bad("account", "must be a 12-digit AWS account id")
        if not (isinstance(self.region, str) and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", self.region)):
            raise bad("region", "must be an AWS region such as us-east-1")

    @classmethod
    def from_mapping(cls, block: Mapping[str, Any], *, where: str = "traffic") -> "TrafficConfig":
        """Build from a scenario's ``traffic:`` block; unknown keys are bad input."""
        if not isinstance(block, Mapping):
            raise BadInput(f"must be a mapping, got {type(block).__name__}", where=where)
        known = {f.name for f in fields(cls)}
        for key in block:
            if key not in known:
                raise BadInput(f"unknown key {key!r} (known: {', '.join(sorted(known))})",
                               where=f"{where}.{key}")
        if "conversations_per_minute" in block and isinstance(block.get("load"), (list, tuple)):
            raise BadInput("not used when traffic.load lists its points (each point gives its rate); "
                           "drop it, or use a named curve, which it scales",
                           where=f"{where}.conversations_per_minute")
        try:
            return cls(**block)
        except BadInput as exc:
            # Re-anchor the field name under the caller's location (file:line, ...).
            field_name = (exc.where or "").removeprefix("traffic.")
            message = str(exc).removeprefix(f"{exc.where}: ") if exc.where else str(exc)
            raise BadInput(message, where=f"{where}.{field_name}" if field_name else where) from None

    def __hash__(self) -> int:  # the mixes are dicts: hash their items instead
        return hash(tuple((f.name, _frozen(getattr(self, f.name))) for f in fields(self)))

    def curve(self) -> LoadCurve:
        """The arrival rate over the scenario (``load``, or ``conversations_per_minute`` flat)."""
        return curve_of(self.load, self.conversations_per_minute, self.start_ms)

    def replace(self, **changes: Any) -> "TrafficConfig":
        return dataclasses.replace(self, **changes)


_is_number = is_number


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _media_mix(mix: Any) -> dict[str, float]:
    where = "traffic.media_mix"
    if not isinstance(mix, Mapping) or not mix:
        raise BadInput(f"must be a non-empty mapping of media type to weight, got {mix!r}", where=where)
    out: dict[str, float] = {}
    for key, weight in mix.items():
        media = key.upper() if isinstance(key, str) else key
        if media not in MEDIA_TYPES:
            raise BadInput(f"unknown media type {key!r} (known: {', '.join(MEDIA_TYPES)})",
                           where=f"{where}.{key}")
        if not (_is_number(weight) and weight >= 0):
            raise BadInput(f"weight must be a number >= 0, got {weight!r}", where=f"{where}.{key}")
        out[media] = float(weight)
    if sum(out.values()) <= 0:
        raise BadInput("weights must not all be zero", where=where)
    return out
