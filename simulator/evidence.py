"""The evidence behind every counted anomaly: for each missed, duplicated, DLQ'd,
stale, unexpected and poison-dropped item of a consumer's ``Accounts``, the logical
event, the faults the plan applied to it, its history in time order (each
delivery, receive, effect attempt, push attempt, the crashes and restarts of the
instance that held it, its DLQ entry or where it was left) and one line saying
why it counts. Read from the same accounts as the counts, so the number of
anomalies of a kind is always the count of that kind.

An anomaly is a plain JSON-ready dict::

    {"id": "duplicated:<correlation id>", "kind": "duplicated",
     "event": {"correlation_id", "topic", "entity", "seq", "state"} | None,
     "faults": ["redeliver", ...], "why": "...", "history": [step, ...],
     "reproduce": "genesys-sim run ... --consumer ..."}

and a step is ``{"at": real seconds since the run started, "what": sent | refused
| receive | effect | attempt | start | crash | exit | timeout | stop | dlq |
leftover, "instance"?: n, ...}``.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Iterable

from simulator.accounts import Accounts
from simulator.model import History

KINDS = ("missed", "duplicated", "dlq", "unexpected", "poison_dropped", "stale")
DEFAULT_LIMIT = 25  # stories per kind kept in a report; ``explain`` shows any number


def anomaly_keys(acc: Accounts, history: History) -> dict[str, list]:
    """Every anomaly of each kind, in a stable order (true order of the logical
    events, then time): the key is a logical index, a position in ``applied``
    (unexpected), a body key (poison) or an entity (stale)."""
    seq = [e.seq for e in history.logical]

    def by_seq(indexes: Iterable[int]) -> list[int]:
        return sorted(indexes, key=seq.__getitem__)

    return {
        "missed": by_seq(acc.missed),
        "duplicated": by_seq(acc.duplicated),
        "dlq": by_seq(acc.dlq),
        "unexpected": list(acc.unexpected),
        "poison_dropped": list(acc.poison_dropped),
        "stale": sorted(acc.stale or [], key=lambda entity: seq[acc.expected_state[entity]]),
    }


def anomalies(history: History, acc: Accounts, *, limit: int | None = DEFAULT_LIMIT,
              kinds: Iterable[str] = KINDS, correlation_id: str | None = None,
              reproduce: str | None = None) -> tuple[list[dict], dict[str, int]]:
    """The stories of ``acc``'s anomalies (at most ``limit`` per kind, None: all),
    and per kind how many were left out. ``correlation_id`` keeps only the
    anomalies of that logical event."""
    keys = anomaly_keys(acc, history)
    chosen: dict[str, list] = {}
    omitted: dict[str, int] = {}
    wanted = set(kinds)
    target = acc.index.get(correlation_id) if correlation_id is not None else None
    for kind in KINDS:
        if kind not in wanted:
            continue
        found = keys[kind]
        if correlation_id is not None:
            found = [k for k in found if _names(acc, history, kind, k, target, correlation_id)]
        kept = found if limit is None else found[:limit]
        chosen[kind] = kept
        if len(found) > len(kept):
            omitted[kind] = len(found) - len(kept)
    stories = _Stories(history, acc, reproduce)
    out = [stories.story(kind, key) for kind in KINDS for key in chosen.get(kind, [])]
    return out, omitted


def _names(acc: Accounts, history: History, kind: str, key: Any, target: int | None, cid: str) -> bool:
    if kind == "unexpected":
        return acc.applied[key].correlation_id == cid
    if kind == "poison_dropped":
        return False
    if kind == "stale":
        return target is not None and history.logical[target].entity == key
    return key == target


class _Stories:
    """Builds stories, indexing the consumer's records once for all of them."""

    def __init__(self, history: History, acc: Accounts, reproduce: str | None) -> None:
        self.history = history
        self.acc = acc
        self.reproduce = reproduce
        self.scale = float(history.meta.get("time_scale") or 1.0)
        me = acc.consumer
        self.steps: dict[str, list[dict]] = defaultdict(list)  # correlation id or body key -> steps
        for s in acc.sent:
            step = {"at": s.at, "what": "sent", "kind": s.kind, "envelope_id": s.envelope_id,
                    "message_id": s.message_id, "planned_at": s.planned_at, "faults": list(s.faults)}
            if not s.routed:
                step["routed"] = False
            self._add(s.correlation_id, s.body_key if s.kind == "poison" else None, step)
        for r in history.refused:
            if r.consumer == me:
                self._add(r.correlation_id, r.body_key if r.kind == "poison" else None,
                          {"at": r.at, "what": "refused", "kind": r.kind, "error_code": r.error_code,
                           "error_message": r.error_message, "faults": list(r.faults)})
        poison_ids = {s.envelope_id: key for key, s in acc.poison_sent.items() if s.envelope_id}
        for r in history.receives:
            if r.consumer == me:
                step = {"at": r.at, "what": "receive", "instance": r.instance,
                        "message_id": r.message_id, "envelope_id": r.envelope_id,
                        "receive_count": r.receive_count}
                if r.faults:
                    step["faults"] = list(r.faults)
                self._add(r.correlation_id, poison_ids.get(r.envelope_id), step)
        for e in acc.attempts:
            self._add(e.correlation_id, None,
                      {"at": e.at, "what": "effect", "instance": e.instance, "status": e.status,
                       "applied": e.applied, "idempotency_key": e.idempotency_key,
                       "envelope_id": e.envelope_id, "upsert": e.upsert})
        for a in history.attempts:
            if a.consumer == me:
                self._add(a.correlation_id, a.body_key if a.correlation_id is None else None,
                          {"at": a.at, "what": "attempt", "number": a.number, "status": a.status,
                           "outcome": a.outcome, "error_code": a.error_code,
                           "envelope_id": a.envelope_id})
        for d in history.dlq:
            if d.consumer == me:
                self._add(d.correlation_id, self._poison_key(d.body_key, d.envelope_id),
                          {"at": d.at, "what": "dlq", "envelope_id": d.envelope_id,
                           "message_id": d.message_id, "attributes": dict(d.attributes)})
        for o in history.leftovers:
            if o.consumer == me:
                self._add(o.correlation_id, self._poison_key(o.body_key, o.envelope_id),
                          {"at": o.at, "what": "leftover", "where": o.where,
                           "receive_count": o.receive_count, "envelope_id": o.envelope_id,
                           "message_id": o.message_id})
        self.pusher = _pusher(history.meta, me)
        self.lifecycle: dict[int, list[dict]] = defaultdict(list)
        for c in history.lifecycle:
            if c.consumer == me:
                self.lifecycle[c.instance].append({"at": c.at, "what": c.event, "instance": c.instance,
                                                   "code": c.code, "pid": c.pid})

    def _poison_key(self, body_key: str, envelope_id: str | None) -> str | None:
        if body_key in self.acc.poison_sent:
            return body_key
        for key, s in self.acc.poison_sent.items():
            if envelope_id and s.envelope_id == envelope_id:
                return key
        return None

    def _add(self, cid: str | None, poison_key: str | None, step: dict) -> None:
        # Well-formed poison carries a CorrelationId of its own: file it under both.
        if cid is not None:
            self.steps[cid].append(step)
        if poison_key is not None:
            self.steps["poison:" + poison_key].append(step)

    # ---- one story ----

    def story(self, kind: str, key: Any) -> dict:
        acc, logical = self.acc, self.history.logical
        event = None
        if kind == "unexpected":
            effect = acc.applied[key]
            cid = effect.correlation_id
            steps = [s for s in self.steps.get(cid, []) if cid is not None] if cid else []
            if not steps:
                steps = [{"at": effect.at, "what": "effect", "instance": effect.instance,
                          "status": effect.status, "applied": True,
                          "idempotency_key": effect.idempotency_key, "envelope_id": effect.envelope_id}]
            ident = f"unexpected:{key}"
        elif kind == "poison_dropped":
            steps = list(self.steps.get("poison:" + key, []))
            ident = f"poison_dropped:{key}"
        elif kind == "stale":
            index = acc.expected_state[key]
            event = logical[index]
            steps = list(self.steps.get(event.correlation_id, []))
            ident = f"stale:{key}"
        else:
            event = logical[key]
            steps = list(self.steps.get(event.correlation_id, []))
            ident = f"{kind}:{event.correlation_id}"
        steps = self._with_lifecycle(steps)
        faults = sorted({f for s in steps for f in s.get("faults", ())})
        story = {
            "id": ident, "kind": kind,
            "event": None if event is None else {
                "correlation_id": event.correlation_id, "topic": event.topic, "entity": event.entity,
                "seq": event.seq, "state": event.state},
            "faults": faults,
            "why": _WHY[kind](self, key, steps),
            "history": steps,
            "reproduce": self.reproduce,
        }
        return story

    def _with_lifecycle(self, steps: list[dict]) -> list[dict]:
        """The steps in time order, with the starts, crashes, exits and stops of
        each instance that held the item, while it held it."""
        instances = {s["instance"] for s in steps if s.get("instance") is not None
                     and s["what"] in ("receive", "effect")}
        held = [s["at"] for s in steps if s["what"] in ("receive", "effect")]
        extra: list[dict] = []
        if held:
            start, end = min(held), max(s["at"] for s in steps)
            for inst in instances:
                extra += [c for c in self.lifecycle.get(inst, []) if start <= c["at"] <= end]
        order = {"sent": 0, "refused": 0, "attempt": 1, "receive": 2, "effect": 3}
        return sorted(steps + extra, key=lambda s: (s["at"], order.get(s["what"], 4)))

    def seconds(self, real_s: float) -> str:
        """A real span as scenario time, the time the scenario's windows are in."""
        scenario_s = real_s * self.scale
        value = f"{scenario_s:.0f}" if scenario_s >= 10 else f"{scenario_s:.1f}"
        return f"{value} s" if self.scale == 1 else f"{value} scenario-s"


# ---- why each counts ----

def _why_duplicated(st: _Stories, key: int, steps: list[dict]) -> str:
    applied = [s for s in steps if s["what"] == "effect" and s["applied"]]
    receives = [s for s in steps if s["what"] == "receive"]
    first, again = applied[0], applied[1]
    causes = []
    for effect in applied[1:]:
        before = [r for r in receives if r["at"] <= effect["at"] and r["instance"] == effect["instance"]]
        earlier = [r for r in receives if r["at"] <= first["at"] and r["instance"] == first["instance"]]
        r1 = earlier[-1] if earlier else None
        # the receive the second effect came from: the instance's latest, unless that
        # is the first effect's (two messages can arrive in one batch)
        others = [r for r in before if r is not r1]
        r2 = others[-1] if others else (before[-1] if before else None)
        causes.append(_second_copy(st, steps, r1, r2, first, effect))
    gap = st.seconds(again["at"] - first["at"])
    n = len(applied)
    head = f"{_count(n)} applied effects"
    return f"{head}: {causes[0]}; applied again {gap} after the first" + (
        f" (then {n - 2} more)" if n > 2 else "")


def _second_copy(st: _Stories, steps: list[dict], r1: dict | None, r2: dict | None,
                 first: dict, effect: dict) -> str:
    where = f"by instance {effect['instance']}" if effect.get("instance") is not None else ""
    if r1 is None or r2 is None or r2.get("message_id") is None:  # pushed: no SQS message
        return _second_push(st, steps, where)
    if r2 is r1:
        return (f"the consumer itself repeated the effect of a single receive of the message "
                f"{where}").strip()
    if r1.get("envelope_id") != r2.get("envelope_id"):
        sent = next((s for s in steps if s["what"] == "sent" and s.get("envelope_id") == r2.get("envelope_id")),
                    None)
        if sent is not None and sent.get("kind") == "replay":
            return (f"an archive replay re-sent the event (new envelope id {_short(r2.get('envelope_id'))}, "
                    f"same CorrelationId, a replay-name field) and it was received {where}").strip()
        return (f"a re-publish of the event (new envelope id {_short(r2.get('envelope_id'))}, same "
                f"CorrelationId) was received {where}").strip()
    if r1.get("message_id") != r2.get("message_id") and r2.get("message_id"):
        sent = next((s for s in steps if s["what"] == "sent" and s.get("message_id") == r2["message_id"]), None)
        later = ""
        if sent is not None:
            originals = [s for s in steps if s["what"] == "sent"]
            if originals and sent is not originals[0]:
                later = f", sent {st.seconds(sent['at'] - originals[0]['at'])} after the first"
        return (f"a second message for the same event (EventBridge delivered it twice: a new SQS "
                f"MessageId, the same envelope id{later}) was received {where}").strip()
    copied = next((r for r in steps if r["what"] == "receive" and r.get("message_id") == r2["message_id"]
                   and "sqs_duplicate" in r.get("faults", ())), None)
    if copied is not None:  # SQS handed the message over again (either receive may be applied first)
        holder = copied["instance"]
        again = r1 if r2 is copied else r2
        done = [e for e in steps if e["what"] == "effect" and e.get("instance") == holder
                and e["at"] >= copied["at"]]
        count = again.get("receive_count")
        by = f"by instance {again['instance']}" if again.get("instance") is not None else ""
        if again is not copied and (not done or again["at"] <= done[0]["at"]):
            return (f"the same SQS message (same MessageId) received again while instance {holder} was "
                    f"still processing it (SQS's at-least-once copy, receive count {count}), {by}").strip(", ")
        return (f"the same SQS message (same MessageId) received again after instance {holder} had "
                f"processed it: its delete did not remove it (SQS's at-least-once copy, receive count "
                f"{count}), {by}").strip(", ")
    crash = next((s for s in steps if s["what"] == "crash" and first["at"] <= s["at"] <= effect["at"]), None)
    timeout = next((s for s in steps if s["what"] == "timeout" and first["at"] <= s["at"] <= effect["at"]), None)
    count = r2.get("receive_count")
    if crash is not None:
        return (f"the same SQS message came back (receive count {count}) after instance "
                f"{crash['instance']} crashed between the effect and the delete; received again {where}").strip()
    if timeout is not None:
        return (f"the same SQS message came back (receive count {count}) after instance "
                f"{timeout['instance']} ran past its function timeout; received again {where}").strip()
    return (f"the same SQS message came back (receive count {count}): it was not deleted before its "
            f"visibility timeout ran out; received again {where}").strip()


def _second_push(st: _Stories, steps: list[dict], where: str) -> str:
    """Why a pushed event (Lambda, HTTP target) was applied twice."""
    attempts = [s for s in steps if s["what"] == "attempt"]
    if any(a["outcome"] == "duplicate" for a in attempts):
        return (f"Lambda invoked the function twice for the one event (same envelope id: its "
                f"asynchronous queue handed it over again) {where}").strip()
    retried = [a for a in attempts if a["outcome"] == "retry"]
    if retried:
        status = retried[0]["status"]
        answer = f"HTTP {status}" if status is not None else "no answer in time"
        return (f"the target applied the effect but answered {answer}, so {st.pusher} retried "
                f"the same event {where}").strip()
    sent = [s for s in steps if s["what"] == "sent"]
    if len(sent) > 1:
        return f"EventBridge delivered the event twice (same envelope id) {where}".strip()
    return f"the same event was delivered again {where}".strip()


def _why_missed(st: _Stories, key: int, steps: list[dict]) -> str:
    left = [s for s in steps if s["what"] == "leftover"]
    if left:
        where = left[-1]["where"]
        if where == "retrying":
            return (f"never applied: {st.pusher} was still retrying it when the run's time was up "
                    f"({left[-1].get('receive_count') or 0} attempts made)")
        if where == "in_flight":
            return "never applied: a consumer held it in flight (received, not deleted) when the run ended"
        return f"never applied: still on the queue when the run ended, after {_receives(steps)}"
    return "never applied: " + _fate(steps, st.pusher)


def _fate(steps: list[dict], pusher: str = "EventBridge") -> str:
    attempts = [s for s in steps if s["what"] == "attempt" and s["outcome"] != "duplicate"]
    if attempts and attempts[-1]["outcome"] == "failed":
        error = attempts[-1].get("error_code")
        return (f"{pusher} gave up after {len(attempts)} attempts" + (f" (last error {error})" if error else "")
                + (" and dropped it: the function has no DLQ or on-failure destination" if pusher == "Lambda"
                   else " and dropped it: the target has no DLQ"))
    effects = [s for s in steps if s["what"] == "effect"]
    deliveries = sum(1 for s in steps if s["what"] == "sent")
    receives = [s for s in steps if s["what"] == "receive"]
    keyed = [e for e in effects if e["status"] < 300 and not e["applied"]]
    if keyed:
        return (f"its effect carried idempotency key {keyed[0]['idempotency_key']!r}, already applied "
                "for another event: two events share one key")
    if effects:
        statuses = Counter(str(e["status"]) for e in effects)
        listed = ", ".join(f"HTTP {s}" + (f" x{n}" if n > 1 else "") for s, n in statuses.items())
        return (f"every effect attempt failed downstream ({listed}) and the message was not tried "
                f"again after {_receives(steps)}")
    if not receives:
        attempts = [s for s in steps if s["what"] == "attempt"]
        if attempts:
            return f"pushed {len(attempts)} time(s), never handled by the consumer"
        return f"delivered {deliveries} time(s), never received by the consumer"
    instances = sorted({r["instance"] for r in receives})
    return (f"received {_times(steps)} by instance{'s' if len(instances) > 1 else ''} "
            f"{', '.join(map(str, instances))}, then gone without an effect attempt "
            "(the consumer skipped or dropped it)")


def _why_dlq(st: _Stories, key: int, steps: list[dict]) -> str:
    entry = next((s for s in steps if s["what"] == "dlq"), {})
    attrs = entry.get("attributes") or {}
    attempts = sum(1 for s in steps if s["what"] == "attempt" and s["outcome"] != "duplicate")
    if attrs.get("RequestID"):
        return (f"parked in the function's DLQ by Lambda after {attempts} attempt(s) "
                f"({attrs.get('ErrorMessage', '')[:80]}), never applied")
    if attempts and not attrs:
        return (f"sent to the function's on-failure destination by Lambda after {attempts} attempt(s), "
                "never applied")
    if attrs.get("ERROR_CODE"):
        return (f"parked in the target's DLQ by EventBridge after {int(attrs.get('RETRY_ATTEMPTS', 0)) + 1} "
                f"attempt(s) ({attrs['ERROR_CODE']}: {attrs.get('ERROR_MESSAGE', '')[:80]}), never applied")
    effects = [s for s in steps if s["what"] == "effect"]
    if effects:
        statuses = ", ".join(sorted({str(e["status"]) for e in effects}))
        return (f"parked in the DLQ after {_receives(steps)}: its effect attempts failed "
                f"downstream (HTTP {statuses}), never applied")
    return f"parked in the DLQ after {_receives(steps)} without an effect: the consumer failed it every time"


def _why_unexpected(st: _Stories, key: int, steps: list[dict]) -> str:
    cid = st.acc.applied[key].correlation_id
    if cid is None:
        return "an applied effect names no event (it carried no CorrelationId the sink could read)"
    envelopes = {s.get("envelope_id") for s in steps if s["what"] == "receive"}
    poison = next((s for s in st.acc.poison_sent.values() if s.envelope_id in envelopes), None)
    if poison is not None:
        return (f"an applied effect for a poison message ({poison.poison}): no Genesys event, "
                "processed as if it were one")
    return f"an applied effect names correlation id {cid!r}, which no logical event of the run has"


def _why_poison(st: _Stories, key: str, steps: list[dict]) -> str:
    sent = st.acc.poison_sent[key]
    if not any(s["what"] == "receive" for s in steps) and not any(s["what"] == "attempt" for s in steps):
        return f"poison ({sent.poison}) reached the consumer and vanished: not in the DLQ, not on the queue"
    return (f"poison ({sent.poison}) received {_times(steps)}, then deleted silently: neither in "
            "the DLQ nor left on the queue")


def _why_stale(st: _Stories, entity: str, steps: list[dict]) -> str:
    acc, logical = st.acc, st.history.logical
    want = logical[acc.expected_state[entity]]
    got = acc.probed_state.get(entity)
    if got is None:
        return f"never written: no applied upsert for {entity}, whose last event (seq {want.seq}) implies {want.state!r}"
    have = logical[got]
    return (f"final state {have.state!r} (from seq {have.seq}) but the last event of {entity} "
            f"(seq {want.seq}) implies {want.state!r}")


def _pusher(meta: dict, consumer: str) -> str:
    """Who retries a pushed event for this consumer: Lambda for a lambda-eb
    function (EventBridge invokes it asynchronously), else EventBridge."""
    from simulator.clients.spec import parse_spec
    from simulator.errors import BadInput

    spec = next((c.get("spec") for c in meta.get("consumers") or () if c.get("name") == consumer), None)
    try:
        kind = parse_spec(spec, check=False).kind if spec else None
    except BadInput:
        kind = None
    return "Lambda" if kind == "lambda-eb" else "EventBridge"


_WHY = {"missed": _why_missed, "duplicated": _why_duplicated, "dlq": _why_dlq,
        "unexpected": _why_unexpected, "poison_dropped": _why_poison, "stale": _why_stale}


def _receives(steps: list[dict]) -> str:
    n = sum(1 for s in steps if s["what"] == "receive")
    return "no receive" if n == 0 else f"{n} receive{'s' if n > 1 else ''}"


def _times(steps: list[dict]) -> str:
    n = sum(1 for s in steps if s["what"] == "receive")
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _count(n: int) -> str:
    return {2: "two", 3: "three", 4: "four"}.get(n, str(n))


def _short(value: Any) -> str:
    return str(value)[:8] if value else "?"
