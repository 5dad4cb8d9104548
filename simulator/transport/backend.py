"""Where the AWS APIs live for one run: an embedded moto, a LocalStack, or real AWS.

A ``Backend`` hands out cached boto3 clients bound to its endpoint. For emulators
the clients carry dummy credentials and an explicit endpoint, so no request can be
signed for, or reach, a real AWS account. ``open_backend`` is the one entry point;
each kind lives in its own module (``moto_backend``, ``localstack_backend``,
``aws_backend``).
"""
from __future__ import annotations

import os
import threading
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from simulator.errors import BadInput

BACKENDS = ("moto", "localstack", "aws")
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


class Backend:
    """Base: a context manager that owns boto3 clients (and, for subclasses, the
    emulator process). Clients are thread-safe once built; building them is not,
    hence the lock."""

    name = "backend"
    emulator = True  # False only for real AWS
    # How the emulator serialises the EventBridge event it writes to an SQS target
    # (json.dumps separators): lets the EventBridge injector rebuild that body.
    event_json_separators: tuple[str, str] = (",", ":")

    def __init__(self, *, endpoint_url: str | None, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(botocore_session=self._botocore_session())
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._config = Config(
            region_name=region,
            retries={"mode": "standard", "max_attempts": 3},
            max_pool_connections=64,
            connect_timeout=5,
            read_timeout=30,  # > the 20 s SQS long-poll ceiling
        )

    def _botocore_session(self) -> botocore.session.Session:
        if not self.emulator:
            return botocore.session.Session()
        # The user's AWS profile and config files mean nothing to an emulator (and an
        # $AWS_PROFILE naming a profile this machine lacks would fail every call):
        # no profile, from anywhere, and empty config files.
        session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        session.set_config_variable("config_file", os.devnull)
        session.set_config_variable("credentials_file", os.devnull)
        return session

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this backend (one per service, cached)."""
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                kwargs: dict[str, Any] = {"config": self._config, "region_name": self.region}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                if self.emulator:
                    kwargs.update(DUMMY_CREDENTIALS)
                client = self._session.client(service, **kwargs)
                self._clients[service] = client
            return client

    def consumer_env(self) -> dict[str, str]:
        """Environment a consumer process needs to reach this backend."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        if self.emulator:
            env["AWS_ACCESS_KEY_ID"] = DUMMY_CREDENTIALS["aws_access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = DUMMY_CREDENTIALS["aws_secret_access_key"]
        return env

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.endpoint_url or 'aws'} {self.region}>"


def open_backend(name: str, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 allow_aws: bool = False, **options: Any) -> Backend:
    """Open the backend called ``name`` (moto | localstack | aws).

    moto: an embedded, patched moto server in a child process, unless
    ``endpoint_url`` points at a moto server someone else runs.
    localstack: ``endpoint_url``, else $LOCALSTACK_ENDPOINT, else what
    localstack-client resolves ($AWS_ENDPOINT_URL, $LOCALSTACK_HOST, :4566);
    EnvironmentFailure when it does not answer.
    aws: real AWS, only with ``allow_aws=True`` (the CLI's explicit opt-in).
    ``options`` go to the backend's class (e.g. ``ready_timeout_s``)."""
    if name == "moto":
        from simulator.transport.moto_backend import MotoBackend

        return MotoBackend(endpoint_url=endpoint_url, region=region, **options)
    if name == "localstack":
        from simulator.transport.localstack_backend import LocalStackBackend

        return LocalStackBackend(endpoint_url=endpoint_url, region=region, **options)
    if name == "aws":
        from simulator.transport.aws_backend import AwsBackend

        return AwsBackend(endpoint_url=endpoint_url, region=region, allow_aws=allow_aws, **options)
    raise BadInput(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}",
                   where="backend")
