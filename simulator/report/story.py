"""Anomaly stories as text: the history of each counted anomaly, one step a line,
in time order (what ``genesys-sim explain`` prints)."""
from __future__ import annotations

from typing import Any, Iterable


def render_story(anomaly: dict, *, time_scale: float = 1.0) -> str:
    event = anomaly.get("event")
    if event:
        head = (f"{anomaly['kind']}: {event['topic']} {event['correlation_id']} "
                f"(seq {event['seq']}, {event['entity']})")
    else:
        head = f"{anomaly['kind']}: {anomaly['id']}"
    lines = [head]
    if anomaly.get("faults"):
        lines.append(f"  faults: {', '.join(anomaly['faults'])}")
    lines.append(f"  why: {anomaly['why']}")
    if anomaly.get("reproduce"):
        lines.append(f"  reproduce: {anomaly['reproduce']}")
    for step in anomaly["history"]:
        lines.append("    " + step_line(step, time_scale))
    return "\n".join(lines)


def step_line(step: dict, time_scale: float = 1.0) -> str:
    """``  12.345 s (scn 370 s)  receive   instance 1  message 2bf8112b  receive count 2``"""
    at = step["at"]
    when = f"{at:8.3f} s" + (f" (scn {at * time_scale:7.0f} s)" if time_scale != 1 else "")
    return f"{when}  {step['what']:<9} {describe(step)}".rstrip()


def describe(step: dict) -> str:
    what = step["what"]
    parts: list[str] = []
    if step.get("instance") is not None:
        parts.append(f"instance {step['instance']}")
    if what == "sent":
        parts += [step["kind"], _id("envelope", step.get("envelope_id")), _id("message", step.get("message_id"))]
        if step.get("planned_at") is not None:
            parts.append(f"planned {step['planned_at']:.3f} s")
        if step.get("faults"):
            parts.append(f"faults {'+'.join(step['faults'])}")
        if step.get("routed") is False:
            parts.append("not routed by the rule")
    elif what == "refused":
        parts += [step["kind"], f"{step.get('error_code')}: {step.get('error_message', '')[:80]}"]
    elif what == "receive":
        parts += [_id("message", step.get("message_id")), _id("envelope", step.get("envelope_id")),
                  f"receive count {step.get('receive_count')}"]
    elif what == "effect":
        parts.append("APPLIED" if step.get("applied") else "not applied")
        parts.append(f"HTTP {step.get('status')}")
        if step.get("idempotency_key"):
            parts.append(f"key {str(step['idempotency_key'])[:40]}")
        if step.get("upsert"):
            parts.append("upsert")
    elif what == "attempt":
        status = step.get("status")
        parts += [f"try {step.get('number')}", f"HTTP {status}" if status is not None else "no answer",
                  step.get("outcome", "")]
        if step.get("error_code"):
            parts.append(step["error_code"])
    elif what == "dlq":
        parts.append(_id("message", step.get("message_id")))
        attrs = step.get("attributes") or {}
        if attrs.get("ERROR_CODE"):
            parts.append(f"{attrs['ERROR_CODE']} after {int(attrs.get('RETRY_ATTEMPTS', 0)) + 1} attempt(s)")
    elif what == "leftover":
        parts.append({"queue": "still on the queue", "in_flight": "held in flight",
                      "retrying": "still being retried"}.get(step.get("where", ""), str(step.get("where"))))
        if step.get("receive_count") is not None:
            parts.append(f"{step['receive_count']} receive(s)" if step.get("where") != "retrying"
                         else f"{step['receive_count']} attempt(s)")
    elif step.get("code") is not None:
        parts.append(f"exit {step['code']}")
    return "  ".join(p for p in parts if p)


def _id(label: str, value: Any) -> str:
    return f"{label} {str(value)[:8]}" if value else ""


def render_stories(stories: Iterable[dict], *, time_scale: float = 1.0) -> str:
    return "\n\n".join(render_story(s, time_scale=time_scale) for s in stories)
