"""A hosted Python consumer under its own interpreter: ``--python`` and a
scenario's ``consumers.python``, checked before a run (exit 2 naming the option)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.clients.interpreter import SOURCE_ROOT, child_pythonpath, consumer_specs, with_python
from simulator.clients.runtimes import instance_argv
from simulator.clients.spec import parse_spec
from simulator.errors import BadInput
from simulator.scenario import parse_scenario

HANDLER = "lambda-sqs:consumers.powertools:handler"


def test_the_harness_s_own_interpreter_passes_and_runs_the_host():
    spec = with_python(parse_spec(HANDLER, check=False), sys.executable, where="--python")
    assert spec.python == str(Path(sys.executable))
    assert instance_argv(spec) == [spec.python, "-m", "simulator.clients.host"]
    assert instance_argv(parse_spec(HANDLER, check=False))[0] == sys.executable  # none given: ours


def test_a_missing_interpreter_is_bad_input_naming_the_option(tmp_path):
    with pytest.raises(BadInput) as caught:
        with_python(parse_spec(HANDLER, check=False), str(tmp_path / "nope"), where="--python")
    assert "--python" in str(caught.value) and "no executable Python interpreter" in str(caught.value)


def test_an_interpreter_without_the_host_s_dependencies_is_named(tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    with pytest.raises(BadInput) as caught:
        with_python(parse_spec(HANDLER, check=False), str(tmp_path / "bare" / "bin" / "python"),
                    where="consumers.python")
    message = str(caught.value)
    assert "consumers.python" in message and "orjson" in message and "boto3" in message


def test_the_target_is_imported_under_that_interpreter(tmp_path):
    with pytest.raises(BadInput, match="has no attribute 'nothing'"):
        with_python(parse_spec("lambda-sqs:consumers.powertools:nothing", check=False), sys.executable,
                    where="--python")


def test_only_hosted_python_consumers_take_an_interpreter():
    for raw in ("http:http://127.0.0.1:9/", "cmd:true"):
        with pytest.raises(BadInput, match="interpreter of their own"):
            with_python(parse_spec(raw, check=False), sys.executable, where="--python")


def test_the_child_finds_the_project_s_source_after_what_it_had():
    path = child_pythonpath({"PYTHONPATH": os.pathsep.join(["/a", "/b"])}).split(os.pathsep)
    assert path == ["/a", "/b", str(SOURCE_ROOT)]
    assert child_pythonpath({}) == str(SOURCE_ROOT)


def test_run_with_a_bad_python_exits_2_before_the_run(tmp_path, capsys):
    assert main(["run", "clean", "-c", HANDLER, "--python", str(tmp_path / "nope"), "--quiet",
                 "--run-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert "--python" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # nothing started


def test_a_scenario_names_its_consumers_interpreter(tmp_path, capsys):
    base = "name: x\nconsumers: {instances: 1, python: %s}\n"
    assert parse_scenario(base % "venv/bin/python", source="<x>").consumers.python == "venv/bin/python"
    assert parse_scenario("name: x\n", source="<x>").consumers.python is None
    bad = tmp_path / "s.yaml"
    bad.write_text(base % str(tmp_path / "nope"))
    assert main(["run", str(bad), "-c", HANDLER, "--quiet", "--run-dir", str(tmp_path / "runs")]) == 2
    assert "consumers.python" in capsys.readouterr().err


def test_the_scenario_s_interpreter_is_for_its_hosted_python_consumers_only():
    scenario = parse_scenario(f"name: x\nconsumers: {{python: {sys.executable}}}\n", source="<x>")
    hosted, other = consumer_specs([HANDLER, "http:http://127.0.0.1:9/"], scenario)
    assert hosted.python == str(Path(sys.executable)) and other.python is None
    with pytest.raises(BadInput, match="interpreter of their own"):  # asked for on the command line
        consumer_specs(["http:http://127.0.0.1:9/"], scenario, python=sys.executable)


@pytest.fixture
def only_there(tmp_path):
    """An "interpreter" that can import a module ours cannot (a wrapper adding a
    folder to its path, as a venv adds its site-packages), and a handler file
    that needs that module."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "only_there.py").write_text("VALUE = 1\n")
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{lib}:$PYTHONPATH" exec {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    handler = tmp_path / "handler.py"
    handler.write_text("import only_there\n\ndef handler(event, context):\n    return None\n")
    return wrapper, f"lambda-sqs:{handler}:handler"


def test_the_target_is_imported_by_the_interpreter_it_will_run_under(only_there):
    wrapper, spec = only_there
    with pytest.raises(BadInput, match="only_there"):  # not by ours
        parse_spec(spec)
    scenario = parse_scenario(f"name: x\nconsumers: {{python: {wrapper}}}\n", source="<x>")
    [checked] = consumer_specs([spec], scenario)
    assert checked.python == str(wrapper)
    [given] = consumer_specs([parse_spec(spec, check=False)], scenario)  # a spec built beforehand
    assert given.python == str(wrapper)


def test_post_runs_honours_the_scenario_s_interpreter_before_the_run_starts(tmp_path):
    from simulator.app.registry import RunRegistry
    from simulator.service import RunService

    bad = tmp_path / "s.yaml"
    bad.write_text(f"name: x\nconsumers: {{python: {tmp_path / 'nope'}}}\n")
    registry = RunRegistry()
    service = RunService(registry, sink_base_url="http://127.0.0.1:9", out_dir=tmp_path / "runs")
    with pytest.raises(BadInput) as caught:
        service.start({"scenario": "x", "scenario_file": str(bad), "consumers": ["ref:correct"]})
    assert caught.value.where == f"{bad}: consumers.python"
    assert not (tmp_path / "runs").exists()


def test_the_pytest_plugin_honours_the_scenario_s_interpreter(pytester, tmp_path):
    pytester.makepyfile(test_it=f"""
        def test_it(genesys_run):
            genesys_run({{"name": "x", "consumers": {{"python": "{tmp_path / 'nope'}"}}}}, "ref:correct")
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*genesys-sim: *consumers.python: no executable Python interpreter at *nope*"])


def test_matrix_reads_each_scenario_s_interpreter(tmp_path, capsys):
    bad = tmp_path / "s.yaml"
    bad.write_text(f"name: x\nconsumers: {{python: {tmp_path / 'nope'}}}\n")
    assert main(["matrix", "-s", "clean", "-s", str(bad), "-c", HANDLER, "--quiet",
                 "--run-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: consumers.python" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # checked before the first scenario ran


def test_the_venvs_command_names_what_it_makes(capsys, tmp_path, monkeypatch):
    from simulator.clients import venvs
    from simulator.errors import EnvironmentFailure

    assert venvs.main(["powertools-9"]) == 2
    assert "powertools-3.34.0" in capsys.readouterr().err
    monkeypatch.setenv(venvs.ENV_CACHE, str(tmp_path))
    assert venvs.venv_dir("powertools-3.34.0") == tmp_path / "venvs" / "powertools-3.34.0"
    with pytest.raises(EnvironmentFailure, match="python -m simulator.clients.venvs powertools-3.34.0"):
        venvs.venv_python("powertools-3.34.0", create=False)
    # a half-made one (no .complete mark) is not taken for made
    (tmp_path / "venvs" / "powertools-3.34.0" / "bin").mkdir(parents=True)
    (tmp_path / "venvs" / "powertools-3.34.0" / "bin" / "python").write_text("")
    with pytest.raises(EnvironmentFailure):
        venvs.venv_python("powertools-3.34.0", create=False)
    assert "aws-lambda-powertools==3.34.0" in venvs.VENVS["powertools-3.34.0"]
