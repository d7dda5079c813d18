"""The lessons' exercises: short tasks a learner does in a lesson's namespace (course-02 ...) and
checks from the notebook, graded by the labs' engine with the labs' report. One module per
lesson (lesson02.py ...), each with a list `exercises`.

Exercises count in the learner's own progress, never in a class's grades: batch grading and
nbgrader grade labs only. Each has a worked answer, shown once the learner has tried
(`grade answer 02-pod-ip`, or graders.answer in a notebook)."""
from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass

from graders.checks import Lab
from graders.labs import UnknownLab
from graders.results import CheckResult, Outcome
from graders.snapshot import Snapshot

ID = re.compile(r"(\d\d)-[a-z0-9]+(-[a-z0-9]+)*")
NEEDS_CONTAINERS = ("this exercise asks what a running container does, and the simulated cluster runs none: "
                    "do it on the real node (make cluster PROVIDER=node, as root on Linux) or on kind")


class Exercise(Lab):
    """A small lab of one lesson. `solution` is the shell script of the worked answer, written
    with $NS for the namespace (the tests run it); `explanation` says why it works; `setup` names
    the manifests under course/exercises/ that the lesson applies before the task."""

    def __init__(self, id: str, title: str, *, explanation: str, solution: str, setup: tuple[str, ...] = (),
                 needs_containers: bool = False, kinds: tuple[str, ...] = ("Pod",)):
        lesson = ID.fullmatch(id)
        if not lesson:
            raise ValueError(f"exercise id {id!r} is not NN-words (the lesson's number, then a name)")
        super().__init__(id, title, kinds=kinds, namespace=f"course-{lesson[1]}")
        self.lesson = lesson[1]
        self.explanation = explanation.strip()
        self.solution = solution.strip()
        self.setup = setup
        self.needs_containers = needs_containers

    def evaluate(self, snapshot: Snapshot) -> tuple[CheckResult, ...]:
        if self.needs_containers and snapshot.simulated:
            outcome = Outcome.blocked(NEEDS_CONTAINERS)
            return tuple(CheckResult(id=c.id, title=c.title, status=outcome.status, points=0,
                                     max_points=c.points, message=outcome.message) for c in self.checks)
        return super().evaluate(snapshot)

    def worked_answer(self, namespace: str | None = None) -> str:
        """The explanation and the commands, in Markdown, for `namespace` (default: the lesson's)."""
        commands = self.solution.replace("$NS", namespace or self.namespace)
        return f"{self.explanation}\n\n```bash\n{commands}\n```\n"


class UnknownExercise(UnknownLab):
    def __init__(self, name: str, known: list[str]):
        ValueError.__init__(self, f"unknown exercise {name!r}; the exercises are: {', '.join(known)}")
        self.name, self.known = name, known


def is_exercise_id(name: str) -> bool:
    return ID.fullmatch(name) is not None


def lessons() -> list[str]:
    """The lessons that have exercises: 00, 02, ... (modules listed directly, as graders.labs does)."""
    found = [name[6:8] for folder in __path__ for name in os.listdir(folder)
             if re.fullmatch(r"lesson\d\d\.py", name)]
    return sorted(set(found))


def of_lesson(lesson: str) -> list[Exercise]:
    return list(importlib.import_module(f"{__name__}.lesson{lesson}").exercises)


def all_exercises() -> list[Exercise]:
    """Every exercise, in course order."""
    return [exercise for lesson in lessons() for exercise in of_lesson(lesson)]


def get(name: str) -> Exercise:
    match = ID.fullmatch(name)
    candidates = of_lesson(match[1]) if match and match[1] in lessons() else all_exercises()
    found = next((exercise for exercise in candidates if exercise.id == name), None)
    if found is None:
        raise UnknownExercise(name, [exercise.id for exercise in candidates])
    return found


class NotTried(Exception):
    """The worked answer stays closed until the learner has checked the exercise once."""


@dataclass(frozen=True)
class WorkedAnswer:
    """Markdown text, shown as such in JupyterLab and as plain text in a terminal."""
    text: str

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return self.text


def answer(name: str, store=None) -> WorkedAnswer:
    """The worked answer of exercise `name`, once the learner's progress (store: a path, default
    the learner's) holds a grade of it. Raises UnknownExercise, and NotTried before that."""
    from graders import progress_store

    exercise = get(name)
    if not progress_store.tried(exercise.id, store):
        raise NotTried(f"Try {exercise.id} first: check it once (`grade {exercise.id}`, or its check cell in "
                       f"lesson {exercise.lesson}). Its worked answer opens after that, whatever the score.")
    return WorkedAnswer(f"**{exercise.id} — {exercise.title}**\n\n{exercise.worked_answer()}")
