"""Graders of the Kubernetes pods course: inspect a cluster's live objects and explain every check.

    >>> import graders
    >>> graders.grade("lab1")          # a LabReport; displays itself as HTML in JupyterLab
    >>> graders.grade("02-pod-ip")     # a lesson's exercise, graded the same way
    >>> graders.answer("02-pod-ip")    # its worked answer, once you have checked it
    >>> graders.progress()             # every lab and exercise: state, last score, what to do next
"""
from graders.api import grade
from graders.results import CheckResult, LabReport, Status

__all__ = ["grade", "answer", "progress", "LabReport", "CheckResult", "Status"]


def answer(exercise: str):
    """The worked answer of a lesson exercise (Markdown in JupyterLab), once you have checked the
    exercise at least once; before that, a note saying so."""
    from graders import exercises

    try:
        return exercises.answer(exercise)
    except exercises.NotTried as closed:
        return exercises.WorkedAnswer(f"*{closed}*")


def progress(*, live: bool = False, context: str | None = None):
    """Your progress on this machine: every lab and lesson exercise with its state, last score and when it was last
    graded, and the next thing to do (a table in JupyterLab). `live=True` first grades every lab
    whose namespace exists on the cluster now."""
    from graders import progress_store

    if live:
        progress_store.grade_live(context)
    return progress_store.read()
