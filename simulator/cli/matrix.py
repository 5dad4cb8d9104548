"""`genesys-sim matrix`: every scenario x every consumer, one table of
missed / duplicated per cell (defaults: the shipped library x the reference consumers)."""
from __future__ import annotations

import argparse

from simulator.cli._common import add_run_options, check_out, emit, live_progress


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
    from simulator.clients.spec import parse_spec
    from simulator.harness import Harness
    from simulator.report import MatrixResult
    from simulator.runner import RunOptions, run_scenario
    from simulator.scenario import load_scenario, shipped_scenarios

    scenarios = [load_scenario(s) for s in (args.scenario or shipped_scenarios())]
    specs = [parse_spec(raw) for raw in (args.consumer or [f"ref:{r.name}" for r in REFERENCES])]
    out = check_out(args.out)
    options = RunOptions(seed=args.seed, instances=args.instances, backend=args.backend,
                         parallel=args.parallel)
    runs = []
    with Harness(out_dir=args.run_dir, endpoint_url=args.endpoint_url, allow_aws=args.allow_aws) as harness, \
            live_progress(not args.quiet) as progress:
        for scenario in scenarios:
            def tagged(state: dict, _name: str = scenario.name) -> None:
                if progress:
                    progress({**state, "scenario": _name})
            result = run_scenario(harness, scenario, specs, options=options, progress=tagged)
            runs.append(result)
            if result.abort is not None:
                break
    return emit(MatrixResult(runs=runs), args, out)
