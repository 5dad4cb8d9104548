"""`genesys-sim serve`: the app in the foreground (effect sink + control API)."""
from __future__ import annotations

import argparse
from pathlib import Path

from simulator.errors import BadInput, EnvironmentFailure

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="serve the effect sink and the control API over HTTP",
        description="Serve the effect sink and the run control API. Listens on 127.0.0.1 "
        "unless --host says otherwise; runs only shipped scenarios and ref:/http: consumers.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to bind (default 8080; 0 = any free port)")
    parser.add_argument("--run-dir", type=Path, default=Path("runs"),
                        help="where ledgers and consumer logs of API-started runs go (default ./runs)")
    parser.add_argument("--scenarios-dir", type=Path, default=None,
                        help="directory of scenario files offered by the API (default: the shipped ones)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from simulator.app import RunRegistry, create_app, make_threaded_server
    from simulator.service import RunService

    if not 0 <= args.port <= 65535:
        raise BadInput(f"must be within 0..65535, got {args.port}", where="--port")
    if args.scenarios_dir is not None and not args.scenarios_dir.is_dir():
        raise BadInput(f"{args.scenarios_dir} is not a directory", where="--scenarios-dir")
    registry = RunRegistry()
    service: list[RunService] = []  # set once the port is known: the sink URL needs it
    app = create_app(registry=registry, scenarios_dir=args.scenarios_dir,
                     start_run=lambda request: service[0].start(request))
    try:
        server = make_threaded_server(app, args.host, args.port, quiet=False)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                                 where="--host/--port") from None
    # Consumers run on this machine: they reach the sink on loopback whatever --host is.
    service.append(RunService(registry, sink_base_url=f"http://127.0.0.1:{server.port}",
                              out_dir=args.run_dir))
    print(f"genesys-sim serve: listening on http://{_url_host(args.host)}:{server.port}", flush=True)
    if args.host not in LOOPBACK:
        print(f"genesys-sim serve: note: {args.host} is reachable from other machines", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
