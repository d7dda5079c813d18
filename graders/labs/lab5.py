"""Lab 5 - Resources and QoS: requests and limits, units, QoS classes, a pod too big to
schedule. Contract: shared LABS.md, lab5."""
from graders import match
from graders.checks import Lab, all_of, container, container_exists, missing, settled_problem
from graders.results import Outcome, Status

lab = Lab("lab5", "Resources and QoS classes", objects="Pods guaranteed, burstable and hungry",
          kinds=("Pod",), judges_resources=True)


def resource(ref, section: str, name: str):
    """(raw value, parsed quantity) of resources.<section>.<name>."""
    raw = match.dig(ref.container, "resources", section, name)
    return raw, match.quantity(raw)


def compare(ref, section: str, name: str, wanted: str, *, at_most: bool = False) -> Outcome:
    raw, value = resource(ref, section, name)
    target = match.quantity(wanted)
    ok = value is not None and (value <= target if at_most else value == target)
    if ok:
        return Outcome.passed()
    relation = "at most " if at_most else ""
    return Outcome.failed(f"{section}.{name} is {raw if raw is not None else 'not set'}",
                          where=ref.where, path=ref.path("resources", section, name),
                          expected=f"{relation}{wanted}", actual=raw if raw is not None else "not set")


def qos(s, pod_name: str, wanted: str) -> Outcome:
    pod = s.pod(pod_name)
    actual = match.dig(pod, "status", "qosClass")
    if actual == wanted:
        return Outcome.passed()
    return Outcome.failed(f"QoS class is {actual}", where=f"pod/{pod_name}", path="status.qosClass",
                          expected=wanted, actual=actual)


def containers(s, pod_name: str):
    pod = s.pod(pod_name)
    return [container(s, pod_name, c["name"], init=False) for c in pod["spec"]["containers"]]


@lab.check("guaranteed-qos", "Pod guaranteed has QoS class Guaranteed",
           hint="Guaranteed needs, in every container, cpu and memory limits with requests equal "
                "to them (leave requests out and they default to the limits). A resize cannot "
                "change a pod's QoS class: delete the pod and apply again.")
def guaranteed_qos(s):
    return missing(s, "Pod", "guaranteed") or qos(s, "guaranteed", "Guaranteed")


@lab.check("guaranteed-small", "Each of its containers: cpu limit <= 500m, memory limit <= 256Mi",
           hint="Keep the guaranteed pod small: limits cpu 500m (or less), memory 256Mi (or less).")
def guaranteed_small(s):
    return all_of(*(all_of(compare(ref, "limits", "cpu", "500m", at_most=True),
                           compare(ref, "limits", "memory", "256Mi", at_most=True))
                    for ref in containers(s, "guaranteed")))


@lab.check("burstable-requests", "Pod burstable, container app: requests cpu 250m, memory 64Mi",
           hint="Mind the units: 64Mi (mebibytes, 2^20) is not 64M (megabytes, 10^6); "
                "250m = 0.25 cpu.")
def burstable_requests(s):
    found = missing(s, "Pod", "burstable") or container_exists(s, "burstable", "app", init=False)
    if found.status is not Status.PASSED:
        return found
    app = container(s, "burstable", "app", init=False)
    return all_of(compare(app, "requests", "cpu", "250m"), compare(app, "requests", "memory", "64Mi"))


@lab.check("burstable-limit", "Same container: memory limit 128Mi",
           hint="Set resources.limits.memory: 128Mi on container app.")
def burstable_limit(s):
    return compare(container(s, "burstable", "app", init=False), "limits", "memory", "128Mi")


@lab.check("burstable-qos", "Pod burstable has QoS class Burstable",
           hint="Burstable: some requests or limits set, but not requests equal to limits everywhere. "
                "A resize cannot change a pod's QoS class: delete the pod and apply again.")
def burstable_qos(s):
    return qos(s, "burstable", "Burstable")


@lab.check("hungry-fits", "Pod hungry: every container requests at most 512Mi of memory",
           hint="No node has 256Gi: ask for what nginx needs (at most 512Mi). kubectl apply cannot "
                "change a pod's resources: fix pods.yaml, then delete the pod (kubectl delete pod "
                "hungry -n lab5) and apply again, or lower the request in place with kubectl patch "
                "--subresource resize (see the lab's README).")
def hungry_fits(s):
    return missing(s, "Pod", "hungry") or all_of(*(compare(ref, "requests", "memory", "512Mi", at_most=True)
                    for ref in containers(s, "hungry")))


@lab.check("hungry-scheduled", "Pod hungry is scheduled and Running",
           hint="kubectl describe pod hungry -n lab5: a FailedScheduling event says why no node fits.")
def hungry_scheduled(s):
    pod = s.pod("hungry")
    problem = settled_problem(s, pod)
    if problem:
        return problem
    phase = match.dig(pod, "status", "phase")
    if phase == "Running":
        return Outcome.passed()
    return Outcome.pending(f"phase {phase}: containers are starting", "pod/hungry")
