"""A class spread over two clusters: the same 100 lab3 submissions as benchmarks/batch.py graded
by `grade batch` on one simulated cluster, then on two (`--context A --context B`), in one run;
the rows must be identical (status, score and every check's status).

    .venv/bin/python benchmarks/batch_clusters.py [--students 100] [--concurrency 16]

Brings up the course's simulated cluster if needed and a second one beside it
(`cluster/cluster.py up --provider sim --name pods-course-bench`), deletes the second one after,
and gives kubectl back its current context. Both clusters share this machine's cores: on one
machine the second cluster adds API servers, not processors.
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.batch import LAB, make_class, timed  # noqa: E402

SECOND = "pods-course-bench"
CONTEXTS = ["kwok-pods-course", f"kwok-{SECOND}"]


def cluster(*args: str) -> None:
    subprocess.run([sys.executable, str(REPO / "cluster" / "cluster.py"), *args], check=True)


def rows(store: Path) -> dict[str, tuple]:
    with sqlite3.connect(store) as db:
        found = db.execute("SELECT student, status, score, report FROM results").fetchall()
    return {student: (status, score, [(c["id"], c["status"]) for c in json.loads(report)["checks"]] if report else None)
            for student, status, score, report in found}


def graded_on(store: Path) -> dict[str, int]:
    with sqlite3.connect(store) as db:
        contexts = [json.loads(report)["context"] for (report,) in db.execute("SELECT report FROM results")]
    return {context: contexts.count(context) for context in sorted(set(contexts))}


def batch(submissions: Path, store: Path, concurrency: int, contexts: list[str]) -> float:
    command = [sys.executable, "-m", "graders.cli", "batch", LAB, str(submissions), "--store", str(store),
               "--concurrency", str(concurrency)]
    for context in contexts:
        command += ["--context", context]
    return timed(command, store.parent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16, help="per cluster, as grade batch's")
    args = parser.parse_args()
    current = subprocess.run(["kubectl", "config", "current-context"], capture_output=True, text=True).stdout.strip()
    try:
        cluster("up", "--provider", "sim")
        cluster("up", "--provider", "sim", "--name", SECOND)
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch)
            submissions = make_class(root, args.students)
            one = batch(submissions, root / "one.sqlite", args.concurrency, CONTEXTS[:1])
            two = batch(submissions, root / "two.sqlite", args.concurrency, CONTEXTS)
            identical = rows(root / "one.sqlite") == rows(root / "two.sqlite")
            shares = graded_on(root / "two.sqlite")
    finally:
        cluster("down", "--provider", "sim", "--name", SECOND)
        if current:
            subprocess.run(["kubectl", "config", "use-context", current], capture_output=True)
    print(f"{args.students} submissions of {LAB}, --concurrency {args.concurrency} per cluster, on this machine")
    print(f"| {'clusters':50} | {'seconds':>8} | {'per submission':>14} |")
    print(f"|{'-' * 52}|{'-' * 10}|{'-' * 16}|")
    print(f"| {'one: ' + CONTEXTS[0]:50} | {one:8.1f} | {one / args.students:14.2f} |")
    print(f"| {'two: ' + ' + '.join(CONTEXTS):50} | {two:8.1f} | {two / args.students:14.2f} |")
    print(f"rows identical: {identical}; graded per cluster: {shares}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
