"""What the Deno tests share: Deno itself (installed by scripts/test.sh; a test
needing it skips without it, and fails in CI), a downstream sink that records
what it is sent, and one hosted ``deno:`` instance started the way the
supervisor starts one."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import requests

from conftest import service_unavailable
from simulator.clients.host import ENV_HOST, HostConfig
from simulator.clients.supervisor import free_port
from simulator.errors import SimError


@pytest.fixture(scope="session")
def deno() -> str:
    from simulator.clients.deno import deno_binary

    try:
        return deno_binary()
    except SimError as exc:
        service_unavailable(f"Deno is not available ({exc}); run python -m simulator.clients.deno install")


@dataclass
class RecordingSink:
    """``POST /effects``: records the JSON payload, answers the next status of
    ``statuses`` (200 once they run out)."""

    statuses: list[int] = field(default_factory=list)
    effects: list[dict] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with lock:
                    status = sink.statuses.pop(0) if sink.statuses else 200
                    if status == 200:
                        sink.effects.append(orjson.loads(body))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"applied": true}' if status == 200 else b'{"error": "injected"}')

            def log_message(self, *args: object) -> None:
                pass

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/runs/r/consumers/c"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink():
    recording = RecordingSink()
    yield recording
    recording.close()


@dataclass
class Instance:
    process: subprocess.Popen
    port: int
    receipts_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def post(self, event: dict | str, timeout: float = 10) -> requests.Response:
        body = event if isinstance(event, str) else orjson.dumps(event)
        return requests.post(self.url, data=body, headers={"content-type": "application/json"},
                             timeout=timeout)

    def receipts(self) -> list[dict]:
        path = self.receipts_path
        return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.process.stdin:
            self.process.stdin.close()
        return self.process.wait()


def start_instance(target: str, run_dir: Path, sink_url: str, *, instance: int = 0,
                   time_scale: float = 1.0, t0: float = 0.0, **host: object) -> Instance:
    """One ``deno:`` instance as the supervisor starts it: the runtime's argv, the
    harness environment, ``GENESYS_SIM_HOST``, and a pipe on stdin (the lifeline)."""
    from simulator.clients.runtimes import instance_argv
    from simulator.clients.spec import parse_spec

    spec = parse_spec(f"deno:{target}", check=False)
    port = free_port()
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = HostConfig(kind="deno", target=spec.target, listen_port=port, t0=t0,
                     receipts_path=str(run_dir / f"receives-{instance}.jsonl"), **host)  # type: ignore[arg-type]
    env = {**os.environ, ENV_HOST: cfg.to_env(), "GENESYS_SIM_SINK_URL": sink_url,
           "GENESYS_SIM_CONSUMER": "deno-test", "GENESYS_SIM_INSTANCE": str(instance),
           "GENESYS_SIM_TIME_SCALE": repr(time_scale)}
    process = subprocess.Popen(instance_argv(spec), env=env, stdin=subprocess.PIPE,
                               stdout=sys.stderr, stderr=sys.stderr, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"deno instance exited {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Instance(process, port, Path(cfg.receipts_path))
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("deno instance did not listen within 30 s")
