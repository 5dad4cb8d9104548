"""The Node.js runtime: ``lambda-sqs:`` and ``lambda-eb:`` handlers in a ``.js``,
``.mjs``, ``.cjs`` or ``.ts`` file (``.mts``/``.cts`` too) run unchanged under the
machine's Node.js (20 or later), in ``host.mjs`` beside this file: the same
environment, ``GENESYS_SIM_HOST`` configuration, receipts, faults and exit
statuses as the Python host (simulator/clients/host.py). TypeScript runs through
tsx, registered in the same single Node process (its CommonJS or ES module hooks,
for the format the file has).

Before a run, ``check_handler`` loads the file in Node (``check.mjs``) so that a
syntax error or a missing export is bad input (exit 2) naming file and export.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

from simulator.clients.api import ENV_CONSUMER, ENV_INSTANCE, ENV_REGION, ENV_SINK, ENV_TIME_SCALE
from simulator.clients.node.install import HERE, modules_dir
from simulator.errors import BadInput, EnvironmentFailure

NODE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
ENV_NODE = "GENESYS_SIM_NODE"  # the node executable; default: node on PATH
MIN_NODE_MAJOR = 20
CHECK_TIMEOUT_S = 60.0
_CHECK_MARK = "genesys-sim-check "


def handler_file(target: str) -> str:
    """The FILE of a ``FILE:EXPORT`` target ('' when there is no ``:``)."""
    return target.rpartition(":")[0]


def is_node_target(target: str) -> bool:
    return handler_file(target).endswith(NODE_SUFFIXES)


def node_executable() -> str:
    return _node(os.environ.get(ENV_NODE) or "node")


@functools.cache
def _node(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise EnvironmentFailure(f"Node.js ({name!r}) is not on PATH: Node.js {MIN_NODE_MAJOR} or later runs "
                                 f".js/.mjs/.cjs/.ts handlers (or set {ENV_NODE})")
    try:
        version = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentFailure(f"{path} --version did not answer a Node.js version: {exc}") from exc
    if major < MIN_NODE_MAJOR:
        raise EnvironmentFailure(f"{path} is Node.js {version}; the Node.js host needs {MIN_NODE_MAJOR} or later")
    return path


def node_argv(script: str) -> list[str]:
    """``node SCRIPT --modules DIR``: a script of this folder, given the installed
    packages (the script registers tsx itself for a TypeScript handler)."""
    return [node_executable(), str(HERE / script), "--modules", str(modules_dir())]


def host_argv(target: str) -> list[str]:
    """The command line of one Node.js consumer instance (its handler is in
    ``GENESYS_SIM_HOST``, as for the Python host)."""
    return node_argv("host.mjs")


def check_handler(target: str, *, where: str) -> None:
    """Load ``FILE:EXPORT`` in Node as the host will; BadInput naming the file and
    the export when the file is missing, does not load, or lacks the function."""
    file, _, export = target.rpartition(":")
    if not export:
        raise BadInput(f"expected FILE:EXPORT, got {target!r}", where=where)
    path = Path(file).resolve()
    if not path.is_file():
        raise BadInput(f"no such file: {file}", where=where)
    _check(target, str(path), path.stat().st_mtime_ns, node_executable(), where)


def _check_env() -> dict[str, str]:
    """The module is loaded before the run exists: the consumer environment's
    variables its module-level code may read get stand-in values (the SDK wants
    a region at client construction), whatever the user set wins."""
    stand_ins = {ENV_REGION: "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", ENV_SINK: "http://127.0.0.1:9/check",
                 ENV_TIME_SCALE: "1", ENV_CONSUMER: "check", ENV_INSTANCE: "0"}
    return {**stand_ins, **os.environ}


@functools.lru_cache(maxsize=64)
def _check(target: str, path: str, mtime_ns: int, node: str, where: str) -> None:
    # cached per file version and Node: a spec is parsed more than once on its way to a run
    argv = node_argv("check.mjs") + [target]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=CHECK_TIMEOUT_S,
                              stdin=subprocess.DEVNULL, env=_check_env())
    except subprocess.TimeoutExpired:
        raise BadInput(f"{handler_file(target)} did not finish loading in Node.js within "
                       f"{CHECK_TIMEOUT_S:g} s (module-level code waiting on something?)", where=where) from None
    verdicts = [line[len(_CHECK_MARK):] for line in done.stdout.splitlines() if line.startswith(_CHECK_MARK)]
    if not verdicts:
        tail = "; ".join(done.stderr.strip().splitlines()[-3:])
        raise BadInput(f"Node.js could not load {handler_file(target)} (exit {done.returncode}): {tail}",
                       where=where)
    verdict = json.loads(verdicts[-1])
    if not verdict["ok"]:
        raise BadInput(verdict["error"], where=where)
