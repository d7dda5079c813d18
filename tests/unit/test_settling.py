"""How long a running pod must hold its state before a check believes it (graders/settling.py)."""
from graders import settling

NOW = 1_800_000_000.0


def at(seconds_ago: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(NOW - seconds_ago, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(*started_ago: float, liveness: dict | None = None, startup: bool = False,
        ready_ago: float | None = None, restarts: int = 0, reported_ago: float | None = None) -> dict:
    container = {"name": "web", "image": "nginx"}
    if liveness is not None:
        container["livenessProbe"] = {"httpGet": {"path": "/", "port": 80}, **liveness}
    if startup:
        container["startupProbe"] = {"httpGet": {"path": "/", "port": 80}}
    conditions = [] if ready_ago is None else [{"type": "Ready", "status": "True",
                                                "lastTransitionTime": at(ready_ago)}]
    # The kubelet's last change to the status, as the API server stamps it (absent: not said).
    managed = [] if reported_ago is None else [{"manager": "kubelet", "operation": "Update",
                                                "subresource": "status", "time": at(reported_ago)}]
    return {"metadata": {"name": "web", "uid": "u1", "managedFields": [
                {"manager": "kubectl", "operation": "Update", "time": at(600)}, *managed]},
            "spec": {"containers": [container]},
            "status": {"conditions": conditions,
                       "containerStatuses": [{"name": f"c{i}", "restartCount": restarts,
                                              "state": {"running": {"startedAt": at(ago)}}}
                                             for i, ago in enumerate(started_ago)]}}


def test_a_container_holds_for_eight_seconds_by_default():
    assert settling.hold_remaining(pod(1), NOW) == 7
    assert settling.hold_remaining(pod(8), NOW) == 0
    assert settling.hold_remaining(pod(30, 2), NOW) == 6  # the most recent start counts


def test_a_container_that_has_restarted_holds_twice_as_long():
    assert settling.hold_remaining(pod(8, restarts=1), NOW) == 8
    assert settling.hold_remaining(pod(16, restarts=3), NOW) == 0
    assert "ended once" in settling.hold_reason(pod(1, restarts=1))
    assert "8s running" in settling.hold_reason(pod(1))


def test_a_liveness_probe_holds_for_its_whole_failure_window_and_the_restart():
    restart = settling.RESTART_SECONDS
    assert settling.hold_remaining(pod(0, liveness={}), NOW) == 30 + restart  # 0 + 10 x 3, the defaults
    assert settling.hold_remaining(pod(3, liveness={"initialDelaySeconds": 5, "periodSeconds": 2,
                                                    "failureThreshold": 4}), NOW) == 10 + restart
    assert settling.hold_remaining(pod(0, liveness={"periodSeconds": 1, "failureThreshold": 1}), NOW) == 8
    assert settling.hold_remaining(pod(60, liveness={}), NOW) == 0


def test_behind_a_startup_probe_the_liveness_window_counts_from_ready():
    # Liveness probing waits for the startup probe, which succeeds before the pod is Ready.
    restart = settling.RESTART_SECONDS
    assert settling.hold_remaining(pod(20, liveness={}, startup=True, ready_ago=12), NOW) == 18 + restart
    assert settling.hold_remaining(pod(20, liveness={}, ready_ago=12), NOW) == 10 + restart  # no startup probe
    assert settling.hold_remaining(pod(20, liveness={}, startup=True), NOW) == 10 + restart  # not Ready yet


def test_a_pod_not_running_is_not_holding_and_the_next_recheck_is_the_earliest_hold():
    waiting = {"spec": {"containers": []}, "status": {"containerStatuses": [{"state": {"waiting": {}}}]}}
    assert settling.last_start(waiting) is None and settling.hold_remaining(waiting, NOW) == 0
    assert settling.next_recheck([pod(1), pod(5), pod(20), waiting], NOW) == 3
    assert settling.next_recheck([pod(20)], NOW) is None


def test_a_state_the_api_server_shows_lately_holds_from_when_the_grade_first_saw_it():
    # A busy kubelet reported 9 s late that the container runs: it may have ended since.
    late = pod(9, reported_ago=0)
    assert settling.hold_remaining(late, NOW) == 8  # the first sight is now
    sightings = settling.Sightings()
    assert settling.hold_remaining(late, NOW - 3, sightings) == 8
    assert settling.hold_remaining(late, NOW, sightings) == 5  # same pod, same start: seen 3 s ago
    other = pod(9, reported_ago=0)
    other["metadata"]["uid"] = "u2"
    assert settling.hold_remaining(other, NOW, sightings) == 8  # another pod: its own first sight
    assert settling.next_recheck([late], NOW, sightings) == 5
    # restarted since (another start): a new sight, and a restarted container holds 16 s
    assert settling.hold_remaining(pod(1, reported_ago=0, restarts=1), NOW, sightings) == 16


def test_a_status_unchanged_for_the_hold_is_believed_from_the_start():
    assert settling.hold_remaining(pod(30, reported_ago=8), NOW) == 0  # e.g. graded long after it started
    # changed lately, seen first now: it counts once its status has been the same for the hold
    assert settling.hold_remaining(pod(30, reported_ago=7), NOW) == 1
    sightings = settling.Sightings()
    settling.hold_remaining(pod(30, reported_ago=6), NOW - 5, sightings)  # seen 5 s ago
    # the kubelet changed the status since (on cgroup v1 it adds the pod's resources ~7 s after a start)
    assert settling.hold_remaining(pod(30, reported_ago=3), NOW, sightings) == 3  # the sight counts first
    assert settling.hold_remaining(pod(3, reported_ago=20, restarts=2), NOW) == 13  # the start still counts
    assert settling.status_reported(pod(3)) is None  # a recorded snapshot: the start alone counts
