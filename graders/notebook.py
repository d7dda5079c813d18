"""Grading from a notebook: the grading cell of a lab notebook, which nbgrader also runs."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

from graders.api import grade
from graders.cluster import Cluster
from graders.replay import replay
from graders.submission import Rejected


def grade_cell(lab: str, namespace: str | None = None, wait: float = 60) -> float:  # as grade batch
    """Show the lab's report and return the points earned, as a plain number (nbgrader scores
    an autograded cell by its last value: a report object would give full marks).

    Under `nbgrader autograde` the manifests next to the notebook (the submitted ones) are
    replayed in a namespace of their own; otherwise the live namespace of the learner's
    cluster is graded, as `grade labN` does. Nothing is written to stderr (nbgrader scores such
    a cell 0)."""
    from IPython.display import HTML, display

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if os.environ.get("NBGRADER_EXECUTION") == "autograde":
            try:
                report = replay(Cluster.connect(), lab, Path.cwd(), deadline=wait, run="nbgrader")
            except Rejected as refused:
                display(HTML(f"<p><b>{lab}: the submission could not be graded:</b> {refused}</p>"))
                return 0.0
        else:
            report = grade(lab, namespace, wait=wait)
    display(report)
    return float(report.score)
