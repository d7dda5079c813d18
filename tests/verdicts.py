"""The one assertion shared by cluster and unit tests: a report matches a case."""
from graders import labs
from graders.results import LabReport, Status
from tests.cases import Case


def assert_verdict(report: LabReport, case: Case) -> None:
    """The report fails exactly the checks the case lists for this kind of cluster."""
    fails = case.expected_failures(report.simulated)
    statuses = {check.id: check.status for check in report.checks}
    unknown = fails - statuses.keys()
    assert not unknown, f"the case names checks {report.lab} does not have: {sorted(unknown)}"
    failed = {check for check, status in statuses.items() if status is Status.FAILED}
    assert failed == fails, str(report)
    others = [status for check, status in statuses.items() if check not in fails]
    assert all(status in (Status.PASSED, Status.BLOCKED) for status in others), str(report)
    if not fails:
        assert report.score == report.max_score, str(report)
    behaviour = {check.id for check in labs.get(report.lab).checks if check.behaviour}
    for check in report.checks:  # judged from the manifest exactly where no container runs, and said so
        from_manifest = report.simulated and check.id in behaviour and check.status is Status.PASSED
        assert check.from_manifest == from_manifest, str(report)
        assert ("judged from the manifest" in check.message) == from_manifest, str(report)
        if check.status is Status.FAILED and check.id in behaviour:  # what the pod answered or logged
            assert check.actual not in (None, ""), str(report)
