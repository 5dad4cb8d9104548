"""``detail.eventBody`` of every topic, with Genesys' field names and enumerations.

Builders are pure: they read the cast (organisation, agent, conversation, leg) and
the scalars the contact-centre model decided, and draw no randomness, so whether
a topic is subscribed never changes what the other topics look like. Field order
follows the captured payloads.
"""
from __future__ import annotations

from simulator.events.cast import AUDIT_PRESENCE, Agent, Conversation, Flow, Leg, Org
from simulator.events.pools import IsoClock, Pools


class Bodies:
    def __init__(self, org: Org, pools: Pools, iso: IsoClock) -> None:
        self.org = org
        self.pools = pools
        self.iso = iso

    # ---- v2.detail.events.conversation.{id}.* ----

    @staticmethod
    def _detail(conv: Conversation, t: int, pid: str, sid: str, disconnect: str | None) -> dict:
        body = {"eventTime": t, "conversationId": conv.id, "participantId": pid, "sessionId": sid}
        if disconnect:
            body["disconnectType"] = disconnect
        body.update(conv.base)
        if conv.callback_numbers:
            body["callbackNumbers"] = list(conv.callback_numbers)
        return body

    @staticmethod
    def _contacts(conv: Conversation, body: dict) -> dict:
        # Always present, as in every capture: empty when the customer is no known contact
        # (consumers iterate it unguarded).
        body["conversationExternalContactIds"] = [conv.external_contact_id] if conv.external_contact_id else []
        return body

    @staticmethod
    def _customer(conv: Conversation, body: dict) -> None:
        if conv.external_contact_id:
            body["externalContactId"] = conv.external_contact_id
            if conv.external_org_id:
                body["externalOrganizationId"] = conv.external_org_id

    def customer_start(self, conv: Conversation, t: int) -> dict:
        body = self._detail(conv, t, conv.customer_pid, conv.customer_sid, None)
        self._customer(conv, body)
        return self._contacts(conv, body)

    def customer_end(self, conv: Conversation, t: int, disconnect: str) -> dict:
        body = self._detail(conv, t, conv.customer_pid, conv.customer_sid, disconnect)
        self._customer(conv, body)
        body["interactingDurationMs"] = t - conv.start_ms
        return self._contacts(conv, body)

    def _flow(self, body: dict, flow_type: str, flow: Flow) -> dict:
        body["flowType"] = flow_type
        body["flowId"] = flow.id
        body["divisionId"] = self.org.division_id
        body["flowVersion"] = flow.version
        return body

    def flow_start(self, conv: Conversation, t: int, pid: str, sid: str, flow_type: str) -> dict:
        body = self._flow(self._detail(conv, t, pid, sid, None), flow_type, self.org.flows[flow_type])
        return self._contacts(conv, body)

    def flow_end(self, conv: Conversation, t: int, pid: str, sid: str, flow_type: str, started: int,
                 disconnect: str, exit_reason: str, transfer_type: str | None) -> dict:
        body = self._flow(self._detail(conv, t, pid, sid, disconnect), flow_type, self.org.flows[flow_type])
        body["connectedDurationMs"] = t - started
        self._contacts(conv, body)
        body["exitReason"] = exit_reason
        if transfer_type:
            body["transferType"] = transfer_type
        return body

    def flow_outcome(self, conv: Conversation, t: int, pid: str, sid: str, flow_type: str,
                     outcome: int, begin: int, end: int, success: bool,
                     milestones: tuple[tuple[int, int], ...]) -> dict:
        body = self._flow(self._detail(conv, t, pid, sid, None), flow_type, self.org.flows[flow_type])
        ids = self.org.milestone_ids
        body["flowOutcomeId"] = self.org.outcome_ids[outcome]
        body["flowOutcomeStartTime"] = begin
        body["flowOutcomeEndTime"] = end
        body["flowOutcomeValue"] = "SUCCESS" if success else "FAILURE"
        body["flowMilestones"] = [{"milestoneId": ids[i], "milestoneTime": at} for i, at in milestones]
        return self._contacts(conv, body)

    def acd_start(self, conv: Conversation, t: int, leg: Leg) -> dict:
        body = self._detail(conv, t, leg.acd_pid, leg.acd_sid, None)
        body["queueId"] = leg.queue.id
        body["divisionId"] = self.org.division_id
        self._contacts(conv, body)
        body["routingPriority"] = 0
        return body

    def acd_end(self, conv: Conversation, t: int, leg: Leg, outcome: str, disconnect: str) -> dict:
        body = self._detail(conv, t, leg.acd_pid, leg.acd_sid, disconnect)
        body["queueId"] = leg.queue.id
        body["divisionId"] = self.org.division_id
        body["acdOutcome"] = outcome
        if leg.agent is not None:
            body["answeredUserId"] = leg.agent.user_id
        body["requestedRoutings"] = ["STANDARD"]
        if leg.agent is not None:
            body["usedRouting"] = "STANDARD"
        body["routingPriority"] = 0
        body["connectedDurationMs"] = t - leg.start_ms
        self._contacts(conv, body)
        if leg.agent is not None:  # the label the answered interaction counts against
            body["utilizationLabel"] = self.org.utilization_labels[leg.queue.index]
        if conv.profile.inqueue_flow_type:
            body["flowType"] = conv.profile.inqueue_flow_type
        return body

    def user_start(self, conv: Conversation, t: int, leg: Leg) -> dict:
        body = self._detail(conv, t, leg.agent_pid, leg.agent_sid, None)
        body["userId"] = leg.agent.user_id  # type: ignore[union-attr]
        body["divisionId"] = self.org.division_id
        body["queueId"] = leg.queue.id
        return self._contacts(conv, body)

    def user_end(self, conv: Conversation, t: int, leg: Leg, disconnect: str, interacting: int,
                 held: int) -> dict:
        body = self._detail(conv, t, leg.agent_pid, leg.agent_sid, disconnect)
        body["userId"] = leg.agent.user_id  # type: ignore[union-attr]
        body["divisionId"] = self.org.division_id
        body["queueId"] = leg.queue.id
        body["interactingDurationMs"] = interacting
        body["heldDurationMs"] = held
        body["alertingDurationMs"] = leg.answer_ms - leg.alert_ms
        body["contactingDurationMs"] = 0
        body["dialingDurationMs"] = 0
        body["callbackDurationMs"] = 0
        return self._contacts(conv, body)

    def acw(self, conv: Conversation, t: int, leg: Leg, code: int, notes: tuple[int, int] | None,
            duration: int) -> dict:
        body = self._detail(conv, t, leg.agent_pid, leg.agent_sid, None)
        body["userId"] = leg.agent.user_id  # type: ignore[union-attr]
        body["queueId"] = leg.queue.id
        body["wrapupCode"] = self.org.wrapup_codes[code]
        if notes:
            body["wrapupNotes"] = " ".join(self.pools.phrase(*notes)).capitalize()
        body["wrapupDurationMs"] = duration
        return self._contacts(conv, body)

    def attributes(self, conv: Conversation, t: int, attributes: dict[str, str]) -> dict:
        # The captured attributes event carries no contact ids (the other topics of the
        # same capture do), so neither does this one.
        return {"eventTime": t, "conversationId": conv.id, "participantId": conv.customer_pid,
                "organizationId": self.org.id,
                "communications": [{"id": conv.customer_comm, "mediaType": conv.profile.media}],
                "attributes": dict(attributes)}

    # ---- v2.users.{id}.presence / routingStatus, v2.audits.entitytype.{id}.entityid.{id} ----

    def presence(self, agent: Agent, t: int, presence: str) -> dict:
        return {"source": "PURECLOUD",
                "presenceDefinition": {"id": self.org.presence_ids[presence], "systemPresence": presence},
                "primary": True, "message": "", "modifiedDate": self.iso.ms(t)}

    def routing_status(self, agent: Agent, t: int, status: str) -> dict:
        return {"id": agent.user_id, "routingStatus": {"status": status, "startTime": self.iso.ms(t)}}

    def presence_audit(self, agent: Agent, t: int, audit_id: str, old: str, new: str) -> dict:
        # The audit service stamps whole seconds (".000Z"), as in the captures.
        return {"id": audit_id, "userId": agent.user_id, "username": {"id": ""}, "clientId": {},
                "serviceName": "Presence", "eventTime": self.iso.seconds(t)[:-1] + ".000Z",
                "action": "Update", "entityType": "UserPresence",
                "entity": {"id": agent.user_id, "name": agent.name},
                "propertyChanges": [{"property": "PRESENCE", "oldValues": [AUDIT_PRESENCE[old]],
                                     "newValues": [AUDIT_PRESENCE[new]]}]}

    def admin_audit(self, at: int, audit_id: str, actor: str, client: str | None, service: str, action: str,
                    kind: str, entity_id: str, name: str, changes: list[dict]) -> dict:
        """A configuration change (simulator.events.admin), keys in the captured order."""
        return {"id": audit_id, "userId": actor, "userHomeOrgId": self.org.id, "username": {"id": ""},
                "clientId": {"id": client} if client else {}, "serviceName": service,
                "eventTime": self.iso.seconds(at)[:-1] + ".000Z", "action": action, "entityType": kind,
                "entity": {"id": entity_id, "name": name}, "propertyChanges": changes}

    # ---- v2.conversations.{id}.transcription ----

    def transcription(self, conv: Conversation, t: int, leg: Leg, session_start: int,
                      transcription_start: int, utterance: tuple | None, ended_offset: int) -> dict:
        """``utterance``: (id, channel, offset_ms, first word index, word count,
        confidence index, is_final), or None for the SESSION_ENDED notice."""
        body = {"eventTime": self.iso.ms(t), "organizationId": self.org.id, "conversationId": conv.id,
                "communicationId": leg.agent_comm, "sessionStartTimeMs": session_start,
                "transcriptionStartTimeMs": transcription_start}
        if utterance is None:
            body["status"] = {"offsetMs": ended_offset, "status": "SESSION_ENDED"}
            return body
        uid, channel, offset, k, n, conf, final = utterance
        pools = self.pools
        said, shown, lengths = pools.spoken[k:k + n], pools.decorated[k:k + n], pools.word_ms[k:k + n]
        base = offset - pools.word_at[k]
        starts = [base + at for at in pools.word_at[k:k + n]]
        sure = pools.confidences[conf:conf + n]  # the pools run on past 1024, so a slice never wraps
        # Comprehensions over zip: this builder makes most of a transcribed call's events.
        raw = [{"confidence": c, "offsetMs": o, "durationMs": d, "word": w}
               for c, o, d, w in zip(sure, starts, lengths, said)]
        decorated = [{"confidence": c, "offsetMs": o, "durationMs": d, "word": w}
                     for c, o, d, w in zip(pools.confidences_2dp[conf:conf + n], starts, lengths, shown)]
        # The utterance's confidence is the mean of its words' (unrounded, as captured).
        body["transcripts"] = [{
            "utteranceId": uid, "isFinal": final, "channel": channel,
            "alternatives": [{"confidence": sum(sure) / n, "offsetMs": offset,
                              "durationMs": starts[-1] + lengths[-1] - offset,
                              "transcript": " ".join(said), "words": raw,
                              "decoratedTranscript": " ".join(shown), "decoratedWords": decorated}],
            "engineProvider": "GENESYS", "engineId": "r2d2", "dialect": "en-US",
            "agentAssistEnabled": False, "voiceTranscriptionEnabled": True}]
        body["status"] = {"offsetMs": offset, "status": "SESSION_ONGOING"}
        return body

    # ---- v2.routing.queues.{id}.conversations ----

    def queue_snapshot(self, conv: Conversation, t: int, leg: Leg, customer: str, acd: str,
                       agent: str | None, customer_end: str | None = None,
                       acd_end: str | None = None, agent_end: str | None = None) -> dict:
        """The conversation as the queue sees it at ``t``. Each state is a communication
        state (``connected``, ``alerting``, ``disconnected``); ``*_end`` the lower-case
        disconnect type of a disconnected one."""
        now = self.iso.ms(t)
        if leg.snapshot_parts is None:
            leg.snapshot_parts = self._snapshot_parts(conv, leg)
        customer_head, acd_head, agent_head, shared, began, queued, answered = leg.snapshot_parts
        key = conv.profile.comms
        participants = [
            _participant(customer_head, key, conv.customer_comm, customer, "connected", shared, customer_end,
                         began, now),
            _participant(acd_head, key, leg.acd_comm, acd, "connected", shared, acd_end, queued, now),
        ]
        if agent is not None and agent_head is not None:
            participants.append(_participant(agent_head, key, leg.agent_comm, agent, "alerting", shared,
                                             agent_end, None if agent == "alerting" else answered, now))
        snapshot = {"id": conv.id, "maxParticipants": len(participants), "participants": participants,
                    "recordingState": "none"}
        if key == "calls":
            snapshot["address"] = conv.base.get("dnis", "")
        return snapshot

    def _snapshot_parts(self, conv: Conversation, leg: Leg) -> tuple:
        """What every snapshot of one queue leg shares (computed once per leg)."""
        iso = self.iso.ms
        began, queued = iso(conv.start_ms), iso(leg.start_ms)
        customer = {"id": conv.customer_pid, "connectedTime": began}
        if conv.external_contact_id:
            customer["externalContactId"] = conv.external_contact_id
        customer["name"] = conv.customer_name
        customer["purpose"] = "customer"
        if conv.customer_address:
            customer["address"] = conv.customer_address
        customer["wrapupRequired"] = False
        acd = {"id": leg.acd_pid, "connectedTime": queued, "name": leg.queue.name, "queueId": leg.queue.id,
               "purpose": "acd", "wrapupRequired": False}
        agent = answered = None
        if leg.agent is not None:
            answered = iso(leg.answer_ms)
            agent = {"id": leg.agent_pid, "userId": leg.agent.user_id, "name": leg.agent.name,
                     "queueId": leg.queue.id, "purpose": "agent", "wrapupRequired": True}
        profile = conv.profile
        shared: dict = {} if profile.comms == "chats" else {"direction": "inbound"}  # chats carry none
        shared["held"] = False
        if profile.comms == "calls":
            shared.update(recording=False, recordingState="none", muted=False, confined=False)
        shared["provider"] = profile.provider
        return customer, acd, agent, shared, began, queued, answered


def _participant(head: dict, key: str, comm_id: str, state: str, initial: str, shared: dict,
                 disconnect: str | None, connected: str | None, now: str) -> dict:
    """A participant in a snapshot, with its one communication (call, chat, message, ...)."""
    comm = {"id": comm_id, "state": state, "initialState": initial, **shared}
    if disconnect:
        comm["disconnectType"] = disconnect
    if connected:
        comm["connectedTime"] = connected
    part = dict(head)
    if state == "disconnected":
        comm["disconnectedTime"] = now
        part["endTime"] = now
    part[key] = [comm]
    return part
