"""The check vocabulary. A lab is a list of checks; a check is a value (id, title, points, hint)
with a judge: a function of a Snapshot returning an Outcome. Judges never raise for a learner's
mistake; they raise Blocked when what they would judge is missing. The helpers below are the
questions labs ask, each answering with the field path, expected and actual."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graders import match, settling
from graders.cluster import Answer, ClusterError, status_message
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
    behaviour: bool = False  # judges what the pod does (answers, logs) where containers run

    def run(self, snapshot: Snapshot, earlier: dict[str, CheckResult]) -> CheckResult:
        unmet = [id for id in self.requires if earlier[id].status is not Status.PASSED]
        from_manifest = False
        try:
            if unmet:
                # Name the root cause too: what the unmet checks are blocked on, once each.
                causes = dict.fromkeys(earlier[id].message for id in unmet if earlier[id].status is Status.BLOCKED)
                raise Blocked(f"judged once {', '.join(unmet)} {'passes' if len(unmet) == 1 else 'pass'}"
                              + (f" ({'; '.join(causes)})" if causes else ""))
            if self.behaviour and snapshot.simulated:
                from_manifest = True
                outcome = Outcome.passed(f"judged from the manifest ({', '.join(self.requires)} pass): "
                                         "the simulated cluster runs no containers to ask")
            else:
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
            hint=self.hint if outcome.status is Status.FAILED else "", from_manifest=from_manifest)


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
                 judges_resources: bool = False, namespace: str | None = None,
                 hand_in: tuple[tuple[str, str], ...] = ()):
        self.id = id
        self.title = title
        self.namespace = namespace or id  # where it is graded unless told otherwise
        # (kind, name) of the objects `grade hand-in` writes out, for a lab answered with commands
        self.hand_in = hand_in
        self.objects = objects  # what the learner builds, for `grade list`
        self.kinds = kinds  # what a submission may create (batch grading)
        # Whether checks read requests and limits: batch grading then may not cap cpu and memory
        # in the grading namespace (its LimitRange would fill them in and change the verdicts).
        self.judges_resources = judges_resources
        self.checks: list[Check] = []

    def check(self, id: str, title: str, *, hint: str = "", points: float = 1, requires: tuple[str, ...] = (),
              behaviour: bool = False):
        """Decorator: register the function as the judge of check `id`. A check that `requires`
        others is blocked, not judged, until they pass (one root cause fails once). A
        `behaviour` check asks the pod itself (graders.checks' behaviour questions); where the
        cluster runs no containers it passes once what it requires passes (LABS.md)."""
        if behaviour and not requires:
            raise ValueError(f"{self.id}: behaviour check {id} must require the checks it builds on")
        known = {existing.id for existing in self.checks}
        if id in known:
            raise ValueError(f"{self.id}: check id {id!r} used twice")
        if set(requires) - known:
            raise ValueError(f"{self.id}: {id} requires checks defined before it: {sorted(set(requires) - known)}")

        def register(judge: Judge) -> Judge:
            self.checks.append(Check(id, title, judge, points, hint, tuple(requires), behaviour))
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


def real_init_container(snapshot: Snapshot, pod_name: str, name: str) -> Outcome:
    """Whether `name` is an init container that runs to completion before the others start: under
    spec.initContainers, and not a native sidecar (restartPolicy: Always)."""
    pod = snapshot.pod(pod_name)
    found = match.find_container(pod, name)
    if found is None:
        return Outcome.failed(f'no container named "{name}"', where=f"pod/{pod_name}",
                              path="spec.initContainers[*].name", expected=name,
                              actual=[c.get("name") for c in match.dig(pod, "spec", "initContainers", default=[])])
    field, found_container = found
    if field != "initContainers":
        return Outcome.failed(f"{name} is an app container, so it runs beside the others instead of before them",
                              where=f"pod/{pod_name}", path=f"spec.containers[name={name}]",
                              expected=f"spec.initContainers[name={name}]", actual=f"spec.containers[name={name}]")
    if match.is_native_sidecar(found_container):
        return Outcome.failed(f"{name} has restartPolicy: Always, which makes it a native sidecar that never completes",
                              where=f"pod/{pod_name}", path=f"spec.initContainers[name={name}].restartPolicy",
                              expected="no restartPolicy", actual="Always")
    return Outcome.passed()


def shared_emptydir(snapshot: Snapshot, pod_name: str, writer: str, path: str, reader: str) -> str | None:
    """The emptyDir volume `writer` mounts at `path` and `reader` mounts too (anywhere), if any."""
    writing, reading = container(snapshot, pod_name, writer, init=False), container(snapshot, pod_name, reader)
    for name in emptydir_volumes(writing.pod):
        mount = mount_of(writing, name)
        if mount and mount.get("mountPath", "").rstrip("/") == path and mount_of(reading, name):
            return name
    return None


def reads_from_volume(snapshot: Snapshot, pod_name: str, container_name: str, volume: str, file: str) -> Outcome:
    """Whether the container's command names `file` under its own mount of `volume` (a reader
    sees a shared volume at its own mountPath, not the writer's)."""
    reader = container(snapshot, pod_name, container_name)
    wanted = mount_of(reader, volume)["mountPath"].rstrip("/") + "/" + file
    line = match.command_line(reader.container)
    if wanted in line:
        return Outcome.passed()
    return Outcome.failed(f"{container_name}'s command does not mention {wanted}", where=reader.where,
                          path=reader.path("command"), expected=f"a command reading {wanted}",
                          actual=line or "no command or args (the image's default runs)")


def init_container_ref(snapshot: Snapshot, pod_name: str, name: str) -> ContainerRef:
    """The init container `name`, or Blocked when it is not one that completes (the check
    real_init_container says why)."""
    found = match.find_container(snapshot.pod(pod_name), name)
    if found is None or found[0] != "initContainers" or match.is_native_sidecar(found[1]):
        raise Blocked(f"{name} is not an init container (see init-container)")
    return container(snapshot, pod_name, name)


def emptydir_mounts(ref: ContainerRef) -> list[str]:
    """The emptyDir volumes the container mounts."""
    return [name for name in emptydir_volumes(ref.pod) if mount_of(ref, name)]


def writes_into_emptydir(snapshot: Snapshot, pod_name: str, name: str, file: str) -> Outcome:
    """Whether init container `name` mounts an emptyDir and its command line writes `file` under
    that mount, as far as the command line shows (graders/shell_writes.py); a target it cannot
    resolve, or a command it cannot follow that names the file, is given the benefit of the doubt."""
    from graders.shell_writes import Writes, file_name, lies_under, may_be_named, normal_path, resolved, written_files

    ref = init_container_ref(snapshot, pod_name, name)
    volumes = emptydir_mounts(ref)
    if not volumes:
        return Outcome.failed(
            f"{name} mounts no emptyDir volume", where=ref.where, path=ref.path("volumeMounts"),
            expected="a mount of an emptyDir volume",
            actual=[m.get("name") for m in match.mounts(ref.container)] or "no volumeMounts")
    mount_paths = [normal_path(mount_of(ref, volume)["mountPath"]) for volume in volumes]
    line = match.command_line(ref.container)
    writes = written_files(ref.container) or Writes(files=(), unseen=(line,))  # unreadable line
    files = writes.files
    into_volume = [f for f in files if resolved(f) and file_name(f) == file
                   and any(lies_under(f, m) for m in mount_paths)]
    doubtful = [f for f in files if not resolved(f) and may_be_named(f, file)]
    if into_volume or doubtful or any(file in command for command in writes.unseen):
        return Outcome.passed()
    where, path = ref.where, ref.path("args" if ref.container.get("args") else "command")
    under = " or ".join(mount_paths)
    named = [f for f in files if file_name(f) == file]
    if named:
        return Outcome.failed(f"{name} writes {file} outside its volume, at {', '.join(named)}",
                              where=where, path=path, expected=f"{file} under {under}", actual=named)
    if files:
        return Outcome.failed(f"{name} writes {', '.join(files)}, not a file named {file}",
                              where=where, path=path, expected=f"a file named {file} under {under}",
                              actual=list(files))
    argv = (ref.container.get("command") or []) + (ref.container.get("args") or [])
    return Outcome.failed(f"{name}'s command writes no file", where=where, path=path,
                          expected=f"a command that writes {file} under {under}",
                          actual=argv or "no command or args")  # as a list: sh -c runs one word


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

LAST_LOG_LINES = 8  # of a crashed container's log, in a report

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
        if not snapshot.simulated and (left := settling.hold_remaining(pod, sightings=snapshot.sightings)) > 0:
            return Outcome.pending(f"Running and Ready: it counts once it has held for "
                                   f"{settling.hold_reason(pod)} ({left:.0f}s to go)", where)
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
            if _fits_an_empty_node(snapshot, pod, scheduled.get("message") or ""):
                return Outcome.pending("waiting for room: other pods hold the node's cpu or memory now "
                                       f"({scheduled.get('message')})", where)
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
                state = f"{waiting['reason']}: {waiting.get('message', '')}".rstrip(": ")
                return Outcome.failed(
                    f'container "{name}" is stuck in {waiting["reason"]}' + _last_words(status),
                    where=where, path=path + ".waiting", expected="running",
                    actual=_with_log(snapshot, pod, status, state))
            ended = match.dig(status, "state", "terminated", default={})
            if ended and ended.get("exitCode") != 0:
                state = f"{ended.get('reason')}, exit code {ended.get('exitCode')}"
                return Outcome.failed(
                    f'container "{name}" exited with code {ended.get("exitCode")} ({ended.get("reason")}) '
                    "and is being restarted" + _last_words(status), where=where,
                    path=path + ".terminated", expected="running", actual=_with_log(snapshot, pod, status, state))
    return None


def _fits_an_empty_node(snapshot: Snapshot, pod: dict, message: str) -> bool:
    """Whether the scheduler's only objection is room ("Insufficient cpu") that other pods hold,
    and the pod's requests would fit a node of the cluster: then it is scheduled once they go
    (a batch grades many submissions on one node), not a mistake of the pod's."""
    if "Insufficient" not in message or any(word in message for word in ("taint", "affinity", "selector")):
        return False
    nodes = snapshot.nodes()
    if not nodes:
        return False
    containers = match.dig(pod, "spec", "containers", default=[])
    for resource in ("cpu", "memory"):
        wanted = sum((match.quantity(match.dig(c, "resources", "requests", resource)) or 0) for c in containers)
        if all(wanted > (match.quantity(match.dig(n, "status", "allocatable", resource)) or 0)
               for n in nodes.values()):
            return False
    return True


def _last_run(status: dict) -> dict:
    """How the container's last run ended (terminated now, or before its restart), or {}."""
    return (match.dig(status, "state", "terminated") or match.dig(status, "lastState", "terminated")
            or {})


def _last_words(status: dict) -> str:
    """', after it exited with code N (Reason)' for a container that crashed, else ''."""
    ended = _last_run(status)
    if not ended or match.dig(status, "state", "terminated"):
        return ""
    return f", after it exited with code {ended.get('exitCode')} ({ended.get('reason')})"


def _with_log(snapshot: Snapshot, pod: dict, status: dict, state: str):
    """The state, with the end of the log of the container's last run where containers run: why
    it ended, in its own words."""
    if snapshot.simulated or not _last_run(status):
        return state
    try:  # a container terminated now: its current log; waiting to restart: its previous one
        text = snapshot.log(pod["metadata"]["name"], status["name"],
                            previous=not match.dig(status, "state", "terminated"))
    except ClusterError:
        return state  # the log is a courtesy: the state alone still says what is wrong
    lines = (text or "").splitlines()[-LAST_LOG_LINES:]
    return {"state": state, "last log lines": lines} if lines else state


def restarts(snapshot: Snapshot, pod_name: str, container_name: str, at_most: int = 0) -> Outcome:
    pod = snapshot.pod(pod_name)
    status = match.container_status(pod, container_name)
    if status is None:
        return Outcome.pending(f'container "{container_name}" has not started yet', f"pod/{pod_name}")
    count = status.get("restartCount", 0)
    if count <= at_most:
        return Outcome.passed()
    ended = _last_run(status)
    said = [e.get("message", "") for e in snapshot.warnings(pod_name)
            if f"{{{container_name}}}" in match.dig(e, "involvedObject", "fieldPath", default="")
            or not match.dig(e, "involvedObject", "fieldPath")]
    evidence = {"restarts": count}
    if ended:
        evidence["last run"] = f"{ended.get('reason')}, exit code {ended.get('exitCode')}"
    if said:  # a failed liveness probe is why the kubelet restarts a container: say that first
        evidence["the kubelet said"] = next((m for m in reversed(said) if m.startswith("Liveness")), said[-1])
    return Outcome.failed(f'container "{container_name}" restarted {count} time(s)', where=f"pod/{pod_name}",
                          path=f"status.containerStatuses[name={container_name}].restartCount",
                          expected=f"at most {at_most}", actual=evidence if len(evidence) > 1 else count)


def all_of(*outcomes: Outcome) -> Outcome:
    """The first outcome that is not passed (failed before pending), else passed."""
    for status in (Status.ERROR, Status.FAILED, Status.BLOCKED, Status.PENDING):
        for outcome in outcomes:
            if outcome.status is status:
                return outcome
    return Outcome.passed()


# --- behaviour: what a pod does, asked through the API server (LABS.md) -----------------------

EXCERPT = 160  # characters of an answer's body a report quotes


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat[:EXCERPT] + ("..." if len(flat) > EXCERPT else "")


def described(answer: Answer) -> str:
    """The answer as a report shows it: status and the first bytes of the body, or the API
    server's own message when it could not reach the pod."""
    if "json" in answer.content_type and (message := status_message(answer.body)) is not None:
        return f"HTTP {answer.status} from the API server: {message}"
    return f"HTTP {answer.status}: {_excerpt(answer.text) or '(empty body)'}"


def answers(snapshot: Snapshot, pod_name: str, port: int | str, path: str, *, wanted: str,
            problem: Callable[[Answer], str | None]) -> Outcome:
    """The pod's answer to GET `path` on `port` through the pod proxy, judged by `problem`
    (what is wrong with the answer, or None)."""
    answer = snapshot.fetch(pod_name, port, path)
    wrong = problem(answer)
    if wrong is None:
        return Outcome.passed(f"GET {path} on port {port} answered {answer.status}", f"pod/{pod_name}")
    return Outcome.failed(f"GET {path} on port {port} {wrong}", where=f"pod/{pod_name}",
                          path=f"pods/{pod_name}:{port}/proxy{path}", expected=wanted, actual=described(answer))


def status_in(low: int, high: int) -> Callable[[Answer], str | None]:
    """A `problem` for answers: the status must lie in low..high."""
    return lambda answer: None if low <= answer.status <= high else f"answered {answer.status}"


def html_page(answer: Answer) -> str | None:
    """A `problem` for answers: 200 with an HTML body."""
    if answer.status != 200:
        return f"answered {answer.status}"
    if "html" not in answer.content_type and "<html" not in answer.text.lower():
        return f"answered 200 with {answer.content_type or 'a body'} that is not HTML"
    return None


def request_shows_in_log(snapshot: Snapshot, pod_name: str, port: int, container_name: str,
                         seconds: float) -> Outcome:
    """Request the pod's `port` with a unique marker in the URL; the container's log must show a
    line with the marker within `seconds`."""
    path = f"/?{snapshot.marker}"
    answer = snapshot.fetch(pod_name, port, path)
    shown, lines = snapshot.log_shows(pod_name, container_name, snapshot.marker, seconds)
    lines = lines or (snapshot.log(pod_name, container_name) or "").splitlines()  # older lines say why
    if shown:
        return Outcome.passed(f'container "{container_name}" logged GET {path} within {seconds:.0f}s',
                              f"pod/{pod_name}")
    return Outcome.failed(
        f'GET {path} on port {port} answered {answer.status}, but container "{container_name}" '
        f"did not log it within {seconds:.0f}s", where=f"pod/{pod_name}",
        path=f"pods/{pod_name}/log?container={container_name}",
        expected=f"a log line with {snapshot.marker}",
        actual={"last log lines": lines[-LAST_LOG_LINES:]} if lines else "nothing logged")
