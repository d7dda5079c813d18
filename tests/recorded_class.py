"""A class of students for the tests of `grade report`, without a cluster: a store written by
the real Store with the rows `grade batch` writes. Graded rows are the lab graders' reports on
the recordings of tests/unit/recorded/ (graders.batch.row_of, as a batch makes them); refused
and failed rows come from graders.batch.grade_one itself (a submission that breaks a rule, a
cluster that answers 503)."""
from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from graders import batch, labs
from graders.cluster import Cluster
from graders.kubeconfig import Connection
from graders.results import LabReport
from graders.snapshot import Snapshot
from graders.store import Store
from tests.cases import REPO

RECORDED = REPO / "tests" / "unit" / "recorded"
HOSTILE = REPO / "tests" / "hostile"

# student -> the recorded case they submitted
LAB5 = {"ana": "solution", "ben": "solution", "carla": "solution",
        "dev": "burstable-memory-64M", "eve": "burstable-memory-64M", "femi": "burstable-memory-64M",
        "gus": "burstable-memory-64M", "hana": "guaranteed-requests-below-limits", "ivan": "hungry-256Gi",
        "jo": "variant-decimal-units"}
LAB5_REFUSED = {"lee": "privileged.yaml"}  # student -> the tests/hostile file they submitted
LAB5_UNREACHED = ["max"]  # the cluster answered 503 when their namespace was made
LAB1 = {"ana": "solution", "ben": "second-container", "carla": "container-named-nginx",
        "dev": "label-app-web"}
LAB1_POD_UNREADABLE = {"kim": "solution"}  # graded while reading the pod failed: an error row with a report


class Down:
    """An API server on loopback that answers every request 503 with the Status a
    kube-apiserver shutting down sends: the real Cluster meets it at the HTTP edge and, within
    its one-second deadline, gives up as it would on a real one."""

    def __enter__(self) -> Cluster:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer503)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return Cluster(Connection(context="down", server=f"http://127.0.0.1:{self.server.server_port}"),
                       timeout=1)

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Answer503(BaseHTTPRequestHandler):
    STATUS = json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                         "message": "apiserver is shutting down", "reason": "ServiceUnavailable",
                         "code": 503}).encode()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(self.STATUS)))
        self.end_headers()
        self.wfile.write(self.STATUS)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args) -> None:
        pass


def recorded_report(lab: str, case: str, *, pod_unreadable: bool = False) -> LabReport:
    record = json.loads((RECORDED / lab / f"{case}.json").read_text())
    if pod_unreadable:  # the pods are read from the cluster, which fails
        record["objects"] = [o for o in record["objects"] if o["kind"] != "Pod"]
    snapshot = Snapshot.from_record(record)
    definition = labs.get(lab)
    with Down() as down:
        if pod_unreadable:
            snapshot.cluster = down
        checks = definition.evaluate(snapshot)
    return LabReport(lab=lab, title=definition.title, namespace=snapshot.namespace, context="recorded",
                     checks=checks, simulated=snapshot.simulated, mode="isolated")


def write_class(path: Path, scratch: Path) -> Path:
    """The store of a class: lab5 (LAB5, LAB5_REFUSED, LAB5_UNREACHED) and lab1 (LAB1,
    LAB1_POD_UNREADABLE). `scratch` holds the submitted folders of the refused students."""
    store = Store(path)
    try:
        for student, case in LAB5.items():
            store.save(batch.row_of("lab5", student, recorded_report("lab5", case)))
        for student, hostile in LAB5_REFUSED.items():
            folder = scratch / student / "lab5"
            folder.mkdir(parents=True)
            shutil.copy2(HOSTILE / hostile, folder)
            with Down() as down:
                store.save(batch.grade_one(down, "lab5", student, folder, "run", 1))
        for student in LAB5_UNREACHED:
            with Down() as down:
                store.save(batch.grade_one(down, "lab5", student, REPO / "solutions" / "lab5", "run", 1))
        for student, case in LAB1.items():
            store.save(batch.row_of("lab1", student, recorded_report("lab1", case)))
        for student, case in LAB1_POD_UNREADABLE.items():
            store.save(batch.row_of("lab1", student, recorded_report("lab1", case, pod_unreadable=True)))
    finally:
        store.close()
    return path
