"""The Node.js host runs a handler as Lambda's Node.js runtime would, and keeps the
Python host's contracts: receipts on the ledger's monotonic clock, crash and
timeout exits, slow faults, the lifeline. Driven through lambda-eb's HTTP side,
one real Node process per test."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from node_support import HANDLERS, NodeHost, genesys_event, listening, process_alive, served_sink
from simulator.clients.faults import CRASH_EXIT, TIMEOUT_EXIT

SHAPES = HANDLERS / "shapes.mjs"
CALLBACKS = HANDLERS / "callbacks.cjs"


@pytest.fixture
def sink():
    with served_sink() as recording:
        yield recording


def test_async_esm_handler_gets_the_event_and_a_lambda_context(tmp_path):
    event = genesys_event()
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path, function_timeout_s=3.0) as host:
        answer = host.post(event)
    assert answer.status_code == 200
    body = answer.json()
    assert body["event"] == event
    ctx = body["context"]
    assert ctx["functionName"] == "node-test" and ctx["functionVersion"] == "$LATEST"
    assert ctx["invokedFunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:node-test"
    assert ctx["memoryLimitInMB"] == "128" and ctx["logGroupName"] == "/aws/lambda/node-test"
    assert len(ctx["awsRequestId"]) == 36 and ctx["callbackWaitsForEmptyEventLoop"] is True
    assert ctx["env"] == {"AWS_LAMBDA_FUNCTION_NAME": "node-test", "LAMBDA_TASK_ROOT": str(HANDLERS),
                          "_HANDLER": "shapes.echo"}
    first, later = body["remaining"]
    assert 1500 < first <= 3000 and first - later >= 140  # the handler slept 150 ms in between


def test_each_invocation_gets_its_own_request_id_and_deadline(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path) as host:
        one, two = (host.post(genesys_event()).json() for _ in range(2))
    assert one["context"]["awsRequestId"] != two["context"]["awsRequestId"]
    assert 29_000 < two["remaining"][0] <= 30_000  # no function timeout: the context's 30 s


def test_callback_style_commonjs_handler(tmp_path):
    with NodeHost(f"lambda-eb:{CALLBACKS}:handler", tmp_path) as host:
        answer = host.post(genesys_event())
    assert answer.status_code == 200
    assert answer.json() == {"via": "callback", "id": genesys_event()["id"], "named": 503}


def test_only_the_first_answer_counts(tmp_path):
    with NodeHost(f"lambda-eb:{CALLBACKS}:answersTwice", tmp_path) as host:
        assert host.post(genesys_event()).json() == {"first": True}


def test_a_callback_answers_once_the_work_it_left_is_done(tmp_path):
    """callbackWaitsForEmptyEventLoop: true (Lambda's default) holds the answer
    until the timers the invocation started have fired; false answers at once."""
    with NodeHost(f"lambda-eb:{CALLBACKS}:callsBackEarly", tmp_path) as host:
        started = time.monotonic()
        assert host.post(genesys_event()).json() == {"answered": "when the timer is done"}
        assert time.monotonic() - started >= 0.28
        assert "work after the callback" in host.log()
    with NodeHost(f"lambda-eb:{CALLBACKS}:doesNotWait", tmp_path) as host:
        started = time.monotonic()
        assert host.post(genesys_event()).json() == {"answered": "at once"}
        assert time.monotonic() - started < 2.0


def test_context_succeed_answers_for_an_old_style_handler(tmp_path):
    with NodeHost(f"lambda-eb:{CALLBACKS}:succeeds", tmp_path) as host:
        assert host.post(genesys_event()).json() == {"via": "context.succeed"}


@pytest.mark.parametrize("export,error_type,message", [
    ("fails", "ValidationError", "no CorrelationId"),
    ("rejectsWithString", "string", "plain string"),
])
def test_failed_invocations_answer_500_with_lambdas_error_body(tmp_path, export, error_type, message):
    with NodeHost(f"lambda-eb:{SHAPES}:{export}", tmp_path) as host:
        answer = host.post(genesys_event())
        assert host.process.poll() is None  # a failed invocation is not a crash
    assert answer.status_code == 500
    assert (answer.json()["errorType"], answer.json()["errorMessage"]) == (error_type, message)


def test_callback_error_answers_500(tmp_path):
    with NodeHost(f"lambda-eb:{CALLBACKS}:fails", tmp_path) as host:
        answer = host.post(genesys_event())
    assert answer.status_code == 500 and answer.json()["errorType"] == "TypeError"


def test_a_body_that_is_not_json_fails_the_invocation(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path) as host:
        answer = host.post('{"version": "0", "id": "cut-off')
        assert host.receipt_lines()[0]["envelope_id"] is None
    assert answer.status_code == 500 and answer.json()["errorType"] == "SyntaxError"


def test_a_non_async_handler_without_callback_answers_null_as_lambda_does(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:notAsync", tmp_path) as host:
        answer = host.post(genesys_event())
        log = host.log()
    assert answer.status_code == 200 and answer.json() == {}  # its return value is ignored
    assert "returned a value: Lambda ignores it" in log


def test_a_handler_past_its_function_timeout_answers_timedout_and_the_host_exits(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:sleeps", tmp_path, function_timeout_s=0.5) as host:
        assert host.post({"sleep_ms": 100}).json() == {"slept": 100}  # within the timeout
        started = time.monotonic()
        answer = host.post({"sleep_ms": 5000})
        assert time.monotonic() - started < 2.0
        assert host.wait(5) == TIMEOUT_EXIT
    assert answer.status_code == 500
    assert answer.json() == {"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 0.50 seconds"}


def test_a_handler_blocking_the_event_loop_is_killed_past_its_timeout(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:spins", tmp_path, function_timeout_s=0.5) as host:
        with pytest.raises(Exception):
            host.post({"spin_ms": 20_000}, timeout_s=10)
        assert host.wait(5) == -9
        assert "blocked the event loop" in host.log()


def test_receipts_are_on_pythons_monotonic_clock(tmp_path):
    event = genesys_event("11111111-2222-4333-8444-555555555555")
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path, t0=0.0) as host:
        before = time.monotonic()
        host.post(event)
        after = time.monotonic()
        (receipt,) = host.receipt_lines()
    assert before <= receipt["at"] <= after  # process.hrtime is CLOCK_MONOTONIC, as time.monotonic()
    assert receipt == {"consumer": "node-test", "instance": 0, "at": receipt["at"], "message_id": None,
                       "envelope_id": event["id"], "correlation_id": event["detail"]["metadata"]["CorrelationId"],
                       "receive_count": 1}


def test_receipts_measure_from_the_ledgers_origin(tmp_path):
    t0 = time.monotonic()
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path, t0=t0) as host:
        host.post(genesys_event())
        elapsed = time.monotonic() - t0
        (receipt,) = host.receipt_lines()
    assert 0 < receipt["at"] <= elapsed


def _exit_error(answer):
    body = answer.json()
    assert answer.status_code == 500 and body["errorType"] == "Runtime.ExitError", body
    assert body["errorMessage"].endswith(f"Runtime exited with error: exit status {CRASH_EXIT}")


def test_crash_after_receive_ends_the_every_th_invocation_and_exits_86(tmp_path):
    crash = {"point": "after_receive", "every": 3, "restart_after_s": 1}
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path, crash=crash) as host:
        assert [host.post(genesys_event(f"c{i}")).status_code for i in range(2)] == [200, 200]
        _exit_error(host.post(genesys_event("c2")))  # the third: received, then its environment is gone
        assert host.wait(5) == CRASH_EXIT
        assert [r["correlation_id"] for r in host.receipt_lines()] == ["c0", "c1", "c2"]


@pytest.mark.parametrize("export", ["effectByFetch", "effectByHelper"])
def test_crash_after_effect_sees_plain_fetch_and_the_helper(tmp_path, sink, export):
    crash = {"point": "after_effect", "every": 2, "restart_after_s": 1}
    with NodeHost(f"lambda-eb:{SHAPES}:{export}", tmp_path, sink_url=sink.url, crash=crash) as host:
        assert host.post(genesys_event("e1")).status_code == 200
        _exit_error(host.post(genesys_event("e2")))
        assert host.wait(5) == CRASH_EXIT
    # the second effect was applied downstream, then the environment died before answering
    assert [e["event"]["detail"]["metadata"]["CorrelationId"] for e in sink.effects] == ["e1", "e2"]
    assert all(e["idempotency_key"] == e["event"]["detail"]["metadata"]["CorrelationId"] for e in sink.effects)


def test_a_crash_ends_only_its_own_invocation(tmp_path, sink):
    """Each invocation in flight stands for an execution environment of its own:
    one that crashes answers Runtime.ExitError, the others finish, an invocation
    arriving meanwhile is told no environment is ready (503, not a function
    error), and the instance exits once the others have answered."""
    crash = {"point": "after_effect", "every": 1, "restart_after_s": 1}
    with NodeHost(f"lambda-eb:{SHAPES}:sleepsThenEffect", tmp_path, sink_url=sink.url, crash=crash) as host:
        with ThreadPoolExecutor(2) as pool:
            slow = pool.submit(host.post, {**genesys_event("slow"), "sleep_ms": 1500})
            time.sleep(0.3)  # the slow one is sleeping, before its effect
            _exit_error(host.post({**genesys_event("fast"), "sleep_ms": 0}))
            assert host.process.poll() is None  # the slow one is still running
            late = host.post({**genesys_event("late"), "sleep_ms": 0})
            assert late.status_code == 503 and late.json()["errorType"] == "ServiceUnavailableException"
            _exit_error(slow.result())  # its own effect was the next crash
        assert host.wait(5) == CRASH_EXIT
    assert [e["event"]["detail"]["metadata"]["CorrelationId"] for e in sink.effects] == ["fast", "slow"]


def test_a_timed_out_invocation_leaves_the_others_running_and_reaches_nothing(tmp_path, sink):
    with NodeHost(f"lambda-eb:{SHAPES}:sleepsThenEffect", tmp_path, sink_url=sink.url,
                  function_timeout_s=2.0) as host:
        with ThreadPoolExecutor(2) as pool:
            # stuck times out at 2.0 s and would report at 2.4 s; fine runs from 1.0 s to
            # about 2.5 s (0.5 s inside its own timeout on a loaded machine), across both
            stuck = pool.submit(host.post, {**genesys_event("stuck"), "sleep_ms": 2400})
            time.sleep(1.0)
            fine = pool.submit(host.post, {**genesys_event("fine"), "sleep_ms": 1500})
            assert stuck.result().json()["errorType"] == "Sandbox.Timedout"
            assert fine.result().status_code == 200
        assert host.wait(5) == TIMEOUT_EXIT
    # what the frozen invocation did after its timeout never left the environment
    assert [e["event"]["detail"]["metadata"]["CorrelationId"] for e in sink.effects] == ["fine"]


def test_the_helper_reports_what_python_consumers_report(tmp_path, sink):
    with NodeHost(f"lambda-eb:{SHAPES}:effectByHelper", tmp_path, sink_url=sink.url,
                  env={"GENESYS_SIM_INSTANCE": "3"}) as host:
        assert host.post(genesys_event("h1")).json() == {"reported": True}
    (effect,) = sink.effects
    assert effect == {"event": genesys_event("h1"), "idempotency_key": "h1", "consumer": "node-test", "instance": 3}


def test_a_refused_effect_is_not_an_applied_one(tmp_path, sink):
    sink.status = 500
    crash = {"point": "after_effect", "every": 1, "restart_after_s": 1}
    with NodeHost(f"lambda-eb:{SHAPES}:effectByHelper", tmp_path, sink_url=sink.url, crash=crash) as host:
        answer = host.post(genesys_event("r1"))
        assert host.process.poll() is None  # no crash: nothing was applied
    assert answer.status_code == 500 and answer.json()["errorType"] == "DownstreamError"


def test_slow_fault_delays_the_handler(tmp_path):
    slow = {"probability": 1.0, "delay_s": 0.6}
    with NodeHost(f"lambda-eb:{SHAPES}:sleeps", tmp_path, slow=slow, env={"GENESYS_SIM_TIME_SCALE": "2"}) as host:
        started = time.monotonic()
        host.post({"sleep_ms": 0})
        assert 0.28 <= time.monotonic() - started < 2.0  # 0.6 scenario s at scale 2


def test_stall_holds_the_answer_after_the_effect(tmp_path, sink):
    stall = {"probability": 1.0, "delay_s": 1.2}
    with NodeHost(f"lambda-eb:{SHAPES}:effectByHelper", tmp_path, sink_url=sink.url, stall=stall,
                  env={"GENESYS_SIM_TIME_SCALE": "2"}) as host:
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            answer = pool.submit(host.post, genesys_event("s1"))
            while not sink.effects and time.monotonic() - started < 5:
                time.sleep(0.01)
            applied = time.monotonic() - started
            assert answer.result().json() == {"reported": True}
            answered = time.monotonic() - started
    assert len(sink.effects) == 1
    assert answered - applied >= 0.5  # 1.2 scenario s at scale 2, after the effect


def test_slow_fault_is_seeded(tmp_path):
    def delayed(seed: int) -> list[bool]:
        slow = {"probability": 0.5, "delay_s": 0.8}
        with NodeHost(f"lambda-eb:{SHAPES}:sleeps", tmp_path, slow=slow, seed=seed) as host:
            out = []
            for _ in range(8):
                started = time.monotonic()
                host.post({"sleep_ms": 0})
                out.append(time.monotonic() - started > 0.5)
            return out

    first = delayed(5)
    assert delayed(5) == first and 0 < sum(first) < 8


def test_the_host_dies_with_the_harness(tmp_path):
    """SIGKILL the process holding the lifeline: the Node host exits at once."""
    host = NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path)
    harness = textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen({host.argv!r}, env={host.env!r}, stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        print(child.pid, flush=True)
        time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", harness], stdout=subprocess.PIPE, text=True)
    pid = int(proc.stdout.readline())
    deadline = time.monotonic() + 20
    while not listening(host.port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listening(host.port) and process_alive(pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(pid)


def test_sigterm_stops_the_push_host_cleanly(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path) as host:
        host.process.terminate()
        assert host.wait(5) == 0


def test_non_post_requests_are_refused(tmp_path):
    with NodeHost(f"lambda-eb:{SHAPES}:echo", tmp_path) as host:
        answer = requests.get(f"http://127.0.0.1:{host.port}/", timeout=5)
        assert host.receipt_lines() == []
    assert answer.status_code == 405 and json.loads(answer.text) == {"error": "POST an EventBridge event"}


def test_the_readme_typescript_example_runs(tmp_path, sink):
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("### Node.js and TypeScript handlers", 1)[1]
    source = section.split("```ts\n", 1)[1].split("```", 1)[0]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.ts").write_text(source)
    with NodeHost(f"lambda-eb:{tmp_path}/src/app.ts:lambdaHandler", tmp_path, sink_url=sink.url) as host:
        assert host.post(genesys_event("readme-1")).json() == {"statusCode": 200}
        assert host.post({"detail": {}}).status_code == 500  # poison: the invocation fails
    assert [e["idempotency_key"] for e in sink.effects] == ["readme-1"]
