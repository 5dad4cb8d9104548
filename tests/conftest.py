"""Shared fixtures: the real services (Redis, LocalStack) and a sealed AWS environment.

A real service that cannot be reached skips its tests on a developer's machine and
fails them when CI=true: in CI a missing service is a broken setup, never a pass.
Start the services with ``scripts/services.sh all``.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import localstack_client.config
import pytest
import redis
import requests

LOCALSTACK_SERVICES = ("sqs", "events", "dynamodb")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

pytest_plugins = ["pytester"]  # lets tests run pytest on the fixtures themselves


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def service_unavailable(reason: str) -> None:
    """Skip (laptop) or fail (CI) the requesting test, saying why."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of a real Redis that answers PING: $REDIS_URL, else the local default."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
            client.ping()
    except (redis.RedisError, ValueError) as exc:
        service_unavailable(f"Redis at {url} does not answer PING ({exc}); "
                            "run scripts/services.sh redis or set REDIS_URL")
    return url


@pytest.fixture(scope="session")
def localstack_endpoint() -> str:
    """Endpoint of a real LocalStack whose health reports sqs, events and dynamodb
    up: $LOCALSTACK_ENDPOINT, else what localstack-client resolves
    ($AWS_ENDPOINT_URL, $LOCALSTACK_HOST, localhost:4566)."""
    endpoint = (os.environ.get("LOCALSTACK_ENDPOINT")
                or localstack_client.config.get_service_endpoint("sqs")).rstrip("/")
    try:
        response = requests.get(f"{endpoint}/_localstack/health", timeout=5)
        response.raise_for_status()
        states = response.json().get("services", {})
    except (requests.RequestException, ValueError) as exc:
        service_unavailable(f"LocalStack at {endpoint} is not reachable ({exc}); "
                            "run scripts/localstack.sh start or set LOCALSTACK_ENDPOINT")
    down = {s: states.get(s, "absent") for s in LOCALSTACK_SERVICES
            if states.get(s) not in ("available", "running")}
    if down:
        service_unavailable(f"LocalStack at {endpoint} reports services not ready: {down}")
    return endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Dummy credentials and region, and no profile, so no call can be signed
    for a real AWS account."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that asks for a real service carries its marker even if its author
    # forgot, so `-m "not localstack"` deselects exactly what needs LocalStack.
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "localstack_endpoint" in fixtures:
            item.add_marker(pytest.mark.localstack)
        if "redis_url" in fixtures:
            item.add_marker(pytest.mark.redis)


@pytest.fixture(scope="module",
                params=["moto", pytest.param("localstack", marks=pytest.mark.localstack)])
def backend(request):
    """Each transport test runs on the embedded moto and on the real LocalStack."""
    from simulator.transport import open_backend

    endpoint = request.getfixturevalue("localstack_endpoint") if request.param == "localstack" else None
    with open_backend(request.param, endpoint_url=endpoint) as opened:
        yield opened


@pytest.fixture
def push_topology(backend):
    """A fresh push topology (rule -> target, the target's DLQ) on each transport backend."""
    import uuid

    from simulator.transport import create_topology

    with create_topology(backend, run_id="p" + uuid.uuid4().hex[:10], delivery="push") as topology:
        yield topology
