"""Configuration changes on the audit topic (``v2.audits.entitytype.{id}.entityid.{id}``):
administrators creating, updating and deleting users, queues, flows, roles, OAuth
clients and integrations, at ``traffic.audits_per_hour``, in ``traffic.audit_mix``.

Service names, entity types and actions are the values of Genesys'
AuditTopicAuditLogMessage model (platform-client SDKs) and its audit action catalogue
(ContactCenter/Queue MemberAdd writes ``queueId:<queue>:members`` = ``queueMember:<user>``);
the OAuthClient delete follows the captured one (``deleted_on`` and ``scopes`` each on
one side only, ``clientId.id`` the client itself, ``userHomeOrgId`` the org).

Ids are the organisation's: changes are made by its administrators, to its agents,
queues and flows, through its OAuth clients. An entity the contact-centre model uses
(an agent, a routing queue, a flow in use, the EventBridge integration) is changed
but never deleted; a delete takes a spare or an earlier-created entity, and when there
is none the audit trail shows it created first. Nothing is used after its delete.

This has its own random stream, and its notifications are timed from it too: the mix
and the rate change the audit topic and nothing else.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from simulator.errors import BadInput
from simulator.events import topics as T
from simulator.events.cast import Flow, Lane, Org
from simulator.events.pools import IsoClock, Pools, uuid_from_bits

# entity type -> (serviceName, ((action, weight within the type), ...))
AUDITED: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    "User": ("Directory", (("Update", 6), ("Create", 2), ("Delete", 1))),
    "Queue": ("ContactCenter", (("Update", 3), ("MemberAdd", 3), ("MemberRemove", 2), ("Create", 1),
                                ("Delete", 1))),
    "Flow": ("Architect", (("Publish", 3), ("Update", 2), ("Create", 1), ("Delete", 1))),
    "Role": ("PeoplePermissions", (("Update", 3), ("MemberAdd", 3), ("MemberRemove", 2), ("Create", 1),
                                   ("Delete", 1))),
    "OAuthClient": ("PeoplePermissions", (("Update", 2), ("Create", 1), ("Delete", 1))),
    "Integration": ("Integrations", (("Update", 3), ("Create", 1), ("Delete", 1))),
}
DEFAULT_AUDIT_MIX = {"User": 3.0, "Queue": 3.0, "Flow": 2.0, "Role": 1.0, "OAuthClient": 1.0,
                     "Integration": 1.0}
API_SHARE = 0.3  # changes made through an OAuth client (an integration) rather than the admin UI
FOLLOW_UP_MS = (120_000, 1_800_000)  # from a create (or member added) to the change it was for

SCOPES = ("analytics", "analytics:readonly", "architect", "authorization:readonly", "conversations",
          "integrations", "notifications", "organization:readonly", "presence", "quality:readonly",
          "recordings:readonly", "routing", "user-basic-info", "users", "users:readonly")
PERMISSIONS = ("routing:queue:view", "routing:queue:edit", "analytics:conversationDetail:view",
               "quality:evaluation:view", "recording:recording:view", "directory:user:edit",
               "architect:flow:view", "outbound:campaign:view", "wfm:schedule:view", "integrations:integration:view")
QUEUE_SETTINGS = (("skillEvaluationMethod", ("NONE", "BEST", "ALL")),
                  ("acwSettings.wrapupPrompt", ("MANDATORY", "OPTIONAL", "MANDATORY_TIMEOUT",
                                                "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED")),
                  ("mediaSettings.call.alertingTimeoutSeconds", ("8", "10", "15", "20", "30")))
TITLES = ("Agent", "Senior Agent", "Team Lead", "Supervisor", "Quality Analyst", "Trainer")
DEPARTMENTS = ("Customer Service", "Sales", "Billing", "Retention", "Technical Support")
CLIENT_PURPOSES = ("CRM Sync", "WFM Connector", "Reporting Export", "Quality Bot", "Data Lake Loader",
                   "Chatbot Backend", "Survey Service", "Recording Archiver")
INTEGRATIONS = ("Web Services Data Actions", "Genesys Cloud Data Actions", "Microsoft Teams",
                "Salesforce", "Zendesk", "Google Cloud Dialogflow", "Amazon Lex V2")
BASE_ROLES = ("employee", "Agent", "Supervisor", "Admin", "Quality Evaluator", "Reporting Viewer")


def parse_audit_mix(mix: Any, where: str = "traffic.audit_mix") -> dict[str, Any]:
    """``traffic.audit_mix`` -> {entity type: weight, or {action: weight}}. A weight
    alone spreads the type over its actions in their usual proportions (AUDITED); a
    mapping names the actions, e.g. ``{OAuthClient: {Delete: 5}, Queue: 1}``."""
    if not isinstance(mix, Mapping) or not mix:
        raise BadInput(f"must be a non-empty mapping of entity type to weight (or to {{action: weight}}), "
                       f"got {mix!r}", where=where)
    out: dict[str, Any] = {}
    for kind, value in mix.items():
        here = f"{where}.{kind}"
        if kind not in AUDITED:
            raise BadInput(f"unknown audited entity type {kind!r} (known: {', '.join(AUDITED)})", where=here)
        if isinstance(value, Mapping):
            actions = [a for a, _ in AUDITED[kind][1]]
            if not value:
                raise BadInput(f"name at least one action (known: {', '.join(actions)})", where=here)
            for action, weight in value.items():
                if action not in actions:
                    raise BadInput(f"{kind} has no action {action!r} (known: {', '.join(actions)})",
                                   where=f"{here}.{action}")
                _weight(weight, f"{here}.{action}")
            out[kind] = {action: float(weight) for action, weight in value.items()}
        else:
            out[kind] = _weight(value, here)
    if sum(_total(v) for v in out.values()) <= 0:
        raise BadInput("weights must not all be zero", where=where)
    return out


def _weight(value: Any, where: str) -> float:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < float("inf")):
        raise BadInput(f"weight must be a number >= 0, got {value!r}", where=where)
    return float(value)


def _total(value: float | Mapping[str, float]) -> float:
    return sum(value.values()) if isinstance(value, Mapping) else value


def action_shares(mix: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """(entity type, action) -> probability of one configuration change being that."""
    shares: dict[tuple[str, str], float] = {}
    total = sum(_total(v) for v in mix.values())
    for kind, value in mix.items():
        if isinstance(value, Mapping):
            for action, weight in value.items():
                shares[(kind, action)] = weight / total
        else:
            inner = sum(w for _, w in AUDITED[kind][1])
            for action, w in AUDITED[kind][1]:
                shares[(kind, action)] = value / total * w / inner
    return shares


@dataclass(slots=True)
class Entity:
    kind: str
    id: str
    name: str
    lane: Lane
    keep: bool = False  # used by the contact-centre model (or the event stream): never deleted
    data: dict = field(default_factory=dict)


class Directory:
    """The organisation as its administrators see it: what can be changed, and by whom."""

    def __init__(self, rng: random.Random, pools: Pools, org: Org) -> None:
        self.rng, self.pools, self.org = rng, pools, org
        self.live: dict[str, list[Entity]] = {kind: [] for kind in AUDITED}
        word = pools.words
        company = pools.companies[0].split()[0].split(",")[0]
        self.admins = [(self._id(), pools.name(int(rng.random() * 4096), int(rng.random() * 4096)))
                       for _ in range(2 + len(org.agents) // 25)]
        for agent in org.agents:
            self._add("User", agent.user_id, agent.name, keep=True, title="Agent", agent=True)
        for user_id, name in self.admins:
            self._add("User", user_id, name, keep=True, title="Supervisor")
        for _ in range(3):  # accounts of people who have left, still to be removed
            self._add("User", self._id(), self._person(), title="Agent")
        for queue in org.queues:
            self._add("Queue", queue.id, queue.name, keep=True)
        self._add("Queue", self._id(), f"{word[int(rng.random() * len(word))].title()} Overflow")
        for flow_type, flow in org.flows.items():
            self._add("Flow", flow.id, flow.name, keep=True, flow_type=flow_type)
        for name in ("Holiday Closure", "Customer Survey"):
            self._add("Flow", self._id(), name)
        for name in BASE_ROLES:
            self._add("Role", self._id(), name, keep=True)
        self._add("Role", self._id(), "Campaign Pilot")
        for purpose in CLIENT_PURPOSES[:4]:
            self._add("OAuthClient", self._id(), f"{company} {purpose}", scopes=self._scopes())
        self._add("Integration", self._id(), "Amazon EventBridge Source", keep=True, state="ENABLED")
        for name in INTEGRATIONS[:3]:
            self._add("Integration", self._id(), name, state="ENABLED")
        self.queue_members: set[tuple[str, str]] = set()  # (queue id, user id) added by an admin
        self.role_members: set[tuple[str, str]] = set()
        self.busy: set[str] = set()  # ids a change still to come is about

    def _id(self) -> str:
        return uuid_from_bits(self.rng.getrandbits(128))

    def _person(self) -> str:
        r = self.rng.random
        return self.pools.name(int(r() * 4096), int(r() * 4096))

    def _scopes(self) -> list[str]:
        r = self.rng.random
        return sorted({SCOPES[int(r() * len(SCOPES))] for _ in range(1 + int(r() * 4))})

    def _add(self, kind: str, entity_id: str, name: str, keep: bool = False, **data: Any) -> Entity:
        entity = Entity(kind, entity_id, name, Lane(f"audit:{kind}:{entity_id}"), keep, data)
        self.live[kind].append(entity)
        return entity

    def pick(self, kind: str, deletable: bool = False) -> Entity | None:
        pool = [e for e in self.live[kind] if not e.keep and e.id not in self.busy] if deletable \
            else self.live[kind]
        return pool[int(self.rng.random() * len(pool))] if pool else None

    def remove(self, entity: Entity) -> None:
        self.live[entity.kind].remove(entity)
        self.queue_members = {m for m in self.queue_members if entity.id not in m}
        self.role_members = {m for m in self.role_members if entity.id not in m}


class AdminActivity:
    """Plans one configuration change at a time; ``plan(at)`` returns its script entries."""

    def __init__(self, rng: random.Random, pools: Pools, org: Org, iso: IsoClock,
                 mix: Mapping[str, float], build: Callable[..., dict]) -> None:
        self.rng, self.org, self.iso, self._build = rng, org, iso, build
        self.directory = Directory(rng, pools, org)
        shares = action_shares(mix)
        acc, self._choices = 0.0, []
        for (kind, action), share in shares.items():
            if share > 0:
                acc += share
                self._choices.append((acc, kind, action))

    def plan(self, at: int) -> tuple[list[tuple], list[tuple[int, Callable[[int], list[tuple]]]]]:
        """One change at ``at``: its script entries, and the steps it takes later
        ((time, step); ``step(time)`` gives that step's entries). A step is planned
        when its time comes, so each entity's audits are planned in time order."""
        x = self.rng.random() * self._choices[-1][0]
        _, kind, action = next(c for c in self._choices if x < c[0])
        script: list[tuple] = []
        later: list[tuple[int, Callable[[int], list[tuple]]]] = []
        self._do(script, later, at, kind, action)
        return script, later

    # ---- one change ----

    def _do(self, script: list, later: list, at: int, kind: str, action: str) -> None:
        d, r = self.directory, self.rng.random
        if action == "Create":
            self._create(script, at, kind)
            return
        if action == "MemberAdd":
            self._member_add(script, at, kind)
            return
        if action == "Publish":
            flow = d.pick("Flow")
            old = self._version(flow)
            new = f"{int(float(old)) + 1}.0"
            self._set_version(flow, new)
            self._audit(script, at, flow, "Publish", [_change("version", [old], [new])])
            return
        # Delete, MemberRemove, Update: when there is nothing to do it to, the audit trail
        # shows that made first (a create, a member added), and the change a while later.
        first = False
        if action == "Delete":
            entity = d.pick(kind, deletable=True)
            if entity is None:
                entity, first = self._create(script, at, kind), True
            d.remove(entity)  # now, so no other change (or API call) uses what is being deleted
            involved: tuple[str, ...] = ()

            def act(out: list, when: int) -> None:
                self._audit(out, when, entity, "Delete", self._deleted(entity, when))
        elif action == "MemberRemove":
            members = d.queue_members if kind == "Queue" else d.role_members
            if not members:
                self._member_add(script, at, kind)
                first = True
            pair = sorted(members)[int(r() * len(members))]
            members.discard(pair)  # now, so no other change removes it too
            entity, involved = next(e for e in d.live[kind] if e.id == pair[0]), pair

            def act(out: list, when: int) -> None:
                self._audit(out, when, entity, "MemberRemove", [self._membership(kind, pair, False)])
        else:  # Update
            entity = d.pick(kind)
            if entity is None:  # every OAuth client was deleted
                entity, first = self._create(script, at, kind), True
            involved = (entity.id,)

            def act(out: list, when: int) -> None:
                self._audit(out, when, entity, "Update", self._updated(entity))
        if not first:
            act(script, at)
            return
        d.busy.update(involved)  # what the change is about stays until then: no delete in between

        def step(when: int) -> list[tuple]:
            d.busy.difference_update(involved)
            out: list[tuple] = []
            act(out, when)
            return out
        later.append((at + FOLLOW_UP_MS[0] + int(r() * (FOLLOW_UP_MS[1] - FOLLOW_UP_MS[0])), step))

    def _create(self, script: list, at: int, kind: str) -> Entity:
        d, r, words = self.directory, self.rng.random, self.directory.pools.words
        word = words[int(r() * len(words))].title()
        if kind == "User":
            name = d._person()
            entity = d._add(kind, d._id(), name, title=TITLES[int(r() * len(TITLES))], hired=True)
            first, last = name.lower().split(" ", 1)
            changes = [_change("name", new=[name]), _change("email", new=[f"{first}.{last}@{self._domain()}"]),
                       _change("title", new=[entity.data["title"]])]
        elif kind == "OAuthClient":
            company = d.pools.companies[0].split()[0].split(",")[0]
            entity = d._add(kind, d._id(), f"{company} {CLIENT_PURPOSES[int(r() * len(CLIENT_PURPOSES))]}",
                            scopes=d._scopes())
            changes = [_change("name", new=[entity.name]), _change("authorizedGrantType", new=["CLIENT_CREDENTIALS"]),
                       _change("scopes", new=list(entity.data["scopes"]))]
        elif kind == "Integration":
            entity = d._add(kind, d._id(), INTEGRATIONS[int(r() * len(INTEGRATIONS))], state="ENABLED")
            changes = [_change("name", new=[entity.name]), _change("intendedState", new=["ENABLED"])]
        else:
            name = {"Queue": f"{word} {('Priority', 'Callbacks', 'Escalations', 'Projects')[int(r() * 4)]}",
                    "Flow": f"{word} Routing", "Role": f"{word} Team Lead"}[kind]
            entity = d._add(kind, d._id(), name)
            changes = [_change("name", new=[name])]
            if kind == "Flow":
                entity.data["version"] = "1.0"
        self._audit(script, at, entity, "Create", changes)
        return entity

    def _member_add(self, script: list, at: int, kind: str) -> None:
        d, r = self.directory, self.rng.random
        members = d.queue_members if kind == "Queue" else d.role_members
        # Queues: supervisors and new hires join (agents already take every queue, the
        # accounts of people who left join nothing); roles: anyone current may get one.
        users = [e for e in d.live["User"] if e.keep or e.data.get("hired")]
        if kind == "Queue":
            users = [e for e in users if not e.data.get("agent")]
        for _ in range(8):
            entity, user = d.pick(kind), users[int(r() * len(users))]
            if (entity.id, user.id) not in members:
                break
        members.add((entity.id, user.id))
        self._audit(script, at, entity, "MemberAdd", [self._membership(kind, (entity.id, user.id), True)])

    @staticmethod
    def _membership(kind: str, pair: tuple[str, str], added: bool) -> dict:
        if kind == "Queue":
            prop, value = f"queueId:{pair[0]}:members", f"queueMember:{pair[1]}"
        else:
            prop, value = "members", pair[1]
        return _change(prop, new=[value]) if added else _change(prop, old=[value])

    def _updated(self, entity: Entity) -> list[dict]:
        r = self.rng.random
        if entity.kind == "User":
            if r() < 0.5:
                old = entity.data.get("title", "Agent")
                new = TITLES[(TITLES.index(old) + 1 + int(r() * (len(TITLES) - 1))) % len(TITLES)] \
                    if old in TITLES else TITLES[0]
                entity.data["title"] = new
                return [_change("title", [old], [new])]
            old = entity.data.get("department", DEPARTMENTS[0])
            new = DEPARTMENTS[int(r() * len(DEPARTMENTS))]
            entity.data["department"] = new
            return [_change("department", [old], [new])]
        if entity.kind == "Queue":
            prop, values = QUEUE_SETTINGS[int(r() * len(QUEUE_SETTINGS))]
            old = entity.data.get(prop, values[0])
            new = values[(values.index(old) + 1 + int(r() * (len(values) - 1))) % len(values)]
            entity.data[prop] = new
            return [_change(prop, [old], [new])]
        if entity.kind == "Flow":
            words = self.directory.pools.words
            old = entity.data.get("description", "")
            new = " ".join(words[int(r() * len(words))] for _ in range(4)).capitalize()
            entity.data["description"] = new
            return [_change("description", [old] if old else None, [new])]
        if entity.kind == "Role":
            permission = PERMISSIONS[int(r() * len(PERMISSIONS))]
            granted = entity.data.setdefault("permissions", set())
            if permission in granted:
                granted.discard(permission)
                return [_change("permissionPolicies", old=[permission])]
            granted.add(permission)
            return [_change("permissionPolicies", new=[permission])]
        if entity.kind == "OAuthClient":
            old = list(entity.data["scopes"])
            scope = SCOPES[int(r() * len(SCOPES))]
            new = sorted(set(old) ^ {scope}) or [scope]
            entity.data["scopes"] = new
            return [_change("scopes", old, new)]
        old = entity.data.get("state", "ENABLED")  # Integration
        new = "DISABLED" if old == "ENABLED" else "ENABLED"
        entity.data["state"] = new
        return [_change("intendedState", [old], [new])]

    def _deleted(self, entity: Entity, at: int) -> list[dict]:
        if entity.kind == "OAuthClient":  # as captured: one side each
            gone = self.iso.seconds(at - int(self.rng.random() * 300_000))
            return [_change("deleted_on", new=[gone]), _change("scopes", old=list(entity.data["scopes"]))]
        if entity.kind == "User":
            return [_change("state", ["active"], ["deleted"])]
        return [_change("name", old=[entity.name])]

    def _audit(self, script: list, at: int, entity: Entity, action: str, changes: list[dict]) -> None:
        d, r = self.directory, self.rng.random
        actor = d.admins[int(r() * len(d.admins))][0]
        if entity.kind == "OAuthClient":
            client = entity.id  # as captured: the client's own audit names it
        elif r() < API_SHARE and d.live["OAuthClient"]:
            client = d.live["OAuthClient"][int(r() * len(d.live["OAuthClient"]))].id
        else:
            client = None  # the admin UI, as the captured presence audit: clientId {}
        args = (at, d._id(), actor, client, AUDITED[entity.kind][0], action, entity.kind, entity.id,
                entity.name, changes)
        script.append((at, T.AUDIT, entity.lane, None, (entity.kind, entity.id), action, self._build, args))

    # ---- flows: the version conversations report is the published one ----

    def _version(self, flow: Entity) -> str:
        flow_type = flow.data.get("flow_type")
        return self.org.flows[flow_type].version if flow_type else flow.data.setdefault("version", "1.0")

    def _set_version(self, flow: Entity, version: str) -> None:
        flow_type = flow.data.get("flow_type")
        if flow_type:
            old = self.org.flows[flow_type]
            self.org.flows[flow_type] = Flow(old.id, old.name, version)
        else:
            flow.data["version"] = version

    def _domain(self) -> str:
        company = self.directory.pools.companies[0].split()[0].split(",")[0].lower()
        return f"{company}.example.com"


def _change(prop: str, old: list[str] | None = None, new: list[str] | None = None) -> dict:
    change: dict = {"property": prop}
    if old is not None:
        change["oldValues"] = old
    if new is not None:
        change["newValues"] = new
    return change

