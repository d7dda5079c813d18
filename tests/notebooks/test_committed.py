"""The notebooks as committed: no outputs but the checked ones, generated navigation up to date,
and the conventions every notebook follows (needs stated at the top, its own namespace, cleaned
up at the bottom). nbval itself runs the notebooks (course/ and labs/ are pytest testpaths)."""
from __future__ import annotations

import re

import nbformat
import pytest

from tests.notebooks import tidy

LESSONS = tidy.lessons()
LABS = tidy.labs()
NOTEBOOKS = LESSONS + LABS


def rel(path) -> str:
    return str(path.relative_to(tidy.REPO))


def code_cells(path) -> list:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_the_course_has_lessons_00_to_09_and_a_notebook_per_lab():
    assert [p.name[:2] for p in LESSONS] == [f"{n:02d}" for n in range(10)], LESSONS
    assert [p.stem for p in LABS] == [f"lab{n}" for n in range(1, 11)], LABS


def test_notebooks_are_in_committed_form():
    """Outputs cleared except checked cells, metadata reduced, navigation and the list in
    course/README.md current (tidy.py)."""
    untidy = [rel(p) for p in NOTEBOOKS if p.read_text() != tidy.render(p)]
    if tidy.README.read_text() != tidy.readme():
        untidy.append(rel(tidy.README))
    assert not untidy, f"not in committed form: {untidy}; run python -m tests.notebooks.tidy"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_only_checked_cells_keep_outputs(path):
    for cell in code_cells(path):
        tags = cell.metadata.get("tags", [])
        assert "nbval-skip" not in tags, "no cell may be skipped"
        if tidy.CHECKED in tags:
            assert cell.outputs, f"checked cell without a recorded output:\n{cell.source}"
        else:
            assert not cell.outputs and cell.execution_count is None, cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_states_its_needs_and_cleans_up_its_namespace(path):
    cells = nbformat.read(path, as_version=4).cells
    intro = cells[0].source
    assert cells[0].cell_type == "markdown" and "needs:" in intro, "the first cell says what it needs"
    if path in LESSONS:
        assert tidy.minutes(path) != "?", "a lesson says how long it takes: About N minutes"
    namespace = f"course-{path.name[:2]}" if path in LESSONS else path.stem
    assert f"`{namespace}`" in intro, f"the first cell names its namespace {namespace}"
    code = [c.source for c in code_cells(path) if c.source.strip()]
    assert f"kubectl wait --for=create serviceaccount/default -n {namespace}" in "\n".join(code), \
        "waits for the new namespace's default ServiceAccount before creating pods"
    deletes = re.search(rf"kubectl delete namespace ([a-z0-9 -]* )?{namespace}\b.* --wait=true", code[-1])
    assert deletes, "the last code cell deletes the notebook's namespace(s), waiting until gone"
    created = set(re.findall(r"kubectl create namespace ([a-z0-9-]+)", "\n".join(code)))
    for name in created:
        assert re.search(rf"kubectl delete namespace [a-z0-9 -]*\b{name}\b", code[-1]), \
            f"namespace {name} is created but not deleted in the last cell"
    for source in code:
        for used in re.findall(r"(?<=\s)(?:-n|--namespace)[ =]([a-z][a-z0-9-]*)", source):
            assert used.startswith(namespace), f"uses namespace {used}, not its own:\n{source}"


@pytest.mark.parametrize("path", LABS, ids=rel)
def test_lab_notebook_grades_with_the_grader_and_shows_the_report(path):
    sources = [c.source for c in code_cells(path)]
    grading = [s for s in sources if "from graders import grade" in s]
    assert len(grading) == 1, "one grading cell"
    last_line = grading[0].strip().splitlines()[-1]
    assert re.fullmatch(rf'grade\("{path.stem}"(, wait=\d+)?\)', last_line), \
        f"the report is the cell's last expression (it renders itself): {last_line!r}"
    starters = sorted(p.name for p in path.parent.glob("*.yaml"))
    assert starters, "the starter files are beside the notebook"
    applied = "\n".join(sources)
    for starter in starters:
        assert f"-f {starter}" in applied, f"the notebook applies {starter}"
    solutions = tidy.REPO / "solutions" / path.stem
    assert "solutions/" not in applied, "the lab notebook never applies the solution"
    assert solutions.is_dir()
