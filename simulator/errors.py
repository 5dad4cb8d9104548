"""The two kinds of failure a user can be told about, and their exit codes
(DESIGN.md: 0 pass, 1 a verdict failed, 2 bad input, 3 environment failure)."""
from __future__ import annotations

from typing import Callable

EXIT_PASS = 0
EXIT_VERDICT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3


class SimError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class BadInput(SimError):
    """The user gave us something wrong: a scenario, a consumer spec, an option.
    ``where`` names the file:line, field or option."""

    exit_code = EXIT_BAD_INPUT


class EnvironmentFailure(SimError):
    """Something outside the user's input is missing: a backend, a service."""

    exit_code = EXIT_ENVIRONMENT


def report_setup(step: "Callable[[], str]") -> int:
    """A setup command's body (``python -m simulator.clients.node``, ``... deno
    install``, ``... venvs NAME``): print what ``step`` returns and exit 0, or print
    its SimError the way the CLI does and exit with the error's code."""
    import sys

    try:
        print(step())
    except SimError as exc:
        print(f"genesys-sim: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0
