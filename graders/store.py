"""Batch results on disk as each submission finishes: SQLite in WAL mode, one row per student
and lab, written in one transaction. A batch killed at any moment keeps every finished row, and
`--resume` grades only what has no final row."""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    lab TEXT NOT NULL,
    student TEXT NOT NULL,
    status TEXT NOT NULL,         -- graded | rejected | error
    score REAL,                   -- NULL when status is error
    max_score REAL NOT NULL,
    reason TEXT NOT NULL,
    report TEXT,                  -- the report as JSON, when graded
    finished_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (lab, student)
);
"""
FINAL = ("graded", "rejected")  # an error is retried by --resume


@dataclass(frozen=True)
class Row:
    lab: str
    student: str
    status: str
    score: float | None
    max_score: float
    reason: str
    report: dict | None


class NotAStore(Exception):
    """The file cannot be read as a store of `grade batch` (missing, unreadable, another kind)."""


class Store:
    def __init__(self, path: Path, *, readonly: bool = False):
        """Open the store at `path`, created when missing. With `readonly` (reading results while
        a batch may still be writing them) nothing is created or written, and NotAStore says why
        the file cannot be read."""
        self.path = path
        self._lock = threading.Lock()
        if readonly:
            self._db = _open_readonly(path)
            return
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a finished row survives a power cut too
        self._db.executescript(SCHEMA)

    def run_id(self) -> str:
        """The id of the batch this store belongs to (labels its grading namespaces)."""
        with self._lock:
            found = self._db.execute("SELECT value FROM meta WHERE key = 'run'").fetchone()
            if found:
                return found[0]
            run = uuid.uuid4().hex[:12]
            self._db.execute("INSERT INTO meta (key, value) VALUES ('run', ?)", (run,))
            return run

    def save(self, row: Row) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO results (lab, student, status, score, max_score, reason, report) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.lab, row.student, row.status, row.score, row.max_score, row.reason,
                 json.dumps(row.report) if row.report is not None else None))

    def rows(self, lab: str) -> list[Row]:
        with self._lock:
            found = self._db.execute(
                "SELECT lab, student, status, score, max_score, reason, report FROM results "
                "WHERE lab = ? ORDER BY student", (lab,)).fetchall()
        return [Row(*values[:6], json.loads(values[6]) if values[6] else None) for values in found]

    def labs(self) -> list[str]:
        """The labs that have rows, lab1, lab2, ... in order."""
        with self._lock:
            found = [lab for (lab,) in self._db.execute("SELECT DISTINCT lab FROM results")]
        return sorted(found, key=lab_order)

    def finished(self, lab: str) -> set[str]:
        return {row.student for row in self.rows(lab) if row.status in FINAL}

    def close(self) -> None:
        self._db.close()


def lab_order(lab: str) -> tuple:
    """lab2 before lab10; other names after the labs, by name."""
    digits = lab[3:] if lab.startswith("lab") else ""
    return (0, int(digits), "") if digits.isdigit() else (1, 0, lab)


def _open_readonly(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise NotAStore(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.Error as error:
        raise NotAStore(f"{path} cannot be read as a results store of `grade batch`: {error}") from None
    if "results" not in tables:
        db.close()
        raise NotAStore(f"{path} is an SQLite database but not a results store of `grade batch` "
                        "(it has no results table)")
    return db
