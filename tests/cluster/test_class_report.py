"""`grade report` on the stores that `grade batch` wrote for every lab (the `batched_cases`
fixture: each lab's solution, starter and cases, graded on the cluster): the per-check numbers of
its CSV are those of the batch's own JSON, and its HTML holds each lab's plots."""
from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
import sys
from collections import Counter

import pytest

from graders import analytics, labs

STATUSES = ("passed", "failed", "pending", "blocked", "error")


@pytest.fixture(scope="module")
def reported(batched_cases, tmp_path_factory):
    """One `grade report` over the stores of every lab: its output, CSV rows and HTML."""
    out = tmp_path_factory.mktemp("report")
    stores = [str(batched_cases.submissions / f"{lab}.sqlite") for lab in labs.lab_ids()]
    result = subprocess.run([sys.executable, "-m", "graders.cli", "report", *stores, "--csv",
                             str(out / "checks.csv"), "--html", str(out / "class.html")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    with (out / "checks.csv").open(newline="") as handle:
        rows = {(row["lab"], row["check"]): row for row in csv.DictReader(handle)}
    return result.stdout, rows, (out / "class.html").read_text()


@pytest.mark.parametrize("lab", labs.lab_ids())
def test_each_checks_shares_are_those_of_the_batch(batched_cases, reported, lab):
    _, rows, _ = reported
    reports = [row["report"] for _, row in sorted(batched_cases.rows[lab].items()) if row["report"]]
    assert reports, f"no report of {lab} in the batch"
    order = [check["id"] for check in reports[0]["checks"]]
    assert [check for (each, check) in rows if each == lab] == order
    for check in order:
        found = [c for report in reports for c in report["checks"] if c["id"] == check]
        counts = Counter(c["status"] for c in found)
        row = rows[(lab, check)]
        assert int(row["students"]) == len(found) == len(reports), (lab, check)
        assert {status: int(row[status]) for status in STATUSES} == {s: counts.get(s, 0) for s in STATUSES}, \
            (lab, check)
        for status in ("failed", "pending", "blocked", "error"):
            assert float(row[f"{status}_share"]) == pytest.approx(counts.get(status, 0) / len(found), abs=1e-4)
        top = json.loads(row["top_actual_values"])
        assert sum(count for _, count in top) <= counts.get("failed", 0)
        failures = [(c, report["namespace"]) for report in reports for c in report["checks"]
                    if c["id"] == check and c["status"] == "failed"]
        if failures and all(isinstance(c["actual"], str) and c["actual"] == analytics.value_key(c["actual"], ns)
                            for c, ns in failures):  # values the report shows as they are
            common = Counter(c["actual"] for c, _ in failures).most_common(analytics.TOP_VALUES)
            assert [tuple(pair) for pair in top] == \
                   [(analytics.shorten(value, analytics.CSV_VALUE_CHARS), n) for value, n in common], (lab, check)


def pngs(page: str) -> dict[str, bytes]:
    found = re.findall(r'<img class="(\w+)" id="([\w-]+)-\1" alt="[^"]*" src="data:image/png;base64,([^"]+)">', page)
    return {f"{lab}-{kind}": base64.b64decode(data) for kind, lab, data in found}


def test_the_html_has_each_labs_histogram_and_heat_map(reported):
    _, _, page = reported
    drawn = pngs(page)
    for lab in labs.lab_ids():
        for kind in ("histogram", "heatmap", "outcomes"):
            assert drawn[f"{lab}-{kind}"].startswith(b"\x89PNG\r\n\x1a\n"), f"{lab}-{kind}"
            assert len(drawn[f"{lab}-{kind}"]) > 2000, f"{lab}-{kind}"


def test_who_could_not_be_graded_is_listed_with_why(batched_cases, reported):
    stdout, _, page = reported
    for lab, students in batched_cases.rows.items():
        for student, row in students.items():
            if row["status"] != "graded":
                assert f"<tr><td>{student}</td><td>{row['status']}</td>" in page, (lab, student)
                assert f"{row['status']:8} {student}: " in stdout, (lab, student)
    assert any(row["status"] == "rejected" for rows in batched_cases.rows.values() for row in rows.values()), \
        "the cases include submissions a batch refuses"
