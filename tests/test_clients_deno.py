"""deno:FILE[:EXPORT] consumers: the spec is checked under real Deno before a run,
and a hosted instance keeps the host contract (receipts on the ledger's clock,
crash, slow and stall faults, the lifeline, SIGTERM) inside the narrow permissions it
is given."""
from __future__ import annotations

import signal
import subprocess
import time

import pytest
import requests

from deno_kit import deno, sink, start_instance  # noqa: F401 (fixtures)
from simulator.clients.spec import parse_spec
from simulator.errors import BadInput
from simulator.events import generate

pytestmark = pytest.mark.deno

ECHO = """
export default async function (request: Request): Promise<Response> {
  const event = await request.json();
  return new Response(JSON.stringify({ id: event.id }), { status: 200 });
}
"""
EFFECT = """
export const handler = {
  async fetch(request: Request): Promise<Response> {
    const event = await request.json();
    const answer = await fetch(`${Deno.env.get("GENESYS_SIM_SINK_URL")}/effects`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ event }),
    });
    await answer.text();
    return new Response("done", { status: answer.ok ? 200 : 500 });
  },
};
"""
PROBE = """
export async function handler(request: Request): Promise<Response> {
  const tries: Record<string, string> = {};
  for (const [name, attempt] of Object.entries({
    read_etc: () => Deno.readTextFileSync("/etc/hostname"),
    write_tmp: () => Deno.writeTextFileSync("/tmp/genesys-sim-deno-escape", "x"),
    write_run_dir: () => Deno.writeTextFileSync(`${Deno.env.get("GENESYS_SIM_KV_PATH")}.probe`, "x"),
    run: () => new Deno.Command("true").outputSync(),
  })) {
    try { attempt(); tries[name] = "allowed"; } catch (error) { tries[name] = (error as Error).name; }
  }
  return Response.json(tries);
}
"""


def event(i: int = 0) -> dict:
    return next(e for n, e in enumerate(generate(seed=5)) if n == i).event


@pytest.fixture
def write(tmp_path):
    def put(name: str, text: str):
        path = tmp_path / "handlers" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return path
    return put


# ---- the spec, checked before the run ----

@pytest.mark.parametrize("source,export", [
    (ECHO, ""), (EFFECT, ":handler"), ("export default { fetch: () => new Response('') };", ":default"),
])
def test_a_fetch_handler_file_is_a_push_kind_with_an_absolute_target(deno, write, source, export):
    path = write("h.ts", source)
    spec = parse_spec(f"deno:{path}{export}")
    assert (spec.kind, spec.pulls) == ("deno", False)
    assert spec.target == f"{path.resolve()}:{export.lstrip(':') or 'default'}"


@pytest.mark.parametrize("source,export,needle", [
    (ECHO, ":handler", "handler is not exported (the module exports: default)"),
    ("export const handler = 42;", ":handler", "handler is a number, not a function or { fetch }"),
    ("export default { name: 'x' };", "", "default is an object without a fetch method"),
    ("export default function (: Request) {", "", "importing"),
    ("import { x } from './missing.ts';\nexport default () => new Response('');", "", "missing.ts"),
])
def test_a_bad_handler_file_is_bad_input_naming_file_and_export(deno, write, source, export, needle):
    path = write("bad.ts", source)
    with pytest.raises(BadInput) as info:
        parse_spec(f"deno:{path}{export}")
    message = str(info.value)
    assert info.value.exit_code == 2
    assert str(path.resolve()) in message and f"export {(export.lstrip(':') or 'default')!r}" in message
    if needle != "importing":
        assert needle in message


@pytest.mark.parametrize("raw,needle", [
    ("deno:handler.py", "expected deno:FILE[:EXPORT]"),
    ("deno:/no/such/handler.ts", "no such file: /no/such/handler.ts"),
    ("deno:h.ts:not-a-name", "is not an export name"),
])
def test_malformed_deno_specs_are_bad_input(raw, needle):
    with pytest.raises(BadInput) as info:
        parse_spec(raw)
    assert needle in str(info.value) and info.value.exit_code == 2


def test_the_http_api_refuses_deno_specs_like_every_kind_that_runs_code():
    from simulator.app.runs import _CODE_KINDS

    assert "deno" in _CODE_KINDS


# ---- the host contract ----

def test_receipts_are_written_per_post_on_the_ledgers_monotonic_clock(deno, write, tmp_path, sink):
    t0 = time.monotonic() - 1234.5  # any origin: the ledger's, on the system-wide CLOCK_MONOTONIC
    inst = start_instance(str(write("echo.ts", ECHO)), tmp_path / "run", sink.url, t0=t0, instance=3)
    try:
        windows = []
        for i in range(5):
            before = time.monotonic()
            assert inst.post(event(i)).json() == {"id": event(i)["id"]}
            windows.append((before - t0, time.monotonic() - t0))
        assert requests.get(inst.url, timeout=5).status_code == 500  # handed to the handler, not recorded
        assert inst.post("{not json", timeout=5).status_code == 500  # the handler threw
    finally:
        inst.stop()
    receipts = inst.receipts()
    assert len(receipts) == 6
    for receipt, (lo, hi), i in zip(receipts, windows, range(5)):
        assert lo - 0.002 <= receipt["at"] <= hi + 0.002, (receipt["at"], lo, hi)
        assert receipt == {**receipt, "consumer": "deno-test", "instance": 3, "message_id": None,
                           "envelope_id": event(i)["id"], "receive_count": 1,
                           "correlation_id": event(i)["detail"]["metadata"]["CorrelationId"]}
    assert receipts[-1]["envelope_id"] is None and receipts[-1]["correlation_id"] is None


def test_a_crash_after_receive_exits_86_on_the_planned_message(deno, write, tmp_path, sink):
    inst = start_instance(str(write("echo.ts", ECHO)), tmp_path / "run", sink.url,
                          crash={"point": "after_receive", "every": 3, "restart_after_s": 1})
    assert inst.post(event(0)).status_code == inst.post(event(1)).status_code == 200
    with pytest.raises(requests.ConnectionError):
        inst.post(event(2))
    assert inst.process.wait(5) == 86
    assert len(inst.receipts()) == 3  # the receipt is written before the crash


def test_a_crash_after_effect_comes_once_the_sink_answered_2xx(deno, write, tmp_path, sink):
    sink.statuses = [500]  # the first effect fails downstream: no effect, no crash
    inst = start_instance(str(write("effect.ts", EFFECT)) + ":handler", tmp_path / "run", sink.url,
                          crash={"point": "after_effect", "every": 1, "restart_after_s": 1})
    assert inst.post(event(0)).status_code == 500
    assert inst.process.poll() is None
    with pytest.raises(requests.ConnectionError):
        inst.post(event(1))
    assert inst.process.wait(5) == 86
    assert [e["event"]["id"] for e in sink.effects] == [event(1)["id"]]


def test_a_slow_fault_delays_handling(deno, write, tmp_path, sink):
    inst = start_instance(str(write("echo.ts", ECHO)), tmp_path / "run", sink.url, time_scale=2.0,
                          slow={"probability": 1.0, "delay_s": 0.8})
    try:
        started = time.monotonic()
        assert inst.post(event(0)).status_code == 200
        assert time.monotonic() - started >= 0.4  # 0.8 scenario seconds at scale 2
    finally:
        inst.stop()


def test_a_stall_holds_the_answer_after_the_effect(deno, write, tmp_path, sink):
    inst = start_instance(str(write("effect.ts", EFFECT)) + ":handler", tmp_path / "run", sink.url,
                          time_scale=2.0, stall={"probability": 1.0, "delay_s": 1.2})
    try:
        started = time.monotonic()
        assert inst.post(event(0)).status_code == 200
        assert time.monotonic() - started >= 0.6  # 1.2 scenario seconds at scale 2, after the effect
    finally:
        inst.stop()
    assert [e["event"]["id"] for e in sink.effects] == [event(0)["id"]]


def test_the_instance_exits_at_once_when_its_lifeline_closes(deno, write, tmp_path, sink):
    inst = start_instance(str(write("echo.ts", ECHO)), tmp_path / "run", sink.url)
    inst.process.stdin.close()
    assert inst.process.wait(5) == 0


def test_sigterm_stops_the_instance_cleanly(deno, write, tmp_path, sink):
    inst = start_instance(str(write("echo.ts", ECHO)), tmp_path / "run", sink.url)
    inst.process.send_signal(signal.SIGTERM)
    assert inst.process.wait(5) == 0


def test_a_hosted_handler_may_write_only_in_the_runs_folder(deno, write, tmp_path, sink):
    inst = start_instance(str(write("probe.ts", PROBE)) + ":handler", tmp_path / "run", sink.url)
    try:
        tries = inst.post(event(0)).json()
    finally:
        inst.stop()
    assert tries["write_run_dir"] == "allowed"
    assert {tries["read_etc"], tries["write_tmp"], tries["run"]} <= {"NotCapable", "PermissionDenied"}, tries


def test_instance_argv_runs_the_deno_launcher(deno, write):
    from simulator.clients.runtimes import instance_argv

    argv = instance_argv(parse_spec(f"deno:{write('echo.ts', ECHO)}"))
    assert argv[1:] == ["-m", "simulator.clients.deno.launch"]
    assert subprocess.run([deno, "--version"], capture_output=True, text=True).stdout.startswith("deno 2.")
