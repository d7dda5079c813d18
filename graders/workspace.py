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


def wait_for(cluster: Cluster, kind: str, namespace: str | None, name: str, ready, timeout: float,
             what: str) -> dict:
    """The object `name` once `ready(object)` holds; watched, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    selector = f"metadata.name={name}"
    while (remaining := deadline - time.monotonic()) > 0:
        listing = cluster.list(kind, namespace, fieldSelector=selector)
        for obj in listing.get("items") or []:
            if ready(obj):
                return obj
        for event, obj in cluster.watch(kind, namespace, listing["metadata"]["resourceVersion"],
                                        remaining, fieldSelector=selector):
            if event in ("ADDED", "MODIFIED") and ready(obj):
                return obj
    raise ClusterError(f"{what} within {timeout:.0f}s")


def wait_quota_taken_in(cluster: Cluster, namespace: str, name: str, timeout: float = 30) -> None:
    """Until the quota controller has computed the quota's status, quota admission refuses
    every pod, and a pod created in the same moment can go uncounted for minutes."""
    wait_for(cluster, "ResourceQuota", namespace, name, lambda quota: bool(quota.get("status", {}).get("hard")),
             timeout, f"ResourceQuota {name} was not taken in by the quota controller")


def wait_default_service_account(cluster: Cluster, namespace: str, timeout: float = 30) -> None:
    """A new namespace refuses pods until its `default` ServiceAccount exists."""
    wait_for(cluster, "ServiceAccount", namespace, "default", lambda _: True, timeout,
             f"namespace {namespace} got no default ServiceAccount (is kube-controller-manager running?)")


def recreate_namespace(cluster: Cluster, namespace: str, labels: dict | None = None,
                       timeout: float = 120) -> float:
    """Delete `namespace` with everything in it, create it again empty; seconds it took."""
    started = time.monotonic()
    if cluster.delete("Namespace", namespace):
        wait_gone(cluster, "Namespace", namespace, None, timeout)
    cluster.create("Namespace", {"metadata": {"name": namespace, "labels": labels or {}}})
    wait_default_service_account(cluster, namespace)
    return time.monotonic() - started
