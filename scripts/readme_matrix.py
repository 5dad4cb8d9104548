"""Put the matrix summary of `genesys-sim matrix --report markdown` into README.md
between the `<!-- matrix:start -->` / `<!-- matrix:end -->` markers, with each
scenario's seed, so every cell can be reproduced with
`genesys-sim run SCENARIO --seed SEED --consumer ref:NAME`.

    genesys-sim matrix --parallel 2 --report markdown --out docs/matrix.md
    python scripts/readme_matrix.py docs/matrix.md --readme README.md

Scenarios and consumers run independently, so a matrix can be run in parts
(`--scenario`, `--consumer`) and the parts merged (a later part's cell replaces an
earlier one's):

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


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def merge(parts: list[str]) -> tuple[str, str]:
    """The merged report and the README summary (with seeds). Parts may have run
    different consumers: cells are matched by column name, the columns are every
    part's (in order of first appearance), and a cell no part ran is "—". A later
    part's cell wins; a later run of a scenario under another seed replaces the
    whole row (cells of two seeds do not share a row). A scenario's run details
    are kept from every part whose consumers a later part did not all rerun."""
    columns: list[str] = []
    cells: dict[str, dict[str, str]] = {}
    sections: dict[str, list[tuple[set[str], str]]] = {}
    seeds: dict[str, str] = {}
    for part in parts:
        h, r, s, d = parse(part)
        names = _cells(h.split("\n")[0])[1:]
        columns += [c for c in names if c not in columns]
        for scenario, line in r.items():
            if seeds.get(scenario, d.get(scenario)) != d.get(scenario):
                cells.pop(scenario, None)
                sections.pop(scenario, None)
            cells.setdefault(scenario, {}).update(zip(names, _cells(line)[1:]))
            if scenario in s:
                kept = [(ran, text) for ran, text in sections.get(scenario, []) if not ran <= set(names)]
                sections[scenario] = kept + [(set(names), s[scenario])]
        seeds.update(d)
    header = "| scenario | " + " | ".join(columns) + " |\n|" + "---|" * (len(columns) + 1)
    rows = {n: f"| {n} | " + " | ".join(cells[n].get(c, "—") for c in columns) + " |" for n in cells}
    names = sorted(rows)
    failed = any("✗" in rows[n] for n in names)
    table = [header] + [rows[n] for n in names]
    details = [text.rstrip() + "\n" for n in names for _, text in sections.get(n, [])]
    report = "\n".join([f"## Matrix: **{'FAIL' if failed else 'PASS'}** (missed / duplicated; ✗ = verdict failed)",
                        "", *table, "", *details])
    readme_rows = [header] + [rows[n].replace(f"| {n} |", f"| {n} (seed {seeds[n]}) |", 1) for n in names]
    return report, "\n".join(readme_rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("parts", nargs="+", help="matrix reports (markdown)")
    p.add_argument("--out", help="write the merged report here")
    p.add_argument("--readme", help="README to put the summary into")
    args = p.parse_args()
    texts = []
    for name in args.parts:
        try:
            text = Path(name).read_text()
        except OSError as exc:
            p.error(f"{name}: {exc.strerror}")
        if not any(line.startswith("## Matrix") for line in text.split("\n")):
            p.error(f"{name}: not a matrix report (no '## Matrix' heading; is it the README? use --readme)")
        texts.append(text)
    report, summary = merge(texts)
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
