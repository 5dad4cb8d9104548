"""scripts/readme_matrix.py: matrix parts merged by scenario and by column name."""
from __future__ import annotations

import importlib.util
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "readme_matrix.py"
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


def _script(*args: str, cwd: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True)


def test_the_readme_s_own_command_rewrites_its_table(tmp_path):
    """The command the README prints, run as printed, on a copy of the README and its report."""
    readme = (ROOT / "README.md").read_text()
    [line] = [ln for ln in readme.splitlines() if ln.startswith("python scripts/readme_matrix.py")]
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "matrix.md").write_text(part(["a"], {"s1": ["2 / 0 ✗"]}, seed=9))
    (tmp_path / "README.md").write_text(readme)
    done = _script(*shlex.split(line)[2:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "| s1 (seed 9) | 2 / 0 ✗ |" in (tmp_path / "README.md").read_text()


def test_a_part_that_is_not_a_matrix_report_is_named(tmp_path):
    (tmp_path / "README.md").write_text("# a readme\n")
    done = _script(str(tmp_path / "README.md"), cwd=tmp_path)
    assert done.returncode == 2
    assert "README.md: not a matrix report" in done.stderr and "Traceback" not in done.stderr
    missing = _script(str(tmp_path / "nope.md"), cwd=tmp_path)
    assert missing.returncode == 2 and "nope.md: No such file or directory" in missing.stderr
