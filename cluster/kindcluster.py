"""A kind cluster (real containers in Docker), from kind.yaml. Needs Docker and kind."""
from __future__ import annotations

import shutil
import subprocess

from common import HERE, NAME, ClusterError, answers, log, run, use_context, wait_settled

CONTEXT = f"kind-{NAME}"


def docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return run(["docker", "info"], check=False, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def possible() -> bool:
    return bool(shutil.which("kind")) and docker_works()


def exists() -> bool:
    return NAME in run(["kind", "get", "clusters"], check=False).stdout.split()


def up() -> None:
    if not possible():
        raise ClusterError("kind needs a running Docker engine and the `kind` command "
                           "(https://kind.sigs.k8s.io/docs/user/quick-start/#installation).")
    if exists() and answers(CONTEXT):
        log(f"the kind cluster is already up (context {CONTEXT})")
    else:
        if exists():
            run(["kind", "delete", "cluster", "--name", NAME])
        log("creating the kind cluster")
        run(["kind", "create", "cluster", "--name", NAME, "--config", str(HERE / "kind.yaml"),
             "--wait", "120s"], timeout=600)
    use_context(CONTEXT)
    wait_settled(CONTEXT)


def down() -> None:
    if shutil.which("kind") and exists():
        run(["kind", "delete", "cluster", "--name", NAME])
        log("the kind cluster is deleted")
