"""``python -m simulator.clients.node``: install the Node.js host's packages now
(CI images, machines that run offline later) and print where they are."""
from __future__ import annotations

from simulator.clients.node import node_executable
from simulator.clients.node.install import modules_dir
from simulator.errors import report_setup


def main() -> int:
    return report_setup(lambda: f"genesys-sim: Node.js host ready: {node_executable()}, packages in {modules_dir()}")


if __name__ == "__main__":
    raise SystemExit(main())
