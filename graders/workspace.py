"""Namespaces as workspaces: make one empty, wait until it is usable."""
from __future__ import annotations

import time

from graders.cluster import Cluster, ClusterError


def wait_gone(cluster: Cluster, kind: str, name: str, namespace: str | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    selector = f"metadata.name={name}"
    while (remaining := deadline - time.monotonic()) > 0:
        listing = cluster.list(kind, namespace, fieldSelector=selector)
        if not listing.get("items"):
            return
        for event, _ in cluster.watch(kind, namespace, listing["metadata"]["resourceVersion"],
                                      remaining, fieldSelector=selector):
            if event == "DELETED":
                return
    raise ClusterError(f"{kind} {name} was still there after {timeout:.0f}s")


def wait_default_service_account(cluster: Cluster, namespace: str, timeout: float = 30) -> None:
    """A new namespace refuses pods until its `default` ServiceAccount exists."""
    deadline = time.monotonic() + timeout
    selector = "metadata.name=default"
    while (remaining := deadline - time.monotonic()) > 0:
        listing = cluster.list("ServiceAccount", namespace, fieldSelector=selector)
        if listing.get("items"):
            return
        for event, _ in cluster.watch("ServiceAccount", namespace, listing["metadata"]["resourceVersion"],
                                      remaining, fieldSelector=selector):
            if event == "ADDED":
                return
    raise ClusterError(f"namespace {namespace} got no default ServiceAccount within {timeout:.0f}s "
                       "(is kube-controller-manager running?)")


def recreate_namespace(cluster: Cluster, namespace: str, labels: dict | None = None,
                       timeout: float = 120) -> float:
    """Delete `namespace` with everything in it, create it again empty; seconds it took."""
    started = time.monotonic()
    if cluster.delete("Namespace", namespace):
        wait_gone(cluster, "Namespace", namespace, None, timeout)
    cluster.create("Namespace", {"metadata": {"name": namespace, "labels": labels or {}}})
    wait_default_service_account(cluster, namespace)
    return time.monotonic() - started
