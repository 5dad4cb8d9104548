"""The README's pytest example works in a fresh project that installs only this
package: a wheel of the repository, a new virtual environment, the example's files
written verbatim, and pytest run there.

The example is read from README.md between the plugin-example markers; until the
section is pasted there, from README_SECTION below (the text to paste)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- plugin-example:start -->", "<!-- plugin-example:end -->"

README_SECTION = '''\
## Testing your consumer with pytest

Installing genesys-sim installs a pytest plugin too (registered by entry point: no
`conftest.py` needed). In a project of your own, a consumer and a test that runs the
shipped `ci-smoke` scenario against it:

<!-- plugin-example:start -->
`my_consumer.py`:

```python
from simulator.clients.api import ConsumerContext, Message

# The Genesys topics this consumer handles (detail-type prefixes).
TOPICS = ("v2.detail.events.conversation.", "v2.users.", "v2.routing.queues.",
          "v2.conversations.", "v2.audits.")
MAX_BYTES = 256 * 1024  # no real event is larger than an EventBridge entry


class Consumer:
    def __init__(self, ctx: ConsumerContext) -> None:
        self.ctx = ctx

    def handle(self, message: Message) -> None:
        # Whatever is not an event we handle raises: the message stays on the
        # queue and its redrive policy parks it in the DLQ, where it is seen.
        if len(message.body.encode()) > MAX_BYTES:
            raise ValueError("larger than any EventBridge event")
        event = message.event()
        if not event["detail-type"].startswith(TOPICS):
            raise ValueError(f"unknown topic {event['detail-type']}")
        correlation_id = event["detail"]["metadata"]["CorrelationId"]
        # Keyed by the Genesys event, the effect is applied once however often
        # the event arrives; the message is deleted only after the effect.
        self.ctx.effect(event, idempotency_key=correlation_id)
```

`test_my_consumer.py`:

```python
from simulator.pytest_plugin import assert_score


def test_survives_ci_smoke(genesys_run):
    result = genesys_run("ci-smoke", "python:my_consumer.py:Consumer")
    assert_score(result, missed=0, duplicated=0)
```

```sh
pip install genesys-sim pytest    # or a path to this checkout, or a wheel of it
pytest
```
<!-- plugin-example:end -->

A failing `assert_score` names each count that differs and prints the score table
and the run's ledger path. With no counts, `assert_score(result)` checks the
scenario's own `expect` thresholds; `assert_score(result, "NAME", ...)` checks one
consumer of several. `result` is a `RunResult`: `result.passed`, `result.exit_code`,
`result.seed`, and `result.consumers`, one score per consumer (`missed`,
`duplicated`, `extra_effects`, `unexpected`, `dlq`, `poison_dropped`, ...).

* `genesys_run(scenario, consumer, *more_consumers, seed=None, instances=None,
  backend=None)`: `scenario` is a shipped scenario's name, a file path, a dict or
  YAML text; consumers are spec strings (relative paths are relative to where
  pytest runs). It is session-scoped, so a module-scoped fixture can run a scenario
  once for several tests. Bad input (a typo in a spec, a scenario field out of
  range) fails the test with one line naming what is wrong.
* The marker form runs the scenario once for the test and hands over its result:

  ```python
  @pytest.mark.genesys_scenario("duplicate-storm", consumer="python:my_consumer.py:Consumer", seed=7)
  def test_storm(genesys_result):
      assert genesys_result.passed
  ```
* `genesys_events` / `genesys_event` give fixture events for unit tests (see
  "Fixtures for unit tests").
* Options: `--genesys-backend moto|localstack`, `--genesys-endpoint URL` (a
  LocalStack, or a moto server you run), `--genesys-seed N` (for runs that set no
  seed themselves), `--genesys-run-dir DIR` (ledgers and consumer logs; default:
  pytest's temporary directory).
* `pytest -n auto` (pytest-xdist) is safe: each worker starts its own embedded moto,
  sink and Redis, and on a shared LocalStack every run names its queues, buses and
  rules after a unique run id.
'''


def example_markdown() -> str:
    """The README's example once pasted there, else the section to paste."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme if START in readme and END in readme else README_SECTION


def example_files(markdown: str) -> dict[str, str]:
    """``name -> text`` for each fenced block captioned `` `name`: `` between the markers."""
    region = markdown.split(START, 1)[1].split(END, 1)[0]
    blocks = re.findall(r"^`([\w./-]+)`:\s*\n+```\w*\n(.*?)^```", region, flags=re.M | re.S)
    return dict(blocks)


def test_the_example_has_a_consumer_and_a_test_using_the_documented_options():
    for markdown in {README_SECTION, example_markdown()}:
        files = example_files(markdown)
        assert "my_consumer.py" in files
        tests = [name for name in files if name.startswith("test_")]
        assert tests and all("genesys_run" in files[t] or "genesys_result" in files[t] for t in tests)
        for option in ("--genesys-backend", "--genesys-endpoint", "--genesys-seed", "--genesys-run-dir"):
            assert option in markdown


def _clean_env() -> dict[str, str]:
    # Nothing of this checkout or of the outer pytest may leak into the fresh project.
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("PYTHON", "PYTEST", "VIRTUAL_ENV")) and k != "COV_CORE_SOURCE"}


def _run(argv: list, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=_clean_env(), capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _source_copy(dest: Path) -> Path:
    """The repository without build output, so building the wheel writes nothing here."""
    skip = shutil.ignore_patterns(".git", ".venv", "runs", "build", "dist", "*.egg-info", "__pycache__",
                                  ".pytest_cache", ".hypothesis", "node_modules")
    shutil.copytree(ROOT, dest, ignore=skip, symlinks=True)
    return dest


@pytest.mark.slow
def test_readme_example_passes_in_a_fresh_project(tmp_path: Path):
    source = _source_copy(tmp_path / "src")
    _run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", tmp_path / "dist"],
         cwd=source, timeout=300)
    wheel = next((tmp_path / "dist").glob("genesys_sim-*.whl"))

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path, timeout=120)
    python = venv / "bin" / "python"
    _run([python, "-m", "pip", "install", "-q", wheel, "pytest"], cwd=tmp_path, timeout=900)

    project = tmp_path / "project"
    project.mkdir()
    for name, text in example_files(example_markdown()).items():
        (project / name).write_text(text, encoding="utf-8")
    where = _run([python, "-c", "import simulator; print(simulator.__file__)"], cwd=project, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(venv)  # the installed wheel, not this checkout

    done = _run([venv / "bin" / "pytest", "-p", "no:cacheprovider"], cwd=project, timeout=600)
    assert "genesys-sim-" in done.stdout  # the plugin came in through its entry point
    assert re.search(r"\b1 passed\b", done.stdout), done.stdout
