"""Grading a class: every submission replayed in a namespace of its own, several at a time,
each result stored as it finishes, so a batch that is killed resumes where it stopped."""
from __future__ import annotations

import csv
import json
import queue
import sys
import threading
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
    return row_of(lab, student, report)


def row_of(lab: str, student: str, report: LabReport) -> Row:
    """The stored result of a finished report: graded, or an error when the cluster's trouble
    decided a check."""
    document = report.to_dict()
    if report.could_not_grade:  # never a grade the cluster's trouble decided: retried on --resume
        errors = "; ".join(c.message for c in report.checks if c.status is Status.ERROR)
        return Row(lab, student, "error", None, report.max_score, f"could not grade: {errors}", document)
    return Row(lab, student, "graded", report.score, report.max_score, summary(report), document)


class Progress:
    """The batch's progress bar on a terminal's stderr (tqdm: done, rate, time left, errors so
    far); silent elsewhere, so logs and CI output get only the summary."""

    def __init__(self, total: int, stream=sys.stderr):
        self.errors = 0
        self.bar = None
        if stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=stream, desc="grading", unit=" submissions",
                            dynamic_ncols=True, postfix={"errors": 0})

    def advance(self, row: Row) -> None:
        self.errors += row.status == "error"
        if self.bar is not None:
            self.bar.set_postfix(errors=self.errors, refresh=False)
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(clusters: Cluster | list[Cluster], lab: str, directory: Path, store: Store, *,
        concurrency: int = 16, deadline: float = 60, progress: Progress | None = None) -> list[Row]:
    """Grade every student of `directory` that has no final row in `store` yet, `concurrency`
    at a time on each of `clusters`. Each cluster takes the next submission whenever one of its
    workers is free, so a class grades in the time of the largest share. A cluster whose grading
    failed takes no more while another still grades: its rows stay `error`, for --resume."""
    clusters = [clusters] if isinstance(clusters, Cluster) else list(clusters)
    run_id = store.run_id()
    for cluster in clusters:
        clean(cluster, run_id)  # what a killed run of this batch left behind
    done = store.finished(lab)
    todo = [(student, folder) for student, folder in discover(directory, lab) if student not in done]
    progress = progress or Progress(len(todo))
    work: queue.SimpleQueue = queue.SimpleQueue()
    for item in todo:
        work.put(item)
    results: queue.SimpleQueue = queue.SimpleQueue()  # rows, a worker's exception, None when one ends
    stop = threading.Event()
    failing: set[int] = set()  # the clusters whose grading failed (several clusters only)
    lock = threading.Lock()

    def worker(index: int, cluster: Cluster) -> None:
        try:
            while not stop.is_set():
                with lock:
                    if index in failing and len(failing) < len(clusters):
                        return  # the others take the rest
                try:
                    student, folder = work.get_nowait()
                except queue.Empty:
                    return
                row = grade_one(cluster, lab, student, folder, run_id, deadline)
                if row.status == "error" and len(clusters) > 1:
                    with lock:
                        failing.add(index)
                results.put(row)
        except BaseException as error:  # BatchStopped, or a bug: the batch stops and says so
            results.put(error)
        finally:
            results.put(None)

    workers = [threading.Thread(target=worker, args=(index, cluster), name=f"grade-{index}-{n}")
               for index, cluster in enumerate(clusters) for n in range(max(1, min(concurrency, len(todo))))]
    for thread in workers:
        thread.start()
    try:
        running = len(workers)
        while running:
            result = results.get()
            if result is None:
                running -= 1
            elif isinstance(result, BaseException):
                raise result
            else:
                store.save(result)
                progress.advance(result)
    finally:
        stop.set()
        for thread in workers:
            thread.join()  # running replays delete their namespaces
        progress.close()
        for cluster in clusters:
            try:
                clean(cluster, run_id)
            except ClusterError:
                if len(clusters) == 1:
                    raise
                # A cluster lost mid-batch keeps its grading namespaces until it answers again:
                # its rows are `error`, and --resume (or `grade clean`) there removes them.
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
