"""Every lab against the real API server: the solution gets full marks, the untouched starter
does not, and every case of tests/cases fails exactly the checks it lists (tests/cases.py).

The cases are applied and graded side by side, each in a namespace of its own: a grade is
mostly waiting for pods to settle (graders/settling.py), so one at a time would take many
minutes where containers run."""
from __future__ import annotations

import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from graders import grade
from graders.cluster import Cluster
from graders.labs import lab_ids
from graders.results import LabReport, Status
from tests.cases import CASES_DIR, REPO, Case, all_cases, defines_objects
from tests.namespaces import own_namespace
from tests.verdicts import assert_verdict

# lab4 where containers run: Ready behind its startup probe, then the liveness window
# (graders/settling.py); on kind's three nodes on two cores, with twelve cases starting at once, a
# pod's state reaches the API server later than on the real node (lab9's held states ran out at 60 s).
# A grade returns as soon as every check has settled: the bound costs time only where it is needed.
SETTLE_SECONDS = 120
SIDE_BY_SIDE = 12  # cases graded at once


def apply(manifests: Path, namespace: str) -> None:
    """kubectl apply, with a person's pause after a ResourceQuota: until the quota controller has
    taken it in, its first count can miss pods created the same instant (as replay does)."""
    files = [manifests] if manifests.is_file() else sorted(manifests.glob("*.y*ml"))
    quotas = [d for f in files for d in yaml.safe_load_all(f.read_text()) if d and d.get("kind") == "ResourceQuota"]
    for quota in quotas:
        name = quota["metadata"]["name"]
        subprocess.run(["kubectl", "apply", "-n", namespace, "-f", "-"], input=yaml.safe_dump(quota),
                       capture_output=True, text=True, timeout=60, check=True)
        subprocess.run(["kubectl", "wait", "-n", namespace, f"resourcequota/{name}", "--timeout=30s",
                        "--for=jsonpath={.status.hard.pods}"], capture_output=True, text=True, timeout=60)
    result = subprocess.run(["kubectl", "apply", "-n", namespace, "-f", str(manifests)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"kubectl apply {manifests} failed:\n{result.stderr}"


def grade_in_own_namespace(cluster: Cluster, case: Case) -> LabReport:
    with own_namespace(cluster, "verdict") as namespace:
        apply(case.manifests, namespace)
        return grade(case.lab, namespace, wait=SETTLE_SECONDS, cluster=cluster)


@pytest.fixture(scope="module")
def graded(kube) -> dict[str, Future]:
    """Every case's report (a future: a case that could not be graded fails its own test)."""
    cluster = Cluster.connect()
    with ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
        return {case.id: pool.submit(grade_in_own_namespace, cluster, case) for case in all_cases()}


@pytest.mark.parametrize("case", all_cases(), ids=lambda case: case.id)
def test_verdict(case, graded):
    assert_verdict(graded[case.id].result(), case)


@pytest.mark.parametrize("lab", lab_ids())
def test_untouched_starter_does_not_pass(lab, namespace):
    if defines_objects(REPO / "labs" / lab):  # else (an empty file to start from) the namespace stays empty
        apply(REPO / "labs" / lab, namespace)
    report = grade(lab, namespace, wait=5)
    assert report.score < report.max_score, str(report)
    assert report.count(Status.FAILED) >= 1, str(report)
    assert report.count(Status.ERROR) == 0, str(report)


@pytest.mark.parametrize("lab", lab_ids())
def test_every_lab_has_named_mistakes(lab):
    mistakes = [p for p in (CASES_DIR / lab).glob("*.yaml") if not p.name.startswith("variant-")]
    assert mistakes, f"{lab} has no named-mistake cases in {CASES_DIR / lab}"
