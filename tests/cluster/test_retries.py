"""The one retry wrapper (graders.cluster.Cluster.request and .watch) against the real API server
behind the fault proxy: a total deadline per call, reads retried, writes never done twice,
429 and 503 waited out as the server asks, a restarting server waited for, watches resumed."""
from __future__ import annotations

import threading
import time
import uuid

import pytest

from graders import kubeconfig
from graders.cluster import ApiError, Cluster, ClusterError, Unavailable, Unreachable
from graders.snapshot import Snapshot
from tests.faultproxy import FaultProxy, Rule


@pytest.fixture
def proxy(kube):
    running = FaultProxy().start()
    yield running
    running.close()


def through(proxy: FaultProxy, timeout: float = 10.0) -> Cluster:
    cluster = Cluster(kubeconfig.Connection(context="faultproxy", server=proxy.url), timeout)
    cluster.list("Namespace", limit=1)  # it has answered: a refusal from now on is a restart
    return cluster


def config_map(name: str | None = None) -> dict:
    return {"metadata": {"name": name or f"cm-{uuid.uuid4().hex[:8]}"}, "data": {"k": "v"}}


def seconds(call) -> tuple[float, object]:
    started = time.monotonic()
    try:
        outcome = call()
    except ClusterError as error:  # the caller asserts what it should have been
        outcome = error
    return time.monotonic() - started, outcome


def test_a_get_to_a_hung_server_gives_up_at_its_deadline(proxy, namespace):
    cluster = through(proxy, timeout=2)
    proxy.rules = [Rule("hang", method="GET", seconds=60)]
    took, outcome = seconds(lambda: cluster.get("ConfigMap", "kube-root-ca.crt", namespace))
    assert isinstance(outcome, Unreachable) and "ReadTimeoutError" in str(outcome), outcome
    assert 1.9 < took < 2.5, took  # not urllib3's 4 attempts (8 s and more)
    assert proxy.injected["hang"] == 1
    # Given more time than one attempt, it tries again, and still ends by the deadline (early
    # when the next pause would cross it).
    took, outcome = seconds(lambda: cluster.request("GET", "/api/v1/namespaces", timeout=1, deadline=3.5))
    assert isinstance(outcome, Unreachable) and 2.5 < took < 3.7, (took, outcome)
    assert proxy.injected["hang"] >= 3


def test_a_create_whose_answer_was_lost_is_reported_created_and_made_once(proxy, namespace, core):
    cluster = through(proxy)
    proxy.rules = [Rule("reset-after", method="POST", path="/configmaps", times=1)]
    created = cluster.create("ConfigMap", config_map("lost-answer"), namespace)
    assert created["metadata"]["name"] == "lost-answer" and created["data"] == {"k": "v"}
    assert proxy.injected["reset-after"] == 1
    posts = [entry for entry in proxy.log if entry[0] == "POST"]
    assert posts == [("POST", f"/api/v1/namespaces/{namespace}/configmaps", "reset-after")], posts
    names = [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items]
    assert names.count("lost-answer") == 1


def test_a_create_that_never_arrived_is_sent_again(proxy, namespace, core):
    cluster = through(proxy)
    proxy.rules = [Rule("reset", method="POST", path="/configmaps", times=2)]
    assert cluster.create("ConfigMap", config_map("resent"), namespace)["metadata"]["name"] == "resent"
    assert proxy.injected["reset"] == 2
    assert core.read_namespaced_config_map("resent", namespace).data == {"k": "v"}


def test_a_create_answered_too_late_is_not_made_twice(proxy, namespace, core):
    """The first attempt times out at the client but lands afterwards: the retry must neither
    fail with 409 nor leave two objects."""
    cluster = through(proxy, timeout=1)
    proxy.rules = [Rule("delay", method="POST", path="/configmaps", seconds=2.5, times=1)]
    created = cluster.request("POST", f"/api/v1/namespaces/{namespace}/configmaps",
                              body=config_map("late"), deadline=8)
    assert created["metadata"]["name"] == "late"
    time.sleep(2)  # until the delayed first attempt has reached the API server (and been refused)
    assert [cm.metadata.name for cm in core.list_namespaced_config_map(namespace).items].count("late") == 1
    assert proxy.injected["delay"] == 1


def test_a_delete_whose_answer_was_lost_counts_as_done(proxy, namespace, core):
    core.create_namespaced_config_map(namespace, config_map("doomed"))
    cluster = through(proxy)
    proxy.rules = [Rule("reset-after", method="DELETE", times=1)]
    assert cluster.delete("ConfigMap", "doomed", namespace) is True
    assert proxy.injected["reset-after"] == 1
    assert cluster.get("ConfigMap", "doomed", namespace) is None


def test_429_and_503_are_retried_after_their_retry_after(proxy, namespace):
    cluster = through(proxy)
    proxy.rules = [Rule("429", method="GET", seconds=1, times=2)]
    took, listing = seconds(lambda: cluster.list("ConfigMap", namespace))
    assert isinstance(listing, dict) and 2.0 <= took < 3.0, (took, listing)
    proxy.rules = [Rule("503", method="POST", seconds=1, times=1), Rule("429", method="POST", seconds=1, times=1)]
    took, created = seconds(lambda: cluster.create("ConfigMap", config_map("busy"), namespace))
    assert isinstance(created, dict) and created["metadata"]["name"] == "busy", created
    assert 2.0 <= took < 3.0 and proxy.injected == {"429": 3, "503": 1}


def test_429_to_the_end_is_unavailable_never_the_api_servers_verdict(proxy, namespace):
    """A dry run answered 429 until the deadline must not become a 'refused' verdict (lab6
    defaults-admit), nor a create's 429 an object 'the API server refused'."""
    cluster = through(proxy, timeout=3)
    proxy.rules = [Rule("429", method="POST", seconds=1)]
    took, outcome = seconds(lambda: Snapshot(cluster, namespace).refused("ConfigMap", config_map()))
    assert isinstance(outcome, Unavailable) and not isinstance(outcome, ApiError), outcome
    assert "429" in str(outcome) and took < 3.2, (took, outcome)
    took, outcome = seconds(lambda: cluster.create("ConfigMap", config_map(), namespace))
    assert isinstance(outcome, Unavailable) and not isinstance(outcome, ApiError), outcome
    assert proxy.injected["429"] >= 4


def test_a_restarting_server_is_waited_for_within_the_deadline(proxy, namespace):
    cluster = through(proxy, timeout=6)
    proxy.rules = [Rule("stop", method="GET", seconds=2, times=1)]
    took, found = seconds(lambda: cluster.get("ConfigMap", "kube-root-ca.crt", namespace))
    assert isinstance(found, dict) and 2.0 <= took < 4.5, (took, found)
    proxy.rules = [Rule("stop", method="GET", seconds=20, times=1)]
    took, outcome = seconds(lambda: cluster.get("ConfigMap", "kube-root-ca.crt", namespace))
    assert isinstance(outcome, Unreachable) and "refused" in str(outcome) and took < 6.2, (took, outcome)
    assert proxy.injected["stop"] == 2


def test_a_server_that_never_answered_is_reported_at_once(proxy):
    proxy.stop()
    cluster = Cluster(kubeconfig.Connection(context="gone", server=proxy.url), timeout=10)
    took, outcome = seconds(lambda: cluster.list("Namespace"))
    assert isinstance(outcome, Unreachable) and took < 1, (took, outcome)


def test_a_broken_watch_resumes_without_losing_or_repeating_events(proxy, namespace, core):
    cluster = through(proxy)
    version = cluster.list("ConfigMap", namespace)["metadata"]["resourceVersion"]
    proxy.rules = [Rule("cut", path="watch=1", times=3), Rule("reset", path="watch=1", times=2),
                   Rule("503", path="watch=1", seconds=1, times=1)]
    names = [f"w{index}" for index in range(4)]

    def create_slowly():
        for name in names:
            time.sleep(0.4)
            core.create_namespaced_config_map(namespace, config_map(name))

    threading.Thread(target=create_slowly, daemon=True).start()
    seen = []
    for event, obj in cluster.watch("ConfigMap", namespace, version, 15):
        if obj["metadata"]["name"] == "kube-root-ca.crt":
            continue  # the controller manager's, whenever it gets to this new namespace
        seen.append((event, obj["metadata"]["name"]))
        if len(seen) == len(names):
            break
    assert seen == [("ADDED", name) for name in names]
    assert proxy.injected["cut"] == 3 and proxy.injected["reset"] == 2 and proxy.injected["503"] == 1
