"""The question "what did you find?": a learner who finds something out (an IP, a word in a log)
writes it on the pod the exercise is about, as the annotation `answer`:

    kubectl annotate pod mystery answer=10.244.0.7 -n course-02

The checks below read it back and compare it with what the cluster or the pod says."""
from __future__ import annotations

from collections.abc import Callable

from graders.results import Outcome
from graders.snapshot import Snapshot

KEY = "answer"


def how_to_answer(pod: str, lesson: str) -> str:
    return (f"Write what you found on the pod: kubectl annotate pod {pod} {KEY}=WHAT-YOU-FOUND -n course-{lesson} "
            "(add --overwrite to change an answer).")


def given(snapshot: Snapshot, pod: str) -> Outcome:
    """Whether the pod carries an answer at all."""
    value = (snapshot.pod(pod)["metadata"].get("annotations") or {}).get(KEY)
    if value is not None and value.strip():
        return Outcome.passed(f"your answer: {value.strip()!r}", f"pod/{pod}")
    return Outcome.failed("no answer yet", where=f"pod/{pod}", path=f"metadata.annotations.{KEY}",
                          expected="an annotation answer=WHAT-YOU-FOUND", actual="no such annotation")


def compared(snapshot: Snapshot, pod: str, truth: str | None, *, what: str,
             same: Callable[[str, str], bool] = lambda answer, truth: answer == truth) -> Outcome:
    """The pod's answer against `truth` (None: the cluster does not know it yet, so pending).
    The truth is shown only once the answer is right: the report must not give it away."""
    answer = ((snapshot.pod(pod)["metadata"].get("annotations") or {}).get(KEY) or "").strip()
    if truth is None:
        return Outcome.pending(f"the cluster does not show {what} yet", f"pod/{pod}")
    if same(answer, truth):
        return Outcome.passed(f"{what}: {truth}", f"pod/{pod}")
    return Outcome.failed(f"{answer!r} is not {what}", where=f"pod/{pod}", path=f"metadata.annotations.{KEY}",
                          expected=what, actual=answer)
