"""Every lesson exercise against the real API server, as the labs are tested: the lesson's own
setup untouched does not get full marks, and the exercise's worked answer (its `solution`, run
as a learner would run it) does. Where no container runs, an exercise that asks what a running
container does is blocked, and says why, rather than judged.

The exercises run side by side, each in a namespace of its own (its solution is written with $NS).
Other ways learners answer (tests/cases/exercises/<exercise>/*.yaml, each saying whether it
earns full marks, as a real cluster has it) get the same verdict on either cluster."""
from __future__ import annotations

import os
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import yaml

from graders import exercises, grade
from graders.cluster import Cluster
from graders.exercises import NEEDS_CONTAINERS, Exercise
from graders.results import LabReport, Status
from tests.cases import CASES_DIR, REPO
from tests.namespaces import own_namespace
from tests.waiting import watch_until

EXERCISES = exercises.all_exercises()
SETUP = REPO / "course" / "exercises"
SETTLE_SECONDS = 60
SIDE_BY_SIDE = 8
OTHER_ANSWERS = sorted((CASES_DIR / "exercises").glob("*/*.yaml"))


@dataclass
class Graded:
    untouched: LabReport
    solved: LabReport
    solution_output: str


def shell(script: str, namespace: str) -> str:
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=REPO / "course", capture_output=True,
                            text=True, timeout=120, env={**os.environ, "NS": namespace})
    assert result.returncode == 0, f"the worked answer failed:\n{script}\n{result.stdout}{result.stderr}"
    return result.stdout + result.stderr


def pods_of(manifest) -> list[str]:
    return [d["metadata"]["name"] for d in yaml.safe_load_all(manifest.read_text()) if d and d["kind"] == "Pod"]


def settled(core, pod: str, namespace: str) -> None:
    """Wait until the pod is Ready, or the scheduler has said it cannot place it."""
    def condition(p, kind):
        return next((c.status for c in p.status.conditions or [] if c.type == kind), None)
    watch_until(core.list_namespaced_pod, lambda p: condition(p, "Ready") == "True"
                or condition(p, "PodScheduled") == "False", namespace=namespace,
                field_selector=f"metadata.name={pod}", timeout=60, what=f"pod {pod} Ready or unschedulable")


def grade_before_and_after(cluster: Cluster, core, exercise: Exercise, simulated: bool) -> Graded:
    with own_namespace(cluster, "exercise") as namespace:
        for manifest in exercise.setup:
            shell(f"kubectl apply -n $NS -f exercises/{manifest}", namespace)
            for pod in pods_of(SETUP / manifest):
                settled(core, pod, namespace)  # as the lesson's cell waits before the task
        # mode "test": these grades are not a learner's, and stay out of the progress store
        untouched = grade(exercise.id, namespace, wait=5, cluster=cluster, mode="test")
        # Where no container runs, an answer that asks one (logs, exec, port-forward) cannot be found.
        output = "" if exercise.needs_containers and simulated else shell(exercise.solution, namespace)
        solved = grade(exercise.id, namespace, wait=SETTLE_SECONDS, cluster=cluster, mode="test")
        return Graded(untouched, solved, output)


@pytest.fixture(scope="module")
def simulated(kube) -> bool:
    from graders.snapshot import Snapshot

    return Snapshot(Cluster.connect(), "default").simulated


@pytest.fixture(scope="module")
def graded(kube, simulated) -> dict[str, Future]:
    from kubernetes import client

    cluster, core = Cluster.connect(), client.CoreV1Api(kube)
    with ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
        return {exercise.id: pool.submit(grade_before_and_after, cluster, core, exercise, simulated)
                for exercise in EXERCISES}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_untouched_does_not_get_full_marks(exercise, graded):
    report = graded[exercise.id].result().untouched
    assert report.score < report.max_score, str(report)
    assert report.count(Status.ERROR) == 0, str(report)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_worked_answer_gets_full_marks(exercise, graded, simulated):
    result = graded[exercise.id].result()
    report = result.solved
    if exercise.needs_containers and simulated:
        assert report.score == 0 and all(c.status is Status.BLOCKED and c.message == NEEDS_CONTAINERS
                                         for c in report.checks), str(report)
    else:
        assert report.score == report.max_score, f"{report}\nthe worked answer printed:\n{result.solution_output}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda exercise: exercise.id)
def test_setup_manifests_exist_and_are_used_by_its_lesson(exercise):
    lesson = next((REPO / "course").glob(f"{exercise.lesson}-*.ipynb"))
    text = lesson.read_text()
    assert f'grade(\\"{exercise.id}\\"' in text, f"lesson {lesson.name} has no check cell for {exercise.id}"
    for manifest in exercise.setup:
        assert (SETUP / manifest).is_file(), manifest
        assert f"exercises/{manifest}" in text, f"lesson {lesson.name} does not apply exercises/{manifest}"


def test_every_lesson_has_exercises():
    lessons = sorted(p.name[:2] for p in (REPO / "course").glob("[0-9][0-9]-*.ipynb"))
    assert exercises.lessons() == lessons


def full_marks_expected(answer) -> bool:
    said = next(line for line in answer.read_text().splitlines() if line.startswith("# full marks:"))
    return said.removeprefix("# full marks:").strip() == "yes"


@pytest.fixture(scope="module")
def other_answers(kube) -> dict[str, Future]:
    cluster = Cluster.connect()

    def graded(answer) -> LabReport:
        with own_namespace(cluster, "exercise") as namespace:
            shell(f"kubectl apply -n $NS -f {answer}", namespace)
            return grade(answer.parent.name, namespace, wait=SETTLE_SECONDS, cluster=cluster, mode="test")

    with ThreadPoolExecutor(SIDE_BY_SIDE) as pool:
        return {str(answer): pool.submit(graded, answer) for answer in OTHER_ANSWERS}


@pytest.mark.parametrize("answer", OTHER_ANSWERS, ids=lambda answer: f"{answer.parent.name}-{answer.stem}")
def test_other_answers_get_the_verdict_of_a_real_cluster(answer, other_answers):
    report = other_answers[str(answer)].result()
    assert (report.score == report.max_score) == full_marks_expected(answer), str(report)
    assert report.count(Status.ERROR) == 0, str(report)
