"""A learner's progress: every self-check grade is recorded in a small SQLite store on this
machine (never sent anywhere), and read back as one line per lab and per lesson exercise: its
state, last score, when it was last graded, and the next thing to do.

The store lives in $COURSE_DATA, else $XDG_DATA_HOME/k8s-pods-course, else
~/.local/share/k8s-pods-course. It is written in one transaction per grade (WAL), so a process killed at
any moment loses no recorded grade and half-writes none. (Unlike the batch store's, a commit does
not wait for the disk: a grade must answer at once, and a power cut may cost the last one.)
"""
from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from graders import exercises, labs
from graders.results import LabReport, Status

SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY,
    item TEXT NOT NULL,           -- lab1 ... lab8, or a lesson's exercise (02-pod-ip ...)
    namespace TEXT NOT NULL,
    context TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    unfinished TEXT NOT NULL,     -- JSON: [[check id, status], ...] of the checks that did not pass
    graded_at TEXT NOT NULL       -- UTC, ISO 8601
);
CREATE INDEX IF NOT EXISTS attempts_by_item ON attempts (item, id);
"""
NOT_STARTED, IN_PROGRESS, PASSED = "not started", "in progress", "passed"


def data_dir() -> Path:
    if os.environ.get("COURSE_DATA"):
        return Path(os.environ["COURSE_DATA"])
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "k8s-pods-course"


def store_path() -> Path:
    return data_dir() / "progress.sqlite"


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=10)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


def record(report: LabReport, path: Path | None = None) -> None:
    """Add one grade. Raises OSError or sqlite3.Error when the store cannot be written."""
    unfinished = [[c.id, c.status.value] for c in report.checks if c.status is not Status.PASSED]
    db = _connect(path or store_path())
    try:
        db.execute("INSERT INTO attempts (item, namespace, context, score, max_score, unfinished, graded_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (report.lab, report.namespace, report.context, report.score, report.max_score,
                    json.dumps(unfinished), datetime.now(timezone.utc).isoformat(timespec="seconds")))
    finally:
        db.close()


def reset(path: Path | None = None) -> bool:
    """Forget every recorded grade; whether there was anything to forget."""
    path = path or store_path()
    existed = path.exists()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    return existed


@dataclass(frozen=True)
class Item:
    """One lab, or one lesson exercise, as the learner stands with it."""
    id: str
    title: str
    state: str                       # not started | in progress | passed
    score: float | None              # of the last grade
    max_score: float
    best: float | None
    attempts: int
    last_graded: datetime | None
    unfinished: tuple[tuple[str, str], ...]  # (check id, status) of the last grade

    def todo(self) -> str:
        """What to do next with this item, in a sentence."""
        if self.state == NOT_STARTED and exercises.is_exercise_id(self.id):
            return f"try {self.id}: it is among the exercises of lesson {self.id[:2]}"
        if self.state == NOT_STARTED:
            return f"start {self.id}: open labs/{self.id}/{self.id}.ipynb, or read labs/{self.id}/README.md"
        if self.state == IN_PROGRESS:
            checks = ", ".join(f"{check} ({status})" for check, status in self.unfinished[:4])
            more = f" and {len(self.unfinished) - 4} more" if len(self.unfinished) > 4 else ""
            return f"finish {self.id}: {checks}{more} did not pass last time; `grade {self.id}` explains each"
        return f"{self.id} is done"


@dataclass(frozen=True)
class Progress:
    items: tuple[Item, ...]  # the labs
    path: Path
    exercises: tuple[Item, ...] = ()  # the lessons' exercises, in course order

    @property
    def next(self) -> Item | None:
        """The first lab, in course order, that is not passed yet."""
        return next((item for item in self.items if item.state != PASSED), None)

    def to_text(self, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        lines = [f"{'lab':6} {'state':12} {'last':>7} {'best':>7}  {'graded':14} title"]
        for item in self.items:
            last = "-" if item.score is None else f"{item.score:g}/{item.max_score:g}"
            best = "-" if item.best is None else f"{item.best:g}/{item.max_score:g}"
            lines.append(f"{item.id:6} {item.state:12} {last:>7} {best:>7}  {_ago(item.last_graded, now):14} "
                         f"{item.title}")
        passed = sum(item.state == PASSED for item in self.items)
        lines.append(f"\n{passed} of {len(self.items)} labs passed.")
        lines.append(f"Next: {self.next.todo()}." if self.next else "Every lab is passed. Well done!")
        if self.exercises:
            lines.append(f"\n{'exercise':20} {'state':12} {'last':>7}  {'graded':14} title")
            for item in self.exercises:
                last = "-" if item.score is None else f"{item.score:g}/{item.max_score:g}"
                lines.append(f"{item.id:20} {item.state:12} {last:>7}  {_ago(item.last_graded, now):14} {item.title}")
            done = sum(item.state == PASSED for item in self.exercises)
            lines.append(f"\n{done} of {len(self.exercises)} lesson exercises passed "
                         "(they count here, not in a class's grades).")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        now = datetime.now(timezone.utc)
        marks = {PASSED: "&#10004; passed", IN_PROGRESS: "&#9998; in progress", NOT_STARTED: "&#8211; not started"}
        rows = "".join(
            f"<tr><td><b>{item.id}</b></td><td>{html.escape(item.title)}</td><td>{marks[item.state]}</td>"
            f"<td>{'-' if item.score is None else f'{item.score:g}/{item.max_score:g}'}</td>"
            f"<td>{'-' if item.best is None else f'{item.best:g}/{item.max_score:g}'}</td>"
            f"<td>{_ago(item.last_graded, now)}</td><td>{item.attempts}</td></tr>" for item in self.items)
        nxt = html.escape(self.next.todo() + ".") if self.next else "Every lab is passed. Well done!"
        exercise_rows = "".join(
            f"<tr><td><b>{item.id}</b></td><td>{html.escape(item.title)}</td><td>{marks[item.state]}</td>"
            f"<td>{'-' if item.score is None else f'{item.score:g}/{item.max_score:g}'}</td>"
            f"<td>{_ago(item.last_graded, now)}</td></tr>" for item in self.exercises)
        done = sum(item.state == PASSED for item in self.exercises)
        exercise_table = (
            "<table><thead><tr><th>exercise</th><th>title</th><th>state</th><th>last score</th>"
            f"<th>last graded</th></tr></thead><tbody>{exercise_rows}</tbody></table>"
            f"<p>{done} of {len(self.exercises)} lesson exercises passed.</p>") if self.exercises else ""
        return ("<table><thead><tr><th>lab</th><th>title</th><th>state</th><th>last score</th>"
                "<th>best</th><th>last graded</th><th>grades</th></tr></thead>"
                f"<tbody>{rows}</tbody></table><p><b>Next:</b> {nxt}</p>{exercise_table}")


def read(path: Path | None = None) -> Progress:
    """Every lab and lesson exercise with what the store holds about it (nothing recorded: not
    started)."""
    path = path or store_path()
    attempts = _attempts(path)
    return Progress(tuple(_item(lab, attempts.get(lab.id, [])) for lab in labs.all_labs()), path,
                    tuple(_item(exercise, attempts.get(exercise.id, [])) for exercise in exercises.all_exercises()))


def tried(item: str, path: Path | None = None) -> bool:
    """Whether the learner has graded `item` at least once."""
    return bool(_attempts(path or store_path(), item))


def _attempts(path: Path, item: str | None = None) -> dict[str, list[tuple]]:
    """The recorded grades by item, oldest first: (score, max_score, unfinished, graded_at)."""
    attempts: dict[str, list[tuple]] = {}
    if path.exists():
        db = _connect(path)
        try:
            query = "SELECT item, score, max_score, unfinished, graded_at FROM attempts"
            rows = db.execute(query + " WHERE item = ? ORDER BY id", (item,)) if item else \
                db.execute(query + " ORDER BY id")
            for row in rows:
                attempts.setdefault(row[0], []).append(row[1:])
        finally:
            db.close()
    return attempts


def _item(definition, found: list[tuple]) -> Item:
    if not found:
        return Item(definition.id, definition.title, NOT_STARTED, None, definition.max_score, None, 0, None, ())
    score, max_score, unfinished, graded_at = found[-1]
    best = max(attempt[0] for attempt in found)
    # Passed once is passed: starting the lab again later does not take it away.
    state = PASSED if any(attempt[0] >= attempt[1] for attempt in found) else IN_PROGRESS
    return Item(definition.id, definition.title, state, score, max_score, best, len(found),
                datetime.fromisoformat(graded_at), tuple(map(tuple, json.loads(unfinished))))


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def grade_live(context: str | None = None) -> list[str]:
    """Grade now every lab whose namespace exists on the cluster (each grade is recorded as
    usual); the labs graded. Raises graders.cluster.ClusterError."""
    from graders.api import grade
    from graders.cluster import Cluster

    cluster = Cluster.connect(context)
    graded = []
    for lab in labs.all_labs():
        if cluster.get("Namespace", lab.id) is not None:
            grade(lab.id, cluster=cluster)
            graded.append(lab.id)
    return graded
