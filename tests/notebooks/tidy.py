"""Keep the course's notebooks in their committed form.

    python -m tests.notebooks.tidy                  rewrite every notebook in its committed form
    python -m tests.notebooks.tidy --check          list the notebooks that are not (exit 1)
    python -m tests.notebooks.tidy --execute PATH   run PATH (against the course cluster) and
                                                    record the outputs of its checked cells

The notebooks themselves are the source (edit them in JupyterLab). Their committed form:

- no outputs and no execution counts, except in the cells tagged `nbval-check-output`, whose
  output nbval compares: those keep the output recorded by --execute, numbered 1, 2, ...;
- cell metadata reduced to `tags`, notebook metadata to the kernel and language;
- a generated navigation cell at the end (tag `nav`): previous and next lesson, the labs that
  follow a lesson, the lesson that teaches a lab. It is written from the tables below.

The list of notebooks in course/README.md (between its two `notebooks` markers) is generated too.

tests/notebooks/test_committed.py runs --check in CI.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
CHECKED = "nbval-check-output"
NAV = "nav"
METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
# The labs to do after each lesson (by the lesson's number).
LABS_AFTER = {"02": ["lab1", "lab9"], "04": ["lab2", "lab3"], "05": ["lab4"], "06": ["lab5", "lab6"],
              "08": ["lab7"], "09": ["lab8", "lab10"]}


def lessons() -> list[Path]:
    return sorted((REPO / "course").glob("[0-9][0-9]-*.ipynb"))


def labs() -> list[Path]:
    found = (REPO / "labs").glob("lab*/lab*.ipynb")
    return sorted((p for p in found if p.stem == p.parent.name), key=lambda p: int(p.stem[3:]))


def notebooks() -> list[Path]:
    return lessons() + labs()


def title(path: Path) -> str:
    """The notebook's first heading."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def link(path: Path, start: Path) -> str:
    return f"[{title(path)}]({Path(os.path.relpath(path, start.parent)).as_posix()})"


def navigation(path: Path) -> str:
    lines = []
    all_lessons, all_labs = lessons(), labs()
    lab_by_id = {p.stem: p for p in all_labs}
    if path in all_lessons:
        index = all_lessons.index(path)
        number = path.name[:2]
        if index > 0:
            lines.append(f"Previous: {link(all_lessons[index - 1], path)}")
        follow = [lab_by_id[lab] for lab in LABS_AFTER.get(number, []) if lab in lab_by_id]
        if follow:
            lines.append("Labs to do now: " + ", ".join(link(p, path) for p in follow))
        if index + 1 < len(all_lessons):
            lines.append(f"Next: {link(all_lessons[index + 1], path)}")
    else:
        taught = [lesson for lesson in all_lessons
                  if path.stem in LABS_AFTER.get(lesson.name[:2], [])]
        if taught:
            lines.append("Taught in: " + ", ".join(link(p, path) for p in taught))
        index = all_labs.index(path)
        if index > 0:
            lines.append(f"Previous lab: {link(all_labs[index - 1], path)}")
        if index + 1 < len(all_labs):
            lines.append(f"Next lab: {link(all_labs[index + 1], path)}")
    return "---\n" + "  \n".join(lines)


def coalesce_streams(outputs: list) -> list:
    """Join consecutive chunks of one stream, as nbval does before comparing."""
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            joined.append(output)
    return joined


def committed_form(nb: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.metadata = nbformat.from_dict(METADATA)
    cells = [cell for cell in nb.cells if NAV not in cell.get("metadata", {}).get("tags", [])]
    checked = 0
    for cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        cell.metadata = nbformat.from_dict({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            cell.execution_count = None
            if CHECKED in tags:
                # nbval compares only cells that have run: number them 1, 2, ... in order.
                checked += 1
                cell.execution_count = checked
                cell.outputs = coalesce_streams(cell.outputs)
                for output in cell.outputs:
                    if "execution_count" in output:
                        output.execution_count = checked
            else:
                cell.outputs = []
    nav = nbformat.v4.new_markdown_cell(navigation(path))
    nav.id = "navigation"
    nav.metadata = nbformat.from_dict({"tags": [NAV]})
    nb.cells = cells + [nav]
    nbformat.validate(nb)
    return nb


def render(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return nbformat.writes(committed_form(nb, path)) + "\n"


def execute(path: Path) -> None:
    """Run the notebook as the tests do and keep the outputs of its checked cells."""
    from nbclient import NotebookClient

    from tests.notebooks import kernel

    nb = nbformat.read(path, as_version=4)
    env_before = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="course-ipython-") as directory:
        kernel.apply(Path(directory))
        try:
            NotebookClient(nb, timeout=300, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            os.environ.clear()
            os.environ.update(env_before)
    path.write_text(nbformat.writes(committed_form(nb, path)) + "\n")


README = REPO / "course" / "README.md"
BEGIN = "<!-- notebooks: generated by tests/notebooks/tidy.py -->"
END = "<!-- end of notebooks -->"


def minutes(path: Path) -> str:
    """How long the lesson says it takes ("About 40 minutes" in its first cell), or "?"."""
    found = re.search(r"About\s+(\d+)\s+minutes", nbformat.read(path, as_version=4).cells[0].source)
    return f"{found[1]} min" if found else "?"


def readme() -> str:
    """course/README.md with its list of lessons, their exercises and labs brought up to date."""
    from graders import exercises

    text = README.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    lines = ["", "| lesson | time | exercises (checked in the notebook) | then do |", "|---|---|---|---|"]
    lab_by_id = {p.stem: p for p in labs()}
    with_exercises = exercises.lessons()
    for lesson in lessons():
        number = lesson.name[:2]
        follow = [lab_by_id[lab] for lab in LABS_AFTER.get(number, []) if lab in lab_by_id]
        then = ", ".join(link(p, README) for p in follow)
        tasks = exercises.of_lesson(number) if number in with_exercises else []
        listed = ", ".join(f"`{e.id}`" for e in tasks)
        lines.append(f"| {link(lesson, README)} | {minutes(lesson)} | {listed} | {then} |")
    return text[:start] + "\n".join(lines) + "\n\n" + text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only list the notebooks to tidy")
    parser.add_argument("--execute", nargs="+", type=Path, metavar="PATH",
                        help="run these notebooks and record their checked outputs")
    args = parser.parse_args(argv)
    if args.execute:
        for path in args.execute:
            execute(path.resolve())
            print(f"recorded {path}")
        return 0
    untidy = []
    for path in notebooks():
        text = render(path)
        if path.read_text() != text:
            untidy.append(path)
            if not args.check:
                path.write_text(text)
    if README.read_text() != readme():
        untidy.append(README)
        if not args.check:
            README.write_text(readme())
    for path in untidy:
        rel = path.relative_to(REPO)
        print(f"{rel}: not in committed form" if args.check else f"tidied {rel}")
    if args.check and untidy:
        print("Run: python -m tests.notebooks.tidy", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
