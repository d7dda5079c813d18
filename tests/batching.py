"""Running `grade batch` as a learner's instructor would, for the cluster tests."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from graders.cluster import Cluster
from graders.replay import grading_selector


def grade_cli(*args, cwd=None, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "graders.cli", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def grading_namespaces(store: Path | None = None) -> list[str]:
    """Grading namespaces that exist: of the batch recorded in `store`, or of any batch."""
    run = None
    if store is not None:
        with sqlite3.connect(store) as db:
            try:
                found = db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
            except sqlite3.OperationalError:  # the batch has not written its schema yet
                found = None
        if found is None:
            return []
        run = found[0]
    return [ns["metadata"]["name"] for ns in
            Cluster.connect().list("Namespace", labelSelector=grading_selector(run)).get("items", [])]


def student_folder(root: Path, student: str, manifests: Path, lab: str) -> None:
    target = root / student / lab
    target.mkdir(parents=True)
    for path in ([manifests] if manifests.is_file() else sorted(manifests.glob("*.y*ml"))):
        shutil.copy2(path, target / path.name)


def run_batch(lab: str, submissions: Path, store: Path, *extra: str, **popen) -> subprocess.CompletedProcess:
    process = grade_cli("batch", lab, str(submissions), "--store", str(store), *extra, **popen)
    out, err = process.communicate(timeout=600)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def stored(store: Path) -> dict[str, tuple]:
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT student, status, score, reason, report FROM results").fetchall()
    return {student: (status, score, reason, [(c["id"], c["status"]) for c in json.loads(report)["checks"]]
                      if report else None) for student, status, score, reason, report in rows}


