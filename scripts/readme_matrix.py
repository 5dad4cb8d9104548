"""Put the matrix summary of `genesys-sim matrix --report markdown` into README.md
between the `<!-- matrix:start -->` / `<!-- matrix:end -->` markers, with each
scenario's seed, so every cell can be reproduced with
`genesys-sim run SCENARIO --seed SEED --consumer ref:NAME`.

    genesys-sim matrix --parallel 2 --report markdown --out docs/matrix.md
    python scripts/readme_matrix.py docs/matrix.md --readme README.md

Scenarios run independently, so a matrix can be run in parts (`--scenario`) and
the parts merged (a later part's run of a scenario replaces an earlier one's):

    python scripts/readme_matrix.py part1.md part2.md --out docs/matrix.md --readme README.md
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"
RUN = re.compile(r"^### (\S+) \(seed (\d+),", re.M)


def parse(markdown: str) -> tuple[str, dict[str, str], dict[str, str], dict[str, str]]:
    """(summary table header, {scenario: summary row}, {scenario: run section}, {scenario: seed})."""
    lines = markdown.split("\n")
    first = next(i for i, line in enumerate(lines) if line.startswith("## Matrix"))
    header = "\n".join(lines[first + 2:first + 4])
    rows = {}
    for line in lines[first + 4:]:
        if not line.startswith("|"):
            break
        rows[line.split(" | ")[0].lstrip("| ").strip()] = line
    sections = {m.group(1): chunk for chunk in re.split(r"(?=^### )", markdown, flags=re.M)
                if (m := RUN.match(chunk))}
    seeds = dict(RUN.findall(markdown))
    return header, rows, sections, seeds


def merge(parts: list[str]) -> tuple[str, str]:
    """The merged report and the README summary (with seeds)."""
    header, rows, sections, seeds = "", {}, {}, {}
    for part in parts:
        h, r, s, d = parse(part)
        header = header or h
        rows.update(r)
        sections.update(s)
        seeds.update(d)
    names = sorted(rows)
    failed = any("✗" in rows[n] for n in names)
    table = [header] + [rows[n] for n in names]
    report = "\n".join([f"## Matrix: **{'FAIL' if failed else 'PASS'}** (missed / duplicated; ✗ = verdict failed)",
                        "", *table, "", *(sections[n].rstrip() + "\n" for n in names if n in sections)])
    readme_rows = [header] + [rows[n].replace(f"| {n} |", f"| {n} (seed {seeds[n]}) |", 1) for n in names]
    return report, "\n".join(readme_rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("parts", nargs="+", help="matrix reports (markdown)")
    p.add_argument("--out", help="write the merged report here")
    p.add_argument("--readme", help="README to put the summary into")
    args = p.parse_args()
    report, summary = merge([Path(f).read_text() for f in args.parts])
    if args.out:
        Path(args.out).write_text(report)
    if args.readme:
        text = Path(args.readme).read_text()
        if START not in text or END not in text:
            p.error(f"{args.readme}: no {START} ... {END} markers")
        head, rest = text.split(START, 1)
        Path(args.readme).write_text(f"{head}{START}\n{summary}\n{END}{rest.split(END, 1)[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
