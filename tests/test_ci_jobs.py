"""The CI jobs of README's "Running it in your CI" are the files in docs/ci/, and
they work: their commands, run as the CI would run them (bash, in a fresh folder),
install genesys-sim from a wheel of this checkout into a fresh virtual environment,
run a Python and a Node.js consumer against shipped scenarios, fail on a failed
verdict, and leave the JUnit XML and the HTML report of every scenario."""
from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "docs" / "ci"
JOBS = ("github-actions.yml", "gitlab-ci.yml")

PYTHON_CONSUMER = '''\
import re
from simulator.clients.api import ConsumerContext, Message

TOPIC = re.compile(r"v2\\.(detail\\.events\\.conversation|conversations|audits|users|routing\\.queues)\\.")


class Consumer:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        if len(message.body.encode()) > 256 * 1024:
            raise ValueError("larger than any EventBridge event")
        event = message.event()
        if not TOPIC.match(event["detail-type"]):
            raise ValueError("unknown topic")
        self.ctx.effect(event, idempotency_key=event["detail"]["metadata"]["CorrelationId"])


class Careless(Consumer):
    def handle(self, message: Message) -> None:
        self.ctx.effect(message.event())  # no idempotency key: copies apply twice
'''

NODE_CONSUMER = '''\
const TOPIC = /^v2\\.(detail\\.events\\.conversation|conversations|audits|users|routing\\.queues)\\./;

async function effect(body) {
  const response = await fetch(`${process.env.GENESYS_SIM_SINK_URL}/effects`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`the sink answered ${response.status}`);
}

export const handler = async (event) => {
  const batchItemFailures = [];
  for (const record of event.Records) {
    try {
      if (Buffer.byteLength(record.body) > 256 * 1024) throw new Error("larger than any EventBridge event");
      const genesysEvent = JSON.parse(record.body);
      if (!TOPIC.test(genesysEvent["detail-type"])) throw new Error("unknown topic");
      await effect({ event: genesysEvent, idempotency_key: genesysEvent.detail.metadata.CorrelationId });
    } catch {
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
};

export const careless = async (event) => {  // swallows every error: poison and refused effects vanish
  for (const record of event.Records) {
    try {
      await effect({ event: JSON.parse(record.body) });
    } catch {}
  }
};
'''


def phases(job_file: str) -> tuple[dict[str, str], list[str]]:
    """(the job's environment, its shell scripts in the order the CI runs them)."""
    doc = yaml.safe_load((CI / job_file).read_text())
    if job_file == "github-actions.yml":
        job = doc["jobs"]["genesys-sim"]
        return dict(job["env"]), [step["run"] for step in job["steps"] if "run" in step]
    job = doc["genesys-sim"]
    return dict(job["variables"]), ["\n".join(job["before_script"]), "\n".join(job["script"])]


def test_readme_embeds_the_jobs_as_they_are():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running it in your CI", 1)[1].split("\n## ", 1)[0]
    assert readme.index("## Running it in your CI") < readme.index("## Development")
    for job_file in JOBS:
        assert f"```yaml\n{(CI / job_file).read_text()}```" in section, job_file


def test_the_jobs_keep_reports_and_fail_on_a_failed_verdict():
    github = yaml.safe_load((CI / "github-actions.yml").read_text())["jobs"]["genesys-sim"]
    upload = next(s for s in github["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["path"] == "genesys-sim-reports/"
    gitlab = yaml.safe_load((CI / "gitlab-ci.yml").read_text())["genesys-sim"]
    assert gitlab["artifacts"]["when"] == "always"
    assert gitlab["artifacts"]["reports"]["junit"] == "genesys-sim-reports/*.xml"
    for job_file in JOBS:
        _, scripts = phases(job_file)
        assert scripts[-1].rstrip().endswith("exit $status")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(ROOT)],
                   check=True, timeout=600)
    (built,) = out.glob("genesys_sim-*.whl")
    return built


def _env(job_env: dict[str, str], **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    # nothing of this checkout's own environment: the job's venv is the only genesys-sim
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(ROOT)))
    return {**env, **job_env, **overrides}


def _bash(script: str, cwd: Path, env: dict[str, str], log: Path) -> int:
    with open(log, "ab") as out:
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=cwd, env=env,
                              stdout=out, stderr=subprocess.STDOUT, timeout=900).returncode


def _junit(path: Path) -> tuple[int, int]:
    """(test cases, failed ones) of a JUnit XML report."""
    cases = list(ET.parse(path).getroot().iter("testcase"))
    return len(cases), sum(1 for c in cases if c.find("failure") is not None or c.find("error") is not None)


# (job file, [(consumer spec, scenarios, expected exit status)])
CASES = {
    "github-actions.yml": [("python:my_consumer.py:Consumer", "ci-smoke", 0),
                           ("lambda-sqs:handler.mjs:careless", "clean ci-smoke", 1)],
    "gitlab-ci.yml": [("lambda-sqs:handler.mjs:handler", "ci-smoke", 0),
                      ("python:my_consumer.py:Careless", "ci-smoke", 1)],
}


@pytest.mark.parametrize("job_file", JOBS)
def test_the_jobs_commands_run_a_python_and_a_node_consumer(job_file, wheel, tmp_path):
    work = tmp_path / "repo"  # the team's repository, as the CI checks it out
    work.mkdir()
    (work / "my_consumer.py").write_text(PYTHON_CONSUMER)
    (work / "handler.mjs").write_text(NODE_CONSUMER)
    job_env, scripts = phases(job_file)
    # a fresh machine: the Node.js host's packages are installed on first use, here
    env = _env(job_env, GENESYS_SIM=str(wheel), GENESYS_SIM_NODE_CACHE=str(tmp_path / "node-cache"))
    log = tmp_path / "job.log"
    for script in scripts[:-1]:
        assert _bash(script, work, env, log) == 0, log.read_text()[-4000:]
    assert (work / ".genesys-sim" / "bin" / "genesys-sim").exists()
    for consumer, scenarios, expected in CASES[job_file]:
        reports = work / "genesys-sim-reports"
        status = _bash(scripts[-1], work, {**env, "CONSUMER": consumer, "SCENARIOS": scenarios}, log)
        assert status == expected, f"{consumer}: exit {status}\n{log.read_text()[-4000:]}"
        for scenario in scenarios.split():
            cases, failed = _junit(reports / f"{scenario}.xml")
            assert cases == 1 and failed == (1 if expected and scenario == "ci-smoke" else 0), (consumer, scenario)
            html = (reports / f"{scenario}.html").read_text()
            assert html.lstrip().lower().startswith("<!doctype html") and scenario in html
        assert list((reports / "runs").glob(f"{scenarios.split()[0]}-*/ledger.jsonl"))
