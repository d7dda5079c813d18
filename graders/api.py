"""The one entry point used by the command line, the notebooks, batch grading and nbgrader."""
from __future__ import annotations

import dataclasses
import queue
import threading
import time

from graders import exercises, labs, settling
from graders.cluster import Cluster, Forbidden
from graders.results import LabReport, Status
from graders.snapshot import Snapshot

# Kinds whose changes can settle a pending check (pods start; a quota's usage is computed).
WATCHED_KINDS = ("Pod", "ResourceQuota")


def grade(lab: str, namespace: str | None = None, *, wait: float = 0.0, context: str | None = None,
          cluster: Cluster | None = None, mode: str = "self-check") -> LabReport:
    """Grade `lab` (a lab, lab3, or a lesson's exercise, 02-pod-ip) on the live objects of
    `namespace` (default: the lab's id, or the exercise's lesson namespace, course-02).

    With `wait` > 0, checks still `pending` (a pod starting) are re-judged whenever a pod or
    quota of the namespace changes, or a running pod has held its state long enough (settling),
    until they settle or `wait` seconds have passed.
    Raises labs.UnknownLab (exercises.UnknownExercise is one), and graders.cluster.ClusterError when the cluster cannot be read.
    """
    definition = exercises.get(lab) if exercises.is_exercise_id(lab) else labs.get(lab)
    cluster = cluster or Cluster.connect(context)
    namespace = namespace or definition.namespace
    started = time.monotonic()
    notes = _namespace_notes(cluster, namespace)
    sightings = settling.Sightings()
    while True:
        version = _current_version(cluster, namespace) if wait > 0 else None
        snapshot = Snapshot(cluster, namespace, sightings)
        results = definition.evaluate(snapshot)
        remaining = started + wait - time.monotonic()
        if remaining <= 0 or not any(r.status is Status.PENDING for r in results):
            break
        # A running pod still holding its state changes nothing when its hold ends: look again then.
        holding = None if snapshot.simulated else settling.next_recheck(snapshot.pods_read(), sightings=sightings)
        _wait_for_change(cluster, namespace, version, min(remaining, (holding or remaining) + 0.2))
    report = LabReport(lab=definition.id, title=definition.title, namespace=namespace,
                       context=cluster.context, checks=results, simulated=snapshot.simulated,
                       mode=mode, seconds=round(time.monotonic() - started, 3), notes=tuple(notes))
    # A learner's own grade counts in their progress; a grade the cluster's trouble spoiled does not.
    return _recorded(report) if mode == "self-check" and not report.could_not_grade else report


def _recorded(report: LabReport) -> LabReport:
    """The report, after adding it to the learner's progress (graders/progress_store.py); if the
    store cannot be written, the report says so and the grade stands."""
    import sqlite3

    from graders import progress_store

    try:
        progress_store.record(report)
    except (OSError, sqlite3.Error) as error:
        return dataclasses.replace(report, notes=report.notes + (
            f"Your progress could not be recorded in {progress_store.store_path()}: {error}. Set COURSE_DATA "
            "to a folder you can write to.",))
    return report


def _namespace_notes(cluster: Cluster, namespace: str) -> list[str]:
    try:
        if cluster.get("Namespace", namespace) is None:
            return [f"Namespace {namespace} does not exist. Create it with "
                    f"`kubectl create namespace {namespace}`, then apply your manifests with "
                    f"`kubectl apply -n {namespace} -f ...`."]
    except Forbidden:
        pass  # may not read namespaces: the checks will still say what is missing
    return []


def _current_version(cluster: Cluster, namespace: str) -> str:
    return cluster.list("Pod", namespace, limit=1)["metadata"]["resourceVersion"]


def _wait_for_change(cluster: Cluster, namespace: str, version: str, timeout: float) -> None:
    """Return when a watched object of the namespace changes after `version`, or at `timeout`."""
    changed: queue.Queue = queue.Queue()

    def watch(kind: str) -> None:
        try:
            for _ in cluster.watch(kind, namespace, version, timeout):
                changed.put(kind)
                return
        except Exception as error:  # reported by the next pass, which reads again
            changed.put(error)

    for kind in WATCHED_KINDS:
        threading.Thread(target=watch, args=(kind,), daemon=True).start()
    try:
        changed.get(timeout=timeout)
    except queue.Empty:
        pass
