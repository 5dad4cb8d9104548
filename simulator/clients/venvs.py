"""Cached virtual environments for consumers run under their own interpreter
(``--python``): ``python -m simulator.clients.venvs NAME`` makes one (once; a
second call reuses it) and prints its interpreter. The tests and CI call it as a
setup step, as they call ``python -m simulator.clients.deno install``.

``powertools-3.34.0`` is the last Powertools release before the fix of
aws-powertools/powertools-lambda-python#8386 (PR #8387, released in 3.35.0:
its Redis layer no longer takes a live INPROGRESS record without an in-progress
expiry over as an orphan), with what the harness's host needs beside it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from simulator.errors import EnvironmentFailure, report_setup

ENV_CACHE = "GENESYS_SIM_CACHE"
# name -> what is installed into it; the host's own needs (orjson, boto3) included
VENVS: dict[str, tuple[str, ...]] = {
    "powertools-3.34.0": ("aws-lambda-powertools==3.34.0", "redis", "orjson", "boto3"),
}


def venv_dir(name: str) -> Path:
    root = os.environ.get(ENV_CACHE) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "genesys-sim")
    return Path(root) / "venvs" / name


def venv_python(name: str, *, create: bool = True) -> Path:
    """The interpreter of the cached environment ``name``, made first if needed.
    A half-made one (an interrupted install) has no ``.complete`` mark and is redone."""
    if name not in VENVS:
        raise KeyError(name)
    where = venv_dir(name)
    python = where / "bin" / "python"
    if (where / ".complete").is_file() and python.is_file():
        return python
    if not create:
        raise EnvironmentFailure(f"{where} is not made yet: python -m simulator.clients.venvs {name}")
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(where)], check=True,
                       capture_output=True, text=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *VENVS[name]], check=True,
                       capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
        raise EnvironmentFailure(f"making {where} failed: {' / '.join(tail)}") from None
    (where / ".complete").write_text(" ".join(VENVS[name]) + "\n")
    return python


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in VENVS:
        print(f"usage: python -m simulator.clients.venvs {'|'.join(VENVS)}", file=sys.stderr)
        return 2
    return report_setup(lambda: str(venv_python(args[0])))


if __name__ == "__main__":
    raise SystemExit(main())
