"""The simulated kubelet fails like a real one in the course's scenarios (cluster/sim/): exact
states, reasons, exit codes, events and logs, on the simulated cluster."""
from __future__ import annotations

import subprocess
import time

import pytest
import yaml

from tests.cases import REPO
from tests.waiting import watch_until


@pytest.fixture(autouse=True)
def simulated_cluster(core):
    simulated = any((n.metadata.annotations or {}).get("kwok.x-k8s.io/node") for n in core.list_node().items)
    if not simulated:
        pytest.skip("these scenarios are the simulated cluster's own")


def create(core, namespace, manifest: str) -> None:
    for doc in yaml.safe_load_all(manifest):
        core.create_namespaced_pod(namespace, doc)


def pod_named(name):
    return lambda pod: pod.metadata.name == name


def status_of(pod, container="app"):
    statuses = (pod.status.container_statuses or []) + (pod.status.init_container_statuses or [])
    return next((s for s in statuses if s.name == container), None)


def waiting_reason(pod, container="app"):
    status = status_of(pod, container)
    return status and status.state.waiting and status.state.waiting.reason


def is_ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def kubectl(*args) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=30)


def test_lab8_broken_starter_fails_as_on_a_real_cluster_and_the_solution_fixes_it(core, namespace):
    assert kubectl("apply", "-n", namespace, "-f", str(REPO / "labs/lab8/broken.yaml")).returncode == 0
    watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "web"
                and waiting_reason(p, "web") in ("ErrImagePull", "ImagePullBackOff"),
                namespace=namespace, timeout=30, what="web in ErrImagePull or ImagePullBackOff")
    mydb = watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "mydb"
                       and waiting_reason(p, "mydb") == "CrashLoopBackOff" and status_of(p, "mydb").restart_count >= 1,
                       namespace=namespace, timeout=30, what="mydb in CrashLoopBackOff with a restart")
    last = status_of(mydb, "mydb").last_state.terminated
    assert (last.reason, last.exit_code) == ("Error", 1)
    previous = kubectl("logs", "mydb", "-n", namespace, "--previous")
    assert previous.returncode == 0, previous.stderr
    assert "password option is not specified" in previous.stdout
    assert "MARIADB_ROOT_PASSWORD" in previous.stdout and "simulated" in previous.stdout

    assert kubectl("delete", "pod", "web", "mydb", "-n", namespace, "--wait=true").returncode == 0
    assert kubectl("apply", "-n", namespace, "-f", str(REPO / "solutions/lab8")).returncode == 0
    for name in ("web", "mydb"):
        watch_until(core.list_namespaced_pod, lambda p, n=name: p.metadata.name == n and is_ready(p),
                    namespace=namespace, timeout=30, what=f"{name} Ready after the fix")


def test_unknown_image_cannot_be_pulled_and_never_runs(core, namespace):
    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: typo}, "
                            "spec: {containers: [{name: app, image: 'ngnx:1.27'}]}}")
    pulled = watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "typo"
                         and waiting_reason(p) == "ErrImagePull", namespace=namespace, timeout=30, what="ErrImagePull")
    assert 'failed to pull image "ngnx:1.27"' in status_of(pulled).state.waiting.message
    backoff = watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "typo"
                          and waiting_reason(p) == "ImagePullBackOff", namespace=namespace, timeout=30,
                          what="ImagePullBackOff")
    assert backoff.status.phase == "Pending" and not is_ready(backoff)
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=typo").items
    failed = [e for e in events if e.reason == "Failed"]
    assert failed and "simulated" in failed[0].message and failed[0].type == "Warning"


@pytest.mark.parametrize(("env", "memory", "reason", "code"), [
    ([], None, "Error", 1),
    ([{"name": "MARIADB_ROOT_PASSWORD", "value": "x"}], "128Mi", "OOMKilled", 137),
])
def test_database_that_cannot_start_crash_loops(core, namespace, env, memory, reason, code):
    container = {"name": "app", "image": "mariadb:11.4", "env": env}
    if memory:
        container["resources"] = {"limits": {"memory": memory}}
    core.create_namespaced_pod(namespace, {"metadata": {"name": "db"}, "spec": {"containers": [container]}})
    looping = watch_until(core.list_namespaced_pod, lambda p: waiting_reason(p) == "CrashLoopBackOff"
                          and status_of(p).restart_count >= 1, namespace=namespace, timeout=30,
                          what="CrashLoopBackOff")
    last = status_of(looping).last_state.terminated
    assert (last.reason, last.exit_code) == (reason, code)
    assert looping.status.phase == "Running" and not is_ready(looping)
    again = watch_until(core.list_namespaced_pod, lambda p: status_of(p).restart_count >= 2,
                        namespace=namespace, timeout=30, what="a second restart")
    assert status_of(again).restart_count >= 2


# restartPolicy Never on the pod, or on the container itself (container restart rules, on since v1.35)
NEVER = {"pod": ({"restartPolicy": "Never"}, {}), "container": ({}, {"restartPolicy": "Never"})}


@pytest.mark.parametrize("where", NEVER)
def test_database_that_cannot_start_and_may_not_restart_fails_the_pod(core, namespace, where):
    on_pod, on_container = NEVER[where]
    container = {"name": "app", "image": "mariadb:11.4", **on_container}
    core.create_namespaced_pod(namespace, {"metadata": {"name": "db"},
                                           "spec": {**on_pod, "containers": [container]}})
    failed = watch_until(core.list_namespaced_pod, lambda p: p.status.phase == "Failed", namespace=namespace,
                         timeout=30, what="phase Failed")
    ended = status_of(failed).state.terminated
    assert (ended.reason, ended.exit_code, status_of(failed).restart_count) == ("Error", 1, 0)
    time.sleep(12)  # longer than the simulated back-off: nothing restarts it
    later = core.read_namespaced_pod("db", namespace)
    assert later.status.phase == "Failed" and status_of(later).restart_count == 0
    assert status_of(later).state.terminated.reason == "Error"


def test_busybox_command_that_the_image_lacks_cannot_start(core, namespace):
    """As under containerd: RunContainerError with the runtime's message, last state StartError
    128, then CrashLoopBackOff and again; a bare name of one of busybox's programs, a path, or
    another image still runs."""
    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: typo}, spec: {containers: "
                            "[{name: app, image: 'busybox:1.36', command: [sleeep, '10']}, "
                            "{name: fine, image: 'busybox:1.36', command: [sleep, '3600']}]}}")
    failing = watch_until(core.list_namespaced_pod, lambda p: waiting_reason(p) == "RunContainerError",
                          namespace=namespace, timeout=30, what="RunContainerError")
    assert 'exec: "sleeep": executable file not found in $PATH' in status_of(failing).state.waiting.message
    last = status_of(failing).last_state.terminated
    assert (last.reason, last.exit_code) == ("StartError", 128)
    assert failing.status.phase == "Running" and not is_ready(failing)
    assert status_of(failing, "fine").state.running
    again = watch_until(core.list_namespaced_pod, lambda p: waiting_reason(p) == "RunContainerError"
                        and status_of(p).restart_count >= 1, namespace=namespace, timeout=30,
                        what="RunContainerError again after a CrashLoopBackOff")
    assert status_of(again).last_state.terminated.reason == "StartError"
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=typo,reason=Failed").items
    assert any("executable file not found" in e.message for e in events)

    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: fine}, spec: {containers: "
                            "[{name: a, image: busybox, args: [nc, -z, x, '80']}, "
                            "{name: b, image: busybox, command: [/scripts/run.sh]}, "
                            "{name: c, image: nginx, command: [nginx-debug]}]}}")
    watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == "fine" and is_ready(p),
                namespace=namespace, timeout=30, what="fine Ready")


@pytest.mark.parametrize("where", NEVER)
def test_busybox_command_that_the_image_lacks_fails_a_pod_that_may_not_restart(core, namespace, where):
    on_pod, on_container = NEVER[where]
    core.create_namespaced_pod(namespace, {"metadata": {"name": "typo"}, "spec": {**on_pod, "containers": [
        {"name": "app", "image": "busybox", "args": ["sleeep", "10"], **on_container}]}})
    failed = watch_until(core.list_namespaced_pod, lambda p: p.status.phase == "Failed", namespace=namespace,
                         timeout=30, what="phase Failed")
    ended = status_of(failed).state.terminated
    assert (ended.reason, ended.exit_code, status_of(failed).restart_count) == ("StartError", 128, 0)


def test_readiness_probe_on_an_undeclared_port_keeps_the_pod_unready(core, namespace):
    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: probed}, spec: {containers: "
                            "[{name: app, image: nginx, ports: [{containerPort: 80}], "
                            "readinessProbe: {httpGet: {path: /, port: 8080}}}]}}")
    running = watch_until(core.list_namespaced_pod, lambda p: p.status.phase == "Running",
                          namespace=namespace, timeout=30, what="Running")
    assert not is_ready(running) and status_of(running).ready is False
    time.sleep(3)  # it must stay so: nothing will change it, so there is no event to watch for
    assert not is_ready(core.read_namespaced_pod("probed", namespace))


def test_liveness_probe_on_an_undeclared_port_restarts_the_container(core, namespace):
    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: live}, spec: {containers: "
                            "[{name: app, image: nginx, ports: [{containerPort: 80}], "
                            "livenessProbe: {tcpSocket: {port: 9999}}}]}}")
    restarted = watch_until(core.list_namespaced_pod, lambda p: (status_of(p) and status_of(p).restart_count or 0) >= 1,
                            namespace=namespace, timeout=30, what="a restart")
    assert restarted.status.phase == "Running"
    assert status_of(restarted).last_state.terminated.exit_code == 137
    assert status_of(restarted).state.running


def test_init_container_runs_before_the_app(core, namespace):
    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: init}, spec: {initContainers: "
                            "[{name: prepare, image: busybox, command: [sh, -c, 'echo hi > /w/index.html']}], "
                            "containers: [{name: app, image: nginx}]}}")
    initializing = watch_until(core.list_namespaced_pod, lambda p: status_of(p, "prepare") is not None
                               and status_of(p, "prepare").state.running is not None,
                               namespace=namespace, timeout=30, what="prepare running (Init:0/1)")
    assert initializing.status.phase == "Pending" and waiting_reason(initializing) == "PodInitializing"
    assert kubectl("get", "pod", "init", "-n", namespace, "--no-headers").stdout.split()[2] == "Init:0/1"
    ready = watch_until(core.list_namespaced_pod, is_ready, namespace=namespace, timeout=30, what="Ready")
    done = status_of(ready, "prepare").state.terminated
    assert (done.reason, done.exit_code) == ("Completed", 0)


def test_other_pods_keep_running_and_nginx_logs_its_start(core, namespace):
    create(core, namespace, "{kind: Pod, apiVersion: v1, metadata: {name: web}, spec: {containers: "
                            "[{name: web, image: 'docker.io/library/nginx:1.27'}, {name: cache, image: 'httpd:2.4'}]}}")
    watch_until(core.list_namespaced_pod, is_ready, namespace=namespace, timeout=30, what="Ready")
    nginx = kubectl("logs", "web", "-c", "web", "-n", namespace)
    assert "Configuration complete; ready for start up" in nginx.stdout and "simulated" in nginx.stdout
    other = kubectl("logs", "web", "-c", "cache", "-n", namespace)
    assert other.returncode == 0 and "simulated" in other.stdout
