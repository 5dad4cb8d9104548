"""Real AWS: where a team goes when one machine is not enough. Only with an explicit
opt-in (``allow_aws=True``; the CLI's --allow-aws), never by default: it creates
real queues and buses in the account the default credential chain resolves to."""
from __future__ import annotations

from simulator.errors import BadInput, EnvironmentFailure
from simulator.transport.backend import Backend


class AwsBackend(Backend):
    name = "aws"
    emulator = False

    def __init__(self, *, endpoint_url: str | None = None, region: str = "us-east-1",
                 allow_aws: bool = False) -> None:
        if not allow_aws:
            raise BadInput("backend 'aws' creates queues and event buses in a real AWS "
                           "account and sends real requests; it runs only with the "
                           "explicit opt-in --allow-aws", where="backend")
        super().__init__(endpoint_url=endpoint_url, region=region)
        if self._session.get_credentials() is None:
            raise EnvironmentFailure("backend 'aws': no AWS credentials found by the "
                                     "default chain (profile, environment, role)",
                                     where="backend aws")
