"""The API token: every control route asks for it once one is configured; `serve`
beyond loopback will not start without one; the sink and /health stay open."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from simulator.app import RunRegistry, create_app
from simulator.app import auth
from simulator.app.auth import TOKEN_ENV
from simulator.cli import main
from simulator.ledger import Ledger
from simulator.sink import EffectSink

TOKEN = "t0ken-for-tests-0123456789abcdef"
CONTROL = [("get", "/scenarios"), ("get", "/runs"), ("post", "/runs"), ("get", "/runs/r1"),
           ("get", "/events?count=1"), ("get", "/nowhere"), ("delete", "/runs")]


@pytest.fixture
def registry() -> RunRegistry:
    registry = RunRegistry()
    registry.open("r1", EffectSink(Ledger()))
    return registry


@pytest.fixture
def client(tmp_path: Path, registry: RunRegistry):
    (tmp_path / "calm.yaml").write_text("name: calm\nseed: 1\n")
    app = create_app(registry=registry, scenarios_dir=tmp_path, api_token=TOKEN,
                     start_run=lambda request: "run-1")
    return app.test_client()


@pytest.mark.parametrize(("method", "path"), CONTROL)
def test_control_routes_without_a_token_are_401(client, method: str, path: str) -> None:
    resp = getattr(client, method)(path, json={"scenario": "calm", "consumers": ["ref:correct"]})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")
    assert resp.get_json()["field"] == "Authorization"
    assert TOKEN_ENV in resp.get_json()["error"]


@pytest.mark.parametrize("header", [f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", "Bearer x", f"Basic {TOKEN}",
                                    TOKEN, "Bearer", "Bearer \u00e9t\u00e9", f"Bearer {TOKEN} extra"])
def test_wrong_tokens_are_401(client, header: str) -> None:
    resp = client.get("/runs", headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_wrong_token_is_called_invalid(client) -> None:
    resp = client.get("/runs", headers={"Authorization": "Bearer nope"})
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/scenarios", 200), ("get", "/runs", 200), ("post", "/runs", 202), ("get", "/runs/r1", 200),
    ("get", "/nowhere", 404)])
def test_the_right_token_opens_every_control_route(client, method: str, path: str, status: int) -> None:
    resp = getattr(client, method)(path, json={"scenario": "calm", "consumers": ["ref:correct"]},
                                   headers={"Authorization": f"bearer {TOKEN}"})  # the scheme is case-blind
    assert resp.status_code == status, resp.get_json()


def test_the_token_is_compared_in_constant_time(client, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = auth.hmac.compare_digest

    def spy(a, b):
        calls.append((type(a), type(b)))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert client.get("/runs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert calls == [(bytes, bytes)]


def test_health_openapi_and_the_sink_stay_open(client, registry: RunRegistry) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    sink_url = registry.sink_path("r1", "c") + "/effects"
    assert client.post(sink_url, json={"correlation_id": "x"}).status_code == 200


def test_the_document_says_which_routes_need_the_token(client) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["paths"]["/runs"]["post"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/health"]["get"]["security"] == []


def test_no_token_configured_means_open_routes(tmp_path: Path) -> None:
    client = create_app(scenarios_dir=tmp_path).test_client()
    assert client.get("/runs").status_code == 200


# ---- serve ----

def test_serve_beyond_loopback_without_a_token_refuses_to_start(monkeypatch, capsys) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert TOKEN_ENV in err and "--host" in err


def test_serve_refuses_a_short_token(monkeypatch, capsys) -> None:
    monkeypatch.setenv(TOKEN_ENV, "short")
    assert main(["serve", "--port", "0"]) == 2
    assert TOKEN_ENV in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "::1"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    from simulator.cli.serve import _is_loopback

    assert _is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.5", "myhost", "127.0.0.1.example.com"])
def test_other_hosts_need_a_token(host: str) -> None:
    from simulator.cli.serve import _is_loopback

    assert not _is_loopback(host)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_all_interfaces_guards_its_control_routes() -> None:
    env = {**os.environ, TOKEN_ENV: TOKEN}
    argv = [sys.executable, "-m", "simulator", "serve", "--host", "0.0.0.0", "--port", str(_free_port())]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            port = proc.stdout.readline().strip().rsplit(":", 1)[1]
            url = f"http://127.0.0.1:{port}"
            assert requests.get(f"{url}/health", timeout=5).status_code == 200
            assert requests.get(f"{url}/runs", timeout=5).status_code == 401
            answer = requests.get(f"{url}/runs", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
            assert answer.status_code == 200 and answer.json() == {"runs": []}
        finally:
            proc.terminate()
