"""``python -m simulator.clients.deno install``: put the pinned Deno into the
cache now (the first ``deno:`` consumer would otherwise do it); ``path`` prints
the binary a run would use."""
from __future__ import annotations

import subprocess
import sys

from simulator.clients.deno import DENO_VERSION, cache_dir, deno_binary
from simulator.errors import SimError


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["install"], ["path"]):
        print("usage: python -m simulator.clients.deno install|path", file=sys.stderr)
        return 2
    try:
        binary = deno_binary(install=args == ["install"])
    except SimError as exc:
        print(f"genesys-sim: {exc}", file=sys.stderr)
        return exc.exit_code
    if args == ["install"]:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
        print(f"{version} at {binary} (pinned {DENO_VERSION}, cache {cache_dir()})")
    else:
        print(binary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
