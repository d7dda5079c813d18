"""The grade command against the real API server."""
import json
import os
import subprocess
import sys

import jsonschema

from graders.labs import lab_ids
from tests.cases import REPO

SCHEMA = json.loads((REPO / "graders" / "report-schema.json").read_text())


def grade(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "graders.cli", *args], capture_output=True, text=True,
                          timeout=120, input=stdin, cwd=cwd)


def kubectl(*args):
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=60, check=True)


def simulated() -> bool:
    """Whether the current cluster is the simulated one (its kubelets are KWOK's)."""
    return "kwok" in kubectl("get", "nodes", "-o", "jsonpath={.items[*].status.nodeInfo.kubeletVersion}").stdout


def test_empty_namespace_fails_pod_exists_and_blocks_the_rest(namespace):
    result = grade("lab1", "--namespace", namespace, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    statuses = {check["id"]: check["status"] for check in report["checks"]}
    assert statuses.pop("pod-exists") == "failed"
    assert set(statuses.values()) == {"blocked"}
    assert report["score"] == 0 and report["max_score"] == 8


def test_json_report_follows_the_documented_schema(namespace):
    kubectl("apply", "-n", namespace, "-f", str(REPO / "labs/lab4/probed.yaml"))
    result = grade("lab4", "-n", namespace, "--json", "--wait", "20")
    report = json.loads(result.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["lab"] == "lab4" and report["namespace"] == namespace and report["simulated"] is simulated()
    failed = [check for check in report["checks"] if check["status"] == "failed"]
    assert failed and all(check["hint"] and check["message"] for check in failed)


def test_full_marks_exit_0_after_waiting_for_the_pod(namespace):
    kubectl("apply", "-n", namespace, "-f", str(REPO / "solutions/lab3"))
    result = grade("lab3", "-n", namespace, "--wait", "30")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "score 7/7" in result.stdout


def test_people_output_has_words_and_no_colour_when_piped(namespace):
    result = grade("lab1", "-n", namespace)
    assert "\033[" not in result.stdout
    assert "FAIL    pod-exists" in result.stdout and "BLOCKED" in result.stdout
    assert "hint:" in result.stdout and "score 0/8" in result.stdout
    assert ("simulated cluster" in result.stdout) is simulated() and "self-check" in result.stdout


def test_reset_recreates_the_namespace_empty(namespace):
    kubectl("apply", "-n", namespace, "-f", str(REPO / "solutions/lab1"))
    refused = grade("reset", "lab1", "-n", namespace, stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr  # no terminal to ask on
    assert kubectl("get", "pods", "-n", namespace, "-o", "name").stdout.strip() == "pod/webserver"
    result = grade("reset", "lab1", "-n", namespace, "--yes")
    assert result.returncode == 0, result.stderr
    assert kubectl("get", "pods", "-n", namespace, "-o", "name").stdout.strip() == ""
    assert kubectl("get", "serviceaccount", "default", "-n", namespace).returncode == 0
    assert f"`kubectl apply -n {namespace} -f labs/lab1/`" in result.stdout  # from the repository
    in_lab = grade("reset", "lab1", "-n", namespace, "--yes", cwd=REPO / "labs" / "lab1")  # a notebook's
    assert in_lab.returncode == 0 and f"`kubectl apply -n {namespace} -f .`" in in_lab.stdout, in_lab.stdout


def test_every_grade_is_recorded_and_progress_shows_it(namespace, tmp_path):
    env = {**os.environ, "COURSE_DATA": str(tmp_path)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "graders.cli", *args], capture_output=True, text=True,
                              timeout=300, env=env)

    kubectl("apply", "-n", namespace, "-f", str(REPO / "solutions/lab3"))
    assert run("lab3", "-n", namespace, "--wait", "30").returncode == 0
    assert run("lab1", "-n", namespace).returncode == 1  # lab1 is not there: in progress
    shown = run("progress").stdout
    assert "lab3   passed" in shown and "lab1   in progress" in shown and "lab2   not started" in shown
    assert "Next: finish lab1: pod-exists (failed)" in shown

    # --live grades every lab whose namespace exists now: lab8's, empty, makes lab8 in progress.
    kubectl("create", "namespace", "lab8")
    try:
        live = run("progress", "--live")
    finally:
        kubectl("delete", "namespace", "lab8", "--wait=false")
    assert "Graded now: " in live.stdout and "lab8" in live.stdout.splitlines()[0], live.stdout + live.stderr
    assert "lab8   in progress" in live.stdout

    assert "was reset" in run("progress", "--reset", "--yes").stdout
    assert f"0 of {len(lab_ids())} labs passed" in run("progress").stdout
