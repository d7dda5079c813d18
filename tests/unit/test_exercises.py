"""The lessons' exercises (graders/exercises/): found by id, kept apart from the labs a class is
graded on, listed in the learner's progress, and their worked answers closed until tried."""
import pytest

from graders import exercises, labs, progress_store
from graders.cli import main
from graders.results import CheckResult, LabReport, Status


def report(exercise_id: str, passed: bool) -> LabReport:
    """A report of the exercise as `grade` gives it, every check passed or failed."""
    exercise = exercises.get(exercise_id)
    status = Status.PASSED if passed else Status.FAILED
    checks = tuple(CheckResult(id=c.id, title=c.title, status=status, points=c.points if passed else 0,
                               max_points=c.points) for c in exercise.checks)
    return LabReport(lab=exercise.id, title=exercise.title, namespace=exercise.namespace, context="test",
                     checks=checks)


def test_every_exercise_is_found_by_its_id_and_belongs_to_its_lesson_namespace():
    found = exercises.all_exercises()
    assert found, "no exercises"
    assert len({e.id for e in found}) == len(found), "an exercise id is used twice"
    for exercise in found:
        assert exercises.get(exercise.id) is exercise
        assert exercise.namespace == f"course-{exercise.id[:2]}"
        assert exercise.checks and exercise.solution and exercise.explanation


def test_an_unknown_exercise_names_the_lessons_exercises():
    with pytest.raises(exercises.UnknownExercise) as error:
        exercises.get("02-nothing")
    assert "02-pod-ip" in str(error.value)


def test_a_class_cannot_be_graded_on_an_exercise():
    with pytest.raises(labs.UnknownLab) as error:
        labs.get("02-pod-ip")
    assert "lesson's exercise" in str(error.value) and "not in a class's grades" in str(error.value)


def test_exercises_need_no_names_the_labs_use():
    assert not set(labs.lab_ids()) & {e.id for e in exercises.all_exercises()}


def test_progress_lists_exercises_apart_from_labs(tmp_path):
    path = tmp_path / "progress.sqlite"
    progress_store.record(report("02-pod-ip", passed=False), path)
    progress_store.record(report("02-logs", passed=True), path)
    progress = progress_store.read(path)
    assert [item.id for item in progress.items] == labs.lab_ids()
    states = {item.id: item.state for item in progress.exercises}
    assert states["02-pod-ip"] == "in progress" and states["02-logs"] == "passed"
    assert states["02-describe"] == "not started"
    assert progress.next.id == "lab1", "the next thing to do is still the first lab"
    text = progress.to_text()
    assert "1 of" in text and "lesson exercises passed" in text
    assert "02-describe" in progress._repr_html_()


def test_the_worked_answer_opens_after_one_attempt_whatever_its_score(tmp_path):
    path = tmp_path / "progress.sqlite"
    with pytest.raises(exercises.NotTried):
        exercises.answer("02-pod-ip", path)
    progress_store.record(report("02-pod-ip", passed=False), path)
    shown = exercises.answer("02-pod-ip", path)
    assert "kubectl get pod mystery -n course-02 -o jsonpath" in str(shown)
    assert "$NS" not in str(shown) and shown._repr_markdown_() == str(shown)


def test_grade_answer_on_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert main(["answer", "02-describe"]) == 1
    assert "Try 02-describe first" in capsys.readouterr().err
    progress_store.record(report("02-describe", passed=False))
    assert main(["answer", "02-describe"]) == 0
    assert "describe pod stuck" in capsys.readouterr().out
    assert main(["answer", "02-none"]) == 2
    assert main(["list"]) == 0
    assert "02-port-forward" in capsys.readouterr().out
