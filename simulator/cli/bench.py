"""`genesys-sim bench --consumer SPEC [...]`: benchmark a consumer. Steps the
scenario's offered load up until the consumer falls behind, reports every step
(offered and achieved events/s, latency, backlog, the score), and measures the
harness's own ceiling (the null consumer) and the raw emulator loop in the same
run, so a result says whether the limit was the consumer's or the harness's."""
from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from simulator.cli._common import _whole, check_reports, write_report
from simulator.errors import EXIT_ENVIRONMENT, BadInput, EnvironmentFailure
from simulator.stopping import EXIT_INTERRUPTED

BENCH_FORMATS = ("json", "markdown", "html")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark a consumer: step the load up until it falls behind",
                       description="Offer the scenario's traffic faster and faster (its clock scaled), "
                       "one step at a time, until the consumer falls behind; report each step, the "
                       "harness's own ceiling (null consumer) and the raw emulator loop.")
    p.add_argument("--consumer", "-c", action="append", required=True, metavar="SPEC",
                   help="the consumer to benchmark (repeat for two: their ratio is reported)")
    p.add_argument("--scenario", "-s", default="clean",
                   help="scenario whose traffic (and faults) is offered (default: clean)")
    p.add_argument("--instances", type=_whole, help="consumer instances (default: the scenario's)")
    p.add_argument("--step-s", type=float, default=10.0, metavar="T",
                   help="real seconds of traffic per step (default 10)")
    p.add_argument("--start-rate", type=float, default=25.0, metavar="R",
                   help="offered events/s of the first step (default 25; each next step x1.6)")
    p.add_argument("--max-rate", type=float, default=2000.0, metavar="R",
                   help="highest offered events/s (default 2000)")
    p.add_argument("--p99-bound-ms", type=float, default=1000.0, metavar="MS",
                   help="p99 latency over this is falling behind (default 1000)")
    p.add_argument("--faults", choices=("keep", "drop"), default="keep",
                   help="keep the scenario's faults at every step (default) or drop them")
    p.add_argument("--no-ceiling", action="store_true",
                   help="skip the harness's own ceiling (the null consumer's ladder)")
    p.add_argument("--no-raw-loop", action="store_true", help="skip the raw emulator loop")
    p.add_argument("--backend", choices=("moto", "localstack", "aws"))
    p.add_argument("--endpoint-url", metavar="URL")
    p.add_argument("--allow-aws", action="store_true")
    p.add_argument("--report", choices=BENCH_FORMATS, action="append",
                   help="write a report in this format (repeatable, each with its own --out)")
    p.add_argument("--out", metavar="PATH", action="append", help="where to write the report")
    p.add_argument("--run-dir", metavar="DIR", default="runs", help="ledgers of every step (default ./runs)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _settings(args: argparse.Namespace, scenario: Any) -> Any:
    from simulator.bench.ladder import BenchSettings
    from simulator.options import RunOptions, cli_flag

    for name in ("step_s", "start_rate", "max_rate", "p99_bound_ms"):
        value = getattr(args, name)
        if not value > 0:
            raise BadInput(f"expected a number > 0, got {value:g}", where=cli_flag(name))
    if args.start_rate > args.max_rate:
        raise BadInput(f"--start-rate {args.start_rate:g} is above --max-rate {args.max_rate:g}",
                       where="--start-rate")
    options = RunOptions.checked(cli_flag, instances=args.instances, backend=args.backend)
    return BenchSettings(scenario=scenario, step_s=args.step_s, start_rate=args.start_rate,
                         max_rate=args.max_rate, p99_bound_ms=args.p99_bound_ms,
                         faults=args.faults == "keep", options=options)


def run(args: argparse.Namespace) -> int:
    from simulator.bench.ladder import native_rate, run_ladder
    from simulator.bench.null import SPEC as NULL_SPEC
    from simulator.bench.rawloop import raw_loop
    from simulator.bench.result import BenchResult, render, render_terminal
    from simulator.clients.interpreter import consumer_specs
    from simulator.clients.spec import parse_spec
    from simulator.harness import Harness
    from simulator.scenario import load_scenario
    from simulator.stopping import Terminated, classify, stop_signals

    scenario = load_scenario(args.scenario)
    specs = consumer_specs(args.consumer, scenario)
    settings = _settings(args, scenario)
    reports = check_reports(args)
    started = time.monotonic()
    backend_name = settings.options.backend or scenario.backend
    result = BenchResult(scenario=scenario.name, backend=backend_name,
                         instances=settings.options.instances or scenario.consumers.instances,
                         step_s=settings.step_s, faults=settings.faults, ladders=[])
    native = native_rate(scenario, scenario.seed)
    with stop_signals(), Harness(out_dir=args.run_dir, endpoint_url=args.endpoint_url,
                                 allow_aws=args.allow_aws) as harness, _Progress(not args.quiet) as bar:
        try:
            if not args.no_raw_loop:
                bar.note("raw emulator loop")
                result.raw = raw_loop(harness.backend(backend_name))
            ladders = [(parse_spec(NULL_SPEC), "null (harness ceiling)")] if not args.no_ceiling else []
            for spec, name in ladders + [(spec, spec.name) for spec in specs]:
                ladder = run_ladder(harness, spec, name, settings, native=native,
                                    on_step=bar.step(name, settings))
                if spec.raw == NULL_SPEC and name.startswith("null"):
                    result.null = ladder
                else:
                    result.ladders.append(ladder)
                last = ladder.steps[-1] if ladder.steps else None
                if last is not None and not last.complete:  # a step was stopped: so is the bench
                    stop = _stop_of(last)
                    result.complete = False
                    result.notes.append(f"bench stopped: {stop}")
                    break
        except (KeyboardInterrupt, Terminated, EnvironmentFailure) as exc:  # report what was measured
            result.complete = False
            result.notes.append(f"bench stopped: {classify(exc).reason}")
    result.elapsed_s = time.monotonic() - started
    sys.stdout.write(render_terminal(result))
    for fmt, out in reports:
        text = render(result, fmt)
        if out:
            write_report(out, text)
            print(f"report written to {out}")
        else:
            sys.stdout.write(text)
    if not result.complete:
        return EXIT_INTERRUPTED if any("Ctrl-C" in n for n in result.notes) else EXIT_ENVIRONMENT
    return 0


def _stop_of(step: Any) -> str:
    reason = next((r for r in step.reasons if r.startswith("run incomplete: ")), "run incomplete: ?")
    return reason.removeprefix("run incomplete: ")


class _Progress:
    """A progress bar per ladder on stderr (steps done of the ladder's steps)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                      MofNCompleteColumn(), TextColumn("{task.fields[status]}"),
                                      TimeElapsedColumn(), console=Console(stderr=True))
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(f"[dim]{text}…")
        else:
            print(f"bench: {text}…", file=sys.stderr, flush=True)

    def step(self, name: str, settings: Any) -> Any:
        total = len(settings.rates())

        def done(step: Any) -> None:
            status = (f"{step.offered_eps:.0f} offered → {step.achieved_eps:.0f}/s"
                      + (" BEHIND" if step.behind else ""))
            if self._progress is None:
                print(f"bench {name}: {status}", file=sys.stderr, flush=True)
                return
            if name not in self._tasks:
                self._tasks[name] = self._progress.add_task(name, total=total, status="")
            self._progress.update(self._tasks[name], advance=1, status=status)

        return done
