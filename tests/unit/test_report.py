"""Reports for people and programs, on a report graded from recorded objects."""
import io
import json

import pytest
from pathlib import Path

import jsonschema

from graders import cli, labs
from graders.report import render_html, render_json, render_text
from graders.results import LabReport
from graders.snapshot import Snapshot

RECORDED = Path(__file__).parent / "recorded"
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "graders" / "report-schema.json").read_text())


def recorded_report(lab: str, case: str) -> LabReport:
    snapshot = Snapshot.from_record(json.loads((RECORDED / lab / f"{case}.json").read_text()))
    definition = labs.get(lab)
    return LabReport(lab=lab, title=definition.title, namespace=snapshot.namespace, context="recorded",
                     checks=definition.evaluate(snapshot), simulated=snapshot.simulated)


def test_text_explains_a_failure_with_words_not_only_colour():
    text = render_text(recorded_report("lab4", "readiness-port-8080"))
    assert "FAIL    readiness-probe" in text
    assert "at:       spec.containers[name=web].readinessProbe.httpGet.port" in text
    assert "expected: 80 (or the name of a containerPort that is 80)" in text
    assert "actual:   8080" in text and "hint:" in text
    assert "\033[" not in text


def test_colour_only_when_asked():
    report = recorded_report("lab4", "readiness-port-8080")
    assert "\033[31mFAIL" in render_text(report, color=True)


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_colour_needs_a_terminal_and_no_NO_COLOR(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert cli._use_color(Terminal())
    assert not cli._use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")
    assert not cli._use_color(Terminal())


def test_html_shows_status_words_and_escapes_values():
    html = recorded_report("lab1", "second-container")._repr_html_()
    assert "<table>" in html and "FAIL" in html and "PASS" in html
    assert "one-container" in html
    assert "<script" not in html
    assert render_html(recorded_report("lab1", "solution")).count(">PASS<") == 8


def test_json_document_matches_the_schema_for_every_recording():
    recordings = sorted(RECORDED.glob("*/*.json"))
    assert recordings, f"no recorded report under {RECORDED}: the schema was checked against nothing"
    for path in recordings:
        document = json.loads(render_json(recorded_report(path.parent.name, path.stem)))
        jsonschema.validate(document, SCHEMA)


def test_blocked_checks_say_why():
    report = recorded_report("lab3", "prepare-in-containers")
    blocked = [check for check in report.checks if check.status.value == "blocked"]
    assert blocked and all("init-container" in check.message for check in blocked)


@pytest.mark.parametrize("lab, case, check, shown", [
    ("lab1", "command-sleeps", "serves-page", "HTTP 503 from the API server: error trying to reach service"),
    ("lab2", "logger-tails-other-file", "logger-sees-requests", "| tail: can't open '/var/log/nginx/access.log.1'"),
    ("lab3", "prepare-writes-where-nginx-does-not-look", "serves-prepared-page", "HTTP 403: <html>"),
    ("lab4", "liveness-path-404", "ready-no-restarts", "Liveness probe failed: HTTP probe failed with statuscode: 404"),
    ("lab7", "nginx-as-user-1000", "running", 'client_temp" failed (30: Read-only file system)'),
])
def test_a_failure_shows_what_the_pod_answered_logged_or_the_kubelet_said(lab, case, check, shown):
    """Recorded on the real node: the report quotes the pod's answer, its log, or the kubelet."""
    text = render_text(recorded_report(lab, case))
    block = text[text.index(f"FAIL    {check}"):]
    assert shown in block[:block.find("hint:")], text
