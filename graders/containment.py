"""The cluster's own fences around a grading namespace, so that a submission is contained by
the API server and not only by our file checks (graders.submission):

- Pod Security admission enforces `baseline` (no privileged pods, host paths, host namespaces
  or host ports) and warns on `restricted` (the labs' nginx runs as root, so not enforced);
- a ResourceQuota caps how many objects the namespace may hold and, where the lab does not
  judge requests and limits, how much cpu and memory; a LimitRange there gives every container
  limits (a container without limits could use a whole node on a real cluster);
- the manifests are created as the namespace's ServiceAccount `submitter`, whose Role may only
  create (and read back) the kinds the lab allows in that namespace (no list, update, delete,
  exec, or RBAC).
"""
from __future__ import annotations

import time

from graders.checks import Lab
from graders.cluster import KINDS, Cluster, ClusterError
from graders.workspace import wait_quota_taken_in

SUBMITTER = "submitter"
CAP = "pods-course-cap"  # the name of our ResourceQuota and LimitRange in a grading namespace

POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
}

# Every lab needs a few objects; our own quota and the learner's (lab6) count as resourcequotas.
OBJECT_CAPS = {"pods": "10", "configmaps": "10", "secrets": "10", "resourcequotas": "3",
               "services": "0", "persistentvolumeclaims": "0", "replicationcontrollers": "0"}
COMPUTE_CAPS = {"requests.cpu": "4", "requests.memory": "4Gi", "limits.cpu": "8", "limits.memory": "8Gi"}
CONTAINER_LIMITS = {
    "type": "Container",
    "default": {"cpu": "500m", "memory": "512Mi"},  # above the simulated OOM threshold (256Mi)
    "defaultRequest": {"cpu": "50m", "memory": "64Mi"},
    "max": {"cpu": "2", "memory": "2Gi"},
}


def submitter_user(namespace: str) -> str:
    return f"system:serviceaccount:{namespace}:{SUBMITTER}"


def fence(cluster: Cluster, namespace: str, lab: Lab, timeout: float = 30) -> Cluster:
    """Put the caps and the submitter's rights in place in `namespace` (already labelled with
    POD_SECURITY) and return the cluster as seen by the submitter, once the API server enforces
    all of it."""
    hard = dict(OBJECT_CAPS)
    if not lab.judges_resources:
        cluster.create("LimitRange", {"metadata": {"name": CAP}, "spec": {"limits": [CONTAINER_LIMITS]}},
                       namespace)
        hard.update(COMPUTE_CAPS)
    cluster.create("ResourceQuota", {"metadata": {"name": CAP}, "spec": {"hard": hard}}, namespace)
    resources = sorted({KINDS[kind][1] for kind in lab.kinds})
    cluster.create("ServiceAccount", {"metadata": {"name": SUBMITTER}}, namespace)
    # `get`: a create whose answer was lost is read back before it is tried again (graders.cluster).
    cluster.create("Role", {"metadata": {"name": SUBMITTER}, "rules": [
        {"apiGroups": [""], "resources": resources, "verbs": ["create", "get"]}]}, namespace)
    cluster.create("RoleBinding", {
        "metadata": {"name": SUBMITTER},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SUBMITTER},
        "subjects": [{"kind": "ServiceAccount", "name": SUBMITTER, "namespace": namespace}]}, namespace)
    wait_quota_taken_in(cluster, namespace, CAP, timeout)
    _wait_until_allowed(cluster, namespace, resources, timeout)
    return cluster.impersonating(submitter_user(namespace))


def _wait_until_allowed(cluster: Cluster, namespace: str, resources: list[str], timeout: float) -> None:
    """RBAC reads Roles and RoleBindings from a cache: ask it until the new ones are in."""
    deadline = time.monotonic() + timeout
    for resource in resources:
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": {
            "user": submitter_user(namespace),
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{namespace}", "system:authenticated"],
            "resourceAttributes": {"namespace": namespace, "verb": "create", "resource": resource}}}
        while not cluster.create("SubjectAccessReview", review).get("status", {}).get("allowed"):
            if time.monotonic() > deadline:
                raise ClusterError(f"the API server did not let {SUBMITTER} create {resource} in "
                                   f"{namespace} within {timeout:.0f}s (is RBAC authorization on?)")
            time.sleep(0.05)
