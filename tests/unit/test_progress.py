"""A learner's progress store (graders/progress_store.py): reports graded from objects recorded on
the real API server are recorded, read back as states, reset, and survive a killed process."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from graders import api, labs, progress_store
from graders.results import LabReport
from graders.snapshot import Snapshot

RECORDED = Path(__file__).parent / "recorded"
REPO = Path(__file__).resolve().parents[2]


def report(lab: str, case: str) -> LabReport:
    """The report of a recorded case, as `grade` would give it."""
    snapshot = Snapshot.from_record(json.loads((RECORDED / lab / f"{case}.json").read_text()))
    definition = labs.get(lab)
    return LabReport(lab=lab, title=definition.title, namespace=lab, context="recorded",
                     checks=definition.evaluate(snapshot), simulated=snapshot.simulated)


def states(path: Path) -> dict[str, tuple]:
    return {item.id: (item.state, item.score, item.best, item.attempts) for item in progress_store.read(path).items}


def test_nothing_recorded_is_every_lab_not_started(tmp_path):
    progress = progress_store.read(tmp_path / "progress.sqlite")
    assert [item.id for item in progress.items] == labs.lab_ids()
    assert {item.state for item in progress.items} == {"not started"}
    assert progress.next.id == "lab1" and "start lab1" in progress.to_text()


def test_grades_make_a_lab_in_progress_then_passed_and_passed_stays(tmp_path):
    path = tmp_path / "progress.sqlite"
    mistake = report("lab6", "memory-1Gi")
    progress_store.record(mistake, path)
    assert states(path)["lab6"] == ("in progress", mistake.score, mistake.score, 1)
    todo = progress_store.read(path).items[5].todo()
    assert "quota-hard (failed)" in todo and "grade lab6" in todo

    progress_store.record(report("lab6", "solution"), path)
    progress_store.record(mistake, path)  # started again: the last score drops, passed stays
    state, last, best, attempts = states(path)["lab6"]
    assert (state, last, best, attempts) == ("passed", mistake.score, labs.get("lab6").max_score, 3)
    assert states(path)["lab1"][0] == "not started"


def test_the_table_shows_every_lab_and_the_next_thing_to_do(tmp_path):
    path = tmp_path / "progress.sqlite"
    progress_store.record(report("lab1", "solution"), path)
    progress_store.record(report("lab2", "logger-tails-other-file"), path)
    progress = progress_store.read(path)
    text = progress.to_text()
    assert "lab1   passed" in text and "lab2   in progress" in text and "lab8   not started" in text
    assert f"1 of {len(labs.lab_ids())} labs passed." in text and "Next: finish lab2:" in text
    page = progress._repr_html_()
    # a header and a row per lab, then a header and a row per lesson exercise
    assert page.count("<tr>") == 1 + len(progress.items) + 1 + len(progress.exercises) and "Next:" in page


def test_reset_forgets_everything(tmp_path):
    path = tmp_path / "progress.sqlite"
    progress_store.record(report("lab1", "solution"), path)
    assert progress_store.reset(path) is True
    assert not list(tmp_path.iterdir())
    assert states(path)["lab1"][0] == "not started"
    assert progress_store.reset(path) is False


def test_a_killed_process_loses_no_recorded_grade_and_writes_no_half(tmp_path):
    """A child records grades as fast as it can and says so after each; killed with SIGKILL,
    every grade it reported is in the store, each once, and the store reads cleanly."""
    path = tmp_path / "progress.sqlite"
    child = subprocess.Popen(
        [sys.executable, "-c", f"""
import sys
sys.path.insert(0, {str(REPO)!r})
from pathlib import Path
from tests.unit.test_progress import report
from graders import progress_store
r = report("lab1", "solution")
for n in range(100000):
    progress_store.record(r, Path({str(path)!r}))
    print(n + 1, flush=True)
"""], stdout=subprocess.PIPE, text=True, cwd=REPO)
    reported = 0
    started = time.monotonic()
    while reported < 30 and time.monotonic() - started < 60:
        reported = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert reported >= 30
    _, _, _, attempts = states(path)["lab1"]
    assert reported <= attempts <= reported + 1  # the one being written when killed: whole or absent


def test_a_store_that_cannot_be_written_leaves_the_grade_and_says_why(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("COURSE_DATA", str(blocker))
    graded = report("lab1", "solution")
    recorded = api._recorded(graded)
    assert recorded.score == graded.score and recorded.checks == graded.checks
    assert "could not be recorded" in recorded.notes[-1] and "COURSE_DATA" in recorded.notes[-1]


def test_the_store_follows_course_data_else_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "mine"))
    assert progress_store.store_path() == tmp_path / "mine" / "progress.sqlite"
    monkeypatch.delenv("COURSE_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert progress_store.store_path() == tmp_path / "xdg" / "k8s-pods-course" / "progress.sqlite"
