"""Loaded by pytest for every test of the repository, including the notebooks that nbval runs
from course/ and labs/ (which no conftest of tests/ would reach)."""
import os

pytest_plugins = ["tests.notebooks.plugin"]


def pytest_configure(config):
    # Every grade a learner runs is recorded in their progress store: the tests (and the kernels
    # and JupyterLab they start, which inherit this) record into one of their own.
    if not os.environ.get("COURSE_DATA"):
        import tempfile
        os.environ["COURSE_DATA"] = tempfile.mkdtemp(prefix="course-data-")
