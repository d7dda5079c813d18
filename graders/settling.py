"""When a running pod's state means something. On a cluster whose containers run, a container
can be Running and Ready for a moment and then crash (mariadb without a root password exits
about a second after it starts), and a pod whose liveness probe fails stays Ready until the
probe's patience runs out. So a state check passes only once the pod has held it: every
container running for HELD_SECONDS, and, where liveness probes are declared, for their whole
failure window. The simulated cluster reaches its states at once and keeps them: no hold there."""
from __future__ import annotations

import time
from datetime import datetime

from graders import match

# Longer than the crashes the course shows (a database without its password: ~1 s; an app
# that fails on a missing file or port: a few seconds), short enough for a batch to grade in
# a minute.
HELD_SECONDS = 8.0


def liveness_window(container: dict) -> float:
    """initialDelaySeconds + periodSeconds x failureThreshold of its liveness probe, or 0."""
    probe = container.get("livenessProbe")
    if not probe:
        return 0.0
    return (probe.get("initialDelaySeconds", 0)
            + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3))


def hold_seconds(pod: dict) -> float:
    return max([HELD_SECONDS, *(liveness_window(c) for c in match.dig(pod, "spec", "containers", default=[]))])


def _started(status: dict) -> float | None:
    started = match.dig(status, "state", "running", "startedAt")
    if not started:
        return None
    return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()


def running_for(pod: dict, now: float | None = None) -> float | None:
    """Seconds since the most recent start of any of its containers; None if one is not running."""
    starts = [_started(s) for s in match.dig(pod, "status", "containerStatuses", default=[])]
    if not starts or None in starts:
        return None
    return (now or time.time()) - max(starts)


def hold_remaining(pod: dict, now: float | None = None) -> float:
    """Seconds until the pod's running state has held long enough (0 when it has)."""
    ran = running_for(pod, now)
    if ran is None:
        return 0.0
    return max(0.0, hold_seconds(pod) - ran)


def next_recheck(pods: list[dict], now: float | None = None) -> float | None:
    """Seconds until the earliest hold of these pods ends, or None if none is holding."""
    waits = [w for w in (hold_remaining(p, now) for p in pods) if w > 0]
    return min(waits) if waits else None
