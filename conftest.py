"""Loaded by pytest for every test of the repository, including the notebooks that nbval runs
from course/ and labs/ (which no conftest of tests/ would reach)."""
pytest_plugins = ["tests.notebooks.plugin"]
