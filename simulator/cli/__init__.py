"""`genesys-sim` command line. Each sub-command lives in its own module in this
package and exposes ``register(subparsers)`` which adds its parser and sets
``func`` (``args -> int`` exit status)."""
from __future__ import annotations

import argparse
import importlib
import sys

from simulator.errors import EXIT_BAD_INPUT, EXIT_ENVIRONMENT, SimError
from simulator.stopping import EXIT_INTERRUPTED, Terminated

# Order here is the order in --help.
COMMANDS = ("run", "matrix", "bench", "explain", "fixtures", "consumers", "scenarios", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genesys-sim",
        description="Generate Genesys Cloud events, deliver them through SQS/EventBridge "
        "emulators with production faults, and score the consumer under test.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"simulator.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"simulator.cli.{name}":
                raise
            continue  # command not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except SimError as exc:
        print(f"genesys-sim: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("genesys-sim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("genesys-sim: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_ENVIRONMENT
