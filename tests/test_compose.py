"""docker-compose.yml agrees with what the harness expects of its services.

There is no Docker engine on CI machines, so the file is checked, not run: the same
LocalStack version, port and services as scripts/localstack.sh, Redis on its port,
and an app command that the real `genesys-sim` parser accepts.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import localstack_client.config
import pytest
import redis
import yaml

from simulator.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_LOCALSTACK_SERVICES = {"sqs", "events", "dynamodb"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def localstack_script() -> dict[str, str]:
    """The VAR=value settings at the top of scripts/localstack.sh."""
    text = (ROOT / "scripts" / "localstack.sh").read_text()
    return dict(re.findall(r"^([A-Z_]+)=([^\s$(]+)$", text, flags=re.MULTILINE))


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # compose also allows ["KEY=value", ...]
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def published(service: dict[str, Any]) -> set[tuple[int, int]]:
    """(host port, container port) pairs, whatever the short syntax's host address."""
    pairs = set()
    for port in service.get("ports", []):
        *_, host, container = str(port).split(":")
        pairs.add((int(host), int(container)))
    return pairs


def command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else [str(part) for part in cmd]


def test_services_are_localstack_redis_and_app(compose):
    assert set(compose["services"]) == {"localstack", "redis", "app"}


def test_localstack_image_is_pinned_to_the_version_the_host_script_installs(compose, localstack_script):
    image = compose["services"]["localstack"]["image"]
    name, _, tag = image.partition(":")
    assert name == "localstack/localstack"
    assert tag == localstack_script["VERSION"] == "4.14.0"


def test_localstack_port_and_services_match_the_harness(compose, localstack_script):
    localstack = compose["services"]["localstack"]
    port = localstack_client.config.DEFAULT_EDGE_PORT
    assert (port, port) in published(localstack)
    services = set(environment(localstack)["SERVICES"].split(","))
    assert services >= REQUIRED_LOCALSTACK_SERVICES
    assert services == set(localstack_script["SERVICES"].split(","))


def test_localstack_healthcheck_asks_the_health_endpoint_for_each_service(compose):
    check = compose["services"]["localstack"]["healthcheck"]
    test = " ".join(check["test"]) if isinstance(check["test"], list) else check["test"]
    assert "/_localstack/health" in test
    for name in REQUIRED_LOCALSTACK_SERVICES:
        assert f'"{name}"' in test


def test_redis_is_published_on_the_client_default_port(compose):
    redis_service = compose["services"]["redis"]
    port = redis.Redis().connection_pool.connection_kwargs["port"]
    assert redis_service["image"].split(":")[0] == "redis"
    assert (port, port) in published(redis_service)


def test_app_command_is_a_genesys_sim_serve_the_cli_accepts(compose):
    argv = command(compose["services"]["app"])
    assert argv[0] == "genesys-sim"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "serve"
    assert (args.host, args.port) == ("0.0.0.0", 8080)
    assert (8080, args.port) in published(compose["services"]["app"])


def test_app_reaches_the_services_by_their_compose_names(compose):
    app = compose["services"]["app"]
    env = environment(app)
    port = localstack_client.config.DEFAULT_EDGE_PORT
    assert env["AWS_ENDPOINT_URL"] == f"http://localstack:{port}"
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert app["depends_on"]["localstack"]["condition"] == "service_healthy"
    assert "build" in app


def test_dockerfile_builds_the_project_on_python_311(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, flags=re.MULTILINE)
    assert re.search(r"^RUN pip install \.", dockerfile, flags=re.MULTILINE)


def test_app_gets_its_api_token_from_the_environment_never_a_literal(compose):
    from simulator.app import TOKEN_ENV

    value = environment(compose["services"]["app"])[TOKEN_ENV]
    # ${VAR:?message}: compose refuses to start when the user has not set it.
    assert re.fullmatch(rf"\$\{{{TOKEN_ENV}:\?[^}}]+\}}", value), value


def test_app_command_without_a_token_refuses_to_start(compose, monkeypatch, capsys):
    from simulator.app import TOKEN_ENV
    from simulator.cli import main

    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert main(command(compose["services"]["app"])[1:]) == 2
    assert TOKEN_ENV in capsys.readouterr().err


def test_app_command_with_a_token_passes_its_checks(compose, monkeypatch, capsys):
    """With the token the command gets as far as binding: on a port already taken
    that is the environment failure (3), not bad input (2)."""
    import socket

    from simulator.app import TOKEN_ENV
    from simulator.cli import main

    monkeypatch.setenv(TOKEN_ENV, "a-token-of-thirty-two-characters")
    argv = command(compose["services"]["app"])[1:]
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        argv[argv.index("--port") + 1] = str(taken.getsockname()[1])
        assert main(argv) == 3
    assert "cannot listen" in capsys.readouterr().err
