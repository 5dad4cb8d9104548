"""Running the Node.js host by hand, as the supervisor starts it (the same argv,
environment and GENESYS_SIM_HOST), against a recording effect sink: for tests of
what the host does with each handler and fault, without a whole scenario."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from simulator.app import serve_in_thread
from simulator.clients.host import ENV_HOST, HostConfig
from simulator.clients.runtimes import instance_argv
from simulator.clients.spec import parse_spec
from simulator.clients.supervisor import free_port

HANDLERS = Path(__file__).resolve().parent / "node_handlers"


def genesys_event(correlation_id: str = "c0ffee00-0000-4000-8000-000000000001", **extra: Any) -> dict:
    """A minimal EventBridge event of the Genesys shape."""
    return {"version": "0", "id": f"env-{correlation_id}", "detail-type": "v2.users.{id}.presence",
            "detail": {"topicName": "v2.users.u1.presence", "metadata": {"CorrelationId": correlation_id},
                       "eventBody": {}, "timestamp": "2026-01-05T09:01:31.029Z"}, **extra}


@dataclass
class RecordingSink:
    """The downstream: keeps every effect POSTed to it, answers ``status``."""

    status: int = 200
    effects: list[dict] = field(default_factory=list)

    def __call__(self, environ: dict, start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if environ["PATH_INFO"].endswith("/effects") and environ["REQUEST_METHOD"] == "POST":
            self.effects.append(json.loads(body))
        start_response(f"{self.status} X", [("content-type", "application/json")])
        return [b"{}"]


class NodeHost:
    """One Node.js instance of ``spec``; a context manager that stops it."""

    def __init__(self, spec: str, tmp_path: Path, *, sink_url: str = "http://127.0.0.1:9/unused",
                 env: dict[str, str] | None = None, **config: Any) -> None:
        self.spec = parse_spec(spec)
        assert self.spec.runtime == "node", spec
        name = uuid.uuid4().hex[:8]  # several hosts may share tmp_path
        self.receipts = tmp_path / f"receives-{name}.jsonl"
        self.log_path = tmp_path / f"instance-{name}.log"
        self.port = free_port() if not self.spec.pulls else 0
        cfg = HostConfig(kind=self.spec.kind, target=self.spec.target, listen_port=self.port,
                         receipts_path=str(self.receipts), **config)
        self.env = {**os.environ, "GENESYS_SIM_SINK_URL": sink_url, "GENESYS_SIM_CONSUMER": "node-test",
                    "GENESYS_SIM_INSTANCE": "0", "GENESYS_SIM_TIME_SCALE": "1", ENV_HOST: cfg.to_env(),
                    **(env or {})}
        self.argv = instance_argv(self.spec)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "NodeHost":
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.PIPE, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_ready()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if " ready after " in self.log():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the host exited with {self.process.returncode}:\n{self.log()}")
            time.sleep(0.02)
        raise AssertionError(f"the host was not ready within {timeout_s} s:\n{self.log()}")

    def post(self, event: Any, timeout_s: float = 30.0) -> requests.Response:
        body = event if isinstance(event, (str, bytes)) else json.dumps(event)
        return requests.post(f"http://127.0.0.1:{self.port}/", data=body, timeout=timeout_s,
                             headers={"content-type": "application/json"})

    def wait(self, timeout_s: float = 30.0) -> int:
        return self.process.wait(timeout_s)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def receipt_lines(self) -> list[dict]:
        if not self.receipts.exists():
            return []
        return [json.loads(line) for line in self.receipts.read_text().splitlines() if line]


@contextmanager
def served_sink() -> Iterator[RecordingSink]:
    """A RecordingSink on a free port, its ``url`` the effect route of consumer
    ``node-test`` (what ``$GENESYS_SIM_SINK_URL`` names in a run)."""
    recording = RecordingSink()
    server = serve_in_thread(recording)  # type: ignore[arg-type]
    recording.url = f"{server.url}/runs/k/consumers/node-test"
    try:
        yield recording
    finally:
        server.stop()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (killed, not yet reaped by its parent) is gone for our purpose
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
