"""What `run` and `matrix` share: options, the live progress display and the
results output (table on the terminal, a report to a file or stdout)."""
from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from simulator.errors import BadInput, EXIT_ENVIRONMENT, EnvironmentFailure

REPORT_FORMATS = ("json", "junit", "markdown", "html")


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=("moto", "localstack", "aws"),
                   help="override the scenario's backend (default: the scenario's, usually moto)")
    p.add_argument("--endpoint-url", metavar="URL",
                   help="emulator endpoint for --backend localstack (default: AWS_ENDPOINT_URL / LOCALSTACK_HOST)")
    p.add_argument("--allow-aws", action="store_true",
                   help="permit --backend aws: create and delete real resources in your AWS account")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--instances", type=_positive_int, help="override consumers.instances")
    p.add_argument("--parallel", type=_positive_int, default=1, metavar="N",
                   help="run up to N consumers of a scenario side by side, each on its own queue "
                   "(default 1: one after another)")
    p.add_argument("--report", choices=REPORT_FORMATS, help="write a report in this format")
    p.add_argument("--out", metavar="PATH", help="where to write the report (default: stdout)")
    p.add_argument("--run-dir", metavar="DIR", default="runs",
                   help="where ledgers and consumer logs go (default: ./runs)")
    p.add_argument("--quiet", action="store_true", help="no live progress display")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def check_out(path: str | None) -> Path | None:
    """Fail before a run, not after it, when the report cannot be written."""
    if path is None:
        return None
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise BadInput("is a directory", where=f"--out {path}")
    if not parent.is_dir():
        raise BadInput(f"directory {parent} does not exist", where=f"--out {path}")
    try:
        with open(out, "a"):
            pass
    except OSError as exc:
        raise BadInput(f"cannot write: {exc.strerror}", where=f"--out {path}") from None
    return out


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


def emit(result: Any, args: argparse.Namespace, out: Path | None) -> int:
    """Print the table, write the report, and give the exit status."""
    from rich.console import Console

    from simulator.report import render, terminal

    to_stderr = bool(args.report and not out)
    stream = sys.stderr if to_stderr else sys.stdout
    # Piped into a CI log there is no terminal width to respect: keep columns whole.
    table_console = Console(stderr=to_stderr, width=None if stream.isatty() else 160)
    terminal.print_result(result, table_console)
    if args.report:
        text = render(result, args.report)
        if out:
            out.write_text(text)
            table_console.print(f"report written to {out}")
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    abort = result.abort
    if isinstance(abort, EnvironmentFailure):
        print(f"genesys-sim: error: {abort} (the report above is incomplete)", file=sys.stderr)
        return EXIT_ENVIRONMENT
    if isinstance(abort, KeyboardInterrupt):
        print("genesys-sim: interrupted (the report above is incomplete)", file=sys.stderr)
        return 130
    if abort is not None:
        print(f"genesys-sim: error: {abort} (the report above is incomplete)", file=sys.stderr)
        return getattr(abort, "exit_code", 1)
    return result.exit_code
