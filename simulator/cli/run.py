"""`genesys-sim run SCENARIO --consumer SPEC [...]`: run one scenario against one
or more consumers and score them."""
from __future__ import annotations

import argparse

from simulator.cli._common import add_run_options, check_reports, emit, live_progress, run_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario against consumers and score them",
                       description="Run SCENARIO (a file, or the name of a shipped scenario) "
                       "against each --consumer and print missed/duplicated per consumer.")
    p.add_argument("scenario", help="scenario file or shipped scenario name (see `genesys-sim scenarios`)")
    p.add_argument("--consumer", "-c", action="append", required=True, metavar="SPEC",
                   help="ref:NAME, python:MOD:CLASS, lambda-sqs:FILE:FN or lambda-eb:FILE:FN (a Python, "
                   ".js/.mjs/.cjs or .ts file), wsgi:MOD:FACTORY, deno:FILE[:EXPORT], http:URL or "
                   "cmd:COMMAND (repeatable)")
    add_run_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from simulator.clients.interpreter import consumer_specs
    from simulator.harness import Harness
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario
    from simulator.stopping import stop_signals

    scenario = load_scenario(args.scenario)
    specs = consumer_specs(args.consumer, scenario, python=args.python)
    reports = check_reports(args)
    options = run_options(args)
    with stop_signals(), \
            Harness(out_dir=args.run_dir, endpoint_url=args.endpoint_url, allow_aws=args.allow_aws) as harness, \
            live_progress(not args.quiet) as progress:
        result = run_scenario(harness, scenario, specs, options=options, progress=progress)
    return emit(result, args, reports)
