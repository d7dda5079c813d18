"""The cluster's own fences around a grading namespace (graders.containment), tried as the
submitter against the real API server: Pod Security, quota, LimitRange and RBAC refuse what our
file checks would also refuse, and what they do not catch."""
from __future__ import annotations

import shutil
import uuid

import pytest

from graders import labs
from graders.batch import BatchStopped, run
from graders.cluster import Cluster, ClusterError, Forbidden, Refused
from graders.containment import CAP, POD_SECURITY, SUBMITTER, fence
from graders.replay import create_namespace, replay
from graders.store import Store
from tests.batching import grading_namespaces, student_folder
from tests.cases import REPO


def pod(name: str, **container) -> dict:
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx", **container}]}}


@pytest.fixture
def fenced(request):
    """(admin, submitter, namespace) for a fresh grading namespace of the lab given by the test's
    parameter, deleted afterwards."""
    admin = Cluster.connect()
    lab = labs.get(request.param)
    namespace = create_namespace(admin, lab.id, run=f"test-{uuid.uuid4().hex[:6]}")
    try:
        yield admin, fence(admin, namespace, lab), namespace
    finally:
        admin.delete("Namespace", namespace)


@pytest.mark.parametrize("fenced", ["lab1"], indirect=True)
def test_pod_security_baseline_is_enforced_and_its_refusal_quoted(fenced):
    admin, submitter, namespace = fenced
    labels = admin.get("Namespace", namespace)["metadata"]["labels"]
    assert POD_SECURITY.items() <= labels.items()
    cases = {
        "host-path": {"metadata": {"name": "host-path"}, "spec": {
            "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
            "containers": [{"name": "c", "image": "nginx", "volumeMounts": [{"name": "root", "mountPath": "/h"}]}]}},
        "privileged": pod("privileged", securityContext={"privileged": True}),
        "sys-admin": pod("sys-admin", securityContext={"capabilities": {"add": ["SYS_ADMIN"]}}),
        "host-network": {**pod("host-network"), "spec": {**pod("x")["spec"], "hostNetwork": True}},
    }
    for name, body in cases.items():
        with pytest.raises(Refused) as refused:
            submitter.create("Pod", body, namespace)
        assert 'violates PodSecurity "baseline:latest"' in str(refused.value), name
    assert admin.list("Pod", namespace)["items"] == []


@pytest.mark.parametrize("fenced", ["lab1"], indirect=True)
def test_the_submitter_may_only_create_the_labs_kinds_in_its_namespace(fenced):
    admin, submitter, namespace = fenced
    role = admin.get("Role", SUBMITTER, namespace)
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["create", "get"]}]
    submitter.create("Pod", pod("allowed"), namespace)
    assert submitter.get("Pod", "allowed", namespace)["metadata"]["name"] == "allowed"
    denied = [
        lambda: submitter.create("ConfigMap", {"metadata": {"name": "x"}}, namespace),  # lab1: pods only
        lambda: submitter.create("Role", {"metadata": {"name": "x"}, "rules": []}, namespace),
        lambda: submitter.create("RoleBinding", {"metadata": {"name": "x"}, "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": SUBMITTER, "namespace": namespace}]}, namespace),
        lambda: submitter.create("Pod", pod("elsewhere"), "default"),
        lambda: submitter.list("Pod", namespace),
        lambda: submitter.list("Secret", namespace),
        lambda: submitter.delete("ResourceQuota", CAP, namespace),
        lambda: submitter.delete("Pod", "allowed", namespace),
        lambda: submitter.request("PUT", f"/api/v1/namespaces/{namespace}/pods/allowed/status",  # fake state
                                  body={**admin.get("Pod", "allowed", namespace), "status": {"phase": "Running"}}),
        lambda: submitter.request("POST", f"/api/v1/namespaces/{namespace}/pods/allowed/exec",
                                  query={"command": "id", "stdout": "1"}),
        # What behaviour checks read is read by the grader's own identity, never the submitter's.
        lambda: submitter.proxy_get(namespace, "allowed", 80, "/"),
        lambda: submitter.log(namespace, "allowed", "c"),
    ]
    for index, attempt in enumerate(denied):
        with pytest.raises(Forbidden) as error:
            attempt()
        assert f'User "system:serviceaccount:{namespace}:{SUBMITTER}" cannot' in str(error.value), index
    assert admin.get("ResourceQuota", CAP, namespace) is not None
    assert admin.get("Pod", "elsewhere", "default") is None


@pytest.mark.parametrize("fenced", ["lab1"], indirect=True)
def test_quota_and_limit_range_cap_a_lab_that_does_not_judge_resources(fenced):
    admin, submitter, namespace = fenced
    created = submitter.create("Pod", pod("plain"), namespace)
    assert created["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "500m", "memory": "512Mi"}
    with pytest.raises(Refused) as too_big:
        submitter.create("Pod", pod("too-big", resources={"limits": {"memory": "4Gi"}}), namespace)
    assert "maximum memory usage per Container is 2Gi, but limit is 4Gi" in str(too_big.value)
    for index in range(1, 10):
        submitter.create("Pod", pod(f"more-{index}"), namespace)
    with pytest.raises(Refused) as over:
        submitter.create("Pod", pod("eleventh"), namespace)
    assert f"exceeded quota: {CAP}" in str(over.value) and "limited: pods=10" in str(over.value)


@pytest.mark.parametrize("fenced", ["lab5"], indirect=True)
def test_a_lab_that_judges_resources_gets_object_caps_only(fenced):
    admin, submitter, namespace = fenced
    assert admin.get("LimitRange", CAP, namespace) is None
    hard = admin.get("ResourceQuota", CAP, namespace)["spec"]["hard"]
    assert hard["pods"] == "10" and not any(key.startswith(("requests.", "limits.")) for key in hard)
    created = submitter.create("Pod", pod("plain"), namespace)
    assert created["spec"]["containers"][0].get("resources") in (None, {})


def test_admission_refusals_reach_the_report_verbatim(tmp_path):
    """What passes our file checks but not the cluster's fences: quoted in the report's notes."""
    folder = tmp_path / "submission"
    folder.mkdir()
    shutil.copy(REPO / "solutions" / "lab1" / "webserver.yaml", folder)
    (folder / "extra.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: admin-tools}\nspec:\n  containers:\n"
        "  - {name: c, image: busybox, securityContext: {capabilities: {add: [SYS_ADMIN]}}}\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: greedy}\nspec:\n  containers:\n"
        "  - {name: c, image: nginx, resources: {limits: {memory: 64Gi}}}\n")
    report = replay(Cluster.connect(), "lab1", folder, deadline=30)
    assert report.score == report.max_score  # the lab's own pod is graded as usual
    notes = "\n".join(report.notes)
    assert ('extra.yaml, document 1: the API server refused Pod admin-tools: pods "admin-tools" is forbidden: '
            'violates PodSecurity "baseline:latest": non-default capabilities') in notes
    assert ('extra.yaml, document 2: the API server refused Pod greedy: pods "greedy" is forbidden: '
            'maximum memory usage per Container is 2Gi, but limit is 64Gi') in notes


def test_our_own_permission_error_stops_the_batch_and_resume_finishes_it(tmp_path):
    submissions = tmp_path / "subs"
    for student in ("ana", "ben"):
        student_folder(submissions, student, REPO / "solutions" / "lab1", "lab1")
    store = Store(tmp_path / "store.sqlite")
    nobody = Cluster.connect().impersonating("pods-course-nobody")  # an identity without rights
    with pytest.raises(ClusterError) as stopped:
        run(nobody, "lab1", submissions, store, concurrency=2, deadline=30)
    assert isinstance(stopped.value, (BatchStopped, Forbidden)), stopped.value
    assert 'User "pods-course-nobody" cannot' in str(stopped.value)
    assert store.rows("lab1") == []
    rows = run(Cluster.connect(), "lab1", submissions, store, concurrency=2, deadline=30)
    assert [(row.student, row.status, row.score) for row in rows] == [("ana", "graded", 8), ("ben", "graded", 8)]
    assert grading_namespaces(tmp_path / "store.sqlite") == []
    store.close()
