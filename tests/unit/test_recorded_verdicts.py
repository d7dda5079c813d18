"""The lab graders on objects recorded from the real API server (tests/unit/record.py): the same
verdicts as the cluster tests, without a cluster."""
import json
from pathlib import Path

import pytest

from graders import labs
from graders.results import LabReport
from graders.snapshot import Snapshot
from tests.cases import all_cases
from tests.verdicts import assert_verdict

RECORDED = Path(__file__).parent / "recorded"


@pytest.mark.parametrize("case", all_cases(), ids=lambda case: case.id)
def test_recorded_verdict(case):
    path = RECORDED / case.lab / f"{case.name}.json"
    assert path.exists(), f"no recording for {case.id}: run python -m tests.unit.record {case.lab}"
    snapshot = Snapshot.from_record(json.loads(path.read_text()))
    lab = labs.get(case.lab)
    report = LabReport(lab=lab.id, title=lab.title, namespace=snapshot.namespace, context="recorded",
                       checks=lab.evaluate(snapshot), simulated=snapshot.simulated)
    assert_verdict(report, case)


def quota_in_use(record: dict, **spec):
    """lab6's quota-in-use on the recorded solution, its quota's status saying 0 pods."""
    for entry in record["objects"]:
        if entry["kind"] == "ResourceQuota":
            entry["object"]["status"]["used"]["pods"] = "0"
            entry["object"]["spec"].update(spec)
    checks = labs.get("lab6").evaluate(Snapshot.from_record(record))
    return next(check for check in checks if check.id == "quota-in-use")


def test_a_quota_that_has_not_counted_the_running_pod_yet_passes_unless_it_is_scoped():
    # Seen in a batch: the pod admitted as the quota was taken in stays uncounted until the quota
    # controller's next full recount, minutes later. An unscoped quota will count it.
    path = RECORDED / "lab6" / "solution.json"
    stale = quota_in_use(json.loads(path.read_text()))
    assert stale.status.value == "passed" and "has not recounted" in stale.message
    scoped = quota_in_use(json.loads(path.read_text()), scopes=["BestEffort"])
    assert scoped.status.value == "pending"
