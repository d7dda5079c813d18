"""The course's control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler),
built from the pinned sources by build.sh and run by kwokctl's binary runtime. The simulated
cluster and the real node each have one, under a name of their own."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from common import (ClusterError, answers, built, cache_dir, kubectl, log, run, use_context, versions,
                    wait_settled)


def context(name: str) -> str:
    return f"kwok-{name}"


def env() -> dict[str, str]:
    return {"KWOK_WORKDIR": str(cache_dir() / "kwok"),
            "KWOK_KUBE_VERSION": versions()["KUBERNETES_VERSION"], "KWOK_RUNTIME": "binary"}


def cluster_dir(name: str) -> Path:
    """kwokctl's files of a cluster: pki/ (ca.crt, ca.key, admin.crt, admin.key), kubeconfig.yaml."""
    return cache_dir() / "kwok" / "clusters" / name


_KWOKCTL: list[Path] = []  # found once per process, once built


def kwokctl_path() -> Path:
    """kwokctl as build.sh built it; a path that does not exist when it is not built yet."""
    if not _KWOKCTL:
        directory = built("kwok")
        if directory is None:
            return cache_dir() / "bin" / "kwok-not-built" / "kwokctl"
        _KWOKCTL.append(directory / "kwokctl")
    return _KWOKCTL[0]


def kwokctl(name: str, *args: str, check: bool = True, timeout: float = 300):
    return run([str(kwokctl_path()), "--name", name, *args], env=env(), check=check, timeout=timeout)


def exists(name: str) -> bool:
    if not kwokctl_path().exists():
        return False
    return name in kwokctl(name, "get", "clusters", check=False).stdout.split()


def _stamp(name: str) -> Path:
    return cluster_dir(name) / "course-definition"


def create(name: str, binaries: dict[str, Path], config: Path, definition: str,
           *extra: str) -> None:
    kwokctl(name, "create", "cluster", "--runtime", "binary", "--config", str(config),
            "--kube-apiserver-binary", str(binaries["kube-apiserver"]),
            "--kube-controller-manager-binary", str(binaries["kube-controller-manager"]),
            "--kube-scheduler-binary", str(binaries["kube-scheduler"]),
            "--etcd-binary", str(binaries["etcd"]),
            "--kwok-controller-binary", str(binaries["kwok"]),
            "--wait", "60s", "--timeout", "180s", *extra)
    _stamp(name).write_text(definition)


def ensure(name: str, definition: str, make: Callable[[], None], what: str) -> bool:
    """Make sure control plane `name`, made from `definition`, answers; `make()` creates it.
    Returns True when it was already up (nothing was done)."""
    ctx = context(name)
    if exists(name):
        stamp = _stamp(name)
        if not stamp.exists() or stamp.read_text() != definition:
            log(f"the {what} was made from an older definition (cluster/ changed): recreating")
            kwokctl(name, "delete", "cluster")
        elif answers(ctx) and not (ended := ended_processes(name)):
            return True
        elif answers(ctx):
            log(f"the {what}'s {', '.join(ended)} ended: creating it anew; apply your lab manifests again")
            kwokctl(name, "delete", "cluster")
        else:
            # Its processes ended (a reboot, a closed session). Restarting them is not enough:
            # the controllers' and the nodes' leases still name the dead instances and hold the
            # new ones back for minutes. A new cluster takes seconds.
            log(f"the {what} exists but does not answer (its processes ended): "
                "creating it anew; apply your lab manifests again")
            kwokctl(name, "delete", "cluster")
    make()
    return False


def ended_processes(name: str) -> list[str]:
    """The control plane's components whose process is gone (kwokctl keeps their pids): the API
    server may answer while no scheduler places a pod."""
    return [pid_file.stem for pid_file in sorted((cluster_dir(name) / "pids").glob("*.pid"))
            if not _alive(pid_file.read_text().strip())]


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    stat = Path(f"/proc/{pid}/stat")  # Linux: a zombie (state Z) has ended, only not collected yet
    return not stat.exists() or stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"


def delete(name: str) -> bool:
    if not exists(name):
        return False
    kwokctl(name, "delete", "cluster")
    return True


def server_port(name: str) -> int:
    """The port kube-apiserver listens on (on loopback), from kwokctl's kubeconfig."""
    result = run([kubectl(), "--kubeconfig", str(cluster_dir(name) / "kubeconfig.yaml"), "config",
                  "view", "-o", "jsonpath={.clusters[0].cluster.server}"])
    server = result.stdout.strip()
    try:
        return int(server.rsplit(":", 1)[1].rstrip("/"))
    except (IndexError, ValueError):
        raise ClusterError(f"cannot read the API server's port from kwokctl's kubeconfig ({server!r})")


def settle(name: str) -> None:
    use_context(context(name))
    wait_settled(context(name))
