"""`genesys-sim explain RUN_DIR`: the history behind each anomaly of a finished or
interrupted run, read back from its ledger and scored by the same checker the run
used (so it says what the run's report said, and more of it)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.errors import BadInput

KIND_CHOICES = ("missed", "duplicated", "dlq", "unexpected", "poison_dropped", "stale")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="print the history behind each anomaly of a run",
                       description="Read RUN_DIR's ledger (runs/<run>/ledger.jsonl, or the file "
                       "itself) and print, for each anomaly, the logical event, the faults applied "
                       "to it and its deliveries, receives, effects, crashes and DLQ entry in time order.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run's folder (or its ledger.jsonl)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--event", metavar="CORRELATION_ID", help="only the anomalies of this logical event")
    which.add_argument("--kind", choices=KIND_CHOICES, help="only anomalies of this kind")
    p.add_argument("--consumer", metavar="NAME", help="only this consumer (its name in the report)")
    p.add_argument("--limit", type=int, default=10, metavar="N",
                   help="at most N anomalies per kind and consumer (default 10; 0: all)")
    p.add_argument("--json", action="store_true", help="print the anomalies as JSON")
    p.set_defaults(func=run)


def ledger_path(run_dir: str) -> Path:
    path = Path(run_dir)
    if path.is_dir():
        path = path / "ledger.jsonl"
    if not path.is_file():
        raise BadInput(f"no ledger at {path} (expected a run folder under runs/, or its ledger.jsonl)",
                       where="RUN_DIR")
    return path


def run(args: argparse.Namespace) -> int:
    import orjson

    from simulator import evidence, ledger
    from simulator.report.story import render_stories
    from simulator.scoring import reproduce_command, score_run

    if args.limit < 0:
        raise BadInput(f"expected a number >= 0, got {args.limit}", where="--limit")
    path = ledger_path(args.run_dir)
    try:
        history = ledger.load(path)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BadInput(f"cannot read the ledger: {exc}", where=str(path)) from None
    if not history.meta.get("consumers"):
        raise BadInput("the ledger has no run description (written by an older genesys-sim?)",
                       where=str(path))
    names = [c["name"] for c in history.meta["consumers"]]
    if args.consumer and args.consumer not in names:
        raise BadInput(f"no consumer {args.consumer!r} in this run (consumers: {', '.join(names)})",
                       where="--consumer")
    scores = [s for s in score_run(history, limit=0) if not args.consumer or s.name == args.consumer]
    limit = args.limit or None
    scale = float(history.meta.get("time_scale") or 1.0)
    out: list[dict] = []
    text: list[str] = []
    head = (f"{history.meta.get('scenario')} (seed {history.meta.get('seed')}) "
            f"{'complete' if history.complete else 'INCOMPLETE: ' + (history.stopped or '')}")
    for s in scores:
        assert s.accounts is not None
        stories, omitted = evidence.anomalies(
            history, s.accounts, limit=limit, kinds=[args.kind] if args.kind else evidence.KINDS,
            correlation_id=args.event, reproduce=reproduce_command(history.meta, s.spec))
        out.append({"consumer": s.name, "verdict": s.verdict, "anomalies": stories, "omitted": omitted})
        counts = ", ".join(f"{k} {getattr(s, 'stale_entities' if k == 'stale' else k) or 0}"
                           for k in evidence.KINDS)
        text.append(f"== {s.name}: {s.verdict} ({counts})")
        if stories:
            text.append(render_stories(stories, time_scale=scale))
        elif args.event:
            text.append(f"no anomaly of event {args.event}")
        for kind, n in omitted.items():
            text.append(f"... {n} more {kind} (--limit 0 shows all)")
    if args.json:
        sys.stdout.write(orjson.dumps({"run": head, "consumers": out}, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        print(head)
        print("\n\n".join(text))
    return 0
