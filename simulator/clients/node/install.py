"""The Node.js host's npm packages (tsx, the AWS SDK clients; pinned by
``package-lock.json`` beside this file), installed with ``npm ci`` into a cache
folder the first time a Node.js handler is run, or ahead of time with
``python -m simulator.clients.node``. One folder per lockfile: an upgrade of
genesys-sim that changes the pins installs beside the old ones.

The cache is ``$GENESYS_SIM_NODE_CACHE``, else ``$XDG_CACHE_HOME/genesys-sim/node``,
else ``~/.cache/genesys-sim/node``.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from simulator.errors import EnvironmentFailure

HERE = Path(__file__).resolve().parent
MANIFESTS = ("package.json", "package-lock.json")
ENV_CACHE = "GENESYS_SIM_NODE_CACHE"
NPM_TIMEOUT_S = 600.0
_DONE = ".installed"


def cache_root() -> Path:
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "genesys-sim" / "node"


def install_dir() -> Path:
    """Where this version's packages live (installed or not)."""
    digest = hashlib.sha256()
    for name in MANIFESTS:
        digest.update((HERE / name).read_bytes())
    return cache_root() / digest.hexdigest()[:16]


def modules_dir(*, npm: str | None = None, quiet: bool = False) -> Path:
    """The installed ``node_modules``; installs it first when it is missing."""
    target = install_dir()
    if (target / _DONE).exists():
        return target / "node_modules"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be installing the same
            if not (target / _DONE).exists():
                _install(target, npm or _npm(), quiet=quiet)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot install the Node.js host's packages into {target.parent}: {exc} "
                                 f"(set {ENV_CACHE} to a writable folder)") from exc
    return target / "node_modules"


def _npm() -> str:
    found = shutil.which("npm")
    if not found:
        raise EnvironmentFailure("npm is not on PATH: it is needed once, to install the Node.js host's "
                                 f"packages (tsx, the AWS SDK) into {cache_root()}")
    return found


def _install(target: Path, npm: str, *, quiet: bool) -> None:
    if not quiet:
        print(f"genesys-sim: installing the Node.js host's packages into {target} (once)",
              file=sys.stderr, flush=True)
    work = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    for name in MANIFESTS:
        shutil.copyfile(HERE / name, work / name)
    argv = [npm, "ci", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    try:
        done = subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=NPM_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise EnvironmentFailure(f"npm ci for the Node.js host failed: {exc}") from exc
    if done.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise EnvironmentFailure(f"npm ci for the Node.js host failed (exit {done.returncode}) in {work}:\n{tail}")
    (work / _DONE).write_text(" ".join(argv) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(work, target)
