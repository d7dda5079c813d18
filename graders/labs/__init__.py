"""The labs, one module each (lab1.py ... lab8.py), found by name."""
from __future__ import annotations

import importlib
import os
import re

from graders.checks import Lab


class UnknownLab(ValueError):
    def __init__(self, name: str, known: list[str]):
        exercise = re.fullmatch(r"\d\d-[a-z0-9-]+", name)
        super().__init__(f"unknown lab {name!r}; the labs are: {', '.join(known)}" + (
            f" ({name} is a lesson's exercise: exercises count in a learner's own progress, "
            "not in a class's grades)" if exercise else ""))
        self.name, self.known = name, known


def lab_ids() -> list[str]:
    """lab1, lab2, ... in order."""
    # Listed directly: importing pkgutil would cost a cold `grade` more than the listing takes.
    found = [name[:-3] for folder in __path__ for name in os.listdir(folder)
             if re.fullmatch(r"lab\d+\.py", name)]
    return sorted(set(found), key=lambda name: int(name[3:]))


def get(name: str) -> Lab:
    known = lab_ids()
    if name not in known:
        raise UnknownLab(name, known)
    return importlib.import_module(f"{__name__}.{name}").lab


def all_labs() -> list[Lab]:
    return [get(name) for name in lab_ids()]
