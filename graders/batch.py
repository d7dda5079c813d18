"""Grading a class: every submission replayed in a namespace of its own, several at a time,
each result stored as it finishes, so a batch that is killed resumes where it stopped."""
from __future__ import annotations

import csv
import json
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from graders import labs
from graders.cluster import Cluster, ClusterError, Forbidden, Unauthorized
from graders.replay import grading_selector, replay
from graders.results import LabReport, Status
from graders.store import Row, Store
from graders.submission import Rejected
from graders.workspace import wait_gone

CSV_COLUMNS = ["student", "lab", "score", "max_score", "status", "reason"]


class BatchStopped(Exception):
    """The batch cannot go on (our own credentials were refused); finished rows are kept."""


def discover(directory: Path, lab: str) -> list[tuple[str, Path]]:
    """(student, folder) for each student folder of `directory`: nbgrader's layout
    (DIR/<student>/<lab>/...) or one folder per student (DIR/<student>/...)."""
    found = []
    for student in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith(".")):
        nested = student / lab
        found.append((student.name, nested if nested.is_dir() else student))
    return found


def summary(report: LabReport) -> str:
    groups = {status: [c.id for c in report.checks if c.status is status]
              for status in (Status.FAILED, Status.PENDING, Status.BLOCKED, Status.ERROR)}
    parts = [f"{status.value}: {' '.join(ids)}" for status, ids in groups.items() if ids]
    return "; ".join(parts) or "all checks passed"


def grade_one(cluster: Cluster, lab: str, student: str, folder: Path, run: str, deadline: float) -> Row:
    max_score = labs.get(lab).max_score
    try:
        report = replay(cluster, lab, folder, deadline=deadline, run=run, student=student)
    except Rejected as refused:
        return Row(lab, student, "rejected", 0.0, max_score, f"submission refused: {refused}", None)
    except (Unauthorized, Forbidden) as error:
        raise BatchStopped(str(error)) from None
    except ClusterError as error:
        return Row(lab, student, "error", None, max_score, f"could not grade: {error}", None)
    document = report.to_dict()
    if report.could_not_grade:  # never a grade the cluster's trouble decided: retried on --resume
        errors = "; ".join(c.message for c in report.checks if c.status is Status.ERROR)
        return Row(lab, student, "error", None, max_score, f"could not grade: {errors}", document)
    return Row(lab, student, "graded", report.score, report.max_score, summary(report), document)


class Progress:
    """A one-line progress bar on a terminal's stderr; silent elsewhere."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.errors = total, 0, 0
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()

    def advance(self, row: Row) -> None:
        self.done += 1
        self.errors += row.status == "error"
        if self.enabled:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                              f"graded, {self.errors} errors, {time.monotonic() - self.started:.0f}s ")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def run(cluster: Cluster, lab: str, directory: Path, store: Store, *, concurrency: int = 16,
        deadline: float = 60, progress: Progress | None = None) -> list[Row]:
    """Grade every student of `directory` that has no final row in `store` yet."""
    run_id = store.run_id()
    clean(cluster, run_id)  # what a killed run of this batch left behind
    done = store.finished(lab)
    todo = [(student, folder) for student, folder in discover(directory, lab) if student not in done]
    progress = progress or Progress(len(todo))
    executor = ThreadPoolExecutor(max_workers=max(1, concurrency))
    pending = {executor.submit(grade_one, cluster, lab, student, folder, run_id, deadline)
               for student, folder in todo}
    try:
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                row = future.result()  # BatchStopped propagates
                store.save(row)
                progress.advance(row)
    finally:
        for future in pending:
            future.cancel()
        executor.shutdown(wait=True)  # running replays delete their namespaces
        progress.close()
        clean(cluster, run_id)
    return store.rows(lab)


def clean(cluster: Cluster, run: str | None = None, timeout: float = 120) -> int:
    """Delete the grading namespaces (of one run, or all) and wait until they are gone."""
    names = [ns["metadata"]["name"] for ns in
             cluster.list("Namespace", labelSelector=grading_selector(run)).get("items", [])]
    for name in names:
        cluster.delete("Namespace", name)
    for name in names:
        wait_gone(cluster, "Namespace", name, None, timeout)
    return len(names)


def write_csv(rows: list[Row], path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([row.student, row.lab, "" if row.score is None else f"{row.score:g}",
                             f"{row.max_score:g}", row.status, row.reason])


def write_json(rows: list[Row], path: Path) -> None:
    path.write_text(json.dumps([row.__dict__ for row in rows], indent=2) + "\n")
