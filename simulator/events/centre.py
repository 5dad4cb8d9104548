"""The contact-centre model: customers arrive, pass an IVR, wait in queues, talk to
agents, are transferred, abandon; agents alert, interact, wrap up and take breaks.

The model advances through *actions* in time order: an arrival plans the customer's
start and IVR; a queue leg is planned when the customer reaches the queue. A plan is
a *script* of (time, topic, builder, args) entries, handed to a ``Timeline`` that
gives out notifications in the order Genesys would publish them. An action at time T
plans nothing before T, so every notification due before the next action is final:
generation is lazy, endless if asked, and memory stays flat.
"""
from __future__ import annotations

import heapq
import math
import random
from operator import itemgetter
from typing import Callable, Iterator

from simulator.events import topics as T
from simulator.events import transcripts
from simulator.events.admin import AdminActivity
from simulator.events.bodies import Bodies
from simulator.events.cast import (AUDIT_PRESENCE, MEDIA, MESSAGE_TYPES, OFF_QUEUE_PRESENCES, Agent,
                                   Conversation, Lane, Leg, MediaProfile, Org, new_id, weighted_choice)
from simulator.events.config import MEDIA_TYPES, TrafficConfig
from simulator.events.pools import IsoClock, pools_for
from simulator.events.topics import Topic

# A script entry: (at_ms, topic, lane or None, entity (when no lane), topic ids, state, build, args)
Entry = tuple
# A published notification:
# (emit_ms, n, topic, topicName, eventBody, entity, state, envelope id bits, correlation id bits)
Notice = tuple

_BY_TIME = itemgetter(0)
HOLD_RATE = 0.15  # answered voice legs put on hold once
BREAK_MS = (120_000, 900_000)
TALK_SIGMA = 0.6  # talk time is log-normal around the media's median
MAX_LEGS = 3  # queue legs per conversation (transfers beyond are not modelled)
OCCUPANCY = 0.75  # what the fitted handle time aims at: a comfortably staffed centre
EXTERNAL_ORG_RATE = 0.35  # known contacts that belong to an external organisation (B2B)


def handle_time_scale(traffic: TrafficConfig) -> float:
    """``traffic.handle_time_scale``, or the factor on real-world handle times that
    keeps the agents about OCCUPANCY busy under this load (never above 1).

    With a load curve the fit is to its peak: the staff is one fixed team all day, so
    the busiest moment is what it must carry. Fitted to the mean, a peak above the
    mean would put more than 100% of the agents' time in demand through the morning
    and the queues would grow without bound; fitted to the peak, the agents are about
    OCCUPANCY busy at the peak and idler in the quiet hours, as a real centre is."""
    if traffic.handle_time_scale is not None:
        return float(traffic.handle_time_scale)
    mix = {m: w for m, w in traffic.media_mix.items() if w > 0}
    total = sum(mix.values())
    busy_s = 0.0  # expected agent time per answered leg, at scale 1
    for media, weight in mix.items():
        p = MEDIA[media]
        busy_s += weight / total * (sum(p.alerting_s) / 2 + p.talk_median_s * math.exp(TALK_SIGMA ** 2 / 2)
                                    + (HOLD_RATE * 50 if media == "VOICE" else 0) + sum(p.wrapup_s) / 2)
    busy_s += traffic.break_rate * sum(BREAK_MS) / 2000
    callback = mix.get("CALLBACK", 0) / total
    reach = callback + (1 - callback) * (1 - traffic.self_service_rate)
    answered = 1 - traffic.abandon_rate - traffic.flow_out_rate
    onward = answered * traffic.transfer_rate
    legs_per_s = traffic.curve().peak_per_minute / 60 * reach * answered * (1 + onward + onward ** 2)
    if legs_per_s <= 0:
        return 1.0
    return min(1.0, OCCUPANCY * traffic.agents / (legs_per_s * busy_s))


class Timeline:
    """Notifications waiting to be published, by publication time."""

    def __init__(self, rng: random.Random, subscribed: frozenset[str]) -> None:
        self._rng = rng
        self._heap: list[Notice] = []
        self._n = 0
        # Per topic pattern: (delay floor, delay span, subscribed, topicName before/after the id).
        self._plans = {t.pattern: (t.delay_ms[0], t.delay_ms[1] - t.delay_ms[0], t.pattern in subscribed,
                                   *t.pattern.split("{id}", 1)) for t in T.TOPICS}

    def publish(self, script: list[Entry], rng: random.Random | None = None) -> None:
        """Queue one plan's notifications. Randomness is drawn for every entry, even
        unsubscribed ones, so the subscription never changes the other events; from
        ``rng`` when given (a part of the model with a stream of its own)."""
        rng = rng or self._rng
        rand = rng.random
        bits = rng.getrandbits
        plans = self._plans
        heap = self._heap
        n = self._n
        script.sort(key=_BY_TIME)
        for at, topic, lane, entity, ids, state, build, args in script:
            lo, span, wanted, before, after = plans[topic.pattern]
            emit = at + lo + int(rand() * span)
            if lane is not None:
                # An entity's notifications go out in the order they happened.
                if emit <= lane.last:
                    emit = lane.last + 1
                lane.last = emit
                entity = lane.entity
            id_bits = bits(128)
            corr_bits = bits(128)
            n += 1
            if wanted:
                if type(ids) is str:
                    name = before + ids + after
                else:  # v2.audits.entitytype.{id}.entityid.{id}
                    name = before + ids[0] + after.replace("{id}", ids[1], 1)
                heapq.heappush(heap, (emit, n, topic, name, build(*args), entity, state, id_bits, corr_bits))
        self._n = n

    def due(self, before_ms: float) -> list[Notice]:
        """The notifications published before ``before_ms``, in order (a batch: handing
        them out one generator step at a time costs more than making them)."""
        heap, pop = self._heap, heapq.heappop
        batch = []
        while heap and heap[0][0] < before_ms:
            batch.append(pop(heap))
        return batch

    def drain(self) -> list[Notice]:
        return self.due(math.inf)


class ContactCentre:
    def __init__(self, seed: int, traffic: TrafficConfig, subscribed: frozenset[str]) -> None:
        self.traffic = traffic
        self.rng = rng = random.Random(seed)
        self.pools = pools = pools_for(seed)
        self.org = Org.create(rng, pools, org_id=traffic.org_id, queues=traffic.queues,
                              agents=traffic.agents, more=random.Random(f"{seed}/org"))
        # Speech has a stream of its own: how much is said in a call changes no call.
        self.speech_rng = random.Random(f"{seed}/speech")
        self.iso = IsoClock()
        self.bodies = Bodies(self.org, pools, self.iso)
        self.timeline = Timeline(rng, subscribed)
        total = sum(traffic.media_mix.values())
        acc = 0.0
        self._media: list[tuple[float, MediaProfile]] = []
        for media in MEDIA_TYPES:
            weight = traffic.media_mix.get(media, 0.0)
            if weight > 0:
                acc += weight / total
                self._media.append((acc, MEDIA[media]))
        self._scale = handle_time_scale(traffic)
        # Administrators' changes draw from a stream of their own: the audit mix and rate
        # leave every other topic as it is.
        self.admin = (AdminActivity(random.Random(f"{seed}/admin"), pools, self.org, self.iso,
                                    traffic.audit_mix, self.bodies.admin_audit)
                      if traffic.audits_per_hour > 0 else None)
        self._actions: list[tuple] = []  # (at_ms, n, method, args): model steps still to take
        self._n_actions = 0
        # Agents by the time they can next be alerted: the longest idle goes first.
        self._free = [(traffic.start_ms, a.index) for a in self.org.agents]
        heapq.heapify(self._free)

    def run(self) -> Iterator[list[Notice]]:
        """Every notification, in publication order, in batches.

        The model moves through *actions* in time order: an arrival plans the
        customer's start and IVR; a queue leg is planned when the customer reaches
        the queue (so agents are claimed first come, first served, never reserved
        ahead). An action at time T only plans notifications at or after T, so all
        notifications before T are final and can be handed out."""
        traffic, timeline, actions = self.traffic, self.timeline, self._actions
        self._end = end = None if traffic.duration_s is None else traffic.start_ms + traffic.duration_s * 1000
        arrivals = traffic.curve().arrivals(self.rng, traffic.start_ms, end)
        if self.admin is not None:
            self._admin_next(traffic.start_ms)
        arrival = next(arrivals, None)
        while True:
            if actions and (arrival is None or actions[0][0] <= arrival):
                at, _, action, args = heapq.heappop(actions)
                yield timeline.due(at)
                action(at, *args)
            elif arrival is not None:
                yield timeline.due(arrival)
                self._arrive(int(arrival))
                arrival = next(arrivals, None)
            else:
                break
        yield timeline.drain()

    def _admin_next(self, after: float) -> None:
        at = after + self.admin.rng.expovariate(self.traffic.audits_per_hour / 3_600_000)
        if self._end is None or at < self._end:
            self._later(int(at), self._admin_change)

    def _admin_change(self, at: int) -> None:
        script, later = self.admin.plan(at)
        self.timeline.publish(script, self.admin.rng)
        for when, step in later:
            if self._end is not None:  # done by the end of the traffic: arrivals stop, so does admin work
                when = min(when, max(at + 1000, int(self._end)))
            self._later(when, self._admin_step, step)
        self._admin_next(at)

    def _admin_step(self, at: int, step: Callable[[int], list[Entry]]) -> None:
        self.timeline.publish(step(at), self.admin.rng)

    def _later(self, at: int, action: Callable, *args) -> None:
        self._n_actions += 1
        heapq.heappush(self._actions, (at, self._n_actions, action, args))

    @staticmethod
    def _detail(script: list[Entry], conv: Conversation, at: int, topic: Topic, build: Callable,
                *args) -> None:
        """A v2.detail.events.conversation.{id}.* notification of ``conv``."""
        script.append((at, topic, conv.lane, None, conv.id, topic.name, build, (conv, at, *args)))

    # ---- one conversation ----

    def _arrive(self, t0: int) -> None:
        rng, traffic, b = self.rng, self.traffic, self.bodies
        r = rng.random
        x = r()
        profile = next((p for acc, p in self._media if x < acc), self._media[-1][1])
        cid = new_id(rng)
        ext = new_id(rng) if r() < traffic.known_contact_rate else None
        ext_org = self._external_org(ext) if ext else None
        customer_name = self.pools.name(int(r() * 4096), int(r() * 4096))
        base, address, callback_numbers = self._media_fields(profile, customer_name, t0)
        conv = Conversation(cid, profile, t0, base, new_id(rng), new_id(rng), new_id(rng),
                            customer_name, address, ext, ext_org, callback_numbers, Lane(cid),
                            Lane(f"conversation:{cid}:transcription"))
        script: list[Entry] = []
        self._detail(script, conv, t0, T.CUSTOMER_START, b.customer_start)
        queued: int | None = t0 + 50 + int(r() * 400)
        if profile.flow_type:
            queued = self._ivr(conv, queued, script)
        self.timeline.publish(script)
        if queued is not None:
            self._later(queued, self._queue_leg, conv, 0, int(r() * len(self.org.queues)))

    def _external_org(self, contact_id: str) -> str | None:
        """The external organisation a known contact works for, if any: a property of
        the contact, so read from its id (no draw)."""
        x = int(contact_id[:8], 16)
        orgs = self.org.external_orgs
        return orgs[(x >> 8) % len(orgs)] if (x & 0xFF) < EXTERNAL_ORG_RATE * 256 else None

    def _media_fields(self, profile: MediaProfile, customer_name: str,
                      t0: int) -> tuple[dict, str | None, tuple[str, ...]]:
        r = self.rng.random
        pools, org = self.pools, self.org
        base: dict = {"mediaType": profile.media, "provider": profile.provider, "direction": "INBOUND"}
        phone = pools.phones[int(r() * len(pools.phones))]
        if profile.media == "VOICE":
            base["ani"] = phone
            base["dnis"] = org.dids[int(r() * len(org.dids))]
            return base, phone, ()
        if profile.media == "CALLBACK":
            base["callbackUserName"] = customer_name
            if r() < 0.3:  # a scheduled callback is routed when its time comes: now
                base["callbackScheduledTime"] = t0
            return base, phone, (phone,)
        if profile.media == "MESSAGE":
            base["messageType"] = weighted_choice(MESSAGE_TYPES, r())
            return base, None, ()
        if profile.media == "EMAIL":
            first, last = customer_name.lower().split(" ", 1)
            domain = pools.email_domains[int(r() * len(pools.email_domains))]
            address = f"{first}.{last.replace(' ', '')}@{domain}"
            base["addressTo"] = org.support_email
            base["addressFrom"] = address
            base["subject"] = pools.sentences[int(r() * len(pools.sentences))]
            return base, address, ()
        return base, None, ()  # CHAT: the web widget has no address

    def _ivr(self, conv: Conversation, start: int, script: list[Entry]) -> int | None:
        """The inbound flow: when it hands the conversation to a queue, or None when
        the conversation ends in it."""
        rng, traffic, b = self.rng, self.traffic, self.bodies
        r = rng.random
        flow_type = conv.profile.flow_type
        pid, sid = new_id(rng), new_id(rng)
        duration = 6000 + int(r() * 80_000)
        end = start + duration
        self._detail(script, conv, start, T.FLOW_START, b.flow_start, pid, sid, flow_type)
        if r() < traffic.flow_outcome_rate:
            begin = start + int(r() * duration * 0.2)
            finish = begin + int((end - begin) * (0.3 + 0.6 * r()))
            count = 1 + int(r() * 4)
            milestones = tuple((int(r() * len(self.org.milestone_ids)), begin + (finish - begin) * k // count)
                               for k in range(1, count + 1))
            self._detail(script, conv, finish + 20 + int(r() * 200), T.FLOW_OUTCOME, b.flow_outcome, pid,
                         sid, flow_type, int(r() * len(self.org.outcome_ids)), begin, finish, r() < 0.85,
                         milestones)
        words = self.pools.words
        attributes = {"ivr.intent": words[int(r() * len(words))],
                      "ivr.language": "en-US",
                      "customer.accountNumber": str(10_000_000 + int(r() * 89_999_999)),
                      "ivr.authenticated": "true" if r() < 0.6 else "false"}
        at = end - 5 - int(r() * 300)
        script.append((at, T.ATTRIBUTES, conv.lane, None, conv.id, T.ATTRIBUTES.name, b.attributes,
                       (conv, at, attributes)))
        if r() < traffic.self_service_rate:
            if r() < 0.7:  # the customer hangs up in the IVR
                flow_disconnect, exit_reason, customer_disconnect = "PEER", "DISCONNECT", "ENDPOINT"
            else:  # the flow disconnects (self-service done)
                flow_disconnect, exit_reason, customer_disconnect = "ENDPOINT", "FLOW_DISCONNECT", "SYSTEM"
            self._detail(script, conv, end, T.FLOW_END, b.flow_end, pid, sid, flow_type, start,
                         flow_disconnect, exit_reason, None)
            self._detail(script, conv, end + 2 + int(r() * 40), T.CUSTOMER_END, b.customer_end,
                         customer_disconnect)
            return None
        self._detail(script, conv, end, T.FLOW_END, b.flow_end, pid, sid, flow_type, start, "TRANSFER",
                     "TRANSFER", "ACD")
        return end + 10 + int(r() * 60)

    def _queue_leg(self, t: int, conv: Conversation, leg_number: int, queue_index: int,
                   carried: tuple[Entry, ...] = ()) -> None:
        """One pass through a queue, from acd.start at ``t``: abandoned, taken out by
        a flow, or answered (and then ended or transferred to another queue).
        ``carried``: the previous leg's notifications that happen after ``t`` (its
        agent's wrap-up), published with this leg so the conversation's events go
        out in the order they happen."""
        rng, traffic, b, org = self.rng, self.traffic, self.bodies, self.org
        r = rng.random
        profile = conv.profile
        scale = self._scale
        script: list[Entry] = list(carried)
        queue = org.queues[queue_index]
        leg = Leg(queue, new_id(rng), new_id(rng), new_id(rng), t)

        def detail(at: int, topic: Topic, build: Callable, *args) -> None:
            self._detail(script, conv, at, topic, build, leg, *args)

        def snapshot(at: int, phase: str, *states: str | None) -> None:
            script.append((at, T.QUEUE_CONVERSATIONS, None, f"queue:{queue.id}", queue.id,
                           f"{phase}:{conv.id}", b.queue_snapshot, (conv, at, leg, *states)))

        detail(t, T.ACD_START, b.acd_start)
        snapshot(t + 15, "queued", "connected", "connected", None)
        x = r()
        if x < traffic.abandon_rate:
            gone = t + 3000 + int(rng.expovariate(1 / 60_000))
            detail(gone, T.ACD_END, b.acd_end, "ABANDON", "PEER")
            self._detail(script, conv, gone + 2 + int(r() * 40), T.CUSTOMER_END, b.customer_end, "ENDPOINT")
            snapshot(gone + 15, "abandoned", "disconnected", "disconnected", None, "endpoint", "peer")
            self.timeline.publish(script)
            return
        if x < traffic.abandon_rate + traffic.flow_out_rate:
            out = t + 20_000 + int(r() * 160_000)
            detail(out, T.ACD_END, b.acd_end, "FLOW_OUT", "TRANSFER")
            snapshot(out + 15, "flow_out", "connected", "disconnected", None, None, "transfer")
            # Out of the queue into voicemail; the customer leaves a message and hangs up.
            self._detail(script, conv, out + 15_000 + int(r() * 60_000), T.CUSTOMER_END, b.customer_end,
                         "ENDPOINT")
            self.timeline.publish(script)
            return
        leg.agent = agent = self._alert_agent(t + 800 + int(r() * 4000), leg)
        leg.agent_pid, leg.agent_sid, leg.agent_comm = new_id(rng), new_id(rng), new_id(rng)
        lo, hi = profile.alerting_s
        leg.answer_ms = leg.alert_ms + int(scale * 1000 * (lo + r() * (hi - lo)))
        self._routing(script, leg.alert_ms, agent, "INTERACTING")
        detail(leg.alert_ms, T.USER_START, b.user_start)
        snapshot(leg.alert_ms + 15, "alerting", "connected", "connected", "alerting")
        detail(leg.answer_ms, T.ACD_END, b.acd_end, "ANSWERED", "TRANSFER")
        snapshot(leg.answer_ms + 15, "connected", "connected", "disconnected", "connected", None, "transfer")
        talk = int(scale * 1000 * min(profile.talk_median_s * rng.lognormvariate(0, TALK_SIGMA), 7200))
        held = int(scale * (10_000 + r() * 80_000)) if profile.media == "VOICE" and r() < HOLD_RATE else 0
        ended = leg.answer_ms + talk + held
        if profile.media == "VOICE" and r() < traffic.transcription_rate:
            self._transcript(conv, leg, leg.answer_ms, ended, held)
        transfer = leg_number < MAX_LEGS - 1 and r() < traffic.transfer_rate
        if transfer:
            user_disconnect, customer_disconnect = "TRANSFER", None
        elif r() < 0.6:  # the customer hangs up
            user_disconnect, customer_disconnect = "PEER", "ENDPOINT"
        else:  # the agent ends it
            user_disconnect, customer_disconnect = "CLIENT", "PEER"
        detail(ended, T.USER_END, b.user_end, user_disconnect, talk, held)
        lo, hi = profile.wrapup_s
        wrapup = int(scale * 1000 * (lo + r() * (hi - lo)))
        notes = (int(r() * 4096), 3 + int(r() * 8)) if r() < 0.3 else None
        detail(ended + wrapup, T.ACW, b.acw, int(r() * len(org.wrapup_codes)), notes, wrapup)
        self._release(script, agent, ended + wrapup)
        if transfer:
            snapshot(ended + 15, "transferred", "connected", "disconnected", "disconnected",
                     None, "transfer", "transfer")
            others = len(org.queues) - 1
            next_queue = (queue_index + 1 + int(r() * others)) % len(org.queues) if others else queue_index
            next_leg = ended + 300 + int(r() * 2000)
            # The agent may still be wrapping up when the customer reaches the next queue.
            carried = tuple(e for e in script if e[2] is conv.lane and e[0] >= next_leg)
            self.timeline.publish([e for e in script if not (e[2] is conv.lane and e[0] >= next_leg)])
            self._later(next_leg, self._queue_leg, conv, leg_number + 1, next_queue, carried)
            return
        self._detail(script, conv, ended + 1 + int(r() * 30), T.CUSTOMER_END, b.customer_end,
                     customer_disconnect)
        snapshot(ended + 15, "ended", "disconnected", "disconnected", "disconnected",
                 customer_disconnect.lower(), "transfer", user_disconnect.lower())
        self.timeline.publish(script)

    def _transcript(self, conv: Conversation, leg: Leg, start: int, end: int, held: int) -> None:
        """The leg's speech-to-text stream (simulator.events.transcripts), drawn and
        published from the speech stream."""
        rng, lane, cid, build = self.speech_rng, conv.transcript_lane, conv.id, self.bodies.transcription
        opened = start - 20 - int(rng.random() * 35)  # transcription starts just before the session
        ended = end - start
        self.timeline.publish([
            (at, T.TRANSCRIPTION, lane, None, cid, "SESSION_ONGOING" if utterance else "SESSION_ENDED", build,
             (conv, at, leg, start, opened, utterance, ended))
            for at, utterance in transcripts.session(rng, self.pools, start, end, held)], rng)

    # ---- agents ----

    def _alert_agent(self, ready: int, leg: Leg) -> Agent:
        """The longest-idle agent; alerted when ready, or as soon as one frees up."""
        free_at, index = heapq.heappop(self._free)
        gap = int(self._scale * (300 + self.rng.random() * 1500))  # routing finds the freed agent
        leg.alert_ms = ready if free_at <= ready else free_at + gap
        return self.org.agents[index]

    def _release(self, script: list[Entry], agent: Agent, done: int) -> None:
        """Wrap-up finished: back to IDLE, or off queue for a break first."""
        rng = self.rng
        r = rng.random
        back = done
        if r() < self.traffic.break_rate:
            presence = weighted_choice(OFF_QUEUE_PRESENCES, r())
            away = done + 500 + int(r() * 3000)
            self._presence(script, away, agent, presence)
            self._routing(script, away + 40, agent, "OFF_QUEUE")
            back = away + int(self._scale * (BREAK_MS[0] + r() * (BREAK_MS[1] - BREAK_MS[0])))
            self._presence(script, back, agent, "ON_QUEUE")
            back += 40
        self._routing(script, back, agent, "IDLE")
        agent.free_at = back
        heapq.heappush(self._free, (back, agent.index))

    def _presence(self, script: list[Entry], at: int, agent: Agent, presence: str) -> None:
        b = self.bodies
        old, agent.presence = agent.presence, presence
        script.append((at, T.PRESENCE, agent.presence_lane, None, agent.user_id, presence,
                       b.presence, (agent, at, presence)))
        script.append((at, T.AUDIT, agent.audit_lane, None, ("UserPresence", agent.user_id),
                       AUDIT_PRESENCE[presence], b.presence_audit,
                       (agent, at, new_id(self.rng), old, presence)))

    def _routing(self, script: list[Entry], at: int, agent: Agent, status: str) -> None:
        script.append((at, T.ROUTING_STATUS, agent.routing_lane, None, agent.user_id, status,
                       self.bodies.routing_status, (agent, at, status)))
