"""Where POST /runs may aim an http: consumer: loopback by default, other hosts
only when `serve` was started with --allow-target, and no URL trick in between."""
from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import urllib3.util
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.app import create_app
from simulator.app.targets import TargetError, TargetPolicy, canonical_host, is_loopback, parse_allowed
from simulator.cli import main


class StartRunSpy:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    def __call__(self, request: dict) -> str:
        self.requests.append(request)
        return f"run-{len(self.requests)}"


@pytest.fixture
def scenarios_dir(tmp_path: Path) -> Path:
    (tmp_path / "calm.yaml").write_text("name: calm\nseed: 1\n")
    return tmp_path


def post_consumer(scenarios_dir: Path, spec: str, *allowed: str):
    spy = StartRunSpy()
    app = create_app(start_run=spy, scenarios_dir=scenarios_dir,
                     allowed_targets=[parse_allowed(a) for a in allowed])
    resp = app.test_client().post("/runs", json={"scenario": "calm", "consumers": ["ref:correct", spec]})
    return resp, spy


LOOPBACK_SPECS = [
    "http:http://127.0.0.1:9000/events",
    "http:http://127.200.3.4/x",
    "http:http://localhost:8000/x?a=b",
    "http:HTTP://LOCALHOST/",
    "http:http://[::1]:9000/",
    "http:https://[::ffff:127.0.0.1]/",
    "http://127.0.0.1:9000/events",
]


@pytest.mark.parametrize("spec", LOOPBACK_SPECS)
def test_loopback_targets_are_accepted(scenarios_dir: Path, spec: str) -> None:
    resp, spy = post_consumer(scenarios_dir, spec)
    assert resp.status_code == 202, resp.get_json()
    assert spy.requests[0]["consumers"][1].startswith("http:")


@pytest.mark.parametrize("spec", [
    "http:http://10.1.2.3:9000/events",
    "http:https://example.com/hook",
    "http:http://127.0.0.1.evil.com/",     # a DNS name that starts like an address
    "http:http://localhost.evil.com/",
    "http:http://[::2]/",
    "http:http://[::ffff:10.0.0.1]/",
    "http:http://0.0.0.0:9000/",
    "http:http://localtest.me/",          # resolves to 127.0.0.1, but names are not resolved
    "https://203.0.113.7/",
])
def test_other_hosts_are_refused_naming_the_option(scenarios_dir: Path, spec: str) -> None:
    resp, spy = post_consumer(scenarios_dir, spec)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["field"] == "consumers[1]"
    assert "--allow-target" in body["error"]
    assert spy.requests == []


@pytest.mark.parametrize(("spec", "why"), [
    ("http:http://x@evil.com/", "user:password@"),
    ("http:http://127.0.0.1:80@evil.com/", "user:password@"),
    ("http:http://evil.com\\@127.0.0.1/", "backslash"),   # urllib3 connects to evil.com
    ("http:http://127.0.0.1%2eevil.com/", "HOST"),       # urllib3 decodes it to a name
    ("http:http://127.1/", "four decimal"),              # the C resolver reads 127.0.0.1
    ("http:http://2130706433/", "four decimal"),
    ("http:http://0177.0.0.1/", "four decimal"),         # octal there: 127.0.0.1
    ("http:http://127.000.000.001/", "four decimal"),
    ("http:http://[::1%25lo]/", "HOST"),       # a zone id
    ("http:http:// 127.0.0.1/", "printable ASCII"),
    ("http:http://127.0.0.1:0/", "1..65535"),
    ("http:http://127.0.0.1:99999/", "1..65535"),
    ("http:ftp://127.0.0.1/", "http://"),
    ("http:http:///x", "HOST"),
])
def test_url_tricks_are_refused_with_the_reason(scenarios_dir: Path, spec: str, why: str) -> None:
    resp, spy = post_consumer(scenarios_dir, spec)
    assert resp.status_code == 400
    assert why in resp.get_json()["error"]
    assert spy.requests == []


@pytest.mark.parametrize(("allowed", "url", "admitted"), [
    ("10.1.2.3:9000", "http://10.1.2.3:9000/x", True),
    ("10.1.2.3:9000", "http://10.1.2.3:9001/x", False),
    ("10.1.2.3:9000", "http://10.1.2.3/x", False),            # port 80
    ("10.1.2.3:80", "http://10.1.2.3/x", True),
    ("consumer.internal", "https://consumer.internal:8443/x", True),
    ("consumer.internal", "https://Consumer.Internal/x", True),
    ("consumer.internal", "https://evil.consumer.internal/x", False),
    ("consumer.internal", "https://consumer.internal.evil.com/x", False),
    ("[fd00::1]:8443", "https://[fd00:0:0::1]:8443/x", True),
    ("fd00::1", "http://[fd00::1]:1/x", True),
])
def test_listed_hosts_are_admitted_on_their_port(allowed: str, url: str, admitted: bool) -> None:
    refusal = TargetPolicy([parse_allowed(allowed)]).refusal(url)
    assert (refusal is None) == admitted, refusal


def test_listed_host_is_accepted_by_the_api(scenarios_dir: Path) -> None:
    resp, spy = post_consumer(scenarios_dir, "http:http://10.1.2.3:9000/events", "10.1.2.3:9000")
    assert resp.status_code == 202
    assert spy.requests[0]["consumers"] == ["ref:correct", "http:http://10.1.2.3:9000/events"]


@pytest.mark.parametrize("value", ["", "a b", "host:0", "host:70000", "host:x", "127.1", "[::1", "x@y",
                                   "-bad", "a..b"])
def test_bad_allow_target_values(value: str) -> None:
    with pytest.raises(TargetError):
        parse_allowed(value)


def test_serve_refuses_a_bad_allow_target(capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--port", "0", "--allow-target", "10.0.0.1:99999"]) == 2
    assert "--allow-target" in capsys.readouterr().err


def test_serve_applies_its_allow_targets(scenarios_dir: Path) -> None:
    with subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0",
                          "--scenarios-dir", str(scenarios_dir), "--allow-target", "10.9.8.7:9000"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            url = proc.stdout.readline().rsplit(" ", 1)[1].strip()
            assert "10.9.8.7:9000" in proc.stdout.readline()
            refused = requests.post(f"{url}/runs", json={"scenario": "calm",
                                                         "consumers": ["http:http://10.9.8.7:9001/"]}, timeout=10)
            assert refused.status_code == 400 and "--allow-target" in refused.json()["error"]
        finally:
            proc.terminate()


# ---- what is checked is what the HTTP client connects to ----

PIECES = st.sampled_from([
    "127.0.0.1", "localhost", "LocalHost", "evil.com", "127.0.0.1.evil.com", "[::1]", "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]", "0x7f.1", "127.1", "@", ":", ":80", ":0", "/", "\\", "?", "#", "%2e", "%40", "%00",
    ".", "x@", "[", "]", " ", "\t", "\n", "\u3002", "\uff0e", "\u2488", "..", "8080", "::1", "%25",
])
HOSTS = st.sampled_from(["127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "evil.com", "10.0.0.1",
                         "[fd00::1]", "127.0.0.1.evil.com"])
# Often a plain host with tricks after it (accepted or not), sometimes tricks before it too.
urls = st.builds(lambda scheme, before, host, port, sep, after:
                 f"{scheme}://{''.join(before)}{host}{port}{sep}{''.join(after)}",
                 st.sampled_from(["http", "https", "HTTP", "hTtPs"]),
                 st.one_of(st.just([]), st.lists(PIECES, max_size=3)), HOSTS,
                 st.sampled_from(["", ":80", ":443", ":9000", ":0", ":"]),
                 st.sampled_from(["", "/", "?", "#", "/a@b/"]), st.lists(PIECES, max_size=6))


def client_host(url: str) -> str:
    """The host requests (the harness's client) would connect to for ``url``."""
    prepared = requests.Request("POST", url).prepare().url
    return urllib3.util.parse_url(prepared).host.strip("[]")


@settings(max_examples=600, deadline=None)
@given(url=urls)
def test_an_accepted_url_connects_to_loopback(url: str) -> None:
    if TargetPolicy().refusal(url) is not None:
        return
    host = client_host(url)
    if host.lower() == "localhost":
        return
    address = ipaddress.ip_address(host)
    assert (getattr(address, "ipv4_mapped", None) or address).is_loopback, (url, host)


@settings(max_examples=300, deadline=None)
@given(url=urls, allowed=st.sampled_from(["evil.com", "evil.com:80", "10.0.0.1", "[fd00::1]:443"]))
def test_an_admitted_url_connects_to_the_listed_host(url: str, allowed: str) -> None:
    entry = parse_allowed(allowed)
    if TargetPolicy([entry]).refusal(url) is not None:
        return
    host = client_host(url).lower()
    assert is_loopback(canonical_host(f"[{host}]" if ":" in host else host)) or host == entry.host


@given(text=st.text(max_size=60))
def test_any_text_gets_a_verdict_never_a_crash(text: str) -> None:
    refusal = TargetPolicy([parse_allowed("10.0.0.1")]).refusal(text)
    assert refusal is None or isinstance(refusal, str) and refusal
