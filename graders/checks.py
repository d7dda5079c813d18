"""The check vocabulary. A lab is a list of checks; a check is a value (id, title, points, hint)
with a judge: a function of a Snapshot returning an Outcome. Judges never raise for a learner's
mistake; they raise Blocked when what they would judge is missing. The helpers below are the
questions labs ask, each answering with the field path, expected and actual."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from graders import match, settling
from graders.cluster import ClusterError
from graders.results import CheckResult, Outcome, Status
from graders.snapshot import Blocked, Snapshot

Judge = Callable[[Snapshot], Outcome]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    judge: Judge
    points: float = 1
    hint: str = ""
    requires: tuple[str, ...] = ()  # checks that must pass before this one can be judged

    def run(self, snapshot: Snapshot, earlier: dict[str, CheckResult]) -> CheckResult:
        unmet = [id for id in self.requires if earlier[id].status is not Status.PASSED]
        try:
            if unmet:
                raise Blocked(f"judged once {', '.join(unmet)} passes")
            outcome = self.judge(snapshot)
        except Blocked as reason:
            outcome = Outcome.blocked(str(reason))
        except ClusterError as error:
            outcome = Outcome.error(f"could not read the cluster: {error}")
        except Exception as error:  # a grader bug must not become the learner's zero
            outcome = Outcome.error(f"grader error ({type(error).__name__}: {error}); please report it")
        return CheckResult(
            id=self.id, title=self.title, status=outcome.status,
            points=self.points if outcome.status is Status.PASSED else 0, max_points=self.points,
            message=outcome.message, where=outcome.where, path=outcome.path,
            expected=_plain(outcome.expected), actual=_plain(outcome.actual),
            hint=self.hint if outcome.status is Status.FAILED else "")


def _plain(value):
    """Values as JSON can carry them (quantities are Decimals)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


class Lab:
    def __init__(self, id: str, title: str, *, objects: str = "", kinds: tuple[str, ...] = ("Pod",),
                 judges_resources: bool = False):
        self.id = id
        self.title = title
        self.objects = objects  # what the learner builds, for `grade list`
        self.kinds = kinds  # what a submission may create (batch grading)
        # Whether checks read requests and limits: batch grading then may not cap cpu and memory
        # in the grading namespace (its LimitRange would fill them in and change the verdicts).
        self.judges_resources = judges_resources
        self.checks: list[Check] = []

    def check(self, id: str, title: str, *, hint: str = "", points: float = 1, requires: tuple[str, ...] = ()):
        """Decorator: register the function as the judge of check `id`. A check that `requires`
        others is blocked, not judged, until they pass (one root cause fails once)."""
        known = {existing.id for existing in self.checks}
        if id in known:
            raise ValueError(f"{self.id}: check id {id!r} used twice")
        if set(requires) - known:
            raise ValueError(f"{self.id}: {id} requires checks defined before it: {sorted(set(requires) - known)}")

        def register(judge: Judge) -> Judge:
            self.checks.append(Check(id, title, judge, points, hint, tuple(requires)))
            return judge
        return register

    @property
    def max_score(self) -> float:
        return sum(check.points for check in self.checks)

    def evaluate(self, snapshot: Snapshot) -> tuple[CheckResult, ...]:
        results: dict[str, CheckResult] = {}
        for check in self.checks:
            results[check.id] = check.run(snapshot, results)
        return tuple(results.values())


# --- finding things ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ContainerRef:
    """A container found by name in a pod, with where it sits."""
    pod: dict
    container: dict
    field: str  # "containers" or "initContainers"

    @property
    def name(self) -> str:
        return self.container["name"]

    @property
    def where(self) -> str:
        return f'pod/{self.pod["metadata"]["name"]} container "{self.name}"'

    def path(self, *rest: str) -> str:
        return ".".join([f"spec.{self.field}[name={self.name}]", *rest])


def container(snapshot: Snapshot, pod_name: str, name: str, *, init: bool = True) -> ContainerRef:
    """The container `name` of pod `pod_name` (regular, or init/native sidecar when `init`)."""
    pod = snapshot.pod(pod_name)
    found = match.find_container(pod, name, init=init)
    if found is None:
        raise Blocked(f'pod/{pod_name} has no container named "{name}"')
    return ContainerRef(pod, found[1], found[0])


def names(pod: dict, field: str = "containers") -> list[str]:
    return [c.get("name") for c in match.dig(pod, "spec", field, default=[])]


# --- questions --------------------------------------------------------------------------------

def exists(snapshot: Snapshot, kind: str, name: str) -> Outcome:
    if snapshot.get(kind, name) is not None:
        return Outcome.passed(f"{kind} {name} exists", where=f"{kind.lower()}/{name}")
    return Outcome.failed(f"{kind} {name} was not found in namespace {snapshot.namespace}",
                          where=f"{kind.lower()}/{name}", expected=f"a {kind} named {name}",
                          actual="nothing with that name")


def missing(snapshot: Snapshot, kind: str, name: str) -> Outcome | None:
    """A failed outcome when the object does not exist, else None. For the first check that
    looks at an object when the lab has no `*-exists` check of its own:
    `return missing(s, "Pod", "hungry") or ...`."""
    found = exists(snapshot, kind, name)
    return found if found.status is Status.FAILED else None


def container_exists(snapshot: Snapshot, pod_name: str, name: str, *, init: bool = True) -> Outcome:
    pod = snapshot.pod(pod_name)
    if match.find_container(pod, name, init=init):
        return Outcome.passed()
    fields = "containers" + (" or initContainers" if init else "")
    actual = names(pod) + (names(pod, "initContainers") if init else [])
    return Outcome.failed(f'no container named "{name}"', where=f"pod/{pod_name}",
                          path=f"spec.{fields.split()[0]}[*].name", expected=name, actual=actual)


def runs_image(ref: ContainerRef, repository: str) -> Outcome:
    image = ref.container.get("image")
    if match.runs_image(image, repository):
        return Outcome.passed()
    return Outcome.failed(f"runs {image!r}, not {repository}", where=ref.where, path=ref.path("image"),
                          expected=f"{repository} (any tag or digest)", actual=image)


def declares_port(ref: ContainerRef, port: int, protocol: str = "TCP") -> Outcome:
    declared = ref.container.get("ports") or []
    for entry in declared:
        if entry.get("containerPort") == port and entry.get("protocol", "TCP") == protocol:
            return Outcome.passed()
    actual = [f'{p.get("containerPort")}/{p.get("protocol", "TCP")}' for p in declared] or None
    return Outcome.failed(f"does not declare containerPort {port} ({protocol})", where=ref.where,
                          path=ref.path("ports"), expected=f"containerPort: {port} ({protocol})",
                          actual=actual or "no ports")


def has_label(snapshot: Snapshot, kind: str, name: str, key: str, value: str) -> Outcome:
    obj = snapshot.require(kind, name)
    labels = match.dig(obj, "metadata", "labels", default={})
    if labels.get(key) == value:
        return Outcome.passed()
    found = f"label {key} is {labels[key]!r}" if key in labels else f"no label {key}"
    return Outcome.failed(found, where=f"{kind.lower()}/{name}",
                          path=f"metadata.labels.{key}", expected=value,
                          actual=labels.get(key) if key in labels else f"no label {key} (labels: {labels or 'none'})")


def mount_of(ref: ContainerRef, volume_name: str) -> dict | None:
    for mount in match.mounts(ref.container):
        if mount.get("name") == volume_name:
            return mount
    return None


def emptydir_volumes(pod: dict) -> list[str]:
    return [v["name"] for v in match.dig(pod, "spec", "volumes", default=[]) if "emptyDir" in v]


# --- state ------------------------------------------------------------------------------------

# Waiting reasons after which a container will not start without a change to the pod.
STUCK_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff",
                 "CreateContainerConfigError", "CreateContainerError", "RunContainerError"}


def ready(snapshot: Snapshot, pod_name: str, containers: list[str] = ()) -> Outcome:
    """Pod Ready=True (and each named container ready), on a node that exists. Still starting is
    `pending`; a state that will not resolve by itself (unschedulable, image pull or crash loop,
    finished) is `failed`."""
    pod = snapshot.pod(pod_name)
    where = f"pod/{pod_name}"
    problem = settled_problem(snapshot, pod)
    if problem:
        return problem
    phase = match.dig(pod, "status", "phase", default="Pending")
    cond = match.condition(pod, "Ready") or {}
    for name in containers:
        if match.find_container(pod, name) is None:
            raise Blocked(f'pod/{pod_name} has no container named "{name}"')
    if phase == "Running" and cond.get("status") == "True":
        for name in containers:
            status = match.container_status(pod, name) or {}
            if not status.get("ready"):
                return Outcome.pending(f'container "{name}" is not ready yet', where)
        if not snapshot.simulated and (left := settling.hold_remaining(pod)) > 0:
            held = settling.hold_seconds(pod)
            why = ("its liveness probes' failure window" if held > settling.HELD_SECONDS
                   else "a container can crash right after it starts")
            return Outcome.pending(f"Running and Ready, for {held - left:.0f}s: it counts once it has "
                                   f"held for {held:.0f}s ({why})", where)
        return Outcome.passed(f"Running and Ready on node {pod['spec']['nodeName']}", where)
    detail = cond.get("message") or cond.get("reason") or "containers are starting"
    return Outcome.pending(f"phase {phase}, Ready={cond.get('status', 'Unknown')}: {detail}", where)


def settled_problem(snapshot: Snapshot, pod: dict) -> Outcome | None:
    """A failure the pod will not recover from by itself, or None."""
    name = pod["metadata"]["name"]
    where = f"pod/{name}"
    if pod["metadata"].get("deletionTimestamp"):
        return Outcome.pending("the pod is being deleted", where)
    node = match.dig(pod, "spec", "nodeName")
    if not node:
        scheduled = match.condition(pod, "PodScheduled") or {}
        if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
            return Outcome.failed("the scheduler cannot place the pod on any node", where=where,
                                  path="status.conditions[type=PodScheduled]",
                                  expected="PodScheduled=True",
                                  actual=scheduled.get("message") or "Unschedulable")
        return Outcome.pending("waiting to be scheduled", where)
    nodes = snapshot.nodes()
    if nodes is not None and node not in nodes:
        return Outcome.failed(f"bound to node {node!r}, which does not exist: its status cannot be "
                              "trusted", where=where, path="spec.nodeName",
                              expected="a node of the cluster", actual=node)
    phase = match.dig(pod, "status", "phase")
    if phase in ("Failed", "Succeeded"):
        return Outcome.failed(f"the pod has finished (phase {phase}); a server must keep running",
                              where=where, path="status.phase", expected="Running", actual=phase)
    for field in ("initContainerStatuses", "containerStatuses"):
        for status in match.dig(pod, "status", field, default=[]):
            name, path = status["name"], f"status.{field}[name={status['name']}].state"
            waiting = match.dig(status, "state", "waiting", default={})
            if waiting.get("reason") in STUCK_REASONS:
                return Outcome.failed(
                    f'container "{name}" is stuck in {waiting["reason"]}', where=where, path=path + ".waiting",
                    expected="running", actual=f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": "))
            ended = match.dig(status, "state", "terminated", default={})
            if ended and ended.get("exitCode") != 0:
                return Outcome.failed(
                    f'container "{name}" exited with code {ended.get("exitCode")} ({ended.get("reason")}) '
                    "and is being restarted", where=where, path=path + ".terminated",
                    expected="running", actual=f"{ended.get('reason')}, exit code {ended.get('exitCode')}")
    return None


def restarts(snapshot: Snapshot, pod_name: str, container_name: str, at_most: int = 0) -> Outcome:
    pod = snapshot.pod(pod_name)
    status = match.container_status(pod, container_name)
    if status is None:
        return Outcome.pending(f'container "{container_name}" has not started yet', f"pod/{pod_name}")
    count = status.get("restartCount", 0)
    if count <= at_most:
        return Outcome.passed()
    return Outcome.failed(f'container "{container_name}" restarted {count} time(s)',
                          where=f"pod/{pod_name}",
                          path=f"status.containerStatuses[name={container_name}].restartCount",
                          expected=f"at most {at_most}", actual=count)


def all_of(*outcomes: Outcome) -> Outcome:
    """The first outcome that is not passed (failed before pending), else passed."""
    for status in (Status.ERROR, Status.FAILED, Status.BLOCKED, Status.PENDING):
        for outcome in outcomes:
            if outcome.status is status:
                return outcome
    return Outcome.passed()
