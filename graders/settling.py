"""When a running pod's state means something. On a cluster whose containers run, a container
can be Running and Ready for a moment and then crash (mariadb without a root password exits
about a second after it starts), and a pod whose liveness probe fails stays Ready until the
probe's patience runs out. So a state check passes only once the pod has held it: every
container running for HELD_SECONDS (RESTARTED_HELD_SECONDS once one has ended and been
restarted), and, where liveness probes are declared, for their whole failure window and the
restart it would end in.

A busy node reports late: its kubelet writes the pods' statuses one after another, so a
container can have ended seconds before the API server says so. So the state must also have been
the API server's for the hold: since this grade first saw it (Sightings), or since the kubelet's
last change to the pod's status. A state is believed once the API server has shown it for the
hold, however late it arrived. The simulated cluster reaches its states at once and keeps them: no hold there."""
from __future__ import annotations

import time
from datetime import datetime

from graders import match

# Longer than the crashes the course shows (a database without its password: ~1 s; an app
# that fails on a missing file or port: a few seconds), short enough for a batch to grade in
# a minute.
HELD_SECONDS = 8.0
# A container that has already ended once has shown that it ends, and on a busy node its status
# trails what it does by seconds (seen: 24 replays starting at once, a pod whose app container
# exits at once read as Running and Ready 8 s after its restart). It holds twice as long.
RESTARTED_HELD_SECONDS = 2 * HELD_SECONDS
# From a liveness probe's last failure to the restart showing in the pod's status: the kubelet
# stops the container (nginx ends at once on SIGTERM) and its next status sync reports it.
RESTART_SECONDS = 5.0


def liveness_window(container: dict) -> float:
    """initialDelaySeconds + periodSeconds x failureThreshold of its liveness probe, or 0."""
    probe = container.get("livenessProbe")
    if not probe:
        return 0.0
    return (probe.get("initialDelaySeconds", 0)
            + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3))


class Sightings:
    """When one grade first saw each pod with all its containers running (it reads the namespace
    again at every change, and the hold of a pod whose status is fresh counts from here)."""

    def __init__(self) -> None:
        self._first: dict[tuple, float] = {}

    def first_seen(self, pod: dict, now: float) -> float:
        key = (match.dig(pod, "metadata", "uid"), last_start(pod))
        return self._first.setdefault(key, now)


def _time(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None


def last_start(pod: dict) -> float | None:
    """When the most recently started of its containers started; None if one is not running."""
    starts = [_time(match.dig(s, "state", "running", "startedAt"))
              for s in match.dig(pod, "status", "containerStatuses", default=[])]
    if not starts or None in starts:
        return None
    return max(starts)


def liveness_since(pod: dict, started: float) -> float:
    """When liveness probing began, at the latest: at the start, or, behind a startup probe
    (liveness waits for it to succeed, which comes before Ready), when the pod became Ready."""
    containers = match.dig(pod, "spec", "containers", default=[])
    ready = match.condition(pod, "Ready") or {}
    if any(c.get("startupProbe") for c in containers) and ready.get("status") == "True":
        return max(started, _time(ready.get("lastTransitionTime")) or started)
    return started


def status_reported(pod: dict) -> float | None:
    """When the kubelet last changed the pod's status, by the API server's clock (its managed
    fields' time, in whole seconds); None where the pod does not say (a recorded snapshot)."""
    stamps = [_time(entry.get("time")) for entry in match.dig(pod, "metadata", "managedFields", default=[])
              if entry.get("subresource") == "status" and entry.get("time")]
    return max(stamps) if stamps else None


def hold_remaining(pod: dict, now: float | None = None, sightings: Sightings | None = None) -> float:
    """Seconds until the pod's running state has held long enough (0 when it has, or when it
    is not running: there is nothing to hold). Without `sightings`, this is the first sight."""
    started = last_start(pod)
    if started is None:
        return 0.0
    now = now or time.time()
    held = RESTARTED_HELD_SECONDS if restarted(pod) else HELD_SECONDS
    left = held - (now - started)
    reported = status_reported(pod)
    if reported is not None:
        # It may have arrived late: it must also have been the API server's state for the hold,
        # as this grade saw it, or as the status's last change (none since) says.
        seen = (sightings or Sightings()).first_seen(pod, now)
        left = max(left, min(held - (now - seen), held - (now - reported)))
    window = max([liveness_window(c) for c in match.dig(pod, "spec", "containers", default=[])], default=0)
    if window:
        left = max(left, window + RESTART_SECONDS - (now - liveness_since(pod, started)))
    return max(0.0, left)


def restarted(pod: dict) -> bool:
    """Whether one of its containers has ended and been started again."""
    return any(s.get("restartCount", 0) > 0 for s in match.dig(pod, "status", "containerStatuses", default=[]))


def hold_reason(pod: dict) -> str:
    """Why the pod is held, for a report."""
    if any(liveness_window(c) for c in match.dig(pod, "spec", "containers", default=[])):
        return "its liveness probes' failure window, and the restart it would end in"
    if restarted(pod):
        return (f"{RESTARTED_HELD_SECONDS:.0f}s running, unchanged in the API server: a container of it "
                "has already ended once")
    return (f"{HELD_SECONDS:.0f}s running, unchanged in the API server: a container can crash right after "
            "it starts, and a busy node reports it late")


def next_recheck(pods: list[dict], now: float | None = None, sightings: Sightings | None = None) -> float | None:
    """Seconds until the earliest hold of these pods ends, or None if none is holding."""
    waits = [w for w in (hold_remaining(p, now, sightings) for p in pods) if w > 0]
    return min(waits) if waits else None
