"""What a kind cluster must give the course, beyond what every cluster gives: several nodes of
Kubernetes v1.36, all Ready, with workers a lesson may taint or label; pods on different nodes
reaching each other and a Service by name (kube-proxy, CoreDNS, the pod network); an image typo
failing at once. Runs on kind's context only (make test's kind leg: tests/suite.py)."""
from __future__ import annotations

import subprocess
import time

import pytest
import yaml

from tests.waiting import watch_until

CONTROL_PLANE = "node-role.kubernetes.io/control-plane"


@pytest.fixture(scope="module", autouse=True)
def on_kind(kube):
    from kubernetes import client
    nodes = client.CoreV1Api(kube).list_node().items
    if not all((n.spec.provider_id or "").startswith("kind://") for n in nodes):
        pytest.skip("kind's own tests (make test runs them in its kind leg)")


def workers(core) -> list[str]:
    return sorted(n.metadata.name for n in core.list_node().items if CONTROL_PLANE not in (n.metadata.labels or {}))


def apply(namespace: str, *objects: dict) -> None:
    result = subprocess.run(["kubectl", "apply", "-n", namespace, "-f", "-"], capture_output=True, text=True,
                            input=yaml.safe_dump_all(objects), timeout=30)
    assert result.returncode == 0, result.stderr


def test_nodes_are_the_courses_release_all_ready_with_two_workers(core):
    nodes = core.list_node().items
    versions = {n.metadata.name: n.status.node_info.kubelet_version for n in nodes}
    ready = {n.metadata.name: any(c.type == "Ready" and c.status == "True" for c in n.status.conditions)
             for n in nodes}
    assert all(v.startswith("v1.36.") for v in versions.values()), versions
    assert all(ready.values()), ready
    assert len(workers(core)) == 2, versions


def test_pods_on_two_workers_reach_each_other_and_a_service_by_name(core, namespace):
    first, second = workers(core)
    labels = {"app": "web"}
    apply(namespace,
          {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "labels": labels},
           "spec": {"nodeSelector": {"kubernetes.io/hostname": first},
                    "containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}},
          {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
           "spec": {"selector": labels, "ports": [{"port": 80}]}},
          {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client"},
           "spec": {"nodeSelector": {"kubernetes.io/hostname": second}, "terminationGracePeriodSeconds": 0,
                    "containers": [{"name": "client", "image": "busybox", "command": ["sleep", "3600"]}]}})
    started = time.monotonic()
    for name in ("web", "client"):
        watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and any(
            c.type == "Ready" and c.status == "True" for c in p.status.conditions or []),
            namespace=namespace, timeout=90, what=f"pod {name} Ready")
    web = core.read_namespaced_pod("web", namespace)
    assert web.spec.node_name != core.read_namespaced_pod("client", namespace).spec.node_name
    for target in (web.status.pod_ip, f"web.{namespace}.svc.cluster.local", "web"):
        fetched = subprocess.run(["kubectl", "exec", "-n", namespace, "client", "--", "timeout", "10",
                                  "wget", "-q", "-O-", f"http://{target}/"], capture_output=True, text=True,
                                 timeout=30)
        assert fetched.returncode == 0 and "nginx" in fetched.stdout, (target, fetched.stderr)
    print(f"\n  across nodes: pod address, Service name and short name answered "
          f"{time.monotonic() - started:.1f}s after creation")


def test_an_image_typo_fails_to_pull_within_30s(core, namespace):
    apply(namespace, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "typo"},
                      "spec": {"containers": [{"name": "web", "image": "ngnx"}]}})
    started = time.monotonic()

    def pull_failed(pod) -> bool:
        return any(s.state.waiting and s.state.waiting.reason in ("ErrImagePull", "ImagePullBackOff")
                   for s in pod.status.container_statuses or [])
    watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "typo" and pull_failed(p),
                namespace=namespace, timeout=30, what="ErrImagePull for the image typo ngnx")
    print(f"\n  ngnx: ErrImagePull after {time.monotonic() - started:.1f}s")
