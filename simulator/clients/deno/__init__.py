"""The Deno runtime for ``deno:FILE[:EXPORT]`` consumers: which Deno binary runs
them, how it gets onto the machine, and the check that a handler file is usable.

Deno comes from the npm package ``deno`` (its platform package ships the real
binary), pinned to ``DENO_VERSION`` and installed with ``npm`` into a cache
folder on first use: ``$GENESYS_SIM_CACHE/deno-VERSION`` (default
``~/.cache/genesys-sim``). ``python -m simulator.clients.deno install`` does the
same ahead of time. ``GENESYS_SIM_DENO=/path/to/deno`` uses a Deno you have instead.
"""
from __future__ import annotations

import fcntl
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import orjson

from simulator.errors import BadInput, EnvironmentFailure

DENO_VERSION = "2.9.6"
ENV_DENO = "GENESYS_SIM_DENO"
ENV_CACHE = "GENESYS_SIM_CACHE"
HERE = Path(__file__).resolve().parent
HOST_SCRIPT = HERE / "host.ts"
CHECK_SCRIPT = HERE / "check.ts"
INSTALL_HINT = f"python -m simulator.clients.deno install  (npm install deno@{DENO_VERSION} into the cache)"
# The file extensions Deno runs as modules.
EXTENSIONS = (".ts", ".tsx", ".mts", ".js", ".jsx", ".mjs")
# Deno must not ask, update itself, or colour what lands in the instance logs.
QUIET_ENV = {"DENO_NO_PROMPT": "1", "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}


def cache_dir() -> Path:
    root = os.environ.get(ENV_CACHE) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "genesys-sim")
    return Path(root) / f"deno-{DENO_VERSION}"


def _platform_package() -> str:
    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower(), platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform, sys.platform)
    return f"@deno/{system}-{machine}" + ("-glibc" if system == "linux" else "")


def _installed(root: Path) -> Path | None:
    # The platform package holds the binary itself; ``deno/deno`` is the copy the
    # wrapper's postinstall makes, absent when npm ran without install scripts.
    for candidate in (root / "node_modules" / _platform_package() / "deno",
                      root / "node_modules" / "deno" / "deno"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def deno_binary(*, install: bool = True) -> str:
    """The Deno binary to run: ``$GENESYS_SIM_DENO``, else the pinned one in the
    cache, installed now with npm when missing (unless ``install`` is false)."""
    explicit = os.environ.get(ENV_DENO)
    if explicit:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise EnvironmentFailure(f"{ENV_DENO}={explicit} is not an executable file")
        return explicit
    root = cache_dir()
    found = _installed(root)
    if found is not None:
        return str(found)
    if not install:
        raise EnvironmentFailure(f"Deno {DENO_VERSION} is not installed in {root}; run {INSTALL_HINT}")
    return str(install_deno(root))


def install_deno(root: Path | None = None) -> Path:
    """``npm install deno@DENO_VERSION`` into ``root``; one installer at a time (a
    file lock), the others wait and find it installed."""
    root = root or cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _installed(root)
        if found is not None:
            return found
        npm = shutil.which("npm")
        if npm is None:
            raise EnvironmentFailure(f"deno: consumers need Deno {DENO_VERSION}, installed from the npm "
                                     f"package 'deno', and npm is not on PATH; install Node.js/npm, or "
                                     f"set {ENV_DENO} to a Deno 2 binary")
        print(f"genesys-sim: installing Deno {DENO_VERSION} (npm package deno) into {root}", file=sys.stderr)
        proc = subprocess.run(
            [npm, "install", "--prefix", str(root), "--no-save", "--no-audit", "--no-fund",
             "--loglevel=error", f"deno@{DENO_VERSION}"],
            capture_output=True, text=True, timeout=600)
        found = _installed(root)
        if proc.returncode != 0 or found is None:
            raise EnvironmentFailure(f"npm install deno@{DENO_VERSION} into {root} failed "
                                     f"(exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-400:]}")
        return found


def split_target(target: str, *, where: str | None = None) -> tuple[Path, str]:
    """``FILE[:EXPORT]`` -> (FILE, EXPORT); EXPORT defaults to ``default``."""
    file, export = target, "default"
    head, sep, tail = target.rpartition(":")
    if sep and head.endswith(EXTENSIONS):
        file, export = head, tail
    if not file.endswith(EXTENSIONS):
        raise BadInput(f"expected deno:FILE[:EXPORT] with FILE a {'/'.join(EXTENSIONS)} file, "
                       f"got {target!r}", where=where)
    if not export.isidentifier() and not export.replace("$", "_").isidentifier():
        raise BadInput(f"{export!r} is not an export name", where=where)
    return Path(file).resolve(), export


def read_paths(handler: Path, run_dir: Path | None = None) -> list[str]:
    """What a Deno instance may read: the handler's folder (its own imports), the
    directory the run was started from, this runtime's scripts and the run's folder."""
    paths = [handler.parent, Path.cwd(), HERE] + ([run_dir] if run_dir else [])
    return list(dict.fromkeys(str(p) for p in paths))


def run_args(handler: Path, *, run_dir: Path, net: list[str]) -> list[str]:
    """``deno run`` with the narrowest permissions a hosted handler needs: loopback
    network (its port, the sink, the run's other services), environment, reading
    its own code, and writing only in the run's folder (receipts, KV)."""
    return ["run", "--quiet", "--no-prompt", "--unstable-kv", "--no-lock",
            f"--allow-net={','.join(dict.fromkeys(net))}", "--allow-env",
            f"--allow-read={','.join(read_paths(handler, run_dir))}", f"--allow-write={run_dir}"]


def check_handler(handler: Path, export: str, *, where: str | None = None) -> None:
    """Import ``handler`` under Deno and check that ``export`` is a fetch handler
    (a function, or an object with a ``fetch`` method); BadInput naming the file
    and export otherwise. The module's top-level code runs, as it will in the run."""
    if not handler.is_file():
        raise BadInput(f"no such file: {handler}", where=where)
    deno = deno_binary()
    with tempfile.TemporaryDirectory(prefix="genesys-sim-deno-check-") as scratch:
        env = {**os.environ, **QUIET_ENV, "GENESYS_SIM_KV_PATH": os.path.join(scratch, "kv.sqlite3")}
        argv = [deno, *run_args(handler, run_dir=Path(scratch), net=["127.0.0.1", "localhost"]),
                str(CHECK_SCRIPT), str(handler), export]
        try:
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120,
                                  stdin=subprocess.DEVNULL, cwd=os.getcwd())
        except subprocess.TimeoutExpired:
            raise BadInput(f"importing {handler} under Deno did not finish in 120 s", where=where) from None
    last = proc.stdout.strip().splitlines()[-1:] or [""]
    try:
        answer = orjson.loads(last[0])
    except orjson.JSONDecodeError:
        answer = {"ok": False, "error": (proc.stderr or proc.stdout).strip()[-600:] or f"deno exited {proc.returncode}"}
    if not answer.get("ok"):
        raise BadInput(f"{handler}: export {export!r}: {answer.get('error')}", where=where)
