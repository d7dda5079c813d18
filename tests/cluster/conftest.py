"""Fixtures shared by the cluster tests of batch grading and nbgrader."""
from __future__ import annotations

import json
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


@pytest.fixture(scope="session")
def batched_cases(tmp_path_factory, kube) -> BatchedCases:
    """One `grade batch` per lab over its solution, its untouched starter (student "starter")
    and every case of tests/cases (student = case name)."""
    root = tmp_path_factory.mktemp("batched")
    rows = {}
    for lab in labs.lab_ids():
        submissions = root / lab
        for case in (c for c in all_cases() if c.lab == lab):
            student_folder(submissions, case.name, case.manifests, lab)
        student_folder(submissions, "starter", REPO / "labs" / lab, lab)
        result = run_batch(lab, submissions, root / f"{lab}.sqlite", "--concurrency", "8",
                           "--deadline", DEADLINE, "--json", str(root / f"{lab}.json"))
        assert result.returncode == 0, result.stdout + result.stderr
        rows[lab] = {row["student"]: row for row in json.loads((root / f"{lab}.json").read_text())}
    return BatchedCases(root, rows)
