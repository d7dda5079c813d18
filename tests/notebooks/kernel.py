"""A stricter IPython for running the course's notebooks in tests.

In a learner's JupyterLab a shell command that fails (`!kubectl ...` exiting non-zero, or a
command in the middle of a `%%bash` cell) only prints its error. Under test that would let a
broken cell pass, so the test kernel gets a startup file that

- makes `!command` raise CalledProcessError when the command exits non-zero, and
- runs every `%%bash` cell with `set -e` (through BASH_ENV), so any failing command fails the
  cell (IPython already raises when a `%%bash` cell's last command fails).

Commands that are *meant* to fail in a notebook say so explicitly (`... || echo "why"`).
"""
from __future__ import annotations

import os
from pathlib import Path

STARTUP = '''\
# Installed by tests/notebooks/kernel.py for the notebook tests only.
import os as _os
import subprocess as _subprocess

_os.environ["BASH_ENV"] = {bash_env!r}
_shell = get_ipython()
_plain_system = _shell.system


def _strict_system(cmd):
    result = _plain_system(cmd)
    code = _shell.user_ns.get("_exit_code", 0)
    if code:
        raise _subprocess.CalledProcessError(code, cmd)
    return result


_shell.system = _strict_system
'''


def prepare(directory: Path) -> dict[str, str]:
    """Write a strict IPython profile under `directory`; return the environment that selects it."""
    startup = directory / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    bash_env = directory / "strict.bash"
    bash_env.write_text("set -e\n")
    (startup / "00-course-strict.py").write_text(STARTUP.format(bash_env=str(bash_env)))
    return {"IPYTHONDIR": str(directory)}


def apply(directory: Path) -> None:
    """Make kernels started from this process strict (they inherit the environment)."""
    os.environ.update(prepare(directory))
