"""Scenario files: a validated, plain description of one run (DESIGN.md's shape,
extended). ``load_scenario`` reads YAML, checks every key, type and value, and
answers mistakes with ``BadInput`` naming the file, line, field path and what was
expected::

    scenarios/storm.yaml:14: faults[2].redeliver.probability: expected a number between 0 and 1, got 1.5

Every duration is scenario time (the runner divides by ``clock.time_scale``),
except ``timeout_s``, which is real seconds to wait for the consumer to drain.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from simulator.errors import BadInput
from simulator.faults import FAULT_ENTRY, FaultSpec
from simulator.faults.explain import ABSENT, dotted, keys_at, plain_child, reason, walk
from simulator.faults.params import Probability
from simulator.faults.spec import combination_problems, shape_problem

# The shipped library: in a checkout a link to the repository's top-level
# scenarios/, in an installed wheel the package data the link was built from.
SHIPPED_SCENARIOS = Path(__file__).resolve().parent / "scenarios"

# TrafficConfig's fields, for when the generator cannot be imported.
_TRAFFIC_FALLBACK = (
    "duration_s", "conversations_per_minute", "agents", "media_mix", "abandon_rate",
    "flow_out_rate", "transfer_rate", "queues", "topics", "start_ms",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Queue(_Section):
    type: Literal["standard", "fifo"] = "standard"
    visibility_timeout_s: float = Field(30.0, gt=0)
    max_receive_count: int = Field(5, ge=1, le=1000)
    batch_size: int = Field(10, ge=1, le=10)
    wait_time_s: float = Field(1.0, ge=0, le=20)  # long poll


class Retry(_Section):
    """The EventBridge target retry policy (RetryPolicy of PutTargets)."""

    maximum_retry_attempts: int = Field(185, ge=0, le=185)
    maximum_event_age_s: int = Field(86400, ge=60, le=86400)


class EventBridge(_Section):
    bus_name: str | None = None
    detail_types: list[str] | None = Field(None, min_length=1)
    # 256 KiB historically; AWS raised the PutEvents entry limit to 1 MiB in Jan 2026
    max_entry_bytes: int = Field(262144, ge=1024, le=1048576)
    retry: Retry = Retry()


class Lambda(_Section):
    """Lambda's settings for ``lambda-eb:`` and ``lambda-sqs:`` consumers: the
    function's asynchronous invocation configuration (PutFunctionEventInvokeConfig;
    lambda-eb only: EventBridge invokes Lambda asynchronously) and its timeout."""

    maximum_retry_attempts: int = Field(2, ge=0, le=2)
    maximum_event_age_s: int = Field(21600, ge=60, le=21600)
    # where an event goes after its last attempt: the function's DLQ (the event),
    # its on-failure destination (an invocation record), or nowhere
    on_failure: Literal["dlq", "destination", "drop"] = "dlq"
    duplicate_probability: Probability = 0.0  # "Lambda may invoke a function twice for one event"
    # Lambda's 1-900 s; scenario time like every duration here. Not set: no limit
    # is enforced (Lambda's own default is 3 s).
    function_timeout_s: float | None = Field(None, gt=0, le=900)


class Clock(_Section):
    time_scale: float = Field(1.0, gt=0)  # scenario seconds per real second


class Traffic(BaseModel):
    """Keyword arguments of the generator's TrafficConfig. The usual ones are typed
    here; any other key is accepted only if TrafficConfig has such a field."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, allow_inf_nan=False)

    duration_s: float = Field(600.0, gt=0)  # always finite: a run has to end
    conversations_per_minute: float | None = Field(None, gt=0)
    agents: int | None = Field(None, ge=1)
    media_mix: dict[str, Annotated[float, Field(ge=0)]] | None = None
    abandon_rate: Probability | None = None
    flow_out_rate: Probability | None = None
    transfer_rate: Probability | None = None
    topics: list[str] | None = None
    start_ms: int | None = Field(None, ge=0)


class Consumers(_Section):
    instances: int = Field(1, ge=1, le=64)
    # The interpreter hosted Python consumers run under (a virtual environment's
    # bin/python; relative to the working directory). ``--python`` wins over it.
    python: str | None = Field(None, min_length=1)


_Count = Annotated[int | None, Field(ge=0)]


class Expect(_Section):
    """Thresholds, each "at most N". Checked by simulator.scoring.Expect."""

    missed: _Count = None
    duplicated: _Count = None
    unexpected: _Count = None
    dlq: _Count = None
    poison_dropped: _Count = None
    stale_entities: _Count = None
    extra_effects: _Count = None
    p99_ms: Annotated[float | None, Field(ge=0)] = None


def _as_written(expect: Expect) -> dict:
    # Only what the file says: thresholds left out keep the scorer's defaults.
    return expect.model_dump(include=expect.model_fields_set)


class Scenario(_Section):
    name: str = Field(min_length=1)
    description: str = ""
    seed: int = 0
    backend: Literal["moto", "localstack", "aws"] = "moto"
    delivery: Literal["eventbridge", "sqs", "lambda", "http"] = "sqs"
    queue: Queue = Queue()
    eventbridge: EventBridge = EventBridge()
    lambda_: Lambda = Field(Lambda(), alias="lambda")
    clock: Clock = Clock()
    traffic: Traffic = Traffic()
    faults: list[FAULT_ENTRY] = []
    consumers: Consumers = Consumers()
    #: the thresholds written in the file, as a plain mapping for Expect.from_mapping
    expect: Annotated[Expect, AfterValidator(_as_written)] = Field(default_factory=dict, validate_default=False)
    timeout_s: float = Field(30.0, gt=0)  # real seconds to wait for the consumer to drain

    _path: Path | None = PrivateAttr(None)

    @property
    def path(self) -> Path | None:
        """The file this scenario was loaded from."""
        return self._path

    @property
    def summary(self) -> str:
        """The first line of the description."""
        return self.description.strip().splitlines()[0] if self.description.strip() else ""

    def fault_specs(self) -> tuple[FaultSpec, ...]:
        return tuple(FaultSpec.from_entry(entry) for entry in self.faults)

    def fault_names(self) -> list[str]:
        return [spec.name for spec in self.fault_specs()]

    def traffic_config(self) -> Any:
        """The generator's TrafficConfig for this scenario (generator defaults for
        anything the file leaves out, except duration_s)."""
        from simulator.events import TrafficConfig

        given = {"duration_s": self.traffic.duration_s, **self.traffic.model_dump(exclude_unset=True)}
        return TrafficConfig.from_mapping({k: tuple(v) if isinstance(v, list) else v for k, v in given.items()})


# ---- loading ----


def shipped_scenarios() -> list[Path]:
    """The scenario library that ships with the project, sorted by file name."""
    return sorted(SHIPPED_SCENARIOS.glob("*.yaml"))


def resolve(name_or_path: str | Path) -> Path:
    """A path as given, or a bare name (``ci-smoke``) looked up as
    ``scenarios/NAME.yaml`` in the current directory, then in the shipped library."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    text = str(name_or_path)
    if "/" not in text and "\\" not in text:
        stem = text[: -len(".yaml")] if text.endswith(".yaml") else text
        folders = list(dict.fromkeys((Path.cwd() / "scenarios", SHIPPED_SCENARIOS)))
        for folder in folders:
            if (folder / f"{stem}.yaml").is_file():
                return folder / f"{stem}.yaml"
        raise BadInput(
            f"no scenario file '{text}' and no scenario named '{stem}' "
            f"(looked in {', '.join(str(f) for f in folders if f.is_dir()) or 'no scenarios folder'}; "
            "`genesys-sim scenarios` lists them)"
        )
    raise BadInput(f"scenario file not found: {text}")


class ScenarioError(BadInput):
    """BadInput for a scenario file; ``problems`` holds every one found, each
    ``file:line: field: reason``; the message is the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (or a shipped scenario's bare name)."""
    file = resolve(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read scenario: {exc}", where=str(file)) from None
    return parse_scenario(text, source=str(file), path=file)


def parse_scenario(text: str, *, source: str = "<scenario>", path: Path | None = None) -> Scenario:
    """Validate scenario YAML text; ``source`` names it in messages."""
    root, data = _compose(text, source)
    key_lines: dict[int, int] = {}
    problems = _duplicate_keys(root, key_lines)
    if not isinstance(data, dict):
        problems.append((1, "", f"expected a mapping of scenario settings, got {_kind(data)}"))
    else:
        try:
            scenario = Scenario.model_validate(data)
        except ValidationError as exc:
            problems += [_locate(err["loc"], root, data, key_lines, _reason(err, data)) for err in exc.errors()]
        else:
            problems += [_locate(loc, root, data, key_lines, why) for loc, why in _cross_checks(scenario)]
            if not problems:
                scenario._path = path
                return scenario
    problems.sort(key=lambda p: p[0])
    raise ScenarioError([f"{source}:{line}: {field + ': ' if field else ''}{why}" for line, field, why in problems])


def _compose(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = " ".join(filter(None, (exc.context, exc.problem)))
        raise ScenarioError([f"{source}:{line}: YAML syntax error: {what}"]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([f"{source}:1: YAML error: {exc}"]) from None
    finally:
        loader.dispose()
    return root, data


def _kind(value: Any) -> str:
    return "an empty file" if value is None else f"a {type(value).__name__}"


def _duplicate_keys(node: Any, key_lines: dict[int, int], path: tuple = ()) -> list[tuple[int, str, str]]:
    """YAML quietly keeps the last of two equal keys; a scenario author meant one.
    Also records each mapping value's key line (where a message should point)."""
    problems = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            key_lines[id(value)] = key.start_mark.line + 1
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in seen:
                problems.append((key.start_mark.line + 1, dotted([*path, name]), "duplicate key"))
            seen.add(name)
            problems += _duplicate_keys(value, key_lines, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, key_lines, (*path, index))
    return problems


def _yaml_child(node: Any, part: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return node.value[part]
    return ABSENT


def _locate(loc: tuple, root: Any, data: Any, key_lines: dict[int, int], why: str) -> tuple[int, str, str]:
    """(line, field path, reason). A missing key points at the mapping that lacks it."""
    parts, nodes = walk(loc, root, _yaml_child)
    node = nodes[-1]
    line = key_lines.get(id(node), node.start_mark.line + 1 if node is not None else 1)
    return line, dotted(parts), why


def _reason(error: dict, data: dict) -> str:
    if error["type"] == "fault_shape":
        _, nodes = walk(error["loc"], data, plain_child)
        return shape_problem(nodes[-1])
    return reason(error, allowed=keys_at(Scenario, error["loc"][:-1]))


def _traffic_fields() -> tuple[str, ...]:
    try:
        from simulator.events import TrafficConfig
    except ImportError:
        return _TRAFFIC_FALLBACK
    return tuple(f.name for f in dataclasses.fields(TrafficConfig))


def _cross_checks(scenario: Scenario) -> list[tuple[tuple, str]]:
    """What a single field cannot know: fault combinations, traffic keys the
    generator does not have, values the generator itself refuses."""
    problems: list[tuple[tuple, str]] = [
        (("faults", index, scenario.fault_names()[index]), why)
        for index, why in combination_problems(list(scenario.fault_specs()))
    ]
    if scenario.queue.type == "fifo":
        problems += [(("faults", index, name), "a FIFO queue delivers each message exactly once: SQS's "
                      "at-least-once copy is a standard queue's (use redeliver for EventBridge's copies)")
                     for index, name in enumerate(scenario.fault_names()) if name == "sqs_duplicate"]
    known = _traffic_fields()
    unknown = [key for key in scenario.traffic.model_fields_set if key not in known]
    problems += [(("traffic", key), f"unknown traffic setting '{key}' (known: {', '.join(known)})") for key in unknown]
    if not unknown:
        try:
            scenario.traffic_config()
        except ImportError:
            pass  # no generator installed: the keys were checked against the known names
        except BadInput as exc:  # where = "traffic.<field>", e.g. "traffic.load[2].at_s"
            where = exc.where or "traffic"
            path = tuple(int(part[1:-1]) if part.startswith("[") else part
                         for part in re.findall(r"\[\d+\]|[^.\[\]]+", where))
            problems.append((path, str(exc).removeprefix(f"{where}: ")))
        except (TypeError, ValueError) as exc:
            problems.append((("traffic",), f"the generator refuses these settings: {exc}"))
    return problems
