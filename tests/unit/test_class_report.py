"""`grade report` without a cluster: a class's store written by the real Store with the rows a
batch writes (tests/recorded_class.py: the lab graders' reports on the recordings), an nbgrader
gradebook written by nbgrader's API and graders.nbgrader_course, and what the report makes of
them: the shares, the most common actual values, the CSV, the HTML and its plots."""
import base64
import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from graders import analytics, batch, class_report, cli
from graders.nbgrader_course import grade_id, write_gradebook
from graders.store import NotAStore, Store
from tests.recorded_class import (LAB1, LAB1_POD_UNREADABLE, LAB5, LAB5_REFUSED, LAB5_UNREACHED,
                                  recorded_report, write_class)


# nbgrader's own warnings as it adds a submission (SQLAlchemy 2's autoflush).
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


@pytest.fixture
def grade(capsys, monkeypatch):
    """`grade ARGS...` in this process (cwd= runs it in a folder): its exit code and output."""
    def run(*args, cwd=None):
        capsys.readouterr()
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = cli.main([str(arg) for arg in args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)
    return run


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("class")
    return write_class(root / "grade-batch.sqlite", root / "submitted")


@pytest.fixture(scope="module")
def summaries(store) -> dict[str, analytics.LabSummary]:
    return {s.lab: s for s in analytics.summarize(analytics.from_store(store))}


def stored_rows(store: Path, lab: str):
    reader = Store(store, readonly=True)
    try:
        return reader.rows(lab)
    finally:
        reader.close()


def test_a_check_failed_by_four_of_ten_shows_40_percent_and_the_value_they_set(summaries):
    lab5 = summaries["lab5"]
    assert len(lab5.detailed) == len(LAB5) == 10  # the refused and the unreached have no checks
    check = next(c for c in lab5.checks if c.check == "burstable-requests")
    assert (check.students, check.counts["failed"], check.counts["passed"]) == (10, 4, 6)
    assert check.share("failed") == 0.4
    assert check.top_actual == (("64M", 4),) and check.expected == "64Mi"


def test_every_check_counts_the_statuses_of_the_stored_reports(store, summaries):
    for lab in ("lab1", "lab5"):
        reports = [row.report for row in stored_rows(store, lab) if row.report]
        for check in summaries[lab].checks:
            statuses = Counter(c["status"] for r in reports for c in r["checks"] if c["id"] == check.check)
            assert {s: n for s, n in check.counts.items() if n} == dict(statuses), check.check
            assert check.students == len(reports)
            failed = [c for r in reports for c in r["checks"] if c["id"] == check.check and c["status"] == "failed"]
            assert sum(n for _, n in check.top_actual) == len(failed)  # at most 3 values, here all


def test_a_row_the_cluster_failed_counts_in_the_error_column(summaries):
    lab1 = summaries["lab1"]
    assert [r.student for r in lab1.detailed] == sorted([*LAB1, *LAB1_POD_UNREADABLE])
    pod_exists = next(c for c in lab1.checks if c.check == "pod-exists")
    assert pod_exists.counts["error"] == 1 and pod_exists.share("error") == 0.2
    # kim's report: every check that reads the pod is an error; serves-page waits for them
    kim = {result.student: statuses for result, statuses in lab1.grid()}["kim"]
    assert set(kim[:-1]) == {"error"} and kim[-1] == "blocked"


def test_the_heat_map_grid_is_every_students_statuses_in_the_checks_order(store, summaries):
    for lab in ("lab1", "lab5"):
        rows = {row.student: [c["status"] for c in row.report["checks"]]
                for row in stored_rows(store, lab) if row.report}
        grid = {result.student: statuses for result, statuses in summaries[lab].grid()}
        assert grid == rows


def test_who_could_not_be_graded_and_why(summaries):
    not_graded = {r.student: r for r in summaries["lab5"].not_graded}
    assert set(not_graded) == {*LAB5_REFUSED, *LAB5_UNREACHED}
    refused = not_graded["lee"]
    assert (refused.status, refused.score) == ("rejected", 0.0)
    assert refused.reason.startswith("submission refused: privileged.yaml") and "privileged" in refused.reason
    unreached = not_graded["max"]
    assert (unreached.status, unreached.score) == ("error", None) and "503" in unreached.reason
    assert [r.student for r in summaries["lab1"].not_graded] == ["kim"]


def test_the_histogram_has_a_bar_per_point_and_the_refused_apart(store, summaries):
    lab5 = summaries["lab5"]
    bins = lab5.histogram()
    assert [b.label for b in bins] == [str(n) for n in range(8)]  # lab5 is worth 7 points
    scores = Counter(row.score for row in stored_rows(store, "lab5") if row.status == "graded")
    assert {b.low: b.graded for b in bins if b.graded} == dict(scores)
    assert [(b.label, b.rejected) for b in bins if b.rejected] == [("0", 1)]
    assert sum(b.graded + b.rejected for b in bins) == len(lab5.scored) == 11


def test_fractional_scores_get_ten_bars(summaries):
    lab5 = summaries["lab5"]
    halves = [analytics.Result(r.lab, r.student, r.status, r.score - 0.5 if r.score else r.score, r.max_score,
                               r.reason, r.report, r.source) for r in lab5.results]
    bins = analytics.summarize_lab("lab5", halves).histogram()
    assert len(bins) == 10 and sum(b.graded + b.rejected for b in bins) == 11
    assert bins[-1].high == 7


def test_equal_mistakes_group_whatever_the_grading_run_named():
    # Recorded on the real node: the pod's UID, the namespace and the token volume's name are the run's.
    crash = recorded_report("lab8", "mydb-untouched")
    running = next(c for c in crash.checks if c.id == "db-running")
    key = analytics.value_key(running.actual, crash.namespace)
    assert crash.namespace in json.dumps(running.actual) and crash.namespace not in key
    assert "<namespace>" in key and "<uid>" in key
    volumes = recorded_report("lab2", "volume-only-in-web")
    shared = next(c for c in volumes.checks if c.id == "shared-volume")
    assert "kube-api-access-<id>" in analytics.value_key(shared.actual, volumes.namespace)
    assert analytics.value_key("64M") == "64M" and analytics.value_key(8080) == "8080"
    assert analytics.value_key(["NET_RAW"]) == '["NET_RAW"]' and analytics.value_key(None) == "(none)"


def test_csv_has_a_row_per_lab_and_check(store, tmp_path, grade):
    out = tmp_path / "checks.csv"
    result = grade("report", str(store), "--csv", str(out))
    assert result.returncode == 0, result.stderr
    with out.open(newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["lab", "check", "title", "students", "passed", "failed", "pending", "blocked", "error",
                        "failed_share", "pending_share", "blocked_share", "error_share", "expected",
                        "top_actual_values"]
    rows = {(row[0], row[1]): dict(zip(table[0], row)) for row in table[1:]}
    lab5_checks = [c["id"] for c in recorded_report("lab5", "solution").to_dict()["checks"]]
    lab1_checks = [c["id"] for c in recorded_report("lab1", "solution").to_dict()["checks"]]
    assert [key for key in rows] == [("lab1", c) for c in lab1_checks] + [("lab5", c) for c in lab5_checks]
    burstable = rows[("lab5", "burstable-requests")]
    assert (burstable["students"], burstable["failed"], burstable["failed_share"]) == ("10", "4", "0.4")
    assert burstable["expected"] == "64Mi"
    assert json.loads(burstable["top_actual_values"]) == [["64M", 4]]
    assert json.loads(rows[("lab5", "burstable-limit")]["top_actual_values"]) == []
    serves = rows[("lab1", "serves-page")]
    assert (serves["blocked"], serves["blocked_share"]) == ("2", "0.4")
    assert "burstable-requests   40% failed; actual: 64M ×4 (expected 64Mi)" in result.stdout


def images(page: str) -> dict[str, bytes]:
    found = re.findall(r'<img class="(\w+)" id="([\w-]+)-\1" alt="[^"]*" src="data:image/png;base64,([^"]+)">', page)
    return {f"{lab}-{kind}": base64.b64decode(data) for kind, lab, data in found}


def test_html_is_one_file_with_each_labs_plots_as_png(store, tmp_path, grade):
    from PIL import Image

    out = tmp_path / "class.html"
    result = grade("report", str(store), "--html", str(out), "--lab", "lab5")
    assert result.returncode == 0, result.stderr
    page = out.read_text()
    drawn = images(page)
    assert set(drawn) == {"lab5-histogram", "lab5-outcomes", "lab5-heatmap"}
    for name, png in drawn.items():
        picture = Image.open(io.BytesIO(png))
        assert picture.format == "PNG" and picture.width > 200 and picture.height > 150, name
    # Self-contained: nothing is fetched (no script, stylesheet or image from elsewhere).
    assert "<script" not in page and not re.search(r'(src|href)="(?!data:|#)', page)
    assert "lab1" not in re.sub(r"<img[^>]*>", "", page)  # --lab: only lab5
    # the table says it in words too
    assert "<code>64M</code> × 4 (40% of the class)" in page and "<i>expected</i> <code>64Mi</code>" in page
    for student in (*LAB5_REFUSED, *LAB5_UNREACHED):
        assert f"<tr><td>{student}</td>" in page


def test_names_are_text_in_the_html_and_the_plots(tmp_path):
    path = tmp_path / "store.sqlite"
    store = Store(path)
    odd = '<img src=x onerror=alert(1)> $x^2$'
    store.save(batch.row_of("lab5", odd, recorded_report("lab5", "burstable-memory-64M")))
    store.close()
    summaries = analytics.summarize(analytics.from_store(path))
    page = class_report.render_html(summaries, [str(path)])
    assert odd not in page and "&lt;img src=x onerror=alert(1)&gt; $x^2$" in page
    assert len(images(page)) == 3  # "$...$" is not TeX to matplotlib


def test_statuses_read_without_colour():
    letters = [class_report.STYLE[s][0] for s in analytics.STATUSES]
    hatches = [class_report.STYLE[s][2] for s in analytics.STATUSES]
    assert len(set(letters)) == len(letters) and len(set(hatches)) == len(hatches)


# --- nbgrader's gradebook --------------------------------------------------------------------

@pytest.fixture(scope="module")
def gradebook(store, tmp_path_factory) -> Path:
    """A gradebook with lab5 as `nbgrader generate_assignment` records it, a student who did not
    submit, and the store's lab5 scores written by `grade batch --gradebook`."""
    from nbgrader.api import Gradebook

    path = tmp_path_factory.mktemp("nbgrader") / "gradebook.db"
    with pytest.MonkeyPatch.context() as patch:
        # A new gradebook asks `alembic` (beside this Python) for its schema version.
        patch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        with Gradebook(f"sqlite:///{path}") as book:
            book.add_assignment("lab5")
            book.add_notebook("lab5", "lab5")
            book.add_grade_cell(grade_id("lab5"), "lab5", "lab5", max_score=7, cell_type="code")
            book.add_student("zoe")
        write_gradebook(path, "lab5", stored_rows(store, "lab5"))
    return path


def test_the_gradebook_gives_a_score_per_student_and_no_checks(store, gradebook):
    results = {r.student: r for r in analytics.from_gradebook(gradebook)}
    rows = {row.student: row for row in stored_rows(store, "lab5")}
    assert {s: r.score for s, r in results.items() if r.status == "graded"} == \
           {s: row.score for s, row in rows.items() if row.score is not None}
    assert (results["zoe"].status, results["zoe"].score) == ("missing", None)
    assert all(r.report is None and r.lab == "lab5" and r.max_score == 7 for r in results.values())
    assert results["ana"].reason == "score from the nbgrader gradebook"  # scored, as autograde leaves it
    [lab5] = analytics.summarize(list(results.values()))
    assert lab5.checks == () and len(lab5.scored) == len(rows) - len(LAB5_UNREACHED)


def test_a_store_and_a_gradebook_together(store, gradebook, tmp_path, grade):
    out, table = tmp_path / "class.html", tmp_path / "checks.csv"
    result = grade("report", str(store), "--gradebook", str(gradebook), "--html", str(out), "--csv", str(table))
    assert result.returncode == 0, result.stderr
    assert "zoe: no submission in the gradebook" in result.stdout
    page = out.read_text()
    assert set(images(page)) == {f"{lab}-{kind}" for lab in ("lab1", "lab5")
                                 for kind in ("histogram", "outcomes", "heatmap")}
    assert "<tr><td>zoe</td><td>missing</td>" in page
    with table.open(newline="") as handle:
        burstable = next(row for row in csv.DictReader(handle) if row["check"] == "burstable-requests")
    assert burstable["failed_share"] == "0.4"  # the store's reports, not the gradebook's scores


def test_a_gradebook_alone_draws_the_scores(gradebook, tmp_path, grade):
    out, table = tmp_path / "class.html", tmp_path / "checks.csv"
    result = grade("report", "--gradebook", str(gradebook), "--html", str(out), "--csv", str(table))
    assert result.returncode == 0, result.stderr
    assert set(images(out.read_text())) == {"lab5-histogram"}
    assert "per-check results need a batch store" in result.stdout
    assert table.read_text().splitlines()[1:] == []


def test_reading_changes_nothing(store, gradebook, tmp_path, grade):
    before = {path: path.read_bytes() for path in (store, gradebook)}
    assert grade("report", str(store), "--gradebook", str(gradebook)).returncode == 0
    assert {path: path.read_bytes() for path in before} == before


# --- mistakes ----------------------------------------------------------------------------------

def test_a_missing_store_is_a_usage_error_and_is_not_created(tmp_path, grade):
    missing = tmp_path / "grade-batch-lab3.sqlite"
    result = grade("report", str(missing))
    assert result.returncode == 2 and f"{missing}: no such file" in result.stderr
    assert not missing.exists()
    with pytest.raises(NotAStore):
        Store(missing, readonly=True)
    assert not missing.exists()


@pytest.mark.parametrize("content, said", [
    ("student,lab,score\n", "cannot be read as a results store of `grade batch`: file is not a database"),
    (None, "is an SQLite database but not a results store of `grade batch`"),
])
def test_a_file_that_is_not_a_store_is_a_usage_error(tmp_path, content, said, grade):
    path = tmp_path / "grades.sqlite"
    if content is None:
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE other (x)")
    else:
        path.write_text(content)
    result = grade("report", str(path))
    assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr


def test_a_store_is_not_a_gradebook(store, grade):
    result = grade("report", "--gradebook", str(store))
    assert result.returncode == 2 and "not an nbgrader gradebook" in result.stderr


def test_other_usage_errors(store, tmp_path, grade):
    unknown = grade("report", str(store), "--lab", "lab9")
    assert unknown.returncode == 2 and "no results of lab9" in unknown.stderr and "lab1, lab5" in unknown.stderr
    nothing = grade("report", cwd=tmp_path)
    assert nothing.returncode == 2 and "no store of `grade batch` here" in nothing.stderr
    unwritable = grade("report", str(store), "--html", str(tmp_path / "no" / "such" / "dir.html"))
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr


def test_a_store_here_is_found(store, tmp_path, grade):
    (tmp_path / "grade-batch-lab5.sqlite").write_bytes(store.read_bytes())
    result = grade("report", "--lab", "lab5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("lab5: Resources and QoS classes")


def test_grading_does_not_load_matplotlib():
    loaded = subprocess.run([sys.executable, "-c", "import sys, graders.cli, graders.analytics, "
                             "graders.class_report; print('matplotlib' in sys.modules)"],
                            capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"

