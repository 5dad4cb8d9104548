"""What a run (or a matrix of runs) produced: the scores plus enough context to
read them later. Renderers take these and nothing else."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.errors import EXIT_PASS, EXIT_VERDICT_FAILED
from simulator.scoring import ConsumerScore


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

    @property
    def passed(self) -> bool:
        return all(c.verdict == "pass" for c in self.consumers)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def exit_code(self) -> int:
        return EXIT_PASS if self.passed else EXIT_VERDICT_FAILED

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        """The DESIGN.md ``--report json`` object."""
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "backend": self.backend,
            "delivery": self.delivery,
            "complete": self.complete,
            "elapsed_s": round(self.elapsed_s, 3),
            "verdict": self.verdict,
            "notes": list(self.notes),
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
        return EXIT_PASS if self.passed else EXIT_VERDICT_FAILED

    def to_dict(self, *, samples: bool = False) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "complete": self.complete,
            "runs": [r.to_dict(samples=samples) for r in self.runs],
        }
