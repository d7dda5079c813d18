"""Handing in a lab whose answer is live objects, not files (lab9, the kubectl drill): the lab's
objects in the learner's namespace, written as clean manifests that create them again, which is
what batch grading and nbgrader replay. `grade hand-in lab9 drill.yaml`."""
from __future__ import annotations

from graders import match
from graders.checks import Lab
from graders.cluster import Cluster

TOKEN_VOLUME = "kube-api-access-"  # the service-account token the API server adds to every pod
# What the cluster filled in: where the pod runs, and the defaults it gives every pod and container
# (left out, so that the file shows what was built; the API server fills them in again).
SERVER_SET = ("nodeName", "priority")
POD_DEFAULTS = {"restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                "serviceAccountName": "default", "serviceAccount": "default", "securityContext": {},
                "schedulerName": "default-scheduler", "enableServiceLinks": True,
                "preemptionPolicy": "PreemptLowerPriority"}
CONTAINER_DEFAULTS = {"terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
                      "resources": {}}
DEFAULT_TOLERATIONS = [{"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": "NoExecute",
                        "tolerationSeconds": 300} for taint in ("not-ready", "unreachable")]


def as_manifest(kind: str, live: dict) -> dict:
    """A live object as a manifest that creates it again: its name, labels, annotations (not
    kubectl's record of the last apply) and data or spec, without what the cluster set."""
    metadata = {"name": live["metadata"]["name"]}
    for field in ("labels", "annotations"):
        values = {k: v for k, v in (live["metadata"].get(field) or {}).items()
                  if k != "kubectl.kubernetes.io/last-applied-configuration"}
        if values:
            metadata[field] = values
    manifest = {"apiVersion": "v1", "kind": kind, "metadata": metadata}
    if kind == "ConfigMap":
        manifest.update({k: live[k] for k in ("data", "binaryData") if k in live})
        return manifest
    spec = {k: v for k, v in live["spec"].items() if k not in SERVER_SET and POD_DEFAULTS.get(k, ...) != v}
    spec["tolerations"] = [t for t in spec.get("tolerations") or [] if t not in DEFAULT_TOLERATIONS]
    spec["volumes"] = [v for v in spec.get("volumes") or [] if not v["name"].startswith(TOKEN_VOLUME)]
    for group in ("initContainers", "containers"):
        spec[group] = [as_container(entry) for entry in spec.get(group) or []]
    manifest["spec"] = {k: v for k, v in spec.items() if v != []}
    return manifest


def as_container(live: dict) -> dict:
    pulled = "Always" if match.image_tag(live.get("image")) in (None, "latest") else "IfNotPresent"
    entry = {k: v for k, v in live.items() if CONTAINER_DEFAULTS.get(k, ...) != v
             and not (k == "imagePullPolicy" and v == pulled)}
    entry["volumeMounts"] = [m for m in entry.get("volumeMounts") or [] if not m["name"].startswith(TOKEN_VOLUME)]
    entry["ports"] = [{k: v for k, v in port.items() if (k, v) != ("protocol", "TCP")}
                      for port in entry.get("ports") or []]
    return {k: v for k, v in entry.items() if v != []}


def manifests(lab: Lab, namespace: str, cluster: Cluster) -> list[dict]:
    """The lab's objects that exist in `namespace`, as manifests that create them again."""
    found = [(kind, cluster.get(kind, name, namespace)) for kind, name in lab.hand_in]
    return [as_manifest(kind, live) for kind, live in found if live]


def as_yaml(lab: Lab, documents: list[dict], namespace: str) -> str:
    import yaml

    header = (f"# {lab.id} - {lab.title}: the objects of namespace {namespace} as they were when handed in\n"
              f"# (grade hand-in {lab.id}). Batch grading creates them again from this file.\n")
    return header + "---\n".join(yaml.safe_dump(document, sort_keys=False) for document in documents)
