"""What grading produces: an outcome per check and a report per lab. Frozen values, so a report
can be rendered, stored and compared without surprises."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum

SCHEMA = 1  # version of the JSON document (README, "grade --json")


class Status(str, Enum):
    PASSED = "passed"  # the desired state holds
    FAILED = "failed"  # the learner's mistake: expected versus found, and a hint
    PENDING = "pending"  # not settled yet (a pod still starting)
    BLOCKED = "blocked"  # cannot be judged: something it depends on is missing
    ERROR = "error"  # the grader could not judge; never the learner's fault

    @property
    def word(self) -> str:
        return self.value.upper().replace("PASSED", "PASS").replace("FAILED", "FAIL")


@dataclass(frozen=True)
class Outcome:
    """What one check found. `where` names the object (pod/web), `path` the field inside it."""
    status: Status
    message: str = ""
    where: str = ""
    path: str = ""
    expected: object = None
    actual: object = None

    @classmethod
    def passed(cls, message: str = "", where: str = "") -> "Outcome":
        return cls(Status.PASSED, message, where)

    @classmethod
    def failed(cls, message: str, *, where: str = "", path: str = "", expected=None, actual=None) -> "Outcome":
        return cls(Status.FAILED, message, where, path, expected, actual)

    @classmethod
    def pending(cls, message: str, where: str = "") -> "Outcome":
        return cls(Status.PENDING, message, where)

    @classmethod
    def blocked(cls, message: str, where: str = "") -> "Outcome":
        return cls(Status.BLOCKED, message, where)

    @classmethod
    def error(cls, message: str, where: str = "") -> "Outcome":
        return cls(Status.ERROR, message, where)


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    points: float
    max_points: float
    message: str = ""
    where: str = ""
    path: str = ""
    expected: object = None
    actual: object = None
    hint: str = ""
    # A behaviour check where the cluster runs no containers: judged from the manifest instead.
    from_manifest: bool = False

    def to_dict(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data


@dataclass(frozen=True)
class LabReport:
    lab: str
    title: str
    namespace: str
    context: str
    checks: tuple[CheckResult, ...]
    simulated: bool = False  # the cluster's nodes and containers are simulated (KWOK)
    mode: str = "self-check"  # "self-check" on a learner's own cluster, "isolated" in batch grading
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def score(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_score(self) -> float:
        return sum(check.max_points for check in self.checks)

    @property
    def passed(self) -> bool:
        return all(check.status is Status.PASSED for check in self.checks)

    @property
    def could_not_grade(self) -> bool:
        return any(check.status is Status.ERROR for check in self.checks)

    def count(self, status: Status) -> int:
        return sum(check.status is status for check in self.checks)

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA, "lab": self.lab, "title": self.title, "namespace": self.namespace,
            "context": self.context, "simulated": self.simulated, "mode": self.mode,
            "score": self.score, "max_score": self.max_score,
            "checks": [check.to_dict() for check in self.checks], "notes": list(self.notes),
        }

    def __str__(self) -> str:
        from graders.report import render_text
        return render_text(self, color=False)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's text/plain: the text report
        printer.text(str(self))

    def _repr_html_(self) -> str:
        from graders.report import render_html
        return render_html(self)
