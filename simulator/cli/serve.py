"""`genesys-sim serve`: the app in the foreground (effect sink + control API).

Safe by default: it listens on loopback; listening anywhere else needs an API
token (GENESYS_SIM_API_TOKEN) that every control route then asks for; runs started
over HTTP deliver only to loopback or to hosts named with --allow-target."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from simulator.errors import BadInput, EnvironmentFailure


def register(subparsers: argparse._SubParsersAction) -> None:
    from simulator.app.auth import TOKEN_ENV

    parser = subparsers.add_parser(
        "serve", help="serve the effect sink and the control API over HTTP",
        description="Serve the effect sink and the run control API. Listens on 127.0.0.1 "
        "unless --host says otherwise; runs only shipped scenarios and ref:/http: consumers. "
        f"With {TOKEN_ENV} set, every control route needs 'Authorization: Bearer <token>'; "
        "listening beyond loopback requires it.")
    parser.add_argument("--host", default="127.0.0.1",
                        help=f"address to bind (default 127.0.0.1; any other than loopback needs {TOKEN_ENV})")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080; 0 = any free port)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs"),
                        help="where ledgers and consumer logs of API-started runs go (default ./runs)")
    parser.add_argument("--scenarios-dir", type=Path, default=None,
                        help="directory of scenario files offered by the API (default: the shipped ones)")
    parser.add_argument("--allow-target", action="append", default=[], metavar="HOST[:PORT]",
                        help="let POST /runs deliver http: consumers to HOST (on any port, or only PORT); "
                        "repeatable. Loopback is always allowed, nothing else by default")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from simulator.app import RunRegistry, create_app, make_threaded_server
    from simulator.app.auth import TOKEN_ENV, token_problem
    from simulator.service import RunService

    if not 0 <= args.port <= 65535:
        raise BadInput(f"must be within 0..65535, got {args.port}", where="--port")
    if args.scenarios_dir is not None and not args.scenarios_dir.is_dir():
        raise BadInput(f"{args.scenarios_dir} is not a directory", where="--scenarios-dir")
    allowed = _allowed_targets(args.allow_target)
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    if token is not None and (problem := token_problem(token)):
        raise BadInput(problem, where=TOKEN_ENV)
    if token is None and not _is_loopback(args.host):
        raise BadInput(f"{args.host} is reachable from other machines, so the control API needs a "
                       f"token: set {TOKEN_ENV} (at least 16 characters) in serve's environment, or "
                       f"listen on 127.0.0.1", where="--host")

    registry = RunRegistry()
    service: list[RunService] = []  # set once the port is known: the sink URL needs it
    app = create_app(registry=registry, scenarios_dir=args.scenarios_dir, allowed_targets=allowed,
                     api_token=token, start_run=lambda request: service[0].start(request))
    try:
        server = make_threaded_server(app, args.host, args.port, quiet=False)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                                 where="--host/--port") from None
    # Consumers run on this machine: they reach the sink on loopback whatever --host is.
    service.append(RunService(registry, sink_base_url=f"http://127.0.0.1:{server.port}",
                              out_dir=args.run_dir))
    print(f"genesys-sim serve: listening on http://{_url_host(args.host)}:{server.port}", flush=True)
    if not _is_loopback(args.host):
        print(f"genesys-sim serve: note: {args.host} is reachable from other machines", flush=True)
    if token is not None:
        print(f"genesys-sim serve: control routes need 'Authorization: Bearer' with {TOKEN_ENV}", flush=True)
    if allowed:
        listed = ", ".join(f"{a.host}:{a.port or '*'}" for a in allowed)
        print(f"genesys-sim serve: http: consumers may also target {listed}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _allowed_targets(values: list[str]) -> list:
    from simulator.app.targets import TargetError, parse_allowed

    allowed = []
    for value in values:
        try:
            allowed.append(parse_allowed(value))
        except TargetError as exc:
            raise BadInput(str(exc), where="--allow-target") from None
    return allowed


def _is_loopback(host: str) -> bool:
    from simulator.app.targets import TargetError, canonical_host, is_loopback

    try:
        return is_loopback(canonical_host(host if ":" not in host else f"[{host.strip('[]')}]"))
    except TargetError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
