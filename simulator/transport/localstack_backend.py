"""A LocalStack someone runs (docker compose, or localstack-core from PyPI).

The endpoint is the explicit one, else $LOCALSTACK_ENDPOINT, else what
localstack-client resolves ($AWS_ENDPOINT_URL, $LOCALSTACK_HOST, localhost:4566).
Opening checks ``/_localstack/health`` until ``ready_timeout_s`` and fails with an
EnvironmentFailure that names the endpoint, so an absent LocalStack costs seconds,
not a hung run.
"""
from __future__ import annotations

import os
import time

import localstack_client.config
import requests

from simulator.errors import EnvironmentFailure
from simulator.transport.backend import Backend

NEEDED_SERVICES = ("sqs", "events")
READY_STATES = ("available", "running")


def resolve_endpoint(endpoint_url: str | None = None) -> str:
    endpoint = (endpoint_url or os.environ.get("LOCALSTACK_ENDPOINT")
                or localstack_client.config.get_service_endpoint("sqs"))
    return endpoint.rstrip("/")


class LocalStackBackend(Backend):
    name = "localstack"

    def __init__(self, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 ready_timeout_s: float = 8.0) -> None:
        endpoint = resolve_endpoint(endpoint_url)
        wait_until_ready(endpoint, ready_timeout_s)
        super().__init__(endpoint_url=endpoint, region=region)


def wait_until_ready(endpoint: str, timeout_s: float) -> None:
    """Poll LocalStack's health until sqs and events are up; EnvironmentFailure
    naming the endpoint when they are not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    problem = "no answer"
    while True:
        remaining = deadline - time.monotonic()
        try:
            response = requests.get(f"{endpoint}/_localstack/health",
                                    timeout=(min(2.0, max(remaining, 0.1)), 3.0))
            response.raise_for_status()
            states = response.json().get("services", {})
            down = {s: states.get(s, "absent") for s in NEEDED_SERVICES
                    if states.get(s) not in READY_STATES}
            if not down:
                return
            problem = "services not ready: " + ", ".join(f"{s}={v}" for s, v in down.items())
        except (requests.RequestException, ValueError) as exc:
            problem = f"{exc.__class__.__name__}"
        if time.monotonic() + 0.25 >= deadline:
            raise EnvironmentFailure(
                f"LocalStack at {endpoint} is not reachable ({problem}) after {timeout_s:g} s; "
                "start it (scripts/localstack.sh start or docker compose up localstack) "
                "or point --endpoint-url / LOCALSTACK_ENDPOINT at it",
                where="backend localstack")
        time.sleep(0.25)
