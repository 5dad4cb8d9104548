"""The HTML report as a person sees it: rendered by a real headless Chromium, the
anomaly counts in the table link to anomalies that exist on the page, and each
anomaly opens on its story with a timeline of marks."""
from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import service_unavailable
from simulator.report import render

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        service_unavailable("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
    return found


class Dom(HTMLParser):
    """What the browser's DOM holds: ids, links, anomaly sections and their marks."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.anomalies: list[dict] = []
        self._open: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and "count" in (a.get("class") or ""):
            self.links.append(a["href"])
        if tag == "details" and "anomaly" in (a.get("class") or ""):
            self.anomalies.append({"id": a.get("id"), "timelines": 0, "marks": 0, "summary": ""})
        if self.anomalies and tag == "svg" and "timeline" in (a.get("class") or ""):
            self.anomalies[-1]["timelines"] += 1
        if self.anomalies and tag == "g" and "step" in (a.get("class") or ""):
            self.anomalies[-1]["marks"] += 1
        self._open.append(tag)

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        if self.anomalies and self._open and self._open[-1] in ("summary", "span"):
            self.anomalies[-1]["summary"] += data


def browse(chromium: str, page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           *extra, page.as_uri()], capture_output=True, text=True, timeout=120)


def test_anomaly_links_and_timelines_render_in_chromium(chromium, scenario, run, tmp_path):
    sc = scenario(faults="[{redeliver: {probability: 0.3, delay_s: [320, 400]}}, {poison: {count: 2}}]")
    result, scores = run(sc, "ref:memory-window")
    score = scores["memory-window"]
    assert score.duplicated > 0 and score.anomalies
    page = tmp_path / "report.html"
    page.write_text(render(result, "html"))

    dumped = browse(chromium, page, tmp_path, "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = Dom()
    dom.feed(dumped.stdout)
    assert dom.links, "no anomaly count links in the rendered table"
    for href in dom.links:
        assert href.startswith("#") and href[1:] in dom.ids, f"link {href} points nowhere"
    assert len(dom.anomalies) == len(score.anomalies)
    for anomaly, story in zip(dom.anomalies, score.anomalies):
        assert anomaly["id"] in dom.ids
        # one timeline, a mark per step of the anomaly's history
        assert anomaly["timelines"] == 1 and anomaly["marks"] == len(story["history"]) >= 1
        assert story["why"] in anomaly["summary"]

    shot = tmp_path / "report.png"
    taken = browse(chromium, page, tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert taken.returncode == 0 and shot.stat().st_size > 20_000  # a real page, not a blank one
