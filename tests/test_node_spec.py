"""A lambda-sqs:/lambda-eb: target in a .js, .mjs, .cjs or .ts file selects the
Node.js runtime, and is checked before the run: the file is loaded in Node, so a
syntax error, a failing module or a missing export is bad input (exit 2) naming
the file and the export."""
from __future__ import annotations

import subprocess
import sys

import pytest

from node_support import HANDLERS
from simulator.clients import node
from simulator.clients.runtimes import instance_argv
from simulator.clients.spec import parse_spec
from simulator.errors import BadInput, EnvironmentFailure

BLUEPRINT = HANDLERS / "blueprint"
BROKEN = HANDLERS / "broken"


@pytest.mark.parametrize("target", [
    f"{BLUEPRINT}/app.ts:lambdaHandler",
    f"{HANDLERS}/shapes.mjs:echo",
    f"{HANDLERS}/callbacks.cjs:handler",
    f"{HANDLERS}/esm-ts/batch.ts:handler",
])
@pytest.mark.parametrize("kind", ["lambda-sqs", "lambda-eb"])
def test_node_files_select_the_node_runtime(kind, target):
    spec = parse_spec(f"{kind}:{target}")
    assert spec.runtime == "node" and spec.kind == kind
    argv = instance_argv(spec)
    assert argv[0] == node.node_executable() and argv[1].endswith("host.mjs")


def test_python_targets_keep_the_python_host(tmp_path):
    handler = tmp_path / "handler.py"
    handler.write_text("def handler(event, context):\n    return None\n")
    spec = parse_spec(f"lambda-sqs:{handler}:handler")
    assert spec.runtime == "python"
    assert instance_argv(spec)[1:] == ["-m", "simulator.clients.host"]


def test_a_relative_path_from_where_the_command_runs(monkeypatch):
    monkeypatch.chdir(HANDLERS)
    assert parse_spec("lambda-eb:blueprint/app.ts:lambdaHandler").runtime == "node"


@pytest.mark.parametrize("target,needles", [
    (f"{BROKEN}/syntax.ts:handler", ["syntax.ts", "'handler'", "line 2", "SyntaxError"]),
    (f"{BROKEN}/syntax.mjs:handler", ["syntax.mjs", "'handler'", "line 2", "SyntaxError"]),
    (f"{BROKEN}/throws.cjs:handler", ["throws.cjs", "'handler'", "line 2", "Error: TABLE_NAME is not set"]),
    (f"{BLUEPRINT}/app.ts:handler", ["app.ts has no export 'handler'", "it exports: lambdaHandler"]),
    (f"{HANDLERS}/shapes.mjs:config", ["export 'config' of", "shapes.mjs", "not a function (it is object)"]),
    (f"{HANDLERS}/nowhere.ts:handler", ["no such file:", "nowhere.ts"]),
    (f"{HANDLERS}/shapes.mjs:", ["expected FILE:EXPORT"]),
])
def test_bad_handlers_are_bad_input_naming_file_and_export(target, needles):
    with pytest.raises(BadInput) as err:
        parse_spec(f"lambda-sqs:{target}")
    assert err.value.exit_code == 2
    message = str(err.value)
    assert message.startswith(f"consumer spec 'lambda-sqs:{target}'")
    for needle in needles:
        assert needle in message


def test_a_missing_package_is_named(tmp_path):
    handler = tmp_path / "needs.mjs"
    handler.write_text('import pad from "left-pad-not-installed";\nexport const handler = async () => pad;\n')
    with pytest.raises(BadInput, match="Cannot find package 'left-pad-not-installed'"):
        parse_spec(f"lambda-eb:{handler}:handler")


def test_the_sdk_and_the_helper_resolve_without_a_node_modules_of_its_own(tmp_path):
    for name, text in {
        "esm.mjs": 'import { SQSClient } from "@aws-sdk/client-sqs";\nimport { reportEffect } from "genesys-sim";\n'
                   'export const handler = async () => [new SQSClient({}), reportEffect];\n',
        "cjs.cjs": 'const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");\n'
                   'const { reportEffect } = require("genesys-sim");\nexports.handler = async () => reportEffect;\n',
    }.items():
        (tmp_path / name).write_text(text)
        assert parse_spec(f"lambda-sqs:{tmp_path / name}:handler").runtime == "node"


def test_a_node_file_under_a_python_kind_is_bad_input():
    with pytest.raises(BadInput, match="a Node.js file runs as a Lambda handler: lambda-sqs:"):
        parse_spec(f"python:{HANDLERS}/shapes.mjs:echo")


def test_no_node_is_an_environment_failure(monkeypatch):
    monkeypatch.setenv(node.ENV_NODE, "/nonexistent/node-binary")
    with pytest.raises(EnvironmentFailure) as err:
        parse_spec(f"lambda-eb:{HANDLERS}/shapes.mjs:echo")
    assert err.value.exit_code == 3 and "Node.js" in str(err.value)


def test_the_cli_exits_2_naming_the_file_before_the_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "run", "ci-smoke", "--consumer", f"lambda-sqs:{BROKEN}/syntax.ts:handler",
         "--run-dir", str(tmp_path / "runs")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "syntax.ts" in done.stderr and "'handler'" in done.stderr and "line 2" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # no run started
