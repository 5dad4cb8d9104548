"""Consumer spec strings (DESIGN.md contract), parsed and checked at the edge.

``ref:NAME``, ``python:MODULE_OR_FILE:CLASS``, ``lambda-sqs:MODULE_OR_FILE:FUNCTION``,
``lambda-eb:MODULE_OR_FILE:FUNCTION``, ``wsgi:MODULE_OR_FILE:FACTORY`` (an HTTP
endpoint the harness hosts), ``deno:FILE[:EXPORT]`` (a Deno fetch handler the
harness hosts the same way), ``http:URL`` (an endpoint the user runs) and
``cmd:COMMAND``. A ``lambda-sqs:``/``lambda-eb:`` target whose file is ``.js``,
``.mjs``, ``.cjs`` or ``.ts`` is a Node.js handler (simulator/clients/node/).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from simulator.clients import node
from simulator.errors import BadInput

Kind = Literal["python", "lambda-sqs", "lambda-eb", "wsgi", "deno", "http", "cmd"]
KINDS: tuple[str, ...] = ("python", "lambda-sqs", "lambda-eb", "wsgi", "deno", "http", "cmd")
# Kinds that read an SQS queue themselves; the rest are pushed to (EventBridge targets).
PULL_KINDS = frozenset({"python", "lambda-sqs", "cmd"})
# Kinds whose code the harness imports and runs in its own host processes.
HOSTED_KINDS = frozenset({"python", "lambda-sqs", "lambda-eb", "wsgi", "deno"})
# Kinds whose handler may be a Node.js file (run as Lambda's Node.js runtime would).
NODE_KINDS = frozenset({"lambda-sqs", "lambda-eb"})


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    raw: str  # as the user wrote it
    kind: Kind
    target: str  # MODULE_OR_FILE:ATTR, URL or command
    name: str  # display name: the ref name, else the raw spec
    # The interpreter a hosted Python consumer runs under (None: the harness's own;
    # simulator/clients/interpreter.py).
    python: str | None = None

    @property
    def pulls(self) -> bool:
        return self.kind in PULL_KINDS

    @property
    def runtime(self) -> Literal["python", "node"]:
        """Which host runs the code: Node.js for a lambda handler in a Node file."""
        return "node" if self.kind in NODE_KINDS and node.is_node_target(self.target) else "python"


def parse_spec(raw: str, *, check: bool = True) -> ConsumerSpec:
    """Parse a spec string; with ``check``, also verify that what it names exists
    (module and attribute importable, URL well-formed) so a typo fails before a run."""
    where = f"consumer spec {raw!r}"
    prefix, sep, rest = raw.partition(":")
    if not sep or not rest:
        raise BadInput(f"expected KIND:TARGET with KIND one of ref, {', '.join(KINDS)}", where=where)
    if prefix == "ref":
        from consumers import get

        ref = get(rest)
        inner = parse_spec(ref.spec, check=check)
        return ConsumerSpec(raw=raw, kind=inner.kind, target=inner.target, name=rest)
    if prefix not in KINDS:
        raise BadInput(f"unknown kind {prefix!r}; expected ref, {', '.join(KINDS)}", where=where)
    if prefix == "deno":
        return _deno_spec(raw, rest, check=check, where=where)
    spec = ConsumerSpec(raw=raw, kind=prefix, target=rest, name=raw)  # type: ignore[arg-type]
    if check:
        if spec.runtime == "node":
            node.check_handler(spec.target, where=where)
        elif spec.kind in HOSTED_KINDS:
            _not_a_node_file(spec, where)
            load_target(spec.target, where=where)
        elif spec.kind == "http":
            url = urlparse(spec.target)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise BadInput("expected an http:// or https:// URL", where=where)
        elif not spec.target.strip():
            raise BadInput("empty command", where=where)
    return spec


def _deno_spec(raw: str, rest: str, *, check: bool, where: str) -> ConsumerSpec:
    """``deno:FILE[:EXPORT]``: the target becomes ``ABSOLUTE_FILE:EXPORT``; with
    ``check``, the file is imported under Deno and the export must be a handler."""
    from simulator.clients.deno import check_handler, split_target

    handler, export = split_target(rest, where=where)
    if check:
        check_handler(handler, export, where=where)
    return ConsumerSpec(raw=raw, kind="deno", target=f"{handler}:{export}", name=raw)


def _not_a_node_file(spec: ConsumerSpec, where: str) -> None:
    if node.is_node_target(spec.target):
        raise BadInput(f"{spec.kind}: runs Python code; a Node.js file runs as a Lambda handler: "
                       f"lambda-sqs:{spec.target} or lambda-eb:{spec.target}", where=where)


def load_target(target: str, *, where: str = "") -> Any:
    """Import ``MODULE:ATTR`` or ``path/to/file.py:ATTR`` and return the attribute."""
    module_ref, sep, attr = target.rpartition(":")
    if not sep or not module_ref or not attr:
        raise BadInput(f"expected MODULE_OR_FILE:NAME, got {target!r}", where=where or None)
    try:
        module = _import(module_ref)
    except BadInput as exc:
        raise BadInput(str(exc), where=where or None) from None
    except Exception as exc:  # the user's module failed while importing
        raise BadInput(f"importing {module_ref!r} failed: {type(exc).__name__}: {exc}",
                       where=where or None) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise BadInput(f"{module_ref!r} has no attribute {attr!r}", where=where or None) from None


def _import(module_ref: str) -> Any:
    if module_ref.endswith(".py") or "/" in module_ref:
        path = Path(module_ref).resolve()
        if not path.is_file():
            raise BadInput(f"no such file: {module_ref}")
        # One module per file, not per file name: two consumers' handler.py are two modules
        digest = hashlib.blake2b(str(path).encode(), digest_size=6).hexdigest()
        name = f"_genesys_sim_user_{path.stem}_{digest}"
        if name in sys.modules:
            return sys.modules[name]
        # Let the user's file import its siblings, as running it directly would.
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]  # a file that failed to import is not imported: a retry runs it again
            raise
        return module
    # A user's module beside where they run the command, as `python -m` would find it.
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    if importlib.util.find_spec(module_ref.split(".")[0]) is None:
        raise BadInput(f"no module named {module_ref!r}")
    return importlib.import_module(module_ref)
