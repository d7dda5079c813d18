"""The numbers of a class report: what a class's results say per lab and per check, read from
the stores of `grade batch` (every check of every report) and from an nbgrader gradebook (one
score per student and assignment). graders.class_report draws and writes them; nothing here
imports a plotting library."""
from __future__ import annotations

import csv
import json
import re
import sqlite3
import statistics
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from graders.results import Status
from graders.store import NotAStore, Store, lab_order

STATUSES = tuple(status.value for status in Status)  # passed, failed, pending, blocked, error
TOP_VALUES = 3  # the most common actual values shown per check
CSV_COLUMNS = ["lab", "check", "title", "students", "passed", "failed", "pending", "blocked", "error",
               "failed_share", "pending_share", "blocked_share", "error_share", "expected",
               "top_actual_values"]
CSV_VALUE_CHARS = 200  # a value longer than this (a log) is cut in the CSV


class Unreadable(Exception):
    """A store or gradebook that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Result:
    """One student's result of one lab. `status`: graded, rejected, error (as `grade batch`
    stores them) or missing (in the gradebook's students, with no submission of the lab).
    `report` is the report's JSON document where per-check results exist (a batch store)."""
    lab: str
    student: str
    status: str
    score: float | None
    max_score: float | None
    reason: str
    report: dict | None
    source: str  # the file it was read from

    def check(self, check_id: str) -> dict | None:
        for check in (self.report or {}).get("checks", []):
            if check["id"] == check_id:
                return check
        return None


@dataclass(frozen=True)
class CheckSummary:
    """How the students with per-check results did on one check."""
    lab: str
    check: str
    title: str
    counts: dict[str, int]  # status -> students
    expected: str  # the most common expected value of the failures ("" without failures)
    top_actual: tuple[tuple[str, int], ...]  # the failures' most common actual values, with counts

    @property
    def students(self) -> int:
        return sum(self.counts.values())

    def share(self, status: str) -> float:
        return self.counts.get(status, 0) / self.students if self.students else 0.0


@dataclass(frozen=True)
class Bin:
    """A bar of the score histogram: scores from `low` to `high` (both inclusive for a bar of one
    value, `high` excluded otherwise but for the last bar)."""
    low: float
    high: float
    label: str
    graded: int
    rejected: int  # refused submissions (scored 0)


@dataclass(frozen=True)
class LabSummary:
    lab: str
    title: str
    max_score: float
    results: tuple[Result, ...]  # by student
    checks: tuple[CheckSummary, ...] = field(default=())  # in the lab's order

    @property
    def scored(self) -> list[Result]:
        """The results with a score: graded, and refused (0)."""
        return [r for r in self.results if r.score is not None]

    @property
    def detailed(self) -> list[Result]:
        """The results with per-check results (graded, and errors that have a report)."""
        return [r for r in self.results if r.report is not None]

    @property
    def not_graded(self) -> list[Result]:
        """Refused submissions, submissions the cluster failed us on, missing submissions."""
        return [r for r in self.results if r.status != "graded"]

    @property
    def sources(self) -> list[str]:
        return sorted({r.source for r in self.results})

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def median(self) -> float | None:
        scores = [r.score for r in self.scored]
        return statistics.median(scores) if scores else None

    @property
    def mean(self) -> float | None:
        scores = [r.score for r in self.scored]
        return statistics.fmean(scores) if scores else None

    def histogram(self) -> list[Bin]:
        """One bar per point when every score is a whole number and there are at most 40 points;
        ten equal bars otherwise."""
        scored = self.scored
        top = max([self.max_score, *(r.score for r in scored)]) if scored else self.max_score
        if top <= 40 and float(top).is_integer() and all(float(r.score).is_integer() for r in scored):
            edges = [(float(v), float(v), f"{v:g}") for v in range(int(top) + 1)]
        else:
            step = top / 10 if top > 0 else 1
            edges = [(i * step, (i + 1) * step, f"{i * step:g}–{(i + 1) * step:g}") for i in range(10)]
        bins = []
        for index, (low, high, label) in enumerate(edges):
            last = index == len(edges) - 1

            def inside(score: float) -> bool:
                return low <= score <= high if (low == high or last) else low <= score < high
            chosen = [r for r in scored if inside(r.score)]
            bins.append(Bin(low, high, label, sum(r.status != "rejected" for r in chosen),
                            sum(r.status == "rejected" for r in chosen)))
        return bins

    def grid(self) -> list[tuple[Result, list[str | None]]]:
        """For each student with per-check results, the status of each check (None where the
        report has no such check)."""
        return [(result, [(result.check(c.check) or {}).get("status") for c in self.checks])
                for result in self.detailed]


# --- reading ----------------------------------------------------------------------------------

def from_store(path: Path) -> list[Result]:
    """Every row of a `grade batch` store, read without writing to it."""
    try:
        store = Store(path, readonly=True)
    except NotAStore as error:
        raise Unreadable(str(error)) from None
    try:
        rows = [row for lab in store.labs() for row in store.rows(lab)]
    except (sqlite3.Error, ValueError) as error:
        raise Unreadable(f"{path} cannot be read as a results store of `grade batch`: {error}") from None
    finally:
        store.close()
    return [Result(row.lab, row.student, row.status, row.score, row.max_score, row.reason, row.report,
                   str(path)) for row in rows]


GRADEBOOK_TABLES = {"assignment", "student", "submitted_assignment"}


def from_gradebook(path: Path) -> list[Result]:
    """Scores from an nbgrader gradebook, read without writing to it: for each assignment, each
    student's score (autograded, or the grader's manual score), and each student of the gradebook
    without a submission as `missing`. The gradebook holds one grade per lab (the lab's grading
    cell), no per-check results."""
    if not path.is_file():
        raise Unreadable(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as db:
            tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        raise Unreadable(f"{path} cannot be read as an nbgrader gradebook: {error}") from None
    if not GRADEBOOK_TABLES <= tables:
        raise Unreadable(f"{path} is an SQLite database but not an nbgrader gradebook (no "
                         f"{', '.join(sorted(GRADEBOOK_TABLES - tables))} table)")
    try:
        from nbgrader.api import Assignment, Student
        from sqlalchemy import create_engine
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.orm import Session
    except ImportError:
        raise Unreadable("reading an nbgrader gradebook needs nbgrader: "
                         "pip install 'k8s-pods-course[course]'") from None
    # nbgrader's own models, on a read-only connection: nbgrader's Gradebook() would create its
    # tables and a course row when they are missing.
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    results = []
    try:
        with Session(engine) as session:
            students = sorted(student.id for student in session.query(Student))
            for assignment in session.query(Assignment):
                submitted = {sub.student.id: sub for sub in assignment.submissions}
                for student in students:
                    sub = submitted.get(student)
                    if sub is None:
                        results.append(Result(assignment.name, student, "missing", None,
                                              float(assignment.max_score or 0),
                                              "no submission in the gradebook", None, str(path)))
                        continue
                    reason = ("needs manual grading in nbgrader" if sub.needs_manual_grade
                              else "score from the nbgrader gradebook")
                    results.append(Result(assignment.name, student, "graded", float(sub.score or 0),
                                          float(sub.max_score or 0), reason, None, str(path)))
    except SQLAlchemyError as error:
        raise Unreadable(f"{path} cannot be read as an nbgrader gradebook: {error}") from None
    finally:
        engine.dispose()
    return results


def merge(stores: list[list[Result]], gradebook: list[Result] = ()) -> tuple[list[Result], list[str]]:
    """One result per lab and student: a store's (between stores, the later one's), else the
    gradebook's. Returns the results and a note for each student found in two stores."""
    chosen: dict[tuple[str, str], Result] = {}
    notes = []
    for results in stores:
        for result in results:
            key = (result.lab, result.student)
            if key in chosen and chosen[key].source != result.source:
                notes.append(f"{result.lab} {result.student} is in {chosen[key].source} and in "
                             f"{result.source}: the result of {result.source} is used")
            chosen[key] = result
    for result in gradebook:
        chosen.setdefault((result.lab, result.student), result)
    return list(chosen.values()), notes


# --- the numbers -------------------------------------------------------------------------------

def summarize(results: list[Result]) -> list[LabSummary]:
    """A summary per lab, lab1, lab2, ... in order."""
    by_lab: dict[str, list[Result]] = {}
    for result in results:
        by_lab.setdefault(result.lab, []).append(result)
    return [summarize_lab(lab, by_lab[lab]) for lab in sorted(by_lab, key=lab_order)]


def summarize_lab(lab: str, results: list[Result]) -> LabSummary:
    results = sorted(results, key=lambda r: r.student)
    detailed = [r for r in results if r.report is not None]
    checks: dict[str, str] = {}  # id -> title, in the reports' order
    for result in detailed:
        for check in result.report.get("checks", []):
            checks.setdefault(check["id"], check.get("title", ""))
    summaries = tuple(check_summary(lab, check, title, detailed) for check, title in checks.items())
    return LabSummary(lab, _lab_title(lab, detailed), _max_score(lab, results), tuple(results), summaries)


def check_summary(lab: str, check_id: str, title: str, results: list[Result]) -> CheckSummary:
    counts = Counter({status: 0 for status in STATUSES})
    actual: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    for result in results:
        check = result.check(check_id)
        if check is None:
            continue
        counts[check["status"]] += 1
        if check["status"] == Status.FAILED.value:
            namespace = (result.report or {}).get("namespace", "")
            actual[value_key(check.get("actual"), namespace)] += 1
            if check.get("expected") is not None:
                expected[value_key(check["expected"], namespace)] += 1
    return CheckSummary(lab, check_id, title, dict(counts),
                        expected.most_common(1)[0][0] if expected else "",
                        tuple(actual.most_common(TOP_VALUES)))


# What differs between two students' identical mistakes: the grading namespace, the pod's UID,
# the name of the token volume Kubernetes adds, the grader's request marker.
UID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
TOKEN_VOLUME = re.compile(r"\bkube-api-access-[a-z0-9]{5}\b")
MARKER = re.compile(r"\bpods-course-[0-9a-f]{12}\b")


def value_key(value, namespace: str = "") -> str:
    """A check's actual (or expected) value as text, so that equal mistakes group: a string as
    it is, anything else as JSON; the parts of it that differ from one grading run to the next
    replaced by a placeholder."""
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if namespace:
        text = text.replace(namespace, "<namespace>")
    text = UID.sub("<uid>", text)
    text = TOKEN_VOLUME.sub("kube-api-access-<id>", text)
    return MARKER.sub("<marker>", text)


def _lab_title(lab: str, detailed: list[Result]) -> str:
    for result in detailed:
        if result.report.get("title"):
            return result.report["title"]
    from graders import labs

    try:
        return labs.get(lab).title
    except labs.UnknownLab:
        return ""


def _max_score(lab: str, results: list[Result]) -> float:
    found = Counter(r.max_score for r in results if r.max_score is not None)
    if found:
        return found.most_common(1)[0][0]
    from graders import labs

    try:
        return labs.get(lab).max_score
    except labs.UnknownLab:
        return 0.0


# --- the CSV -----------------------------------------------------------------------------------

def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def csv_rows(summaries: list[LabSummary]) -> list[list]:
    """One row per lab and check (labs without per-check results have none)."""
    rows = []
    for summary in summaries:
        for check in summary.checks:
            rows.append([summary.lab, check.check, check.title, check.students,
                         *(check.counts[s] for s in STATUSES),
                         *(f"{check.share(s):.4g}" for s in ("failed", "pending", "blocked", "error")),
                         shorten(check.expected, CSV_VALUE_CHARS),
                         json.dumps([[shorten(value, CSV_VALUE_CHARS), count] for value, count in check.top_actual],
                                    ensure_ascii=False)])
    return rows


def write_csv(summaries: list[LabSummary], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(summaries))
