"""No process a run starts outlives it, however the run ends (SIGKILL included).

Every consumer process gets the write end of a pipe held by the harness as its
stdin: the *lifeline*. When the harness exits, by any means, the kernel closes
that end and the child reads end-of-file. Our own hosts watch for it
(``watch_stdin``) and exit at once; a ``cmd:`` program, which knows nothing of
this, runs under ``python -m simulator.clients.lifeline -- COMMAND``: a guard that
watches the lifeline for it and kills the program's whole process group on
end-of-file. (The embedded moto server does the same, see moto_server.py.)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import Callable


def watch_stdin(on_close: Callable[[], None] | None = None) -> threading.Thread:
    """Exit this process (status 0, no cleanup) when stdin reaches end-of-file."""

    def watch() -> None:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        if on_close is not None:
            on_close()
        os._exit(0)

    thread = threading.Thread(target=watch, name="lifeline", daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    """``python -m simulator.clients.lifeline -- COMMAND``: run COMMAND (through the
    shell) in this process group with stdin from /dev/null, forward its exit
    status, and kill the group when the lifeline closes."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        print("usage: python -m simulator.clients.lifeline -- COMMAND", file=sys.stderr)
        return 2
    child = subprocess.Popen(" ".join(args) if len(args) > 1 else args[0], shell=True,
                             stdin=subprocess.DEVNULL)

    def kill_group() -> None:
        try:
            os.killpg(os.getpgid(0), signal.SIGKILL)
        except OSError:
            pass

    watch_stdin(kill_group)
    # A SIGTERM to the group reaches the program too; we only wait for it to go.
    signal.signal(signal.SIGTERM, lambda *_: None)
    code = child.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    raise SystemExit(main())
