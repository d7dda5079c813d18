"""pytest plugin for the notebook tests (loaded by the repository's conftest.py).

nbval runs every notebook of course/ and labs/ as a test (`--nbval-lax` in pyproject.toml's
addopts, with course/ and labs/ among the testpaths). This plugin makes those runs strict (see
tests/notebooks/kernel.py), finds the sanitize file whatever the working directory, and adds
what a failed cell printed to its failure report.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.notebooks import kernel

_IPYTHON_DIR = pytest.StashKey[Path]()


def pytest_configure(config):
    option = config.option
    if not (getattr(option, "nbval", False) or getattr(option, "nbval_lax", False)):
        return
    sanitize = getattr(option, "nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).exists() and (config.rootpath / sanitize).exists():
        option.nbval_sanitize_with = str(config.rootpath / sanitize)
    directory = Path(tempfile.mkdtemp(prefix="course-ipython-"))
    kernel.apply(directory)
    config.stash[_IPYTHON_DIR] = directory


def pytest_unconfigure(config):
    directory = config.stash.get(_IPYTHON_DIR, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)



@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Show what a failed cell printed (kubectl's error message), which nbval leaves out."""
    outcome = yield
    report = outcome.get_result()
    outputs = getattr(item, "test_outputs", None)
    if report.when == "call" and report.failed and outputs:
        text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
        if text.strip():
            report.sections.append(("cell output", text[-5000:]))
