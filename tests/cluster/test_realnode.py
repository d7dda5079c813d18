"""What the course shows happens for real on a cluster whose containers run (the real node;
kind too): processes, sockets, files, signals, cgroup limits. Each test prints the state it
waited for and how long it took (`pytest -s` shows them)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from tests.waiting import watch_until


@pytest.fixture(autouse=True)
def containers_run(core):
    nodes = core.list_node().items
    if any((n.metadata.annotations or {}).get("kwok.x-k8s.io/node") for n in nodes):
        pytest.skip("the simulated cluster runs no containers: these need the real node (or kind)")


def kubectl(*args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, timeout=timeout)


def apply(namespace: str, manifest: str) -> float:
    """Create the pods of `manifest`; return the moment it was done (for timings)."""
    result = subprocess.run(["kubectl", "apply", "-n", namespace, "-f", "-"], input=manifest,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return time.monotonic()


def status_of(pod, container):
    statuses = (pod.status.container_statuses or []) + (pod.status.init_container_statuses or [])
    return next((s for s in statuses if s.name == container), None)


def waiting_reason(pod, container):
    status = status_of(pod, container)
    return status and status.state.waiting and status.state.waiting.reason


def restarts(pod, container) -> int:
    status = status_of(pod, container)
    return status.restart_count if status else 0


def is_ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def wait_pod(core, namespace, name, predicate, what, started, timeout=60):
    pod = watch_until(core.list_namespaced_pod, lambda p: p.metadata.name == name and predicate(p),
                      namespace=namespace, timeout=timeout, what=f"{name}: {what}")
    print(f"\n  {name}: {what} after {time.monotonic() - started:.2f}s")
    return pod


def pod(name, *containers, init=(), **spec) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                           "spec": {"containers": list(containers), "initContainers": list(init),
                                    "terminationGracePeriodSeconds": 1, **spec}})


NGINX = {"name": "web", "image": "nginx:1.27-alpine", "ports": [{"containerPort": 80}]}


def test_sidecar_reaches_nginx_on_localhost_and_exec_runs_in_the_container(core, namespace):
    sidecar = {"name": "poller", "image": "busybox:1.36",
               "command": ["sh", "-c", "while true; do wget -qO- http://localhost/ >/dev/null && echo ok; sleep 1; done"]}
    started = apply(namespace, pod("duo", NGINX, sidecar))
    wait_pod(core, namespace, "duo", is_ready, "Ready (2/2)", started)
    deadline = time.monotonic() + 20
    while "ok" not in kubectl("logs", "duo", "-c", "poller", "-n", namespace).stdout:
        assert time.monotonic() < deadline, "the sidecar never reached nginx on localhost"
        time.sleep(0.5)
    print(f"  duo: the sidecar got nginx's page from localhost after {time.monotonic() - started:.2f}s")
    page = kubectl("exec", "duo", "-c", "poller", "-n", namespace, "--", "wget", "-qO-", "http://localhost/")
    assert page.returncode == 0 and "Welcome to nginx" in page.stdout, page.stderr
    whoami = kubectl("exec", "duo", "-c", "web", "-n", namespace, "--", "sh", "-c", "ps; id -un")
    assert "nginx: master process" in whoami.stdout and "nginx: worker process" in whoami.stdout
    access = kubectl("logs", "duo", "-c", "web", "-n", namespace)
    assert '"GET / HTTP/1.1" 200' in access.stdout  # the access log goes to stdout


def test_port_forward_answers(core, namespace):
    started = apply(namespace, pod("web", NGINX))
    wait_pod(core, namespace, "web", is_ready, "Ready", started)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    forward = subprocess.Popen(["kubectl", "port-forward", "-n", namespace, "pod/web", f"{port}:80"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "Forwarding from 127.0.0.1" in forward.stdout.readline()
        begun = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
            assert answer.status == 200 and b"Welcome to nginx" in answer.read()
        print(f"  web: port-forward answered in {time.monotonic() - begun:.2f}s")
    finally:
        forward.terminate()
        forward.wait(10)


def test_an_empty_dir_is_shared_and_an_init_container_prepares_the_page(core, namespace):
    volume = [{"name": "html", "mountPath": "/usr/share/nginx/html"}]
    writer = {"name": "writer", "image": "busybox:1.36", "volumeMounts": [{"name": "html", "mountPath": "/out"}],
              "command": ["sh", "-c", "while true; do date > /out/now.txt; sleep 1; done"]}
    prepare = {"name": "prepare", "image": "busybox:1.36", "volumeMounts": [{"name": "html", "mountPath": "/out"}],
               "command": ["sh", "-c", "sleep 2; echo prepared by init > /out/index.html"]}
    started = apply(namespace, pod("shared", {**NGINX, "volumeMounts": volume}, writer, init=[prepare],
                                   volumes=[{"name": "html", "emptyDir": {}}]))
    wait_pod(core, namespace, "shared", lambda p: (status_of(p, "prepare") and status_of(p, "prepare").state.running),
             "Init:0/1 (prepare running)", started)
    assert kubectl("get", "pod", "shared", "-n", namespace, "--no-headers").stdout.split()[2] == "Init:0/1"
    ready = wait_pod(core, namespace, "shared", is_ready, "Ready after the init container", started)
    assert status_of(ready, "prepare").state.terminated.exit_code == 0
    page = kubectl("exec", "shared", "-c", "web", "-n", namespace, "--", "wget", "-qO-", "http://localhost/")
    assert page.stdout.strip() == "prepared by init"
    time.sleep(1.5)
    now = kubectl("exec", "shared", "-c", "web", "-n", namespace, "--", "cat", "/usr/share/nginx/html/now.txt")
    assert now.returncode == 0 and now.stdout.strip(), now.stderr


def test_readiness_probe_on_a_wrong_port_keeps_the_pod_unready_with_an_event(core, namespace):
    probed = {**NGINX, "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1}}
    started = apply(namespace, pod("probed", probed))
    wait_pod(core, namespace, "probed", lambda p: p.status.phase == "Running", "Running", started)
    event = watch_until(core.list_namespaced_event, lambda e: e.reason == "Unhealthy"
                        and e.involved_object.name == "probed", namespace=namespace, timeout=30,
                        what="an Unhealthy event")
    print(f"  probed: Unhealthy event after {time.monotonic() - started:.2f}s: {event.message}")
    assert "Readiness probe failed" in event.message and "connection refused" in event.message
    assert not is_ready(core.read_namespaced_pod("probed", namespace))


def test_failing_liveness_probe_restarts_the_container(core, namespace):
    live = {**NGINX, "livenessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1, "failureThreshold": 1}}
    started = apply(namespace, pod("live", live))
    restarted = wait_pod(core, namespace, "live", lambda p: restarts(p, "web") >= 1, "restarted by liveness", started)
    assert status_of(restarted, "web").last_state.terminated is not None
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=live").items
    assert any(e.reason == "Killing" and "failed liveness probe" in e.message for e in events)


def test_memory_hog_is_oom_killed_and_crash_loops(core, namespace):
    hog = {"name": "hog", "image": "busybox:1.36", "resources": {"limits": {"memory": "32Mi"}},
           "command": ["sh", "-c", "x=a; while true; do x=$x$x; done"]}
    started = apply(namespace, pod("hog", hog))
    killed = wait_pod(core, namespace, "hog", lambda p: restarts(p, "hog") >= 1
                      and status_of(p, "hog").last_state.terminated is not None, "OOMKilled and restarted", started)
    last = status_of(killed, "hog").last_state.terminated
    assert (last.reason, last.exit_code) == ("OOMKilled", 137)
    wait_pod(core, namespace, "hog", lambda p: waiting_reason(p, "hog") == "CrashLoopBackOff",
             "CrashLoopBackOff", started)


def test_database_without_a_password_exits_1_and_says_why(core, namespace):
    started = apply(namespace, pod("mydb", {"name": "mydb", "image": "mariadb:11.4"}))
    exited = wait_pod(core, namespace, "mydb", lambda p: restarts(p, "mydb") >= 1, "exited and restarted", started)
    last = status_of(exited, "mydb").last_state.terminated
    assert (last.reason, last.exit_code) == ("Error", 1)
    wait_pod(core, namespace, "mydb", lambda p: waiting_reason(p, "mydb") == "CrashLoopBackOff",
             "CrashLoopBackOff", started)
    previous = kubectl("logs", "mydb", "-n", namespace, "--previous")
    assert previous.returncode == 0, previous.stderr
    assert "Database is uninitialized and password option is not specified" in previous.stdout + previous.stderr


def test_database_with_a_password_answers_a_query(core, namespace):
    db = {"name": "mydb", "image": "mariadb:11.4", "env": [{"name": "MARIADB_ROOT_PASSWORD", "value": "s3cret"},
                                                          {"name": "MARIADB_DATABASE", "value": "shop"}],
          "readinessProbe": {"tcpSocket": {"port": 3306}, "periodSeconds": 1}}
    started = apply(namespace, pod("mydb", db))
    wait_pod(core, namespace, "mydb", is_ready, "Ready (listening on 3306)", started, timeout=90)
    query = kubectl("exec", "mydb", "-n", namespace, "--", "mariadb", "-uroot", "-ps3cret", "-N", "-e",
                    "select 6*7; show databases like 'shop'")
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["42", "shop"]


def test_killing_pid_1_restarts_the_container(core, namespace):
    started = apply(namespace, pod("web", NGINX))
    wait_pod(core, namespace, "web", is_ready, "Ready", started)
    kubectl("exec", "web", "-n", namespace, "--", "kill", "1")
    begun = time.monotonic()
    wait_pod(core, namespace, "web", lambda p: restarts(p, "web") >= 1 and is_ready(p), "restarted after kill 1", begun)


def test_a_command_that_does_not_exist_never_starts(core, namespace):
    started = apply(namespace, pod("typo", {"name": "app", "image": "busybox:1.36", "command": ["sleeep", "3600"]}))
    failed = wait_pod(core, namespace, "typo", lambda p: restarts(p, "app") >= 1
                      and status_of(p, "app").last_state.terminated is not None, "StartError", started)
    last = status_of(failed, "app").last_state.terminated
    assert (last.reason, last.exit_code) == ("StartError", 128)
    assert "executable file not found" in last.message
    wait_pod(core, namespace, "typo", lambda p: waiting_reason(p, "app") in ("RunContainerError", "CrashLoopBackOff"),
             "RunContainerError or CrashLoopBackOff", started)
    events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=typo").items
    assert any(e.reason == "Failed" and "executable file not found" in e.message for e in events)


def test_a_fork_bomb_is_stopped_by_the_pids_limit_and_the_node_goes_on(core, namespace):
    bomb = {"name": "bomb", "image": "busybox:1.36",
            "command": ["sh", "-c", "bomb() { bomb | bomb & }; bomb; sleep 3600"]}
    started = apply(namespace, pod("bomb", bomb))
    wait_pod(core, namespace, "bomb", lambda p: p.status.phase == "Running", "Running", started)
    deadline = time.monotonic() + 30
    while "can't fork" not in (logged := kubectl("logs", "bomb", "-n", namespace).stdout):
        assert time.monotonic() < deadline, f"the fork bomb never hit the pids limit: {logged[-300:]}"
        time.sleep(1)
    print(f"  bomb: hit the pids limit after {time.monotonic() - started:.2f}s")
    begun = apply(namespace, pod("after", NGINX))  # the node still starts other pods
    wait_pod(core, namespace, "after", is_ready, "another pod Ready beside the bomb", begun)
    assert kubectl("delete", "pod", "bomb", "-n", namespace, "--wait=true", timeout=90).returncode == 0


def test_pods_cannot_open_connections_to_the_node_or_the_host(core, namespace):
    """The node's firewall: a service listening on every address of the host is reachable from
    the node's own network namespace, but no pod can open a connection to it, to the kubelet, or
    to the registry; pods still reach each other."""
    listener = socket.create_server(("0.0.0.0", 0))
    port = listener.getsockname()[1]
    try:
        from_node = subprocess.run(["ip", "netns", "exec", "pods-course-node", sys.executable, "-c",
                                    f"import socket; socket.create_connection(('10.213.0.1', {port}), timeout=3)"],
                                   capture_output=True, text=True, timeout=30)
        assert from_node.returncode == 0, f"the control failed: the node cannot reach the host: {from_node.stderr}"
        started = apply(namespace, pod("web", NGINX))
        web = wait_pod(core, namespace, "web", is_ready, "Ready", started)
        targets = [f"10.213.0.1:{port}", "10.213.0.2:10250", "10.213.0.2:5000", f"{web.status.pod_ip}:80"]
        script = "; ".join(f"if nc -z -w 3 {t.replace(':', ' ')}; then echo open {t}; else echo closed {t}; fi"
                           for t in targets)
        begun = apply(namespace, pod("prober", {"name": "prober", "image": "busybox:1.36",
                                                "command": ["sh", "-c", script + "; sleep 3600"]}))
        wait_pod(core, namespace, "prober", lambda p: p.status.phase == "Running", "Running", begun)
        deadline = time.monotonic() + 30
        while (logged := kubectl("logs", "prober", "-n", namespace).stdout).count("\n") < len(targets):
            assert time.monotonic() < deadline, f"the prober did not finish: {logged}"
            time.sleep(0.5)
        assert logged.split("\n")[:len(targets)] == [f"closed {t}" for t in targets[:3]] + [f"open {targets[3]}"]
    finally:
        listener.close()


def test_a_service_gets_a_name_and_an_address_that_pods_reach(core, namespace):
    """The node's kube-proxy and DNS: an init container that waits for a Service by name goes on
    once the Service and a ready backend exist; its ClusterIP and name answer from a pod."""
    waiter = {"name": "wait", "image": "busybox:1.36",
              "command": ["sh", "-c", "until nc -z -w 2 backend 80; do echo waiting for backend; sleep 1; done"]}
    started = apply(namespace, pod("client", {"name": "app", "image": "busybox:1.36", "command": ["sleep", "3600"]},
                                   init=[waiter]))
    wait_pod(core, namespace, "client", lambda p: (status_of(p, "wait") and status_of(p, "wait").state.running),
             "Init:0/1, waiting for backend", started)
    time.sleep(3)
    assert status_of(core.read_namespaced_pod("client", namespace), "wait").state.running, "it did not wait"
    backend = yaml.safe_load(pod("backend", NGINX))
    backend["metadata"]["labels"] = {"app": "backend"}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "backend"},
               "spec": {"selector": {"app": "backend"}, "ports": [{"port": 80, "targetPort": 80}]}}
    begun = apply(namespace, yaml.safe_dump_all([backend, service]))
    wait_pod(core, namespace, "client", is_ready, "Ready once backend answers", begun)
    looked_up = kubectl("exec", "client", "-n", namespace, "--", "nslookup", f"backend.{namespace}.svc.cluster.local")
    cluster_ip = core.read_namespaced_service("backend", namespace).spec.cluster_ip
    assert looked_up.returncode == 0 and cluster_ip in looked_up.stdout, looked_up.stdout + looked_up.stderr
    page = kubectl("exec", "client", "-n", namespace, "--", "wget", "-qO-", "http://backend/")
    assert "Welcome to nginx" in page.stdout, page.stderr
    unknown = kubectl("exec", "client", "-n", namespace, "--", "nslookup", "nothing-here")
    assert unknown.returncode != 0


def webserver(**container) -> str:
    """lab1's webserver pod, with changes to its container."""
    return pod("webserver", {"name": "webserver", "image": "nginx:1.27-alpine",
                             "ports": [{"containerPort": 80}], **container})


@pytest.mark.parametrize(("case", "container"), [
    ("crashes after 1 s", {"command": ["sh", "-c", "sleep 1; exit 1"]}),
    ("crashes after 5 s", {"command": ["sh", "-c", "sleep 5; exit 1"]}),
    ("liveness fails after Ready", {"livenessProbe": {"tcpSocket": {"port": 81}, "initialDelaySeconds": 2,
                                                      "periodSeconds": 1, "failureThreshold": 3}}),
    ("healthy", {}),
])
def test_a_running_state_counts_only_once_it_has_held(namespace, case, container):
    """graders/settling.py: graded with --wait right after apply, a pod that is Running and Ready
    for a moment and then crashes (or is restarted by its liveness probe) never passes."""
    from graders import grade

    apply(namespace, webserver(**container))
    report = grade("lab1", namespace, wait=25)
    running = next(c for c in report.checks if c.id == "running")
    print(f"\n  {case}: running {running.status.value} after {report.seconds:.1f}s: {running.message}")
    if case == "healthy":
        assert running.status.value == "passed", str(report)
    else:
        assert running.status.value in ("failed", "pending"), str(report)
