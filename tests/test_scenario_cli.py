"""`genesys-sim scenarios` and `genesys-sim scenarios validate`."""
from __future__ import annotations

from simulator.cli import main
from simulator.scenario import shipped_scenarios


def test_listing_shows_every_shipped_scenario_with_its_faults(capsys):
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for path in shipped_scenarios():
        assert path.stem in out
    smoke = next(line for line in out.splitlines() if " ci-smoke " in line)
    assert "redeliver" in smoke and "Small and fast" in smoke


def test_validate_says_ok_for_good_files(capsys):
    assert main(["scenarios", "validate", "ci-smoke", str(shipped_scenarios()[0])]) == 0
    out = capsys.readouterr().out
    assert out.count("OK") == 2 and "ci-smoke.yaml (ci-smoke:" in out


def test_validate_reports_every_problem_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nfaults:\n  - redeliver: {probability: 2}\n  - [nope]\nexpect: {missed: x}\n")
    assert main(["scenarios", "validate", "clean", str(bad), str(tmp_path / "missing.yaml")]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("OK")
    assert f"error {bad}:3: faults[0].redeliver.probability: expected a number between 0 and 1, got 2" in lines
    assert any(line.startswith(f"error {bad}:4: faults[1]: expected a mapping") for line in lines)
    assert f"error {bad}:5: expect.missed: expected a whole number, got 'x'" in lines
    assert any("not found" in line and "missing.yaml" in line for line in lines)
