"""Starts a consumer's instances as separate processes, restarts them after a
planned crash (after ``restart_after_s`` of scenario time) or an unplanned exit,
and stops them at the end of the run. Each start, crash, exit and stop is told to
``on_lifecycle`` (the ledger keeps them as evidence). Every instance holds a
lifeline (see lifeline.py): it dies with the harness, however the harness dies."""
from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from simulator.clients.faults import CRASH_EXIT, TIMEOUT_EXIT
from simulator.clients.host import ENV_HOST, HostConfig
from simulator.clients.runtimes import instance_argv
from simulator.clients.spec import HOSTED_KINDS, ConsumerSpec
from simulator.model import Lifecycle

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
    argv: list[str]
    port: int | None = None
    process: subprocess.Popen | None = None
    restart_at: float | None = None
    crashes: int = 0
    unplanned_exits: int = 0


class Supervisor:
    def __init__(self, spec: ConsumerSpec, *, instances: int, env: dict[str, str],
                 host: HostConfig | None, log_dir: Path, time_scale: float,
                 restart_after_s: float = 2.0, name: str | None = None,
                 on_lifecycle: Callable[[Lifecycle], None] | None = None,
                 now: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.name = name or spec.name
        self.log_dir = log_dir
        self.restart_after_real = restart_after_s / time_scale
        self._on_lifecycle = on_lifecycle
        self._now = now
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
                if not spec.pulls:  # pushed to: it listens for the invoker's POSTs
                    port = cfg.listen_port = free_port()
                ienv[ENV_HOST] = cfg.to_env()
            self.instances.append(Instance(index=i, env=ienv, argv=instance_argv(spec), port=port))

    @property
    def endpoints(self) -> list[str]:
        return [f"http://127.0.0.1:{inst.port}/" for inst in self.instances if inst.port]

    @property
    def receipt_files(self) -> list[Path]:
        return [self.log_dir / f"receives-{inst.index}.jsonl" for inst in self.instances]

    @property
    def crashes(self) -> int:
        return sum(inst.crashes for inst in self.instances)

    def _tell(self, inst: Instance, event: str, code: int | None = None) -> None:
        if self._on_lifecycle is not None:
            pid = inst.process.pid if inst.process is not None else None
            self._on_lifecycle(Lifecycle(consumer=self.name, instance=inst.index, at=self._now(),
                                         event=event, code=code, pid=pid))  # type: ignore[arg-type]

    def _spawn(self, inst: Instance) -> None:
        log = open(self.log_dir / f"instance-{inst.index}.log", "ab")
        # stdin is the lifeline: our end stays open for as long as this process lives.
        inst.process = subprocess.Popen(
            inst.argv, env=inst.env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        inst.restart_at = None
        self._tell(inst, "start")

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
                        _close_lifeline(proc)
                        if proc.returncode == CRASH_EXIT:
                            inst.crashes += 1
                            self._tell(inst, "crash", proc.returncode)
                            inst.restart_at = now + self.restart_after_real
                        elif proc.returncode == TIMEOUT_EXIT:
                            # Lambda resets the execution environment after a timeout
                            self._tell(inst, "timeout", proc.returncode)
                            inst.restart_at = now
                        else:
                            inst.unplanned_exits += 1
                            self._tell(inst, "exit", proc.returncode)
                            if inst.unplanned_exits < MAX_UNPLANNED_EXITS:
                                inst.restart_at = now + 0.5
                            else:
                                inst.process = None  # left down
                    if inst.restart_at is not None and now >= inst.restart_at:
                        self._spawn(inst)
            time.sleep(0.05)

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM every live instance (its whole process group), SIGKILL what is
        still there after ``timeout_s``; idempotent."""
        self._stopping.set()
        if self._monitor and self._monitor is not threading.current_thread():
            self._monitor.join()
        live = [inst for inst in self.instances if inst.process and inst.process.poll() is None]
        for inst in live:
            _signal(inst.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for inst in live:
            proc = inst.process
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                proc.wait()
            self._tell(inst, "stop", proc.returncode)
        for inst in self.instances:
            if inst.process is not None:
                _signal(inst.process, signal.SIGKILL)  # stragglers of the group (a cmd's children)
                _close_lifeline(inst.process)


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the whole group: a cmd: consumer's children too
    except (ProcessLookupError, PermissionError):
        pass


def _close_lifeline(proc: subprocess.Popen) -> None:
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass
