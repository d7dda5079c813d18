"""The lab cases shared by the cluster tests, the recorder and the unit tests: for every lab,
its solution (must get full marks) and the files of tests/cases/labN/ - each named mistake of
the contract and each equivalent answer ("variant-"), whose first line lists the checks it
must fail (`# fails: a, b`, empty for none). A header line `# fails where containers run: a, b`
gives the verdict of a cluster whose containers run (the real node, kind) where it differs from
the simulated cluster's, because the fault shows only once a process runs (a command that
exits, a user the image cannot run as). A header line `# batch rejects: TEXT` marks a case that
batch grading refuses before it reaches the cluster (Pod Security baseline), with TEXT in its
reason.

tests/cases/exercises/<exercise>/ holds other answers to lesson exercises, each saying
`# full marks: yes` or `no` (tests/cluster/test_exercises.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from graders.labs import lab_ids

REPO = Path(__file__).resolve().parent.parent
CASES_DIR = REPO / "tests" / "cases"


@dataclass(frozen=True)
class Case:
    lab: str
    name: str
    manifests: Path  # a file, or a folder of files
    fails: frozenset[str]
    batch_rejects: str | None = None  # batch grading refuses it, saying this
    fails_where_containers_run: frozenset[str] | None = None  # when it differs from `fails`

    def expected_failures(self, simulated: bool) -> frozenset[str]:
        """The checks this case fails on the simulated cluster, or on one whose containers run."""
        if simulated or self.fails_where_containers_run is None:
            return self.fails
        return self.fails_where_containers_run

    @property
    def id(self) -> str:
        return f"{self.lab}-{self.name}"


def expected_failures(path: Path) -> frozenset[str]:
    first = path.read_text().splitlines()[0]
    if not first.startswith("# fails:"):
        raise ValueError(f"{path}: the first line must be '# fails: check-id, ...'")
    return frozenset(check.strip() for check in first.removeprefix("# fails:").split(",") if check.strip())


def _check_ids(text: str) -> frozenset[str]:
    return frozenset(check.strip() for check in text.split(",") if check.strip())


def failures_where_containers_run(path: Path) -> frozenset[str] | None:
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            return None
        if line.startswith("# fails where containers run:"):
            return _check_ids(line.removeprefix("# fails where containers run:"))
    return None


def batch_rejection(path: Path) -> str | None:
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            return None
        if line.startswith("# batch rejects:"):
            return line.removeprefix("# batch rejects:").strip()
    return None


def all_cases() -> list[Case]:
    cases = []
    for lab in lab_ids():
        cases.append(Case(lab, "solution", REPO / "solutions" / lab, frozenset()))
        for path in sorted((CASES_DIR / lab).glob("*.yaml")):
            cases.append(Case(lab, path.stem, path, expected_failures(path), batch_rejection(path),
                              failures_where_containers_run(path)))
    return cases


def defines_objects(folder: Path) -> bool:
    """Whether a folder's manifests make any object (lab10's starter holds comments only)."""
    return any(d for p in sorted(folder.glob("*.y*ml")) for d in yaml.safe_load_all(p.read_text()))
