"""A hosted Python consumer under its own interpreter (``--python PATH``, or a
scenario's ``consumers.python``): a virtual environment's ``bin/python`` with
the consumer's own dependencies (another Powertools release, say), instead of
the harness's. The harness's host module still runs in it: the project's source
folder goes on the child's ``PYTHONPATH``, and the child needs the host's own
runtime dependencies (``HOST_NEEDS``). Both are checked before a run starts, with
the consumer's target imported under that interpreter."""
from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path
from typing import Any

import simulator
from simulator.clients.spec import ConsumerSpec
from simulator.errors import BadInput

# The folder that holds ``simulator/`` and ``consumers/``.
SOURCE_ROOT = Path(simulator.__file__).resolve().parents[1]
# What simulator.clients.host imports beyond the standard library: orjson always,
# boto3 for the SQS poll loops, werkzeug to serve lambda-eb/wsgi instances.
HOST_NEEDS = {"python": ("orjson", "boto3"), "lambda-sqs": ("orjson", "boto3"),
              "lambda-eb": ("orjson", "werkzeug"), "wsgi": ("orjson", "werkzeug")}
CHECK_TIMEOUT_S = 60.0

_CHECK = """
import importlib.util, sys
missing = [m for m in sys.argv[2:] if importlib.util.find_spec(m) is None]
if missing:
    print("lacks what the harness's host needs: " + ", ".join(missing)
          + " (pip install " + " ".join(missing) + " into it)"); sys.exit(3)
import simulator.clients.host
from simulator.clients.spec import load_target
from simulator.errors import BadInput
try:
    load_target(sys.argv[1])
except BadInput as exc:
    print(exc); sys.exit(4)
"""


def child_pythonpath(env: dict[str, str]) -> str:
    """``PYTHONPATH`` for a host process: what it had, then the project's source,
    so the harness's host imports under any interpreter."""
    parts = [*(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p), str(SOURCE_ROOT)]
    return os.pathsep.join(dict.fromkeys(parts))


def hosts_python(spec: ConsumerSpec) -> bool:
    return spec.kind in HOST_NEEDS and spec.runtime == "python"


def with_python(spec: ConsumerSpec, python: str | None, *, where: str) -> ConsumerSpec:
    """``spec`` run under ``python`` (checked; None: unchanged). Only hosted Python
    consumers have an interpreter to choose; for the others it is bad input."""
    if python is None:
        return spec
    if not hosts_python(spec):
        raise BadInput(f"only python:, lambda-sqs:, lambda-eb: and wsgi: Python consumers run under an "
                       f"interpreter of their own; {spec.raw!r} does not", where=where)
    return dataclasses.replace(spec, python=check_python(python, spec, where=where))


def consumer_specs(consumers: list[str | ConsumerSpec], scenario: Any, *, python: str | None = None,
                   option: str = "--python") -> list[ConsumerSpec]:
    """The specs of ``scenario``'s consumers, hosted Python ones under ``python``
    (an option the user gave, named ``option``) or else the scenario's
    ``consumers.python``: then the target is imported by that interpreter (its
    dependencies may be only there), not ours. Every entry point (``run``,
    ``matrix``, ``bench``, ``POST /runs``, the pytest plugin) goes through here,
    so a scenario's interpreter holds however it is run. ``python`` for a
    consumer that is not hosted Python is bad input; the scenario's interpreter
    is for the hosted Python consumers only."""
    from simulator.clients.spec import parse_spec

    chosen = python or scenario.consumers.python
    if chosen is None:
        return [c if isinstance(c, ConsumerSpec) else parse_spec(c) for c in consumers]
    where = option if python else f"{scenario.path or scenario.name}: consumers.python"

    def one(consumer: str | ConsumerSpec) -> ConsumerSpec:
        given = isinstance(consumer, ConsumerSpec)
        spec = consumer if given else parse_spec(consumer, check=False)
        if given and spec.python:  # built with an interpreter of its own
            return spec
        if python or hosts_python(spec):
            return with_python(spec, chosen, where=where)
        return spec if given else parse_spec(consumer)  # checked here, as with no interpreter

    return [one(c) for c in consumers]


def check_python(python: str, spec: ConsumerSpec, *, where: str) -> str:
    """The interpreter's absolute path, once it exists, runs, has the host's
    dependencies and imports the consumer's target; BadInput naming ``where``."""
    path = Path(python).expanduser()
    path = path if path.is_absolute() else Path.cwd() / path
    if not path.is_file() or not os.access(path, os.X_OK):
        raise BadInput(f"no executable Python interpreter at {python}", where=where)
    env = {**os.environ, "PYTHONPATH": child_pythonpath(dict(os.environ))}
    try:
        done = subprocess.run([str(path), "-c", _CHECK, spec.target, *HOST_NEEDS[spec.kind]],
                              env=env, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BadInput(f"{python} did not run: {exc}", where=where) from None
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).strip().splitlines()
        raise BadInput(f"{python}: {lines[-1] if lines else f'exit {done.returncode}'}", where=where)
    return str(path)
