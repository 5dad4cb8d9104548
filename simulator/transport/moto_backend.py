"""The default backend: an embedded moto server, started and stopped by the harness.

By default it runs in a child process (``python -m simulator.transport.moto_server``)
with ``moto_patches`` applied there: the emulator gets its own GIL, and the patches
never touch moto classes in the harness's process (where a consumer under test may
use moto's in-process mocks). ``mode="thread"`` runs ``ThreadedMotoServer`` in this
process instead (measured in benchmarks/bench_transport.py; slower, kept for that
comparison). Given an ``endpoint_url`` it uses a moto server someone else runs, as is.
"""
from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import tempfile
import time
from typing import IO, Any

import requests

from simulator.errors import BadInput, EnvironmentFailure
from simulator.transport.backend import Backend

MODES = ("process", "thread")


class MotoBackend(Backend):
    name = "moto"
    # moto's EventBridge writes SQS bodies with json.dumps defaults
    event_json_separators = (", ", ": ")

    def __init__(self, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 mode: str = "process", patched: bool = True,
                 start_timeout_s: float = 30.0) -> None:
        if mode not in MODES:
            raise BadInput(f"unknown moto mode {mode!r}; choose one of {', '.join(MODES)}",
                           where="backend.mode")
        self.mode = mode if endpoint_url is None else "external"
        self.patched = patched and endpoint_url is None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._thread_server: Any = None
        if endpoint_url is not None:
            _check_reachable(endpoint_url)
        elif mode == "process":
            endpoint_url = self._start_process(patched, start_timeout_s)
        else:
            endpoint_url = self._start_thread(patched)
        super().__init__(endpoint_url=endpoint_url, region=region)

    def _start_process(self, patched: bool, timeout_s: float) -> str:
        self._stderr = tempfile.TemporaryFile()
        cmd = [sys.executable, "-m", "simulator.transport.moto_server", "--port", "0"]
        if not patched:
            cmd.append("--no-patch")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=self._stderr, env=_server_env())
        self._process = proc
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        line = b""
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or proc.poll() is not None:
                self._stop_process()
                raise EnvironmentFailure(
                    f"the embedded moto server did not start within {timeout_s:.0f} s"
                    f" ({self._stderr_tail() or 'no output'})", where="backend moto")
            ready, _, _ = select.select([proc.stdout], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(proc.stdout.fileno(), 256)
                if not chunk:
                    continue  # EOF: the poll() above reports the exit
                line += chunk
        port = int(line.split()[1])
        return f"http://127.0.0.1:{port}"

    def _start_thread(self, patched: bool) -> str:
        if patched:
            from simulator.transport import moto_patches

            moto_patches.apply()
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        self._thread_server = server
        return "http://127.0.0.1:%d" % server.get_host_and_port()[1]

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        lines = self._stderr.read().decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def _stop_process(self) -> None:
        proc, self._process = self._process, None
        if proc is None:
            return
        if proc.stdin:
            try:
                proc.stdin.close()  # the server exits on end-of-file
            except OSError:
                pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout:
            proc.stdout.close()

    @property
    def pid(self) -> int | None:
        """The child server's process id (process mode)."""
        return self._process.pid if self._process else None

    def close(self) -> None:
        super().close()
        self._stop_process()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._thread_server is not None:
            self._thread_server.stop()
            self._thread_server = None


def _server_env() -> dict[str, str]:
    """The emulator's environment: the harness's, minus any AWS identity (moto
    builds botocore sessions internally; a profile this machine lacks breaks them,
    and real credentials have no business there)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                        "AWS_SECURITY_TOKEN")}
    env.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def _check_reachable(endpoint_url: str) -> None:
    try:
        requests.get(f"{endpoint_url.rstrip('/')}/moto-api/", timeout=5)
    except requests.RequestException as exc:
        raise EnvironmentFailure(f"no moto server answers at {endpoint_url} ({exc.__class__.__name__})",
                                 where="backend moto") from None
