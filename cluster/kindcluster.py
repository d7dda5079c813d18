"""kind: the course cluster as Docker containers (kind.yaml: a control plane and two workers of
Kubernetes v1.36). What most learners use (macOS, Windows, Linux with Docker).

- kind itself: the one on PATH when it is new enough, else the course's own, built into the
  cache (never onto PATH).
- Docker: the user's engine when one answers. Where none does, on Linux as root (a CI machine,
  a classroom server), a private engine of the course's own (dockerd/), stopped again by `down`.
- The node image: the one kind.yaml pins, pulled. Where it cannot be pulled (no internet), one
  built from the project's own parts (kindimage/), with the kubeadm patches that image needs.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess

from common import (HERE, NAME, ClusterError, answers, build, cache_dir, go, kubectl, log, run,
                    tool_path, use_context, wait_settled)
from dockerd import engine

CONTEXT = f"kind-{NAME}"
CONFIG = HERE / "kind.yaml"
NETWORK = "kind"                 # the Docker network kind puts its nodes on
OLDEST_KIND = (0, 33, 0)         # the kind release the pinned image was made for
# Three nodes idle take ~0.9 GiB; the labs' pods, a batch grading many submissions at once and the
# Docker VM's own needs come on top.
MEMORY_NEEDED_GIB = 3.0
# Set to 1, the offline node image is built without trying to pull the pinned one (the test suite
# sets it: its clusters reach no registry).
OFFLINE = "COURSE_KIND_OFFLINE"


def pinned_image() -> str:
    found = set(re.findall(r"^\s*image:\s*(\S+)\s*$", CONFIG.read_text(), flags=re.MULTILINE))
    if len(found) != 1:
        raise ClusterError(f"{CONFIG} should name one node image for every node, not {sorted(found)}")
    return found.pop()


# --- what kind needs --------------------------------------------------------------------------

def docker_env() -> dict[str, str]:
    """The environment that reaches a Docker engine: the user's, else the course's private one
    (started here; Linux and root only)."""
    return {} if engine.works() else engine.ensure()  # ensure() reuses a running private engine


def _version(text: str) -> tuple[int, ...] | None:
    found = re.search(r"v(\d+)\.(\d+)\.(\d+)", text)
    return tuple(int(x) for x in found.groups()) if found else None


@functools.cache
def kind_binary() -> str:
    """kind on PATH when it is new enough; the course's own build when there is none."""
    on_path = shutil.which("kind")
    if on_path:
        shown = run([on_path, "version"], check=False).stdout.strip()
        found = _version(shown)
        if found is None or found < OLDEST_KIND:
            needed = "v" + ".".join(map(str, OLDEST_KIND))
            raise ClusterError(
                f"{on_path} is {shown or 'a kind whose version is unknown'}; the course's node image "
                f"(Kubernetes v1.36) needs kind {needed} or newer. Upgrade it (`go install "
                f"sigs.k8s.io/kind@{needed}`, `brew upgrade kind` or https://kind.sigs.k8s.io/docs/user/"
                f"quick-start/#installation), or remove it from PATH and the course builds its own.")
        return on_path
    return str(build("kind")["kind"])


def memory_problem(total_bytes: int) -> str | None:
    """What is wrong with a Docker engine of this much memory for the course, or None."""
    total_gib = total_bytes / 2**30
    if total_gib >= MEMORY_NEEDED_GIB:
        return None
    return (f"Docker has {total_gib:.1f} GiB of memory; the course's kind cluster needs at least "
            f"{MEMORY_NEEDED_GIB:.0f} GiB (three nodes take about 0.9 GiB idle, the labs' pods and "
            f"batch grading more). Give Docker more: Docker Desktop > Settings > Resources > Memory "
            f"(or `colima start --memory 4`, `podman machine set --memory 4096`), then run this again.")


def check_memory(env: dict[str, str]) -> None:
    info = run(["docker", "info", "--format", "{{json .MemTotal}}"], env=env, timeout=30)
    if problem := memory_problem(int(json.loads(info.stdout))):
        raise ClusterError(problem)


def unavailable() -> str | None:
    """Why kind cannot run here, or None."""
    if not engine.works() and (reason := engine.unavailable()):
        return reason
    if not shutil.which("kind") and not go():
        return "kind is not installed and there is no Go to build it: run `make venv` first"
    return None


def auto_unavailable() -> str | None:
    """Why `auto` should not choose kind: it takes kind where a Docker engine already runs (the
    course builds kind itself when it is missing), never starting an engine of its own."""
    return "no Docker engine is running" if not engine.works() else unavailable()


# --- the node image ---------------------------------------------------------------------------

def node_image(env: dict[str, str]) -> tuple[str, bool]:
    """The node image to boot and whether it is the offline one: the pinned image when it is
    here or can be pulled, else the course's own build."""
    from kindimage import build as kindimage  # noqa: E402  (the image builder: only where it builds)
    if os.environ.get(OFFLINE) == "1":
        log(f"{OFFLINE}=1: building the node image from the project's own parts, pulling nothing")
        return kindimage.ensure(env), True
    pinned = pinned_image()
    if run(["docker", "image", "inspect", pinned], env=env, check=False).returncode == 0:
        return pinned, False
    log(f"pulling the node image {pinned.split('@')[0]} (about 400 MB, once)")
    # docker's own progress shows as it goes; its error, if any, is kept for the message below
    pulled = subprocess.run(["docker", "pull", pinned], env={**os.environ, "PATH": tool_path(), **env},
                            stderr=subprocess.PIPE, text=True)
    if pulled.returncode == 0:
        return pinned, False
    reason = (pulled.stderr.strip().splitlines() or ["(no reason given)"])[-1]
    log(f"the node image cannot be pulled ({reason}); building one offline from the project's "
        f"own parts instead (cluster/kindimage/)")
    return kindimage.ensure(env), True


def offline_dns() -> None:
    """Offline, CoreDNS answers for the cluster's names only, as the real node's DNS does: it
    forwards nothing (there is nothing to reach, and a learner's lookup of an outside name
    fails at once instead of after seconds of retries)."""
    k = [kubectl(), "--context", CONTEXT, "-n", "kube-system"]
    corefile = json.loads(run(k + ["get", "configmap", "coredns", "-o", "json"]).stdout)["data"]["Corefile"]
    closed = re.sub(r"\n\s*forward \. /etc/resolv\.conf \{[^}]*\}", "", corefile)
    if closed == corefile:
        return
    run(k + ["patch", "configmap", "coredns", "--type", "merge", "-p", json.dumps({"data": {"Corefile": closed}})])
    run(k + ["rollout", "restart", "deployment", "coredns"])
    run(k + ["rollout", "status", "deployment", "coredns", "--timeout=120s"], timeout=150)


def offline_config() -> str:
    """kind.yaml plus what the offline image needs: kubeadm must ask for the etcd and CoreDNS
    it carries, not its own defaults."""
    from kindimage import build as kindimage  # noqa: E402  (only offline)
    text = CONFIG.read_text()
    if re.search(r"^kubeadmConfigPatchesJSON6902:", text, flags=re.MULTILINE):
        raise ClusterError(f"{CONFIG}: kubeadmConfigPatchesJSON6902 is the offline image's to set")
    patch = [{"op": "add", "path": "/etcd", "value": {"local": {"imageTag": kindimage.etcd_tag()}}},
             {"op": "add", "path": "/dns", "value": {"imageTag": kindimage.coredns_tag()}}]
    return text + (
        "\n# The offline node image (cluster/kindimage/): the etcd and CoreDNS it carries.\n"
        "kubeadmConfigPatchesJSON6902:\n"
        "  - group: kubeadm.k8s.io\n    version: v1beta4\n    kind: ClusterConfiguration\n"
        f"    patch: '{json.dumps(patch)}'\n")


# --- the cluster ------------------------------------------------------------------------------

def kind(*args: str, env: dict[str, str], timeout: float | None = None) -> subprocess.CompletedProcess:
    return run([kind_binary(), *args], env=env, timeout=timeout)


def create(config, image: str, env: dict[str, str]) -> None:
    """kind create cluster, its progress shown as it goes."""
    command = [kind_binary(), "create", "cluster", "--name", NAME, "--config", str(config),
               "--image", image, "--wait", "180s"]
    result = subprocess.run(command, env={**os.environ, "PATH": tool_path(), **env}, timeout=900)
    if result.returncode != 0:
        raise ClusterError(f"`kind create cluster` failed (exit {result.returncode}; what it said is "
                           f"above). `python cluster/cluster.py down --provider kind` cleans up.")


def exists(env: dict[str, str]) -> bool:
    return NAME in kind("get", "clusters", env=env).stdout.split()


def nodes_running(env: dict[str, str]) -> bool:
    """Whether every node container of the cluster runs (a restarted engine leaves them stopped)."""
    states = run(["docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={NAME}",
                  "--format", "{{.State}}"], env=env, check=False).stdout.split()
    return bool(states) and all(state == "running" for state in states)


def up() -> None:
    if reason := unavailable():
        raise ClusterError(f"kind cannot run here: {reason}")
    kind_binary()  # a kind too old says so before anything starts
    env = docker_env()
    check_memory(env)
    if exists(env) and nodes_running(env) and answers(CONTEXT):
        log(f"the kind cluster is already up (context {CONTEXT})")
    else:
        if exists(env):
            log("deleting the kind cluster, which no longer answers")
            kind("delete", "cluster", "--name", NAME, env=env, timeout=300)
        image, offline = node_image(env)
        config = CONFIG
        if offline:
            config = cache_dir() / "kind" / "kind-offline.yaml"
            config.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(offline_config())
        log(f"creating the kind cluster: {image}, {config}")
        create(config, image, env)
        if offline:
            offline_dns()
    use_context(CONTEXT)
    wait_settled(CONTEXT)
    log(f"the kind cluster is up; kubectl now uses context {CONTEXT}")


def down() -> None:
    env = engine.client_env() if engine.running() else ({} if engine.works() else None)
    if env is None:
        return  # no engine, so no kind cluster
    if (shutil.which("kind") or go()) and exists(env):
        kind("delete", "cluster", "--name", NAME, env=env, timeout=300)
        log("the kind cluster is deleted")
    # kind leaves its network behind; it goes once no other kind cluster uses it.
    attached = run(["docker", "network", "inspect", NETWORK, "--format", "{{len .Containers}}"],
                   env=env, check=False)
    if attached.returncode == 0 and attached.stdout.strip() == "0":
        run(["docker", "network", "rm", NETWORK], env=env, check=False)
    if engine.running():
        engine.stop()
        log("the course's Docker engine is stopped")
