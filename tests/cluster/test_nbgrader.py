"""nbgrader, as an instructor runs it: the course made by `grade nbgrader-course`, submissions
of every lab autograded, the scores equal to `grade batch`'s, the gradebook and `nbgrader
export` holding them."""
from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from graders import labs
from tests.batching import run_batch

NBGRADER = [sys.executable, "-m", "nbgrader"]


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*NBGRADER, *args], cwd=course, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def gradebook_scores(course: Path) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {(sub.assignment.name, sub.student.id): sub.score
                for assignment in gradebook.assignments for sub in assignment.submissions}


# nbgrader autogrades one submission after another, each waiting for its pods to settle: per lab,
# the solution, the untouched starter and the first other case (every case is graded by the
# batch itself, whose scores these must equal), and the lab3 mistake the feedback test reads.
AUTOGRADED_EXTRA = 1
FEEDBACK_CASE = "web-mounts-usr-share-nginx"


def autograded_students(lab: str, students: list[str]) -> list[str]:
    others = sorted(s for s in students if s not in ("solution", "starter", FEEDBACK_CASE))
    chosen = {"solution", "starter", *others[:AUTOGRADED_EXTRA]}
    if lab == "lab3":
        chosen.add(FEEDBACK_CASE)
    return sorted(s for s in students if s in chosen)


# Labs autograded at once, each in a course of its own: nbgrader grades one submission after
# another, and most of a submission's time is spent waiting for its pods.
LABS_AT_ONCE = 4


def autograde_lab(batched_cases, root: Path, lab: str) -> Path:
    """A course of one lab, generated, released and autograded on some of the batch's folders
    (autograded_students)."""
    course = root / lab
    made = subprocess.run([sys.executable, "-m", "graders.cli", "nbgrader-course", str(course), "--lab", lab],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    nbgrader(course, "generate_assignment", lab, "--force")
    release = course / "release" / lab / f"{lab}.ipynb"
    folders = {folder.name: folder for folder in (batched_cases.submissions / lab).iterdir()}
    for student in (folders[name] for name in autograded_students(lab, list(folders))):
        target = course / "submitted" / student.name / lab
        shutil.copytree(student / lab, target)
        shutil.copy2(release, target / release.name)
    nbgrader(course, "autograde", lab, "--create", "--force")
    return course


@pytest.fixture(scope="session")
def autograded(batched_cases, tmp_path_factory) -> dict[str, Path]:
    """lab -> its autograded nbgrader course."""
    root = tmp_path_factory.mktemp("nbgrader")
    with ThreadPoolExecutor(LABS_AT_ONCE) as pool:
        courses = {lab: pool.submit(autograde_lab, batched_cases, root, lab) for lab in labs.lab_ids()}
    return {lab: course.result() for lab, course in courses.items()}


def test_autograde_scores_equal_the_batch_scores(batched_cases, autograded):
    scores = {key: score for course in autograded.values() for key, score in gradebook_scores(course).items()}
    expected = {(lab, student): row["score"] for lab, rows in batched_cases.rows.items()
                for student, row in rows.items() if student in autograded_students(lab, list(rows))}
    assert len(expected) >= 3 * len(batched_cases.rows)
    assert scores == expected


def test_the_grading_cell_shows_the_report_and_writes_nothing_to_stderr(autograded):
    notebook = json.loads((autograded["lab1"] / "autograded" / "solution" / "lab1" / "lab1.ipynb").read_text())
    cell = next(c for c in notebook["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
    kinds = [output["output_type"] for output in cell["outputs"]]
    assert "error" not in kinds and not any(o.get("name") == "stderr" for o in cell["outputs"])
    shown = [o for o in cell["outputs"] if o["output_type"] == "display_data"]
    assert shown and "pods-course-report" in "".join(shown[0]["data"]["text/html"])
    assert "score 8/8" in "".join(shown[0]["data"]["text/plain"])  # readable without HTML too
    assert "".join(cell["outputs"][-1]["data"]["text/plain"]) == "8.0"


def test_feedback_and_export_have_the_scores(batched_cases, autograded):
    course = autograded["lab3"]
    nbgrader(course, "generate_feedback", "lab3", "--force")
    feedback = (course / "feedback" / FEEDBACK_CASE / "lab3" / "lab3.html").read_text()
    assert "web-serves-volume" in feedback and "FAIL" in feedback
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with (course / "grades.csv").open(newline="") as handle:
        exported = {(row["assignment"], row["student_id"]): float(row["raw_score"]) for row in csv.DictReader(handle)}
    assert exported[("lab3", "solution")] == 7.0
    mistake = FEEDBACK_CASE
    assert exported[("lab3", mistake)] == batched_cases.rows["lab3"][mistake]["score"]


def test_grade_batch_writes_into_the_gradebook(batched_cases, tmp_path):
    course = tmp_path / "course"
    subprocess.run([sys.executable, "-m", "graders.cli", "nbgrader-course", str(course), "--lab", "lab1"],
                   check=True, capture_output=True)
    nbgrader(course, "generate_assignment", "lab1", "--force")
    result = run_batch("lab1", batched_cases.submissions / "lab1", tmp_path / "store.sqlite",
                       "--gradebook", str(course / "gradebook.db"), "--deadline", "30")
    assert result.returncode == 0, result.stderr
    scores = gradebook_scores(course)
    assert scores == {("lab1", student): row["score"] for student, row in batched_cases.rows["lab1"].items()}
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    assert "solution" in (course / "grades.csv").read_text()
