"""How long a running pod must hold its state before a check believes it (graders/settling.py)."""
from graders import settling

NOW = 1_800_000_000.0


def at(seconds_ago: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(NOW - seconds_ago, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(*started_ago: float, liveness: dict | None = None) -> dict:
    container = {"name": "web", "image": "nginx"}
    if liveness is not None:
        container["livenessProbe"] = {"httpGet": {"path": "/", "port": 80}, **liveness}
    return {"spec": {"containers": [container]},
            "status": {"containerStatuses": [{"name": f"c{i}", "state": {"running": {"startedAt": at(ago)}}}
                                             for i, ago in enumerate(started_ago)]}}


def test_a_container_holds_for_eight_seconds_by_default():
    assert settling.hold_remaining(pod(1), NOW) == 7
    assert settling.hold_remaining(pod(8), NOW) == 0
    assert settling.hold_remaining(pod(30, 2), NOW) == 6  # the most recent start counts


def test_a_liveness_probe_holds_for_its_whole_failure_window():
    assert settling.hold_seconds(pod(0, liveness={})) == 30  # 0 + 10 x 3, the defaults
    assert settling.hold_seconds(pod(0, liveness={"initialDelaySeconds": 5, "periodSeconds": 2,
                                                  "failureThreshold": 4})) == 13
    assert settling.hold_seconds(pod(0, liveness={"periodSeconds": 1, "failureThreshold": 1})) == 8


def test_a_pod_not_running_is_not_holding_and_the_next_recheck_is_the_earliest_hold():
    waiting = {"spec": {"containers": []}, "status": {"containerStatuses": [{"state": {"waiting": {}}}]}}
    assert settling.running_for(waiting, NOW) is None and settling.hold_remaining(waiting, NOW) == 0
    assert settling.next_recheck([pod(1), pod(5), pod(20), waiting], NOW) == 3
    assert settling.next_recheck([pod(20)], NOW) is None
