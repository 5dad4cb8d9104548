"""Backends: the embedded moto starts and stops with the harness; LocalStack and real
AWS are refused clearly when absent or not opted into."""
from __future__ import annotations

import os
import socket

import pytest
import requests

from simulator.errors import BadInput, EnvironmentFailure
from simulator.transport import open_backend
from simulator.transport.localstack_backend import resolve_endpoint


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket closes


def test_embedded_moto_serves_and_stops_with_the_backend():
    with open_backend("moto") as backend:
        assert backend.name == "moto" and backend.endpoint_url.startswith("http://127.0.0.1:")
        sqs = backend.client("sqs")
        assert backend.client("sqs") is sqs  # cached
        url = sqs.create_queue(QueueName="hello")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="hi")
        assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hi"
        endpoint, pid = backend.endpoint_url, backend.pid
    with pytest.raises(requests.ConnectionError):
        requests.get(endpoint, timeout=2)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_emulator_clients_carry_dummy_credentials_and_the_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-looking")
    monkeypatch.setenv("AWS_PROFILE", "a-profile-this-machine-lacks")
    with open_backend("moto", region="eu-west-1") as backend:
        sqs = backend.client("sqs")
        credentials = sqs._request_signer._credentials
        assert credentials.access_key == "testing"
        assert sqs.meta.endpoint_url == backend.endpoint_url
        assert sqs.meta.region_name == "eu-west-1"
        env = backend.consumer_env()
        assert env["AWS_ENDPOINT_URL"] == backend.endpoint_url
        assert env["AWS_REGION"] == "eu-west-1"
        assert env["AWS_ACCESS_KEY_ID"] == "testing"
        assert sqs.list_queues()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_each_embedded_backend_is_its_own_server():
    with open_backend("moto") as a, open_backend("moto") as b:
        assert a.endpoint_url != b.endpoint_url
        a.client("sqs").create_queue(QueueName="only-in-a")
        assert "QueueUrls" not in b.client("sqs").list_queues()


def test_an_unreachable_localstack_is_an_environment_failure_naming_it():
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(EnvironmentFailure) as failure:
        open_backend("localstack", endpoint_url=endpoint, ready_timeout_s=1.0)
    assert endpoint in str(failure.value)
    assert failure.value.exit_code == 3


def test_localstack_endpoint_resolution_order(monkeypatch):
    monkeypatch.delenv("LOCALSTACK_ENDPOINT", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("LOCALSTACK_HOST", raising=False)
    assert resolve_endpoint() == "http://localhost:4566"
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://from-aws-endpoint:4566")
    assert resolve_endpoint() == "http://from-aws-endpoint:4566"
    monkeypatch.setenv("LOCALSTACK_ENDPOINT", "http://from-localstack-endpoint:4566/")
    assert resolve_endpoint() == "http://from-localstack-endpoint:4566"
    assert resolve_endpoint("http://explicit:1") == "http://explicit:1"


def test_real_aws_needs_the_explicit_opt_in():
    with pytest.raises(BadInput) as refused:
        open_backend("aws")
    assert "--allow-aws" in str(refused.value)
    assert refused.value.exit_code == 2


def test_unknown_backend_is_bad_input():
    with pytest.raises(BadInput, match="unknown backend 'motto'"):
        open_backend("motto")


def test_an_external_moto_that_is_not_there_is_an_environment_failure():
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(EnvironmentFailure, match=endpoint):
        open_backend("moto", endpoint_url=endpoint)
