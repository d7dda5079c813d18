"""Grading a submission in isolation: its manifests are created in a fresh namespace of their
own, fenced by the cluster itself (graders.containment), left to settle, graded with the lab's
grader, and the namespace is deleted. The report is the one `grade labN` gives on the same
manifests applied by hand."""
from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

from graders import api, labs
from graders.cluster import ApiError, Cluster, Forbidden
from graders.containment import POD_SECURITY, fence
from graders.results import LabReport
from graders.submission import Submission, load
from graders.workspace import wait_default_service_account, wait_quota_taken_in

# Labels that find every grading namespace again, even after a crash (`grade clean`).
ROLE_LABEL = "pods-course/role"
ROLE = "grading"
RUN_LABEL = "pods-course/run"
LAB_LABEL = "pods-course/lab"


def grading_selector(run: str | None = None) -> str:
    return f"{ROLE_LABEL}={ROLE}" + (f",{RUN_LABEL}={run}" if run else "")


def create_namespace(cluster: Cluster, lab: str, run: str, student: str = "") -> str:
    name = f"grade-{lab}-{uuid.uuid4().hex[:10]}"
    cluster.create("Namespace", {"metadata": {
        "name": name, "labels": {ROLE_LABEL: ROLE, RUN_LABEL: run, LAB_LABEL: lab, **POD_SECURITY},
        "annotations": {"pods-course/student": student} if student else {}}})
    wait_default_service_account(cluster, name)
    return name


def apply(cluster: Cluster, submitter: Cluster, namespace: str, submission: Submission) -> list[str]:
    """Create the documents in order as `submitter`, as `kubectl apply` would: an object the
    API server refuses (validation, admission, the submitter's rights) is skipped with a note
    quoting it, the others are still created."""
    notes = []
    for document in submission.documents:
        try:
            submitter.create(document.kind, document.body, namespace)
        except Forbidden as denied:
            if not submitter.impersonated or submitter.impersonated not in denied.args[0]:
                raise  # our own identity was denied: the batch cannot go on
            notes.append(f"{document.source}: the submission may not create {document.kind} "
                         f"{document.name}: {denied.args[0]}")
            continue
        except ApiError as refused:
            if refused.status >= 500:
                raise
            notes.append(f"{document.source}: the API server refused {document.kind} {document.name}: "
                         f"{refused.args[0]}")
            continue
        if document.kind == "ResourceQuota":
            # As a person's pause between commands would: let the quota controller take the quota
            # in before pods are created, or its first count can miss them for minutes.
            wait_quota_taken_in(cluster, namespace, document.name)
    return notes


def replay(cluster: Cluster, lab: str, folder: Path, *, deadline: float = 60, run: str = "adhoc",
           student: str = "") -> LabReport:
    """Grade the manifests of `folder` for `lab` in a namespace of their own. Raises
    submission.Rejected (nothing was created) or graders.cluster.ClusterError."""
    submission = load(lab, folder)
    namespace = create_namespace(cluster, lab, run, student)
    try:
        submitter = fence(cluster, namespace, labs.get(lab))
        notes = submission.notes + apply(cluster, submitter, namespace, submission)
        report = api.grade(lab, namespace, wait=deadline, cluster=cluster, mode="isolated")
        return dataclasses.replace(report, notes=report.notes + tuple(notes))
    finally:
        # Its pods go at once (nothing of them is kept), so the namespace is gone in a moment
        # instead of waiting on each pod's graceful end.
        cluster.delete_all("Pod", namespace, grace_seconds=0)
        cluster.delete("Namespace", namespace)
