"""The labs as an nbgrader course: the course directory an instructor starts from, and batch
results written into nbgrader's gradebook."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from graders import labs
from graders.store import Row
from graders.submission import manifest_files

REPO = Path(__file__).resolve().parent.parent
COURSE_CONFIG = '''\
# nbgrader configuration of the Kubernetes pods course (made by `grade nbgrader-course`).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "k8s-pods"
# The grading cell replays a submission on the cluster and waits for its pods.
c.Execute.timeout = 300
# The manifests are the students' work: autograde must grade them as submitted, not put the
# starter versions back (nor add starter files a student removed).
c.Autograde.exclude_overwriting = {exclude!r}
'''
GRADED_COPY_NOTE = """\
> **This is the graded copy of the lab.** Its commands are shown as text: run them in a terminal
> (File > New > Terminal) against your cluster. Edit the manifests next to this notebook; they
> are what gets graded. The last cell grades your work: run it to see your report.
"""


def grade_id(lab: str) -> str:
    return f"{lab}-score"


def grade_cell_source(lab: str) -> str:
    return f'from graders.notebook import grade_cell\ngrade_cell("{lab}")'


def assignment_notebook(lab: str) -> dict:
    """The lab notebook as an nbgrader assignment: its text, its commands as text (they must not
    run on the instructor's cluster when nbgrader executes the notebook), and one locked,
    autograded cell worth the lab's points."""
    definition = labs.get(lab)
    source = REPO / "labs" / lab / f"{lab}.ipynb"
    if source.exists():
        original = json.loads(source.read_text())
        cells = [_as_text(cell) for cell in original["cells"] if not _is_grading(cell, lab)]
        metadata = original.get("metadata", {})
    else:  # a lab without a notebook yet: its README is the text
        cells = [_markdown((REPO / "labs" / lab / "README.md").read_text())]
        metadata = {}
    cells.insert(0, _markdown(GRADED_COPY_NOTE))
    cells.append(_markdown(f"## Grade\n\nWorth {definition.max_score:g} points."))
    cells.append({
        "cell_type": "code", "execution_count": None, "outputs": [], "source": grade_cell_source(lab),
        "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True, "task": False,
                                  "points": definition.max_score, "grade_id": grade_id(lab),
                                  "schema_version": 3}}})
    metadata.setdefault("kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"})
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def _is_grading(cell: dict, lab: str) -> bool:
    text = "".join(cell.get("source", ""))
    return cell["cell_type"] == "code" and ("grade(" in text or "grade_cell(" in text) and lab in text


def _as_text(cell: dict) -> dict:
    if cell["cell_type"] != "code":
        return {k: v for k, v in cell.items() if k not in ("outputs", "execution_count")}
    text = "".join(cell.get("source", "")).strip()
    if not text:
        return _markdown("")
    shell = "\n".join(line[1:] if line.startswith("!") else line for line in text.splitlines())
    language = "bash" if text.startswith(("!", "%%bash")) else "python"
    shell = shell.removeprefix("%%bash\n")
    return _markdown(f"```{language}\n{shell}\n```")


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def make_course(directory: Path, lab_ids: list[str] | None = None) -> list[Path]:
    """Write nbgrader_config.py and source/<lab>/ (the assignment notebook and the starter
    manifests) for each lab; returns the notebooks written. Existing files are replaced."""
    directory.mkdir(parents=True, exist_ok=True)
    chosen = lab_ids or labs.lab_ids()
    exclude = {lab: [p.name for p in manifest_files(REPO / "labs" / lab)] for lab in chosen}
    (directory / "nbgrader_config.py").write_text(COURSE_CONFIG.format(exclude=exclude))
    written = []
    for lab in chosen:
        target = directory / "source" / lab
        target.mkdir(parents=True, exist_ok=True)
        for manifest in manifest_files(REPO / "labs" / lab):
            shutil.copy2(manifest, target / manifest.name)
        notebook = target / f"{lab}.ipynb"
        notebook.write_text(json.dumps(assignment_notebook(lab), indent=1) + "\n")
        written.append(notebook)
    return written


def write_gradebook(path: Path, lab: str, rows: list[Row]) -> int:
    """Put graded rows into an nbgrader gradebook as the autograded score of the lab's grading
    cell, so `nbgrader export` and formgrader show them. The assignment must exist there
    (`nbgrader generate_assignment <lab>`). Returns the number of rows written."""
    from nbgrader.api import Gradebook, MissingEntry

    written = 0
    with Gradebook(f"sqlite:///{path}") as gradebook:
        try:
            gradebook.find_assignment(lab)
        except MissingEntry:
            raise ValueError(f"the gradebook {path} has no assignment {lab}: run "
                             f"`nbgrader generate_assignment {lab}` in the course directory first") from None
        for row in rows:
            if row.score is None:
                continue  # not graded (an error): nothing to record
            gradebook.update_or_create_student(row.student)
            try:
                gradebook.find_submission(lab, row.student)
            except MissingEntry:
                gradebook.add_submission(lab, row.student)
            grade = gradebook.find_grade(grade_id(lab), lab, lab, row.student)
            grade.auto_score = row.score
            grade.needs_manual_grade = False  # as nbgrader autograde leaves a scored cell
            gradebook.db.commit()
            written += 1
    return written
