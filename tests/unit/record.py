"""Record, from the real API server, what the graders read for every case of tests/cases, so
the unit tests can replay it without a cluster: the objects, and where containers run what the
pods answered through the pod proxy and wrote to their logs (the behaviour checks). Record on
the real node (make cluster on Linux), so that the recordings hold both:

    .venv/bin/python -m tests.unit.record            # all cases
    .venv/bin/python -m tests.unit.record lab4       # one lab

Each case is applied into a fresh namespace, left to settle, graded, and the objects the
grader read are written to tests/unit/recorded/<lab>/<case>.json (managedFields dropped).
"""
from __future__ import annotations

import json
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from graders import grade, labs
from graders.cluster import Cluster
from graders.snapshot import Snapshot
from graders.workspace import wait_default_service_account
from tests.cases import all_cases

OUT = Path(__file__).parent / "recorded"


def strip(obj):
    if isinstance(obj, dict):
        return {k: strip(v) for k, v in obj.items() if k != "managedFields"}
    if isinstance(obj, list):
        return [strip(v) for v in obj]
    return obj


def record(case, cluster: Cluster) -> Path:
    namespace = f"record-{uuid.uuid4().hex[:8]}"
    cluster.create("Namespace", {"metadata": {"name": namespace}})
    try:
        wait_default_service_account(cluster, namespace)
        subprocess.run(["kubectl", "--context", cluster.context, "apply", "-n", namespace, "-f",
                        str(case.manifests)], check=True, capture_output=True, text=True)
        grade(case.lab, namespace, wait=60, cluster=cluster)  # let it settle (lab4 holds ~45 s)
        snapshot = Snapshot(cluster, namespace)
        labs.get(case.lab).evaluate(snapshot)
        snapshot.nodes()
        target = OUT / case.lab / f"{case.name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(strip(snapshot.to_record()), indent=1, sort_keys=True) + "\n")
        return target
    finally:
        cluster.delete_all("Pod", namespace, grace_seconds=0)  # their cpu is free at once for the others
        cluster.delete("Namespace", namespace)


def main(argv: list[str]) -> int:
    cluster = Cluster.connect()
    cases = [case for case in all_cases() if not argv or case.lab in argv]
    # Side by side: a case's time is mostly its pods settling.
    with ThreadPoolExecutor(12) as pool:
        for target in pool.map(lambda case: record(case, cluster), cases):
            print(f"recorded {target.relative_to(Path.cwd())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
