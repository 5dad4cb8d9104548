"""Run every benchmark and print each figure against its baseline from the same run.

    .venv/bin/python benchmarks/run_all.py [--only NAME[,NAME]] [--quick] [--verbose]

Each benchmark script runs as its own subprocess (no shared memory, no shared GIL),
one after another, its output kept in benchmarks/results/logs/NAME.log. A progress
line per benchmark goes to stderr; at the end one table (figure, baseline, ratio,
goal, met?) goes to stdout, and benchmarks/results/latest.json and latest.md are
written with the machine the figures came from (these machines are noisy: the load
average at start and end is part of the record).

A benchmark reports its figures with ``--json PATH``: ``{"benchmark": NAME,
"figures": [FIGURE, ...]}``, where a FIGURE is

    {"name": str, "value": float, "unit": str, "baseline": float, "baseline_label": str,
     "goal": str | None, "met": bool | None, "note": str}

(``ratio`` = value / baseline is computed here; ``met`` None means no goal) or
``{"name": str, "skipped": reason}``. bench_transport.py has no ``--json``: its
printed figures are read back (``transport_figures``).

Exit status: 0 when every benchmark ran, goals met or not (the table says which);
1 when a benchmark crashed; 2 bad options.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

Figure = dict
UNBUFFERED = {**os.environ, "PYTHONUNBUFFERED": "1"}  # a benchmark's lines reach its log as printed


# ---- reading bench_transport.py's printed figures ----

NUM = r"([\d.]+)"
INJECTION = re.compile(rf"^\s*(min|median)\s+bare boto3 loop:\s*{NUM} s /\s*{NUM} s CPU\s+"
                       rf"SqsInjector:\s*{NUM} s /\s*{NUM} s CPU", re.M)
INJECTED = re.compile(r"injection of (\d+) events")
BACKLOG = re.compile(rf"patched moto\s+5k:\s*{NUM} s /\s*{NUM} s CPU\s+20k:\s*{NUM} s /\s*{NUM} s CPU")
SHIPPED = re.compile(rf"shipped 5k: ~\s*{NUM} s\s+20k: ~\s*{NUM} s")
PLACEMENT = re.compile(rf"^\s*(child process|in-process thread)\S*.*?injection\s+{NUM} s\s+all consumed\s+{NUM} s", re.M)
BACKLOG_ROUNDS = re.compile(r"backlog:.*best of (\d+)")
RACES = re.compile(r"^\s*(patched|shipped) moto: received twice (\d+), missing (\d+), failed deletes (\d+)"
                   r" \(of (\d+) messages\)", re.M)
RACE_SECTIONS = re.compile(r"^\s*4\w?\. races (.*?):", re.M)  # "4a. races over HTTP: ..."
TRANSPORT_GOAL_RATIO = 1.1
BACKLOG_GOAL_RATIO = 4.5


def transport_figures(text: str) -> list[Figure]:
    """Figures from bench_transport.py's output; ValueError when its two goal
    figures (injection, backlog) are not there."""
    injection = {m[0]: [float(x) for x in m[1:]] for m in INJECTION.findall(text)}
    backlog = BACKLOG.search(text)
    if "min" not in injection or backlog is None:
        raise ValueError("bench_transport.py printed no injection or backlog figures")
    events = INJECTED.search(text)
    figures = []
    bare_w, bare_c, inj_w, inj_c = injection["min"]
    median = injection.get("median")
    for clock, value, baseline, i in (("wall", inj_w, bare_w, 0), ("CPU", inj_c, bare_c, 1)):
        note = f"{events[1] if events else '?'} events, best of 5 interleaved rounds"
        if median:
            note += f"; median ratio {median[2 + i] / median[i]:.3f}"
        figures.append(_figure(f"sqs injection ({clock})", value, "s", baseline, "bare boto3 send_message_batch",
                               f"ratio <= {TRANSPORT_GOAL_RATIO}", value / baseline <= TRANSPORT_GOAL_RATIO, note))
    w5, c5, w20, c20 = (float(x) for x in backlog.groups())
    rounds = BACKLOG_ROUNDS.search(text)
    for clock, big, small in (("wall", w20, w5), ("CPU", c20, c5)):
        figures.append(_figure(f"backlog 20k vs 5k ({clock})", big, "s", small, "backlog of 5k",
                               f"ratio <= {BACKLOG_GOAL_RATIO} (linear = 4)", big / small <= BACKLOG_GOAL_RATIO,
                               f"send N then drain on the patched embedded moto, best of "
                               f"{rounds[1] if rounds else '?'}; CPU = harness + server"))
    if shipped := SHIPPED.search(text):
        figures.append(_figure("backlog 5k, moto as shipped", float(shipped[1]), "s", w5, "patched moto",
                               None, None, "EXTRAPOLATED from 500 and 1k messages (t ~ N^k)"))
    placement = {m[0]: float(m[1]) for m in PLACEMENT.findall(text)}
    if len(placement) == 2:
        figures.append(_figure("injection, moto in-process thread", placement["in-process thread"], "s",
                               placement["child process"], "moto in a child process (default)", None, None,
                               "while 2 consumer processes receive and delete; median of 2"))
    sections = [(m.start(), m[1]) for m in RACE_SECTIONS.finditer(text)]
    for race in RACES.finditer(text):
        kind, twice, missing, failed, messages = race.groups()
        where = [label for start, label in sections if start < race.start()]
        figures.append(_figure(f"races {where[-1] if where else ''}, {kind} moto".replace(" ,", ","),
                               int(twice) + int(missing) + int(failed), "anomalies", None, None, None, None,
                               f"of {messages} messages: received twice {twice}, missing {missing}, "
                               f"failed deletes {failed}"))
    return figures


def _figure(name, value, unit, baseline, baseline_label, goal, met, note) -> Figure:
    return {"name": name, "value": value, "unit": unit, "baseline": baseline,
            "baseline_label": baseline_label, "goal": goal, "met": met, "note": note}


# ---- the benchmarks ----


@dataclass(frozen=True)
class Benchmark:
    name: str
    script: str
    measures: str
    quick: tuple[str, ...] = ()  # extra arguments under --quick
    parse: Callable[[str], list[Figure]] | None = None  # for a script without --json

    def command(self, quick: bool, json_path: Path) -> list[str]:
        args = [sys.executable, str(HERE / self.script), *(self.quick if quick else ())]
        return args if self.parse else [*args, "--json", str(json_path)]


BENCHMARKS = (
    Benchmark("generate", "bench_generate.py", "fixture generation vs naive Faker",
              quick=("--events", "50000", "--naive", "1000", "--stream", "200000")),
    Benchmark("transport", "bench_transport.py", "sqs injection vs bare boto3, backlog 5k vs 20k",
              quick=("--events", "1000", "--skip-shipped"), parse=transport_figures),
    Benchmark("checker", "bench_checker.py", "checker on 1M logical events, 1.1M effects",
              quick=("--repeat", "1")),
    Benchmark("e2e", "bench_e2e.py", "ci-smoke end to end per reference consumer", quick=("--quick",)),
    Benchmark("suite", "bench_suite.py", "scenario suite serial vs pytest -n 2", quick=("--quick",)),
    Benchmark("backends", "bench_backends.py", "moto vs LocalStack on clean.yaml", quick=("--quick",)),
    Benchmark("harness", "bench_harness.py", "harness ceiling, ref:correct 1/2/4 instances, p99 at 300/s, "
              "sink socket, production-day, against the raw emulator loop", quick=("--quick",)),
    Benchmark("serve-memory", "bench_serve_memory.py", "one serve's memory over 200 runs",
              quick=("--runs", "40", "--warmup", "10")),
)
BY_NAME = {b.name: b for b in BENCHMARKS}


@dataclass
class Outcome:
    name: str
    command: list[str]
    seconds: float
    status: int
    log: Path
    figures: list[Figure] = field(default_factory=list)
    error: str | None = None  # set when the benchmark crashed

    def to_json(self) -> dict:
        return {"name": self.name, "command": shlex.join(self.command), "seconds": round(self.seconds, 1),
                "exit_status": self.status, "log": shown(self.log), "error": self.error}


def run(bench: Benchmark, *, quick: bool, verbose: bool, tmp: Path, logs: Path) -> Outcome:
    """Run one benchmark script, its output teed to ``logs/NAME.log``, and read its figures."""
    json_path = tmp / f"{bench.name}.json"
    command = bench.command(quick, json_path)
    log = logs / f"{bench.name}.log"
    start = time.perf_counter()
    with open(log, "w") as out, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                                 text=True, bufsize=1, env=UNBUFFERED) as child:
        out.write(f"$ {shlex.join(command)}\n")
        for line in child.stdout:
            out.write(line)
            if verbose:
                sys.stderr.write(f"  {bench.name}| {line}")
        status = child.wait()
    outcome = Outcome(bench.name, command, time.perf_counter() - start, status, log)
    if status != 0:
        outcome.error = f"exited {status}"
    try:
        if bench.parse:
            outcome.figures = bench.parse(log.read_text())
        elif json_path.exists():
            outcome.figures = json.loads(json_path.read_text())["figures"]
    except (ValueError, KeyError) as exc:
        outcome.error = outcome.error or str(exc)
    if not outcome.figures and outcome.error is None:
        outcome.error = "reported no figures"
    for figure in outcome.figures:
        figure["benchmark"] = bench.name
        if figure.get("baseline") and figure.get("value") is not None:
            figure["ratio"] = figure["value"] / figure["baseline"]
    return outcome


# ---- the machine and the record ----


def machine(load_at_start: tuple[float, float, float]) -> dict:
    def read(path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    cpu = re.search(r"^model name\s*:\s*(.+)$", read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", read("/proc/meminfo"), re.M)
    os_name = re.search(r'^PRETTY_NAME="?([^"\n]+)', read("/etc/os-release"), re.M)
    return {
        "cpu": cpu[1].strip() if cpu else platform.processor() or "unknown",
        "cores": os.cpu_count(),
        "memory_gib": round(int(mem[1]) / 2**20, 1) if mem else None,
        "python": platform.python_version(),
        "os": f"{os_name[1] if os_name else platform.system()} (kernel {platform.release()})",
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average_start": [round(x, 2) for x in load_at_start],
    }


def shown(path: Path) -> str:
    """A path as the reader would type it from the repository root."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def fmt_number(value: float, unit: str | None) -> str:
    if unit == "events/s":
        return f"{value:,.0f} events/s"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "MB":
        return f"{value:.1f} MB"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"
    return f"{text} {unit}" if unit else text


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "—"
    return f"{ratio:.3g}×"  # three figures: 0.605 must not print as a goal-meeting 0.60


def met_mark(figure: Figure) -> str:
    return {True: "✅ met", False: "❌ MISSED", None: "—"}[figure.get("met")]


def rows(outcomes: list[Outcome]) -> list[list[str]]:
    """One row per figure: benchmark, figure, value, baseline, ratio, goal, met?"""
    table = []
    for outcome in outcomes:
        if outcome.error:
            table.append([outcome.name, "—", f"CRASHED ({outcome.error})", "—", "—", "—",
                          f"💥 see {shown(outcome.log)}"])
        for f in outcome.figures:
            if "skipped" in f:
                table.append([outcome.name, f["name"], f"skipped: {f['skipped']}", "—", "—", "—", "—"])
                continue
            baseline = (f"{f['baseline_label']}: {fmt_number(f['baseline'], f['unit'])}"
                        if f.get("baseline") is not None else "—")
            table.append([outcome.name, f["name"], fmt_number(f["value"], f["unit"]), baseline,
                          fmt_ratio(f.get("ratio")), f.get("goal") or "—", met_mark(f)])
    return table


HEADERS = ["benchmark", "figure", "value", "baseline", "ratio", "goal", "met?"]


def notes(outcomes: list[Outcome]) -> list[str]:
    return [f"{o.name} / {f['name']}: {f['note']}" for o in outcomes for f in o.figures if f.get("note")]


def markdown(record: dict, outcomes: list[Outcome]) -> str:
    m = record["machine"]
    load = " / ".join(f"{x:.2f}" for x in m["load_average_start"])
    load_end = " / ".join(f"{x:.2f}" for x in record["load_average_end"])
    commit = m["git_commit"] + (" with uncommitted changes" if m["git_dirty"] else "")
    cell = lambda text: str(text).replace("|", "\\|")  # noqa: E731
    lines = [
        f"Figures from `{record['command']}` ({'quick sizes' if record['quick'] else 'full sizes'}), "
        f"{record['started']}, {record['seconds'] / 60:.0f} min in all.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, Python {m['python']}, "
        f"{m['os']}; commit {commit}; load average (1/5/15 min) {load} at start, {load_end} at end.",
        "Every ratio is figure / baseline, both measured in this run.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
        *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows(outcomes)),
        "",
        "Notes:",
        "",
        *(f"- {cell(n)}" for n in notes(outcomes)),
    ]
    return "\n".join(lines) + "\n"


def print_table(outcomes: list[Outcome], console: Console) -> None:
    table = Table(title="benchmarks", show_lines=False)
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in rows(outcomes):
        style = "red" if "MISSED" in row[-1] or "CRASHED" in row[2] else None
        table.add_row(*row, style=style)
    console.print(table)
    for note in notes(outcomes):
        console.print(f"  [dim]{note}[/dim]", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", metavar="NAME[,NAME]", help=f"run only these ({', '.join(BY_NAME)})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes where a benchmark supports it")
    parser.add_argument("--verbose", "-v", action="store_true", help="show each benchmark's output as it runs")
    args = parser.parse_args(argv)
    chosen = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BY_NAME]
        if unknown or not names:
            parser.error(f"--only: unknown benchmark {', '.join(unknown) or repr(args.only)}; "
                         f"known: {', '.join(BY_NAME)}")
        chosen = [BY_NAME[n] for n in names]

    (RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    record = {"command": shlex.join(["benchmarks/run_all.py", *(argv if argv is not None else sys.argv[1:])]),
              "quick": args.quick, "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine(os.getloadavg())}
    start = time.perf_counter()
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="run-all-") as tmp:
        for i, bench in enumerate(chosen, 1):
            print(f"[{i}/{len(chosen)}] {bench.name}: {bench.measures} ...", file=sys.stderr, flush=True)
            outcome = run(bench, quick=args.quick, verbose=args.verbose, tmp=Path(tmp), logs=RESULTS / "logs")
            state = f"CRASHED ({outcome.error}), see {shown(outcome.log)}" if outcome.error \
                else f"{len(outcome.figures)} figure(s)"
            print(f"[{i}/{len(chosen)}] {bench.name}: {outcome.seconds:.0f} s, {state}", file=sys.stderr, flush=True)
            outcomes.append(outcome)
    record.update(seconds=round(time.perf_counter() - start, 1),
                  load_average_end=[round(x, 2) for x in os.getloadavg()],
                  benchmarks=[o.to_json() for o in outcomes],
                  figures=[f for o in outcomes for f in o.figures])
    (RESULTS / "latest.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / "latest.md").write_text(markdown(record, outcomes))
    print_table(outcomes, Console(width=None if sys.stdout.isatty() else 200))
    print(f"written: {shown(RESULTS / 'latest.md')}, {shown(RESULTS / 'latest.json')} "
          f"({record['seconds'] / 60:.1f} min)")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
