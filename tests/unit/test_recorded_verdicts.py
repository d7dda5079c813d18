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
