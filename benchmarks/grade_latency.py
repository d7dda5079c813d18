"""How long a learner waits for a grade: `grade lab1` as a cold process, side by side with the
kind of checker hosted platforms run (benchmarks/kubectl_checker.sh: one `kubectl get -o
jsonpath` per check, and the page fetched from inside the pod through `kubectl exec` where
`grade` asks the pod proxy), on the same settled pod, in one run; then grading in a warm
process (a notebook kernel).

    .venv/bin/python benchmarks/grade_latency.py [--runs 21]

Needs a course cluster whose containers run (make cluster on Linux: the real node; or kind).
Creates namespace bench-lab1 and deletes it after.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from graders import grade  # noqa: E402
from graders.cluster import Cluster  # noqa: E402
from graders.snapshot import Snapshot  # noqa: E402
from graders.workspace import recreate_namespace, wait_gone  # noqa: E402

NAMESPACE = "bench-lab1"


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} did not pass:\n{result.stdout}{result.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()

    # Each grade is recorded as a learner's would be (that is part of its time), in a store of its own.
    os.environ["COURSE_DATA"] = tempfile.mkdtemp(prefix="grade-latency-")
    cluster = Cluster.connect()
    if Snapshot(cluster, "default").simulated:
        raise SystemExit("grade_latency: the simulated cluster runs no containers, so neither checker can "
                         "ask the pod; run it on the real node (make cluster) or kind")
    recreate_namespace(cluster, NAMESPACE)
    try:
        subprocess.run(["kubectl", "apply", "-n", NAMESPACE, "-f", str(REPO / "solutions/lab1")],
                       check=True, capture_output=True)
        assert grade("lab1", NAMESPACE, wait=30, cluster=cluster).passed, "the solution should pass"

        commands = {
            "grade lab1 (cold process)": [str(Path(sys.executable).parent / "grade"), "lab1", "-n", NAMESPACE],
            "kubectl checker script": ["bash", str(REPO / "benchmarks/kubectl_checker.sh"), NAMESPACE],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved, so both see the same machine
            for name, command in commands.items():
                times[name].append(timed(command))

        warm = []
        for _ in range(args.runs):
            started = time.perf_counter()
            grade("lab1", NAMESPACE, cluster=cluster)
            warm.append(time.perf_counter() - started)
    finally:
        cluster.delete("Namespace", NAMESPACE)
        wait_gone(cluster, "Namespace", NAMESPACE, None, 60)

    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"runs: {args.runs} each, interleaved; cluster context {cluster.context}")
    for name, values in times.items():
        print(f"  {name:28} median {medians[name] * 1000:7.1f} ms   "
              f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})")
    ratio = medians["grade lab1 (cold process)"] / medians["kubectl checker script"]
    print(f"  ratio grade / script: {ratio:.2f}")
    print(f"  graders.grade('lab1') in a warm process: median {statistics.median(warm) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
