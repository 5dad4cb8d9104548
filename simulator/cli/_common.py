"""What `run` and `matrix` share: options, the live progress display and the
results output (table on the terminal, a report to a file or stdout)."""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from simulator.errors import BadInput

REPORT_FORMATS = ("json", "junit", "markdown", "html")


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=("moto", "localstack", "aws"),
                   help="override the scenario's backend (default: the scenario's, usually moto)")
    p.add_argument("--endpoint-url", metavar="URL",
                   help="emulator endpoint for --backend localstack (default: AWS_ENDPOINT_URL / LOCALSTACK_HOST)")
    p.add_argument("--allow-aws", action="store_true",
                   help="permit --backend aws: create and delete real resources in your AWS account")
    p.add_argument("--seed", type=_whole, help="override the scenario's seed")
    p.add_argument("--instances", type=_whole, help="override consumers.instances (1-64)")
    p.add_argument("--parallel", type=_whole, default=None, metavar="N",
                   help="run up to N consumers of a scenario side by side, each on its own queue "
                   "(default 1: one after another)")
    p.add_argument("--report", choices=REPORT_FORMATS, action="append",
                   help="write a report in this format (repeatable, each with its own --out: "
                   "--report junit --out r.xml --report html --out r.html)")
    p.add_argument("--out", metavar="PATH", action="append",
                   help="where to write the report (default: stdout); one per --report")
    p.add_argument("--run-dir", metavar="DIR", default="runs",
                   help="where ledgers and consumer logs go (default: ./runs)")
    p.add_argument("--quiet", action="store_true", help="no live progress display")
    p.add_argument("--python", metavar="PATH",
                   help="run hosted Python consumers (python:, lambda-sqs:, lambda-eb:, wsgi:) under this "
                   "interpreter, e.g. a virtual environment's bin/python with their own dependencies "
                   "(default: the scenario's consumers.python, else the harness's own)")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def run_options(args: argparse.Namespace) -> Any:
    """The run options of ``run``/``matrix``/``bench``, checked (simulator.options)."""
    from simulator.options import RunOptions, cli_flag

    return RunOptions.checked(cli_flag, seed=args.seed, instances=args.instances,
                              backend=args.backend, parallel=args.parallel)


def check_reports(args: argparse.Namespace) -> list[tuple[str, Path | None]]:
    """The reports to write: (format, path or None for stdout), paired in the
    order given; checked before the run (see check_out)."""
    formats, outs = args.report or [], args.out or []
    if len(formats) <= 1 and len(outs) <= 1:
        if outs and not formats:
            raise BadInput("--out needs a --report format", where=f"--out {outs[0]}")
        return [(fmt, check_out(outs[0] if outs else None)) for fmt in formats]
    if len(formats) != len(outs):
        raise BadInput(f"{len(formats)} --report and {len(outs)} --out: with several reports, give "
                       "each --report its own --out", where="--report")
    return [(fmt, check_out(path)) for fmt, path in zip(formats, outs)]


def check_out(path: str | None) -> Path | None:
    """Fail before a run, not after it, when the report cannot be written. Nothing
    is created yet: a run killed before its end leaves no empty report behind."""
    if path is None:
        return None
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise BadInput("is a directory", where=f"--out {path}")
    if not parent.is_dir():
        raise BadInput(f"directory {parent} does not exist", where=f"--out {path}")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise BadInput("cannot write: permission denied", where=f"--out {path}")
    return out


def write_report(out: Path, text: str) -> None:
    """Whole or not at all: written beside, then renamed over ``out``."""
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, out)


@contextmanager
def live_progress(enabled: bool) -> Iterator[Any]:
    """A rich progress display on stderr; a no-op callback when not on a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=False)
    tasks: dict[str, Any] = {}

    def update(state: dict) -> None:
        key = f"{state.get('scenario', '')} {state['consumer']}".strip()
        if key not in tasks:
            tasks[key] = progress.add_task(key, total=state["planned"], status="")
        status = f"{state['phase']} · effects {state['effects']}"
        if "pending" in state:
            status += f" · on queue {state['pending']}"
        progress.update(tasks[key], completed=state["sent"], status=status)

    with progress:
        yield update


def emit(result: Any, args: argparse.Namespace, reports: list[tuple[str, Path | None]]) -> int:
    """Print the table, write the reports, and give the exit status."""
    from rich.console import Console

    from simulator.report import render, terminal

    to_stderr = any(out is None for _, out in reports)
    stream = sys.stderr if to_stderr else sys.stdout
    # Piped into a CI log there is no terminal width to respect: keep columns whole.
    table_console = Console(stderr=to_stderr, width=None if stream.isatty() else 160)
    terminal.print_result(result, table_console)
    for fmt, out in reports:
        text = render(result, fmt)
        if out:
            write_report(out, text)
            table_console.print(f"report written to {out}")
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    runs = getattr(result, "runs", [result])
    stopped = next((r for r in runs if r.stop is not None), None)
    if stopped is not None:
        print(f"genesys-sim: run stopped: {stopped.stop.reason} (the report above is incomplete; "
              f"exit {stopped.exit_code})", file=sys.stderr)
    return result.exit_code
