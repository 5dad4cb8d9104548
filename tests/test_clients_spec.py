"""Consumer spec strings are checked at the edge: a typo fails before a run, with
a message naming the spec and what is wrong."""
import pytest

from simulator.clients.spec import load_target, parse_spec
from simulator.errors import BadInput


@pytest.fixture
def user_module(tmp_path):
    path = tmp_path / "my_consumer.py"
    path.write_text(
        "class Consumer:\n"
        "    def __init__(self, ctx):\n        self.ctx = ctx\n"
        "    def handle(self, message):\n        pass\n"
        "def handler(event, context):\n    return None\n")
    return path


def test_python_spec_from_a_file(user_module):
    spec = parse_spec(f"python:{user_module}:Consumer")
    assert (spec.kind, spec.pulls) == ("python", True)
    assert load_target(spec.target).__name__ == "Consumer"


@pytest.mark.parametrize("kind,pulls", [("lambda-sqs", True), ("lambda-eb", False)])
def test_lambda_specs(user_module, kind, pulls):
    spec = parse_spec(f"{kind}:{user_module}:handler")
    assert spec.kind == kind and spec.pulls is pulls


def test_http_and_cmd_specs():
    assert parse_spec("http:http://127.0.0.1:9000/events").kind == "http"
    spec = parse_spec("cmd:./consumer --fast")
    assert (spec.kind, spec.target, spec.pulls) == ("cmd", "./consumer --fast", True)


def test_ref_spec_resolves_to_the_reference_consumer():
    from consumers import REFERENCES

    ref = REFERENCES[0]
    spec = parse_spec(f"ref:{ref.name}")
    assert spec.name == ref.name and spec.raw == f"ref:{ref.name}"
    assert f"{spec.kind}:{spec.target}" == ref.spec


@pytest.mark.parametrize("raw,needle", [
    ("nonsense", "expected KIND:TARGET"),
    ("java:Foo", "unknown kind 'java'"),
    ("python:no_such_module_xyz:Cls", "no module named 'no_such_module_xyz'"),
    ("python:missing_file.py:Cls", "no such file"),
    ("http:ftp://host/x", "http:// or https://"),
    ("cmd: ", "empty command"),
    ("ref:does-not-exist", "does-not-exist"),
])
def test_bad_specs_name_the_culprit(raw, needle):
    with pytest.raises(BadInput) as err:
        parse_spec(raw)
    assert needle in str(err.value)
    assert err.value.exit_code == 2


def test_missing_attribute_named(user_module):
    with pytest.raises(BadInput, match="has no attribute 'Nope'"):
        parse_spec(f"python:{user_module}:Nope")


def test_module_that_fails_to_import_is_bad_input(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('boom at import')\n")
    with pytest.raises(BadInput, match="RuntimeError: boom at import"):
        parse_spec(f"python:{broken}:X")


def test_two_files_of_one_name_are_two_modules(tmp_path):
    """Two consumers' ``handler.py`` in two folders: each spec is checked against its own file."""
    for folder, attr in (("a", "first"), ("b", "second")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "handler.py").write_text(f"def {attr}(event, context):\n    return None\n")
    assert parse_spec(f"lambda-sqs:{tmp_path / 'a' / 'handler.py'}:first")
    assert parse_spec(f"lambda-sqs:{tmp_path / 'b' / 'handler.py'}:second")
    with pytest.raises(BadInput, match="has no attribute 'first'"):
        parse_spec(f"lambda-sqs:{tmp_path / 'b' / 'handler.py'}:first")


def test_a_file_that_failed_to_import_is_imported_afresh_once_fixed(tmp_path):
    handler = tmp_path / "handler.py"
    handler.write_text("import no_such_module_here\n\ndef handler(event, context):\n    return None\n")
    with pytest.raises(BadInput, match="no_such_module_here"):
        parse_spec(f"lambda-sqs:{handler}:handler")
    handler.write_text("def handler(event, context):\n    return None\n")
    assert parse_spec(f"lambda-sqs:{handler}:handler").target.endswith(":handler")
