"""What a run (or a matrix of runs) produced: the scores plus enough context to
read them later. Renderers take these and nothing else."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.errors import EXIT_PASS, EXIT_VERDICT_FAILED
from simulator.scoring import ConsumerScore
from simulator.stopping import Stop


@dataclass
class RunResult:
    """One scenario run: every consumer's score."""

    scenario: str
    seed: int
    backend: str
    delivery: str
    consumers: list[ConsumerScore]
    complete: bool = True
    elapsed_s: float = 0.0
    notes: list[str] = field(default_factory=list)
    ledger_path: str | None = None
    # What stopped the run half-way (bad input met mid-run, a backend gone, Ctrl-C):
    # the scores cover what was observed until then.
    abort: BaseException | None = field(default=None, repr=False)
    stop: Stop | None = field(default=None, repr=False)
    run_dir: str | None = None
    time_scale: float = 1.0  # scenario seconds per real second
    # ``genesys-sim run SCENARIO --seed N``: append ``--consumer SPEC`` to rerun one
    reproduce: str | None = None

    @property
    def passed(self) -> bool:
        """Every verdict passed, in a run that completed: an incomplete run never passes."""
        return self.complete and all(c.verdict == "pass" for c in self.consumers)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def exit_code(self) -> int:
        """0 passed, 1 a verdict failed; an incomplete run says what stopped it
        (2 bad input met half-way, 3 environment, 130 Ctrl-C)."""
        if self.stop is not None:
            return self.stop.exit_code
        if not self.complete:
            return 3
        return EXIT_PASS if self.passed else EXIT_VERDICT_FAILED

    def reproduce_command(self, consumer: str) -> str | None:
        """The command that reruns this scenario against ``consumer`` (its name)."""
        import shlex

        spec = next((c.spec for c in self.consumers if c.name == consumer), None)
        if self.reproduce is None or spec is None:
            return None
        return f"{self.reproduce} --consumer {shlex.quote(spec)}"

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        """The DESIGN.md ``--report json`` object."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "backend": self.backend,
            "delivery": self.delivery,
            "complete": self.complete,
            "stopped": self.stop.reason if self.stop else None,
            "exit_code": self.exit_code,
            "elapsed_s": round(self.elapsed_s, 3),
            "verdict": self.verdict,
            "notes": list(self.notes),
            "run_dir": self.run_dir,
            "reproduce": self.reproduce,
            "consumers": [c.to_dict(samples=samples) for c in self.consumers],
        }


@dataclass
class MatrixResult:
    """Runs over scenarios x consumers (one RunResult per scenario, usually)."""

    runs: list[RunResult] = field(default_factory=list)

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(r.scenario for r in self.runs))

    @property
    def consumer_names(self) -> list[str]:
        return list(dict.fromkeys(c.name for r in self.runs for c in r.consumers))

    def cell(self, scenario: str, consumer: str) -> ConsumerScore | None:
        """The score of ``consumer`` in ``scenario`` (the last one, if run twice)."""
        found = None
        for run in self.runs:
            if run.scenario == scenario:
                for score in run.consumers:
                    if score.name == consumer:
                        found = score
        return found

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.runs)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def complete(self) -> bool:
        return all(r.complete for r in self.runs)

    @property
    def abort(self) -> BaseException | None:
        return next((r.abort for r in self.runs if r.abort is not None), None)

    @property
    def exit_code(self) -> int:
        stopped = next((r for r in self.runs if not r.complete), None)
        if stopped is not None:
            return stopped.exit_code
        return EXIT_PASS if self.passed else EXIT_VERDICT_FAILED

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "complete": self.complete,
            "runs": [r.to_dict(samples=samples) for r in self.runs],
        }
