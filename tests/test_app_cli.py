"""`genesys-sim serve`: bad options are exit 2, an unusable port exit 3, and it serves."""
from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from simulator.cli import build_parser, main


def test_serve_is_registered_with_loopback_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8080)


def test_port_out_of_range_is_bad_input(capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port" in capsys.readouterr().err


def test_missing_scenarios_dir_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--port", "0", "--scenarios-dir", str(tmp_path / "nope")]) == 2
    assert "--scenarios-dir" in capsys.readouterr().err


def test_port_in_use_is_environment_failure(capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 3
    assert str(port) in capsys.readouterr().err


def test_serve_prints_where_it_listens_and_answers() -> None:
    with subprocess.Popen([sys.executable, "-m", "simulator", "serve", "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            line = proc.stdout.readline()
            assert "listening on http://127.0.0.1:" in line
            url = line.rsplit(" ", 1)[1].strip()
            assert requests.get(f"{url}/health", timeout=5).json() == {"status": "ok"}
        finally:
            proc.terminate()
