"""Fixtures shared by the cluster tests of batch grading and nbgrader."""
from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from graders import labs
from tests.batching import run_batch, student_folder
from tests.cases import REPO, all_cases

DEADLINE = "60"  # lab4 where containers run: Ready behind its startup probe, then the liveness window


@dataclass
class BatchedCases:
    submissions: Path  # <submissions>/<lab>/<student>/<lab>/: nbgrader's layout, one per lab
    rows: dict[str, dict[str, dict]]  # lab -> student -> the batch's JSON row


# Labs whose batches run at once: a batch spends most of its time waiting for pods (the node's
# CPU was a quarter busy with one at a time), and the verdicts are the same side by side. Not
# more: with three (24 replays starting together, beside the simulated cluster's tests) the node
# reported a container's exit seconds late.
LABS_AT_ONCE = 2


def batch_of_lab(root: Path, lab: str) -> dict[str, dict]:
    """`grade batch` over the lab's solution, its untouched starter (student "starter") and every
    case of tests/cases (student = case name): student -> the batch's JSON row."""
    submissions = root / lab
    for case in (c for c in all_cases() if c.lab == lab):
        student_folder(submissions, case.name, case.manifests, lab)
    student_folder(submissions, "starter", REPO / "labs" / lab, lab)
    result = run_batch(lab, submissions, root / f"{lab}.sqlite", "--concurrency", "8",
                       "--deadline", DEADLINE, "--json", str(root / f"{lab}.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    return {row["student"]: row for row in json.loads((root / f"{lab}.json").read_text())}


@pytest.fixture(scope="session")
def batched_cases(tmp_path_factory, kube) -> BatchedCases:
    """One `grade batch` per lab, LABS_AT_ONCE at a time, the labs with most cases first."""
    root = tmp_path_factory.mktemp("batched")
    cases = Counter(case.lab for case in all_cases())
    with ThreadPoolExecutor(LABS_AT_ONCE) as pool:
        rows = {lab: pool.submit(batch_of_lab, root, lab)
                for lab in sorted(labs.lab_ids(), key=lambda lab: -cases[lab])}
    return BatchedCases(root, {lab: rows[lab].result() for lab in labs.lab_ids()})
