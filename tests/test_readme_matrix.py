"""scripts/readme_matrix.py: matrix parts merged by scenario and by column name."""
from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "readme_matrix.py"
spec = importlib.util.spec_from_file_location("readme_matrix", SCRIPT)
readme_matrix = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_matrix)


def part(columns: list[str], rows: dict[str, list[str]], seed: int = 1) -> str:
    lines = ["## Matrix: **FAIL** (missed / duplicated; ✗ = verdict failed)", "",
             "| scenario | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 1)]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()]
    lines += [""] + [f"### {name} (seed {seed}, moto, sqs)\n\ndetails of {name}\n" for name in rows]
    return "\n".join(lines)


def test_parts_with_other_consumers_merge_by_column_and_later_runs_win():
    first = part(["a", "b"], {"s1": ["0 / 0", "1 / 0 ✗"], "s2": ["0 / 0", "0 / 0"]})
    later = part(["a", "c", "b"], {"s2": ["0 / 2 ✗", "0 / 0", "0 / 0"]})
    report, summary = readme_matrix.merge([first, later])
    lines = summary.splitlines()
    assert lines[0] == "| scenario | a | b | c |"
    assert lines[2] == "| s1 (seed 1) | 0 / 0 | 1 / 0 ✗ | — |"  # c never ran on s1
    assert lines[3] == "| s2 (seed 1) | 0 / 2 ✗ | 0 / 0 | 0 / 0 |"  # the later part's run of s2
    assert "details of s1" in report and report.startswith("## Matrix: **FAIL**")


def test_a_part_with_one_more_consumer_keeps_the_other_cells_and_details():
    first = part(["a", "b"], {"s1": ["0 / 0", "1 / 0 ✗"]})
    column = part(["c"], {"s1": ["3 / 0 ✗"]})
    report, summary = readme_matrix.merge([first, column])
    assert summary.splitlines()[2] == "| s1 (seed 1) | 0 / 0 | 1 / 0 ✗ | 3 / 0 ✗ |"
    assert report.count("details of s1") == 2  # both runs' details: neither covers the other


def test_a_rerun_of_every_consumer_replaces_the_details():
    first = part(["a"], {"s1": ["1 / 0 ✗"]})
    rerun = part(["a"], {"s1": ["0 / 0"]})
    report, summary = readme_matrix.merge([first, rerun])
    assert summary.splitlines()[2] == "| s1 (seed 1) | 0 / 0 |"
    assert report.count("details of s1") == 1


def test_another_seed_replaces_the_whole_row():
    first = part(["a", "b"], {"s1": ["0 / 0", "1 / 0 ✗"]})
    reseeded = part(["b"], {"s1": ["0 / 0"]}, seed=9)
    _, summary = readme_matrix.merge([first, reseeded])
    assert summary.splitlines()[2] == "| s1 (seed 9) | — | 0 / 0 |"
