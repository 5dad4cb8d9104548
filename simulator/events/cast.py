"""Who and what takes part: the organisation (queues, flows, presence definitions,
wrap-up codes), its agents, the media profiles, and one conversation's identities.

Everything here is drawn once from the generator's random stream; events only
refer to it, so ids stay consistent across every event of a conversation.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from simulator.events.pools import Pools, uuid_from_bits

# Presence names as the notification carries them (systemPresence) and as the
# audit trail prints them (propertyChanges values).
AUDIT_PRESENCE = {
    "AVAILABLE": "Available", "AWAY": "Away", "BUSY": "Busy", "BREAK": "Break", "MEAL": "Meal",
    "MEETING": "Meeting", "TRAINING": "Training", "OFFLINE": "Offline", "ON_QUEUE": "On Queue",
    "IDLE": "Idle",
}
# Where an agent goes when stepping off queue, with weights.
OFF_QUEUE_PRESENCES = (("BREAK", 5), ("MEAL", 2), ("AWAY", 2), ("MEETING", 1), ("TRAINING", 1),
                       ("BUSY", 1), ("AVAILABLE", 1))
QUEUE_KINDS = ("Support", "Sales", "Billing", "Retention", "Technical", "Claims", "Onboarding",
               "Collections")


class Lane:
    """One entity's stream of events. ``last`` is the emission time of its latest
    event: an entity's events are published in the order they happened."""

    __slots__ = ("entity", "last")

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self.last = 0


def new_id(rng: random.Random) -> str:
    return uuid_from_bits(rng.getrandbits(128))


def weighted_choice(pairs: tuple[tuple[str, int], ...], x: float) -> str:
    """The value of ``pairs`` ((value, weight), ...) that ``x`` in [0, 1) falls on."""
    x *= sum(weight for _, weight in pairs)
    for value, weight in pairs:
        x -= weight
        if x < 0:
            return value
    return pairs[-1][0]


@dataclass(frozen=True, slots=True)
class MediaProfile:
    media: str
    provider: str
    flow_type: str | None  # inbound flow (None: no IVR, e.g. a callback created by API)
    inqueue_flow_type: str | None  # in-queue flow (chats have none)
    comms: str  # the participant list key in a queue conversation snapshot
    alerting_s: tuple[float, float]
    talk_median_s: float
    wrapup_s: tuple[float, float]


MEDIA: dict[str, MediaProfile] = {p.media: p for p in (
    MediaProfile("VOICE", "Edge", "INBOUNDCALL", "INQUEUECALL", "calls", (2, 12), 240, (10, 90)),
    MediaProfile("CHAT", "PureCloud Webchat v2", "INBOUNDCHAT", None, "chats", (2, 10), 420, (10, 60)),
    MediaProfile("MESSAGE", "PureCloud Messaging", "INBOUNDSHORTMESSAGE", "INQUEUESHORTMESSAGE", "messages",
                 (2, 15), 600, (10, 60)),
    MediaProfile("CALLBACK", "PureCloud Callback", None, "INQUEUECALL", "callbacks", (3, 15), 200,
                 (10, 90)),
    MediaProfile("EMAIL", "PureCloud Email", "INBOUNDEMAIL", "INQUEUEEMAIL", "emails", (5, 30), 300,
                 (20, 120)),
)}
MESSAGE_TYPES = (("WEBMESSAGING", 5), ("WHATSAPP", 3), ("SMS", 2), ("FACEBOOK", 1))


@dataclass(slots=True)
class Agent:
    index: int
    user_id: str
    name: str
    presence_lane: Lane
    routing_lane: Lane
    audit_lane: Lane
    presence: str = "ON_QUEUE"
    free_at: int = 0  # epoch ms from which the agent can be alerted again


@dataclass(frozen=True, slots=True)
class Queue:
    id: str
    name: str
    index: int = 0  # position in Org.queues


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    name: str
    version: str


@dataclass(slots=True)
class Org:
    id: str
    division_id: str
    queues: tuple[Queue, ...]
    flows: dict[str, Flow]  # by flow type
    wrapup_codes: tuple[str, ...]
    outcome_ids: tuple[str, ...]
    milestone_ids: tuple[str, ...]
    presence_ids: dict[str, str]  # system presence -> organisation presence definition id
    dids: tuple[str, ...]  # the numbers customers dial
    support_email: str
    agents: list[Agent] = field(default_factory=list)
    # Per queue: the utilization label its answered interactions are counted under.
    utilization_labels: tuple[str, ...] = ()
    external_orgs: tuple[str, ...] = ()  # the external organisations known contacts work for

    @classmethod
    def create(cls, rng: random.Random, pools: Pools, *, org_id: str | None, queues: int,
               agents: int, more: random.Random | None = None) -> "Org":
        """``more``: the stream for what later versions added (utilization labels,
        external organisations), so that what ``rng`` draws stays as it was."""
        org_id = org_id or new_id(rng)
        division = new_id(rng)
        queue_list = []
        for i in range(queues):
            word = pools.words[int(rng.random() * len(pools.words))].title()
            queue_list.append(Queue(new_id(rng), f"{word} {QUEUE_KINDS[i % len(QUEUE_KINDS)]}", i))
        flow_types = sorted({m.flow_type for m in MEDIA.values() if m.flow_type}
                            | {m.inqueue_flow_type for m in MEDIA.values() if m.inqueue_flow_type})
        flows = {ft: Flow(new_id(rng), f"{ft.title()} Main", f"{1 + int(rng.random() * 30)}.0")
                 for ft in flow_types}
        wrapups = tuple(new_id(rng) for _ in range(8))
        outcomes = tuple(new_id(rng) for _ in range(4))
        milestones = tuple(new_id(rng) for _ in range(8))
        presence_ids = {p: new_id(rng) for p in AUDIT_PRESENCE}
        dids = tuple(pools.phones[int(rng.random() * len(pools.phones))] for _ in range(4))
        company = pools.companies[0].split()[0].split(",")[0].lower()
        org = cls(org_id, division, tuple(queue_list), flows, wrapups, outcomes, milestones,
                  presence_ids, dids, f"support@{company}.example.com")
        for i in range(agents):
            user_id = new_id(rng)
            name = pools.name(int(rng.random() * 4096), int(rng.random() * 4096))
            org.agents.append(Agent(i, user_id, name, Lane(f"user:{user_id}:presence"),
                                    Lane(f"user:{user_id}:routing"),
                                    Lane(f"audit:UserPresence:{user_id}")))
        more = more or rng
        labels = tuple(new_id(more) for _ in range(max(1, (queues + 1) // 2)))
        org.utilization_labels = tuple(labels[i % len(labels)] for i in range(queues))
        org.external_orgs = tuple(new_id(more) for _ in range(16))
        return org


@dataclass(slots=True)
class Conversation:
    """The identities one conversation's events share."""

    id: str
    profile: MediaProfile
    start_ms: int
    base: dict  # media fields every detail event carries (mediaType, provider, direction, ani, ...)
    customer_pid: str
    customer_sid: str
    customer_comm: str
    customer_name: str
    customer_address: str | None
    external_contact_id: str | None
    external_org_id: str | None  # the known contact's external organisation, if any
    callback_numbers: tuple[str, ...] = ()
    lane: Lane = field(default_factory=lambda: Lane(""))
    transcript_lane: Lane = field(default_factory=lambda: Lane(""))


@dataclass(slots=True)
class Leg:
    """One pass through a queue (and, when answered, one agent)."""

    queue: Queue
    acd_pid: str
    acd_sid: str
    acd_comm: str
    start_ms: int
    agent: Agent | None = None
    agent_pid: str = ""
    agent_sid: str = ""
    agent_comm: str = ""
    alert_ms: int = 0
    answer_ms: int = 0
    snapshot_parts: tuple | None = None  # cached by Bodies.queue_snapshot
