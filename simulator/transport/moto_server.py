"""Our embedded moto: ``python -m simulator.transport.moto_server [--port 0] [--no-patch]``.

Applies ``moto_patches`` (unless --no-patch, for measuring moto as shipped: its
own server then too), serves moto's API on a free port of 127.0.0.1 with
connections kept alive, prints ``READY <port>`` on stdout once it
accepts connections, and exits when its stdin reaches end-of-file: the harness
holds the other end, so the server never outlives the run that started it, even
when the harness is killed.

It runs in its own process so that the emulator's request handling does not share
the harness's GIL (see benchmarks/bench_transport.py for the figure).
"""
from __future__ import annotations

import argparse
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.transport.moto_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-patch", action="store_true",
                        help="serve moto as shipped (benchmarks and race demonstrations)")
    args = parser.parse_args(argv)

    if not args.no_patch:
        from simulator.transport import moto_patches

        moto_patches.apply()
    if args.no_patch:  # moto as shipped, its own server included
        from moto.server import ThreadedMotoServer

        # werkzeug logs one line per request to stderr: noise, and time spent per call
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
        server.start()
        _, port = server.get_host_and_port()
    else:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from simulator.app.server import serve_in_thread

        # The harness's HTTP/1.1 server: connections kept alive, a pool of threads
        # (moto's own opens a connection and a thread per request: a tenth of its
        # CPU under a consumer's load). Every consumer instance long-polls it, so
        # the pool is large.
        server = serve_in_thread(DomainDispatcherApplication(create_backend_app), args.host,
                                 args.port, threads=64)
        port = server.port
    sys.stdout.write(f"READY {port}\n")
    sys.stdout.flush()
    try:
        while sys.stdin.buffer.read(65536):
            pass
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
