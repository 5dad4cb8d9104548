"""Which program runs one instance of a consumer: the harness's Python host for
``python:``, ``lambda-sqs:``, ``lambda-eb:`` and ``wsgi:`` code, its Node.js host
for ``lambda-sqs:``/``lambda-eb:`` handlers in Node files, and the lifeline guard
around a ``cmd:`` program. A runtime for another language (a Deno host) is one
more entry here: a function of the spec giving the argv, run with the same
environment and ``GENESYS_SIM_HOST`` configuration (host.py)."""
from __future__ import annotations

import sys

from simulator.clients import node
from simulator.clients.spec import ConsumerSpec


def instance_argv(spec: ConsumerSpec) -> list[str]:
    """The command line of one instance of ``spec``."""
    if spec.kind == "cmd":
        # the user's program, as their shell would run it, under a guard holding the lifeline
        return [sys.executable, "-m", "simulator.clients.lifeline", "--", spec.target]
    if spec.runtime == "node":
        return node.host_argv(spec.target)
    if spec.kind == "deno":
        # a launcher that works out Deno's permissions and clock, then execs Deno's host
        return [sys.executable, "-m", "simulator.clients.deno.launch"]
    # a consumer's own interpreter (a virtual environment with its dependencies), else ours
    return [spec.python or sys.executable, "-m", "simulator.clients.host"]
