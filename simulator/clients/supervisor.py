"""Starts a consumer's instances as separate processes, restarts them after a
planned crash (after ``restart_after_s`` of scenario time) or an unplanned exit,
and stops them at the end of the run."""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from simulator.clients.faults import CRASH_EXIT
from simulator.clients.host import ENV_HOST, HostConfig
from simulator.clients.spec import HOSTED_KINDS, ConsumerSpec

# An instance that exits on its own this many times is left down (a consumer
# that cannot start is scored as it is, not restarted forever).
MAX_UNPLANNED_EXITS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Instance:
    index: int
    env: dict[str, str]
    argv: list[str] | str
    port: int | None = None
    process: subprocess.Popen | None = None
    restart_at: float | None = None
    crashes: int = 0
    unplanned_exits: int = 0


class Supervisor:
    def __init__(self, spec: ConsumerSpec, *, instances: int, env: dict[str, str],
                 host: HostConfig | None, log_dir: Path, time_scale: float,
                 restart_after_s: float = 2.0) -> None:
        self.spec = spec
        self.log_dir = log_dir
        self.restart_after_real = restart_after_s / time_scale
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._monitor: threading.Thread | None = None
        self.instances: list[Instance] = []
        log_dir.mkdir(parents=True, exist_ok=True)
        for i in range(instances):
            ienv = {**env, "GENESYS_SIM_INSTANCE": str(i)}
            port = None
            if spec.kind in HOSTED_KINDS:
                assert host is not None
                cfg = dataclasses.replace(host, receipts_path=str(log_dir / f"receives-{i}.jsonl"))
                if spec.kind in ("lambda-eb", "wsgi"):
                    port = cfg.listen_port = free_port()
                ienv[ENV_HOST] = cfg.to_env()
                argv: list[str] | str = [sys.executable, "-m", "simulator.clients.host"]
            else:  # cmd: the user's program, as their shell would run it
                argv = spec.target
            self.instances.append(Instance(index=i, env=ienv, argv=argv, port=port))

    @property
    def endpoints(self) -> list[str]:
        return [f"http://127.0.0.1:{inst.port}/" for inst in self.instances if inst.port]

    @property
    def receipt_files(self) -> list[Path]:
        return [self.log_dir / f"receives-{inst.index}.jsonl" for inst in self.instances]

    @property
    def crashes(self) -> int:
        return sum(inst.crashes for inst in self.instances)

    def _spawn(self, inst: Instance) -> None:
        log = open(self.log_dir / f"instance-{inst.index}.log", "ab")
        inst.process = subprocess.Popen(
            inst.argv, env=inst.env, stdout=log, stderr=subprocess.STDOUT,
            shell=isinstance(inst.argv, str), start_new_session=True)
        log.close()
        inst.restart_at = None

    def start(self, *, ready_timeout_s: float = 20.0) -> None:
        for inst in self.instances:
            self._spawn(inst)
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._monitor.start()
        self._wait_ready(ready_timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        """Push consumers must be listening before the first event is pushed."""
        deadline = time.monotonic() + timeout_s
        for inst in self.instances:
            while inst.port and time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", inst.port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.05)

    def _watch(self) -> None:
        while not self._stopping.is_set():
            now = time.monotonic()
            with self._lock:
                for inst in self.instances:
                    proc = inst.process
                    if proc is not None and proc.poll() is not None and inst.restart_at is None:
                        if proc.returncode == CRASH_EXIT:
                            inst.crashes += 1
                            inst.restart_at = now + self.restart_after_real
                        else:
                            inst.unplanned_exits += 1
                            if inst.unplanned_exits < MAX_UNPLANNED_EXITS:
                                inst.restart_at = now + 0.5
                            else:
                                inst.process = None  # left down
                    if inst.restart_at is not None and now >= inst.restart_at:
                        self._spawn(inst)
            time.sleep(0.05)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stopping.set()
        if self._monitor:
            self._monitor.join()
        procs = [inst.process for inst in self.instances if inst.process and inst.process.poll() is None]
        for proc in procs:
            _signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for proc in procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                proc.wait()


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the whole group: a cmd: consumer's children too
    except ProcessLookupError:
        pass
