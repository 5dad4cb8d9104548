"""``--report junit``: JUnit XML for CI. One testsuite per scenario, one testcase
per consumer; a failed verdict is a ``<failure>`` whose text lists the broken
thresholds."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from simulator.report.columns import COLUMNS
from simulator.report.results import MatrixResult, RunResult
from simulator.report.terminal import one_line


def render(result: RunResult | MatrixResult) -> str:
    runs = result.runs if isinstance(result, MatrixResult) else [result]
    root = ET.Element("testsuites", name="genesys-sim")
    tests = failures = 0
    elapsed = 0.0
    for run in runs:
        suite = _suite(run)
        root.append(suite)
        tests += int(suite.get("tests", "0"))
        failures += int(suite.get("failures", "0"))
        elapsed += run.elapsed_s
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", "0")
    root.set("time", f"{elapsed:.3f}")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suite(run: RunResult) -> ET.Element:
    failed = [c for c in run.consumers if c.verdict != "pass"]
    suite = ET.Element("testsuite", name=run.scenario, tests=str(len(run.consumers)),
                       failures=str(len(failed)), errors="0", skipped="0",
                       time=f"{run.elapsed_s:.3f}")
    props = ET.SubElement(suite, "properties")
    for name, value in (("seed", run.seed), ("backend", run.backend),
                        ("delivery", run.delivery), ("complete", str(run.complete).lower())):
        ET.SubElement(props, "property", name=name, value=str(value))
    for score in run.consumers:
        case = ET.SubElement(suite, "testcase", classname=f"genesys-sim.{run.scenario}",
                             name=score.name, time=f"{run.elapsed_s:.3f}")
        if score.verdict != "pass":
            failure = ET.SubElement(case, "failure", type="verdict",
                                    message="; ".join(score.failures) or "verdict failed")
            # The first anomalies with their reasons: what a CI reader clicks through to.
            stories = [f"{a['kind']}: {one_line(a)}" for a in score.anomalies[:20]]
            failure.text = "\n".join([*score.failures, *stories])
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(f"{h}: {fmt(score)}" for h, fmt in COLUMNS[2:])
        notes = run.notes + score.notes
        if notes:
            ET.SubElement(case, "system-err").text = "\n".join(notes)
    return suite
