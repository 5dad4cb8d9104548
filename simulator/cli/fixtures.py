"""``genesys-sim fixtures``: write realistic Genesys events for unit tests.

    genesys-sim fixtures --topic 'v2.detail.events.conversation.{id}.acd.end' --count 3 --seed 1
"""
from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from itertools import islice
from typing import BinaryIO

from simulator.errors import BadInput
from simulator.events import TOPICS, TrafficConfig, generate, resolve_topics
from simulator.events.formats import FORMATS, write

DEFAULT_COUNT = 10
PROGRESS_FROM = 10_000  # events: below this a progress bar is only noise
WRITE_BUFFER = 1 << 20  # bytes: large fixture files are written in few system calls


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fixtures", help="write realistic Genesys Cloud events (fixtures for unit tests)",
        description="Generate Genesys Cloud events as EventBridge, SQS or Lambda delivers them. "
                    "Same seed, same bytes.",
        epilog="topics: " + ", ".join(t.pattern for t in TOPICS))
    parser.add_argument("--topic", action="append", metavar="PATTERN",
                        help="only this topic (detail-type pattern, short name such as acd.end, "
                             "or a glob); repeatable; default: every topic")
    amount = parser.add_mutually_exclusive_group()
    amount.add_argument("--count", metavar="N",
                        help=f"this many events (of the chosen topics); default {DEFAULT_COUNT}")
    amount.add_argument("--duration", metavar="SECONDS",
                        help="every event of this much contact-centre time instead of a count")
    parser.add_argument("--seed", default="0", metavar="N", help="random seed (default 0)")
    parser.add_argument("--format", default="eventbridge", metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)} (default eventbridge)")
    parser.add_argument("--out", metavar="PATH", help="write here instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.format
    if fmt not in FORMATS:
        raise BadInput(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})", where="--format")
    seed = _integer(args.seed, "--seed")
    count = duration = None
    if args.duration is not None:
        duration = _number(args.duration, "--duration")
        if duration <= 0:
            raise BadInput(f"must be > 0, got {args.duration}", where="--duration")
    else:
        count = _integer(args.count, "--count") if args.count is not None else DEFAULT_COUNT
        if count <= 0:
            raise BadInput(f"must be > 0, got {args.count}", where="--count")
    topics = resolve_topics(args.topic, where="--topic") if args.topic else None
    events = generate(seed, topics=topics, traffic=TrafficConfig(duration_s=duration))
    if count is not None:
        events = islice(events, count)
    with ExitStack() as stack:
        out = _open(args.out, stack)
        progress = _progress(stack, count, duration)
        try:
            write(events, fmt, out, on_event=progress)
            out.flush()
        except BrokenPipeError:
            # The reader went away (``| head``): not an error. Point stdout at
            # /dev/null so the interpreter's final flush does not complain.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _integer(text: str, option: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"must be an integer, got {text!r}", where=option) from None


def _number(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BadInput(f"must be a number, got {text!r}", where=option) from None


def _open(path: str | None, stack: ExitStack) -> BinaryIO:
    if path is None or path == "-":
        return sys.stdout.buffer
    try:
        return stack.enter_context(open(path, "wb", buffering=WRITE_BUFFER))
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}", where="--out") from None


def _progress(stack: ExitStack, count: int | None, duration: float | None):
    """A rich progress bar on stderr when a person is watching a long run."""
    if not sys.stderr.isatty() or (count is not None and count < PROGRESS_FROM):
        return None
    from rich.console import Console
    from rich.progress import Progress

    bar = stack.enter_context(Progress(console=Console(stderr=True), transient=True))
    if count is not None:
        task = bar.add_task("generating events", total=count)
        done = [0]

        def advance(_event) -> None:
            done[0] += 1
            if done[0] % 1000 == 0 or done[0] == count:
                bar.update(task, completed=done[0])
        return advance
    task = bar.add_task("generating events (scenario seconds)", total=duration)
    start = [None]

    def advance_time(event) -> None:
        if start[0] is None:
            start[0] = event.time_ms
        if event.seq % 1000 == 0:
            bar.update(task, completed=min(duration, (event.time_ms - start[0]) / 1000))
    return advance_time
