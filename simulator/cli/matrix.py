"""`genesys-sim matrix`: every scenario x every consumer, one table of
missed / duplicated per cell (defaults: the shipped library x the reference consumers)."""
from __future__ import annotations

import argparse

from simulator.cli._common import add_run_options, check_reports, emit, live_progress, run_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("matrix", help="run scenarios x consumers and print one table",
                       description="Run each --scenario against each --consumer. Without "
                       "--scenario: every shipped scenario; without --consumer: every reference consumer.")
    p.add_argument("--scenario", "-s", action="append", metavar="SCENARIO", help="repeatable")
    p.add_argument("--consumer", "-c", action="append", metavar="SPEC", help="repeatable")
    add_run_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from consumers import REFERENCES
    from simulator.clients.interpreter import consumer_specs
    from simulator.harness import Harness
    from simulator.report import MatrixResult
    from simulator.runner import run_scenario
    from simulator.scenario import load_scenario, shipped_scenarios
    from simulator.stopping import stop_signals

    scenarios = [load_scenario(s) for s in (args.scenario or shipped_scenarios())]
    raws = args.consumer or [f"ref:{r.name}" for r in REFERENCES]
    plans = [(scenario, consumer_specs(raws, scenario, python=args.python)) for scenario in scenarios]
    reports = check_reports(args)
    options = run_options(args)
    runs = []
    with stop_signals(), \
            Harness(out_dir=args.run_dir, endpoint_url=args.endpoint_url, allow_aws=args.allow_aws) as harness, \
            live_progress(not args.quiet) as progress:
        for scenario, specs in plans:
            def tagged(state: dict, _name: str = scenario.name) -> None:
                if progress:
                    progress({**state, "scenario": _name})
            result = run_scenario(harness, scenario, specs, options=options, progress=tagged)
            runs.append(result)
            if not result.complete:
                break
    return emit(MatrixResult(runs=runs), args, reports)
