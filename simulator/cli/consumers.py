"""`genesys-sim consumers`: the reference consumers, one line each, name first."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("consumers", help="list the reference consumers (use as --consumer ref:NAME)")
    p.add_argument("--verbose", "-v", action="store_true", help="also show the spec each one runs as")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from consumers import REFERENCES

    width = max(len(r.name) for r in REFERENCES)
    for ref in REFERENCES:
        line = f"{ref.name:<{width}}  {ref.strategy} — predicts: {ref.predicts}"
        if args.verbose:
            line += f"  [{ref.spec}]"
        print(line)
    return 0
