"""Batch grading through the fault proxy (tests/faultproxy.py) in front of the real API server:
under delays, resets, lost answers, broken watches, 429, 503 and a restarting server, every row
has the verdict of the uninterrupted reference batch (tests/cluster/conftest.py); a row is
`error` only where the proxy made grading impossible, and `--resume` then gives the reference.
Our own credentials refused (401, 403) stop the batch cleanly and resumably."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from graders.cluster import Cluster
from tests.batching import grading_namespaces, run_batch, stored
from tests.cluster.conftest import DEADLINE
from tests.faultproxy import FaultProxy, Rule

NOT_WATCH = r"^(?!.*watch=1)"  # a lost answer to a watch would be read to its end first
NAMESPACE_CREATE = r"^/api/v1/namespaces$"

# fault kind -> (lab, rules): faults a batch must ride out without a single `error` row.
TRANSIENT = {
    "delay": ("lab4", [Rule("delay", seconds=0.7, every=3)]),
    "reset": ("lab6", [Rule("reset", every=4)]),
    "reset-after": ("lab8", [Rule("reset-after", method="POST", every=2),
                             Rule("reset-after", method="DELETE", every=2),
                             Rule("reset-after", method="GET", path=NOT_WATCH, every=7)]),
    "cut": ("lab4", [Rule("cut", path="watch=1", every=2)]),
    "429": ("lab6", [Rule("429", seconds=1, every=5)]),
    "503": ("lab3", [Rule("503", seconds=1, every=6)]),
    "stop": ("lab8", [Rule("stop", seconds=3, start=60, times=1)]),  # shorter than a call's deadline
}
# fault kind -> (lab, rules, every row must be `error`): faults that make some grading impossible.
PERSISTENT = {
    "429-on-every-pod-create": ("lab1", [Rule("429", method="POST", path="/pods$", seconds=1)], True),
    "503-on-every-dry-run": ("lab6", [Rule("503", method="POST", path="dryRun=All", seconds=1)], False),
}
TALLY: list[tuple[str, str, dict, int, int, int]] = []  # (fault, lab, injected, rows, differences, errors)


@pytest.fixture
def proxy(kube):
    running = FaultProxy().start()
    yield running
    running.close()


@pytest.fixture(scope="module", autouse=True)
def report_tally():
    yield
    print("\nfaults injected per batch (fault, lab, injected, rows, verdict differences, error rows):")
    for line in TALLY:
        print("  ", *line)


def verdict(status: str, score, checks) -> tuple:
    """What a grade is: the row's status, its score and each check's status."""
    return status, score, [tuple(check) for check in checks or []]


def reference(batched_cases, lab: str) -> dict[str, tuple]:
    return {student: verdict(row["status"], row["score"],
                             [(c["id"], c["status"]) for c in row["report"]["checks"]])
            for student, row in batched_cases.rows[lab].items()}


def batch_through(proxy: FaultProxy, tmp_path: Path, lab: str, submissions: Path, store: Path,
                  *extra: str):
    """`grade batch` as an instructor runs it, its kubeconfig pointing at the proxy; the rows."""
    env = {**os.environ, "KUBECONFIG": str(proxy.kubeconfig(tmp_path / "kubeconfig"))}
    result = run_batch(lab, submissions, store, "--concurrency", "8", "--deadline", DEADLINE, *extra, env=env)
    rows = {student: verdict(status, score, checks)
            for student, (status, score, _, checks) in stored(store).items()}
    return result, rows


def differences(rows: dict[str, tuple], expected: dict[str, tuple]) -> dict[str, tuple]:
    """Rows that are not `error` and disagree with the reference: a wrong grade."""
    return {student: (row, expected[student]) for student, row in rows.items()
            if row[0] != "error" and row != expected[student]}


@pytest.mark.parametrize("fault", TRANSIENT)
def test_a_batch_rides_out_transient_faults_with_the_reference_verdicts(batched_cases, proxy, tmp_path, fault):
    lab, rules = TRANSIENT[fault]
    proxy.rules = rules
    result, rows = batch_through(proxy, tmp_path, lab, batched_cases.submissions / lab, tmp_path / "store.sqlite")
    expected = reference(batched_cases, lab)
    wrong = differences(rows, expected)
    errors = sorted(student for student, row in rows.items() if row[0] == "error")
    TALLY.append((fault, lab, dict(proxy.injected), len(rows), len(wrong), len(errors)))
    assert proxy.injected[fault] > 0, "the proxy injected nothing"
    assert result.returncode == 0, result.stdout + result.stderr
    assert wrong == {}
    assert errors == [], result.stdout
    assert rows.keys() == expected.keys()
    assert grading_namespaces(tmp_path / "store.sqlite") == []


@pytest.mark.parametrize("fault", PERSISTENT)
def test_a_fault_that_lasts_makes_rows_error_never_a_wrong_grade(batched_cases, proxy, tmp_path, fault):
    """E.g. a 429 to every pod create must not become 'the API server refused Pod ...' and a
    FAIL; a 503 to the dry run of lab6's defaults-admit must not become its refusal."""
    lab, rules, all_error = PERSISTENT[fault]
    proxy.rules = rules
    store = tmp_path / "store.sqlite"
    result, rows = batch_through(proxy, tmp_path, lab, batched_cases.submissions / lab, store)
    expected = reference(batched_cases, lab)
    wrong = differences(rows, expected)
    errors = [student for student, row in rows.items() if row[0] == "error"]
    TALLY.append((fault, lab, dict(proxy.injected), len(rows), len(wrong), len(errors)))
    assert proxy.injected[rules[0].fault] > 0
    assert wrong == {}
    assert errors and (len(errors) == len(rows) if all_error else True), result.stdout
    assert result.returncode == 1 and "--resume" in result.stdout, result.stdout + result.stderr
    proxy.rules = []
    resumed, rows = batch_through(proxy, tmp_path, lab, batched_cases.submissions / lab, store, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert rows == expected
    assert grading_namespaces(store) == []


@pytest.fixture(scope="module")
def big_class(batched_cases, tmp_path_factory) -> tuple[Path, dict[str, tuple]]:
    """lab1's cases twice over (18 students): a batch long enough to stop the server in."""
    root = tmp_path_factory.mktemp("big-class")
    expected = {}
    for copy in ("a", "b"):
        for student in (batched_cases.submissions / "lab1").iterdir():
            shutil.copytree(student, root / f"{copy}-{student.name}")
            expected[f"{copy}-{student.name}"] = reference(batched_cases, "lab1")[student.name]
    return root, expected


def test_an_api_server_that_dies_mid_batch_leaves_errors_that_resume_grades(big_class, proxy, tmp_path):
    submissions, expected = big_class
    # Stopped for longer than a call's deadline (10 s) after a third of the batch's requests. The
    # outage begins on a plain read: a watch could ride out 16 s within its longer budget (where
    # containers run, every worker may be watching a pod settle), the read that meets it cannot.
    proxy.rules = [Rule("stop", method="GET", path=NOT_WATCH, seconds=16, start=60, times=1)]
    store = tmp_path / "store.sqlite"
    result, rows = batch_through(proxy, tmp_path, "lab1", submissions, store, "--concurrency", "4")
    wrong = differences(rows, expected)
    errors = sorted(student for student, row in rows.items() if row[0] == "error")
    TALLY.append(("stop-16s", "lab1", dict(proxy.injected), len(rows), len(wrong), len(errors)))
    assert proxy.injected["stop"] == 1
    assert wrong == {}
    assert errors, "a 16 s outage should have made some submission impossible to grade"
    assert len(errors) < len(rows), "the batch should have graded what it could before and after"
    assert result.returncode == 1 and "--resume" in result.stdout, result.stdout + result.stderr
    assert grading_namespaces(store) == []
    resumed, rows = batch_through(proxy, tmp_path, "lab1", submissions, store, "--concurrency", "4", "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert rows == expected
    assert grading_namespaces(store) == []


def test_a_batch_over_two_clusters_grades_as_one_does_and_a_lost_cluster_leaves_its_rows_to_resume(
        big_class, proxy, tmp_path):
    """`--context A --context B`: two clusters share the class. Here both reach the same API
    server, one directly and one through the proxy, which dies for good as it creates its fourth
    grading namespace (two workers each: it has graded two submissions by then). The two it
    held become `error`, the direct one grades all the others, and `--resume` on it alone gives
    the reference verdicts."""
    submissions, expected = big_class
    direct = Cluster.connect().context
    own = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    env = {**os.environ, "KUBECONFIG": f"{proxy.kubeconfig(tmp_path / 'proxy.yaml')}{os.pathsep}{own}"}
    proxy.rules = [Rule("stop", method="POST", path=NAMESPACE_CREATE, seconds=3600, start=4, times=1)]
    store = tmp_path / "store.sqlite"
    both = ("--context", "faultproxy", "--context", direct)
    result = run_batch("lab1", submissions, store, "--concurrency", "2", "--deadline", DEADLINE, *both, env=env)
    rows = {student: verdict(status, score, checks) for student, (status, score, _, checks) in stored(store).items()}
    errors = sorted(student for student, row in rows.items() if row[0] == "error")
    TALLY.append(("lost-cluster", "lab1", dict(proxy.injected), len(rows), len(differences(rows, expected)),
                  len(errors)))
    assert proxy.injected["stop"] == 1
    assert rows.keys() == expected.keys(), "the cluster left should have graded every other submission"
    assert differences(rows, expected) == {}
    assert len(errors) == 2, errors  # what the lost cluster's two workers held
    with sqlite3.connect(store) as db:
        graded_on = {json.loads(report)["context"] for (report,) in
                     db.execute("SELECT report FROM results WHERE status = 'graded'")}
    assert graded_on == {"faultproxy", direct}
    assert result.returncode == 1 and "--resume" in result.stdout, result.stdout + result.stderr

    resumed = run_batch("lab1", submissions, store, "--resume", "--context", direct, "--deadline", DEADLINE, env=env)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert {student: verdict(status, score, checks)
            for student, (status, score, _, checks) in stored(store).items()} == expected
    assert grading_namespaces(store) == []  # the lost cluster's namespaces were cleaned by the resume


@pytest.mark.parametrize("fault", ["401", "403"])
def test_our_credentials_refused_stop_the_batch_cleanly_and_resumably(batched_cases, proxy, tmp_path, fault):
    # The fourth namespace we create is refused: two submissions at a time, so some are done.
    proxy.rules = [Rule(fault, method="POST", path=NAMESPACE_CREATE, start=4, times=1)]
    store, lab = tmp_path / "store.sqlite", "lab1"
    expected = reference(batched_cases, lab)
    result, rows = batch_through(proxy, tmp_path, lab, batched_cases.submissions / lab, store, "--concurrency", "2")
    TALLY.append((fault, lab, dict(proxy.injected), len(rows), len(differences(rows, expected)),
                  sum(row[0] == "error" for row in rows.values())))
    assert proxy.injected == Counter({fault: 1})
    assert result.returncode == 3, result.stdout + result.stderr
    said = {"401": "refused our credentials", "403": "permission denied"}[fault]
    assert "stopped:" in result.stderr and said in result.stderr and "--resume" in result.stderr, result.stderr
    assert 2 <= len(rows) < len(expected) and all(rows[student] == expected[student] for student in rows), rows
    assert grading_namespaces(store) == []
    proxy.rules = []
    resumed, rows = batch_through(proxy, tmp_path, lab, batched_cases.submissions / lab, store, "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert rows == expected
    assert grading_namespaces(store) == []
