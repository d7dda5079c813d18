"""kind's provider, without a cluster: the node image kind.yaml pins, the message for a Docker
engine too small, and that a kind too old for the pinned image says so before anything starts."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
sys.path.insert(0, str(CLUSTER))

import common  # noqa: E402
import kindcluster  # noqa: E402


def test_kind_yaml_pins_a_v136_node_image_by_digest_for_every_node():
    assert re.fullmatch(r"kindest/node:v1\.36\.\d+@sha256:[0-9a-f]{64}", kindcluster.pinned_image())
    nodes = re.findall(r"^\s*- role: (\S+)", kindcluster.CONFIG.read_text(), flags=re.MULTILINE)
    assert nodes.count("control-plane") == 1 and nodes.count("worker") >= 1


def test_a_docker_engine_too_small_is_told_what_it_has_what_is_needed_and_how_to_fix_it():
    problem = kindcluster.memory_problem(2 * 2**30)
    assert "2.0 GiB" in problem and "at least 3 GiB" in problem and "Settings > Resources > Memory" in problem
    assert kindcluster.memory_problem(4 * 2**30) is None


def test_a_kind_too_old_is_refused_with_the_version_needed(tmp_path):
    """A real kind v0.25.0 (built from the Go module proxy) first on PATH."""
    built = subprocess.run([common.go(), "install", "sigs.k8s.io/kind@v0.25.0"], capture_output=True, text=True,
                           env={**os.environ, "GOBIN": str(tmp_path), "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod"},
                           timeout=600)
    assert built.returncode == 0, built.stderr
    result = subprocess.run([sys.executable, str(CLUSTER / "cluster.py"), "up", "--provider", "kind"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"})
    assert result.returncode == 1
    assert "kind v0.25.0" in result.stderr and "needs kind v0.33.0 or newer" in result.stderr, result.stderr
    assert "private Docker engine" not in result.stderr  # refused before anything started
