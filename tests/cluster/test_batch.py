"""Batch grading against the real API server: the same verdicts as grading by hand, results that
survive kill -9, and no grading namespace left behind."""
from __future__ import annotations

import csv
import random
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from graders import grade, labs
from graders.cluster import Cluster
from graders.results import CheckResult, LabReport, Status
from tests.batching import grade_cli, grading_namespaces, run_batch, stored, student_folder
from tests.cases import REPO, all_cases, defines_objects
from tests.verdicts import assert_verdict


@pytest.mark.parametrize("case", all_cases(), ids=lambda case: case.id)
def test_batch_gives_the_verdict_of_the_contract(batched_cases, case):
    row = batched_cases.rows[case.lab][case.name]
    if case.batch_rejects:  # by hand it gets its verdict; a batch does not let it reach the cluster
        assert (row["status"], row["score"]) == ("rejected", 0.0) and case.batch_rejects in row["reason"], row
        return
    assert row["status"] == "graded", row["reason"]
    report = LabReport(lab=case.lab, title="", namespace="", context="", simulated=row["report"]["simulated"], checks=tuple(
        CheckResult(**{**c, "status": Status(c["status"])}) for c in row["report"]["checks"]))
    assert_verdict(report, case)
    assert row["score"] == report.score


@pytest.mark.parametrize("lab", labs.lab_ids())
def test_batch_grades_the_starter_as_grading_by_hand_does(batched_cases, lab, namespace):
    row = batched_cases.rows[lab]["starter"]
    if not defines_objects(REPO / "labs" / lab):  # an empty file to start from: nothing to grade
        assert (row["status"], row["score"]) == ("rejected", 0.0) and "define no object" in row["reason"], row
        return
    subprocess.run(["kubectl", "apply", "-n", namespace, "-f", str(REPO / "labs" / lab)], check=True,
                   capture_output=True)
    by_hand = grade(lab, namespace, wait=60)
    assert [(c["id"], c["status"]) for c in row["report"]["checks"]] == \
           [(c.id, c.status.value) for c in by_hand.checks]
    assert row["score"] == by_hand.score


def test_no_grading_namespace_survives_the_batches(batched_cases):
    for lab in labs.lab_ids():
        assert grading_namespaces(batched_cases.submissions / f"{lab}.sqlite") == []


def test_csv_has_a_row_for_every_student_even_refused(tmp_path):
    submissions = tmp_path / "subs"
    student_folder(submissions, "good", REPO / "solutions/lab1", "lab1")
    (submissions / "empty" / "lab1").mkdir(parents=True)
    broken = submissions / "broken" / "lab1"
    broken.mkdir(parents=True)
    (broken / "pod.yaml").write_text("kind: Pod\nmetadata: {name: webserver, namespace: kube-system}\n"
                                     "apiVersion: v1\nspec: {containers: []}\n")
    result = run_batch("lab1", submissions, tmp_path / "store.sqlite", "--csv", str(tmp_path / "out.csv"))
    assert result.returncode == 0, result.stderr
    with (tmp_path / "out.csv").open(newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["student", "lab", "score", "max_score", "status", "reason"]
    rows = {row[0]: row for row in table[1:]}
    assert rows["good"][:5] == ["good", "lab1", "8", "8", "graded"]
    assert rows["empty"][:5] == ["empty", "lab1", "0", "8", "rejected"]
    assert rows["empty"][5].startswith("submission refused: no manifests")
    assert rows["broken"][4] == "rejected" and "names namespace 'kube-system'" in rows["broken"][5]
    assert not any(Cluster.connect().list("Pod", "kube-system", fieldSelector="metadata.name=webserver")["items"])


def test_a_store_with_results_is_not_overwritten_without_resume(tmp_path):
    submissions = tmp_path / "subs"
    student_folder(submissions, "one", REPO / "solutions/lab1", "lab1")
    assert run_batch("lab1", submissions, tmp_path / "s.sqlite").returncode == 0
    again = run_batch("lab1", submissions, tmp_path / "s.sqlite")
    assert again.returncode == 2 and "--resume" in again.stderr


@pytest.fixture(scope="module")
def mixed_class(tmp_path_factory):
    """Twelve lab3 submissions (solutions and named mistakes) and their uninterrupted results."""
    root = tmp_path_factory.mktemp("class")
    cases = [c for c in all_cases() if c.lab == "lab3"]
    for index in range(12):
        case = cases[index % len(cases)]
        student_folder(root / "subs", f"student{index:02}", case.manifests, "lab3")
    reference = run_batch("lab3", root / "subs", root / "reference.sqlite", "--concurrency", "4")
    assert reference.returncode == 0, reference.stderr
    return root, stored(root / "reference.sqlite")


SEEDS = (1, 2, 3)


@pytest.fixture(scope="module")
def killed_and_resumed(mixed_class) -> dict[int, Path]:
    """seed -> the store of a batch killed with SIGKILL at a random moment, then resumed. The
    three batches run side by side, as different classes of one instructor may."""
    root, _ = mixed_class
    stores = {seed: root / f"killed-{seed}.sqlite" for seed in SEEDS}
    moments = {seed: random.Random(seed).uniform(0.5, 6.0) for seed in SEEDS}
    started = time.monotonic()
    running = {seed: grade_cli("batch", "lab3", str(root / "subs"), "--store", str(store), "--concurrency", "4")
               for seed, store in stores.items()}
    for seed in sorted(SEEDS, key=moments.get):
        time.sleep(max(0.0, started + moments[seed] - time.monotonic()))
        running[seed].send_signal(signal.SIGKILL)
        running[seed].communicate()
    with ThreadPoolExecutor(len(SEEDS)) as pool:
        resumed = {seed: pool.submit(run_batch, "lab3", root / "subs", store, "--concurrency", "4", "--resume")
                   for seed, store in stores.items()}
        for seed, result in resumed.items():
            assert result.result().returncode == 0, result.result().stderr
    return stores


@pytest.mark.parametrize("seed", SEEDS)
def test_kill_9_then_resume_gives_the_uninterrupted_results(mixed_class, killed_and_resumed, seed):
    _, reference = mixed_class
    store = killed_and_resumed[seed]
    assert stored(store) == reference
    assert grading_namespaces(store) == []


def test_grade_clean_removes_what_a_killed_batch_left(mixed_class):
    root, _ = mixed_class
    store = root / "abandoned.sqlite"
    process = grade_cli("batch", "lab3", str(root / "subs"), "--store", str(store))
    deadline = time.monotonic() + 30
    while not (store.exists() and grading_namespaces(store)) and time.monotonic() < deadline:
        time.sleep(0.2)  # until the batch has created some namespace
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert grading_namespaces(store), "the killed batch should have left a namespace to clean"
    cleaned = grade_cli("clean")
    out, err = cleaned.communicate(timeout=180)
    assert cleaned.returncode == 0, err
    assert grading_namespaces(store) == []


def test_hostile_submissions_are_refused_and_leave_no_object(tmp_path):
    hostile = sorted((REPO / "tests" / "hostile").glob("*.yaml"))
    for path in hostile:
        student_folder(tmp_path / "subs", path.stem, path, "lab8")
    result = run_batch("lab8", tmp_path / "subs", tmp_path / "store.sqlite", "--csv", str(tmp_path / "out.csv"))
    assert result.returncode == 0, result.stderr
    with (tmp_path / "out.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(hostile) and {row["status"] for row in rows} == {"rejected"}
    assert grading_namespaces(tmp_path / "store.sqlite") == []
    for kind, name, *namespace in (("clusterrole", "evil"), ("deployment", "flood", "-A"),
                                   ("rolebinding", "make-me-admin", "-A"), ("pod", "webserver", "-n", "kube-system")):
        found = subprocess.run(["kubectl", "get", kind, *namespace, "--field-selector", f"metadata.name={name}",
                                "-o", "name"], capture_output=True, text=True)
        assert found.returncode == 0 and found.stdout.strip() == "", (kind, name, found.stdout, found.stderr)
