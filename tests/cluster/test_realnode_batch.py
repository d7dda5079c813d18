"""Batch grading on a node that runs other people's code: submissions that are valid lab3 answers
but carry a fork bomb, a memory eater, a CPU spinner or a network prober are contained by the
fences (LimitRange, quota, the node's pids limit, its firewall), get the grade their answer
deserves, change no other student's verdict, and leave nothing behind."""
from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from graders.results import CheckResult, LabReport, Status
from tests.batching import grading_namespaces, run_batch, student_folder
from tests.cases import REPO, all_cases
from tests.verdicts import assert_verdict

BUSYBOX = "busybox:1.36"
HOSTILE = {
    "forkbomb": ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 3600"],
    "memoryhog": ["sh", "-c", "x=a; while true; do x=$x$x; done"],
    "cpuspin": ["sh", "-c", "while true; do :; done & while true; do :; done"],
    "prober": ["sh", "-c", "for t in '10.213.0.1 22' '10.213.0.2 10250' '10.96.0.1 443' "
                           "'kubernetes.default.svc 443'; do nc -z -w 2 $t && echo REACHED $t; done; sleep 3600"],
}


@pytest.fixture(autouse=True)
def containers_run(core):
    if any((n.metadata.annotations or {}).get("kwok.x-k8s.io/node") for n in core.list_node().items):
        pytest.skip("the simulated cluster runs no containers")


def test_hostile_containers_are_contained_and_change_no_verdict(tmp_path, core):
    cases = [c for c in all_cases() if c.lab == "lab3" and not c.batch_rejects]
    submissions = tmp_path / "submitted"
    for case in cases:
        student_folder(submissions, case.name, case.manifests, "lab3")
    for name, command in HOSTILE.items():
        student_folder(submissions, name, REPO / "solutions" / "lab3", "lab3")
        extra = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                 "spec": {"containers": [{"name": name, "image": BUSYBOX, "command": command}]}}
        (submissions / name / "lab3" / f"{name}.yaml").write_text(yaml.safe_dump(extra))
    result = run_batch("lab3", submissions, tmp_path / "store.sqlite", "--concurrency", "8",
                       "--deadline", "30", "--json", str(tmp_path / "rows.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["student"]: row for row in json.loads((tmp_path / "rows.json").read_text())}
    for case in cases:
        row = rows[case.name]
        assert row["status"] == "graded", row
        report = LabReport(lab="lab3", title="", namespace="", context="", simulated=False, checks=tuple(
            CheckResult(**{**c, "status": Status(c["status"])}) for c in row["report"]["checks"]))
        assert_verdict(report, case)
    for name in HOSTILE:  # the answer beside the hostile pod is the solution: full marks
        assert (rows[name]["status"], rows[name]["score"]) == ("graded", rows[name]["max_score"]), rows[name]
    assert grading_namespaces() == []
    leftover = subprocess.run(["kubectl", "get", "pods", "-A", "-o", "name", "-l", "!component"],
                              capture_output=True, text=True, timeout=30).stdout
    assert not [p for p in leftover.split() if any(h in p for h in HOSTILE)], leftover
    ready = subprocess.run(["kubectl", "get", "nodes", "-o", "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"],
                           capture_output=True, text=True, timeout=30).stdout
    assert set(ready.split()) == {"True"}
