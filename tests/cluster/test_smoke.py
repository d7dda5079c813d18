"""Smoke tests of the course cluster: the API server, controllers and scheduler behave like a
real cluster's in the ways the course relies on."""
from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.cases import REPO
from tests.waiting import watch_gone, watch_until


def nginx_pod(name: str, **resources) -> dict:
    container = {"name": name, "image": "nginx:1.27", "ports": [{"containerPort": 80}]}
    if resources:
        container["resources"] = resources
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container]}}


def is_ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def test_nginx_pod_becomes_ready_within_30s(core, namespace):
    started = time.monotonic()
    core.create_namespaced_pod(namespace, nginx_pod("web"))
    pod = watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "web" and is_ready(p),
                      namespace=namespace, timeout=30, what="pod web Ready")
    assert pod.status.phase == "Running"
    assert pod.spec.node_name, "a Ready pod is bound to a node"
    core.read_node(pod.spec.node_name)  # ... that exists
    assert time.monotonic() - started < 30


def test_quota_refuses_pod_without_requests(core, namespace):
    core.create_namespaced_resource_quota(namespace, {
        "metadata": {"name": "compute"},
        "spec": {"hard": {"requests.cpu": "1", "requests.memory": "1Gi"}}})
    # The quota controller must have computed status.used before admission enforces it.
    watch_until(core.list_namespaced_resource_quota, lambda q: bool(q.status and q.status.used),
                namespace=namespace, timeout=30, what="quota status")
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod(namespace, nginx_pod("no-requests"))
    assert refused.value.status == 403
    assert "must specify" in refused.value.body, refused.value.body
    assert "requests.cpu" in refused.value.body and "requests.memory" in refused.value.body


def test_pod_too_big_for_any_node_fails_scheduling(core, namespace):
    core.create_namespaced_pod(namespace, nginx_pod("hungry", requests={"memory": "256Gi"}))
    event = watch_until(
        core.list_namespaced_event,
        lambda e: e.involved_object.name == "hungry" and e.reason == "FailedScheduling",
        namespace=namespace, timeout=30, what="a FailedScheduling event for pod hungry")
    assert "Insufficient memory" in event.message, event.message
    pod = core.read_namespaced_pod("hungry", namespace)
    assert pod.status.phase == "Pending"
    assert not pod.spec.node_name


def test_namespace_is_deleted_completely_within_60s(core):
    name = f"test-gone-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, {"metadata": {"name": "data"}, "data": {"k": "v"}})
    core.delete_namespace(name)
    took = watch_gone(core.list_namespace, name, timeout=60, what=f"namespace {name}")
    assert took < 60


def test_new_namespace_gets_default_service_account(core):
    name = f"test-sa-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    try:
        sa = watch_until(core.list_namespaced_service_account, lambda s: s.metadata.name == "default",
                         namespace=name, timeout=30, what="ServiceAccount default")
        assert sa.metadata.namespace == name
    finally:
        core.delete_namespace(name)


def test_server_reports_the_pinned_release(kube, core):
    pinned = dict(line.split("=", 1) for line in (REPO / "cluster/versions.env").read_text().splitlines()
                  if line and not line.startswith("#"))["KUBERNETES_VERSION"]
    nodes = core.list_node().items
    info = client.VersionApi(kube).get_code()
    assert (info.major, info.minor) == ("1", pinned.split(".")[1])
    real = [n for n in nodes if (n.metadata.annotations or {}).get("kwok.x-k8s.io/node") != "fake"]
    if any((n.spec.provider_id or "").startswith("kind://") for n in nodes):
        # kind.yaml's pinned image is a patch release of the same minor (the offline image is
        # the course's own build of the pinned one)
        assert info.git_version.startswith(pinned.rsplit(".", 1)[0] + "."), info.git_version
        assert all(n.status.node_info.kubelet_version == info.git_version for n in real)
        return
    assert info.git_version == pinned
    assert all(n.status.node_info.kubelet_version == pinned for n in real)  # the real node's kubelet
