"""Every lab against the real API server: the solution gets full marks, the untouched starter
does not, and every named mistake of the contract (tests/cluster/cases/labN/*.yaml, whose first
line lists the checks it must fail) fails exactly those checks, the rest passing or blocked."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from graders import grade
from graders.labs import lab_ids
from graders.results import Status
from tests.conftest import REPO

CASES_DIR = Path(__file__).parent / "cases"
SETTLE_SECONDS = 30


def expected_failures(case: Path) -> set[str]:
    first = case.read_text().splitlines()[0]
    assert first.startswith("# fails:"), f"{case}: first line must be '# fails: check-id, ...'"
    return {check.strip() for check in first.removeprefix("# fails:").split(",") if check.strip()}


def apply(manifests: Path, namespace: str) -> None:
    result = subprocess.run(["kubectl", "apply", "-n", namespace, "-f", str(manifests)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl apply {manifests} failed:\n{result.stderr}"


def report_text(report) -> str:
    return str(report)


def verdict_cases():
    for lab in lab_ids():
        yield pytest.param(lab, REPO / "solutions" / lab, set(), id=f"{lab}-solution")
        for case in sorted((CASES_DIR / lab).glob("*.yaml")):
            yield pytest.param(lab, case, expected_failures(case), id=f"{lab}-{case.stem}")


@pytest.mark.parametrize(("lab", "manifests", "fails"), list(verdict_cases()))
def test_verdicts(lab, manifests, fails, namespace):
    apply(manifests, namespace)
    report = grade(lab, namespace, wait=SETTLE_SECONDS)
    statuses = {check.id: check.status for check in report.checks}
    failed = {check for check, status in statuses.items() if status is Status.FAILED}
    assert failed == fails, report_text(report)
    others = {check: status for check, status in statuses.items() if check not in fails}
    assert all(status in (Status.PASSED, Status.BLOCKED) for status in others.values()), report_text(report)
    if not fails:
        assert report.score == report.max_score, report_text(report)


@pytest.mark.parametrize("lab", lab_ids())
def test_untouched_starter_does_not_pass(lab, namespace):
    apply(REPO / "labs" / lab, namespace)
    report = grade(lab, namespace, wait=5)
    assert report.score < report.max_score, report_text(report)
    assert report.count(Status.FAILED) >= 1, report_text(report)
    assert report.count(Status.ERROR) == 0, report_text(report)


def test_every_named_mistake_has_a_case():
    for lab in lab_ids():
        assert list((CASES_DIR / lab).glob("*.yaml")), f"{lab} has no named-mistake cases"
