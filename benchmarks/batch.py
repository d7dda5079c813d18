"""How fast an instructor grades a class: 100 lab3 submissions (the solution, the named mistakes
and the equivalent answers of tests/cases, mixed) graded by `grade batch` at concurrency 1, 2, 4
and 8, and by `nbgrader autograde` on the same submissions, in one run, on the current cluster.

    .venv/bin/python benchmarks/batch.py [--students 100] [--concurrency 1 2 4 8]

Needs the course cluster (make cluster). Works in a temporary folder; leaves nothing behind.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.cases import all_cases  # noqa: E402

LAB = "lab3"
# nbgrader runs `alembic` from PATH: the one of this Python's environment.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def make_class(root: Path, students: int) -> Path:
    cases = [case for case in all_cases() if case.lab == LAB]
    submissions = root / "submitted"
    for index in range(students):
        case = cases[index % len(cases)]
        target = submissions / f"student{index:03}" / LAB
        target.mkdir(parents=True)
        for path in ([case.manifests] if case.manifests.is_file() else sorted(case.manifests.glob("*.y*ml"))):
            shutil.copy2(path, target / path.name)
    return submissions


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    grade = [sys.executable, "-m", "graders.cli"]
    nbgrader = [sys.executable, "-m", "nbgrader"]

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        submissions = make_class(root, args.students)
        rows = []
        for concurrency in args.concurrency:
            seconds = timed([*grade, "batch", LAB, str(submissions), "--store", str(root / f"c{concurrency}.sqlite"),
                             "--concurrency", str(concurrency)], root)
            rows.append((f"grade batch --concurrency {concurrency}", seconds))

        course = root / "course"
        subprocess.run([*grade, "nbgrader-course", str(course), "--lab", LAB], check=True, capture_output=True)
        subprocess.run([*nbgrader, "generate_assignment", LAB], cwd=course, check=True, capture_output=True)
        release = course / "release" / LAB / f"{LAB}.ipynb"
        for student in sorted(submissions.iterdir()):
            target = course / "submitted" / student.name / LAB
            shutil.copytree(student / LAB, target)
            shutil.copy2(release, target / release.name)
        rows.append(("nbgrader autograde", timed([*nbgrader, "autograde", LAB, "--create"], course)))

    nbgrader_seconds = rows[-1][1]
    print(f"{args.students} submissions of {LAB}, on the current cluster")
    print(f"| {'how':32} | {'seconds':>8} | {'per submission':>14} | {'vs nbgrader':>11} |")
    print(f"|{'-' * 34}|{'-' * 10}|{'-' * 16}|{'-' * 13}|")
    for name, seconds in rows:
        print(f"| {name:32} | {seconds:8.1f} | {seconds / args.students:14.2f} | "
              f"{nbgrader_seconds / seconds:10.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
