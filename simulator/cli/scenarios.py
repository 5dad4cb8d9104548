"""`genesys-sim scenarios`: the shipped scenario library as a table;
`genesys-sim scenarios validate FILE...`: check scenario files, every problem
with file, line and field (exit 2 if any file is wrong)."""
from __future__ import annotations

import argparse
from collections import Counter

from simulator.errors import EXIT_BAD_INPUT, BadInput


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenarios", help="list the shipped scenarios, or validate scenario files",
                       description="Without a sub-command: list the shipped scenarios "
                       "(use the name with `genesys-sim run NAME`).")
    p.set_defaults(func=list_scenarios)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    v = actions.add_parser("validate", help="check scenario files and report every problem",
                           description="Validate each FILE (or shipped scenario name); "
                           "print OK or each problem as file:line: field: reason.")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.set_defaults(func=validate)


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _faults(names: list[str]) -> str:
    counts = Counter(names)
    return ", ".join(name if counts[name] == 1 else f"{name} x{counts[name]}" for name in counts) or "-"


def list_scenarios(args: argparse.Namespace) -> int:
    from rich.table import Table

    from simulator.scenario import load_scenario, shipped_scenarios

    table = Table(title="Shipped scenarios", title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("what it exposes")
    table.add_column("faults")
    broken = 0
    for path in shipped_scenarios():
        try:
            scenario = load_scenario(path)
        except BadInput as exc:  # a broken library file is shown, not hidden
            table.add_row(path.stem, f"[red]invalid: {escape(str(exc))}[/red]", "")
            broken += 1
            continue
        table.add_row(escape(scenario.name), escape(scenario.summary), _faults(scenario.fault_names()))
    _console().print(table)
    return EXIT_BAD_INPUT if broken else 0


def validate(args: argparse.Namespace) -> int:
    from simulator.scenario import ScenarioError, load_scenario

    console, failed = _console(), 0
    for file in args.files:
        try:
            scenario = load_scenario(file)
        except ScenarioError as exc:
            failed += 1
            for problem in exc.problems:
                console.print(f"[red]error[/red] {escape(problem)}")
        except BadInput as exc:
            failed += 1
            console.print(f"[red]error[/red] {escape(str(exc))}")
        else:
            faults = _faults(scenario.fault_names())
            console.print(f"[green]OK[/green]    {escape(f'{scenario.path} ({scenario.name}: {faults})')}")
    return EXIT_BAD_INPUT if failed else 0
