"""Lab 6 - Namespace quota: a ResourceQuota caps the namespace, a LimitRange fills in what pods
leave out. Contract: shared LABS.md, lab6."""
import json

from graders import match
from graders.checks import Lab, all_of, container, exists, missing, ready
from graders.results import Outcome

lab = Lab("lab6", "Namespace quota and limit ranges",
          objects="ResourceQuota mylimits, LimitRange defaults, Pod quota-pod",
          kinds=("ResourceQuota", "LimitRange", "Pod"), judges_resources=True)
QUOTA, LIMITS, POD = "mylimits", "defaults", "quota-pod"
HARD = {"cpu": "2", "memory": "1G", "pods": "3"}
# The pod a learner would create without thinking of resources: the LimitRange must make it fit.
BARE_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "grader-bare-pod"},
            "spec": {"containers": [{"name": "bare", "image": "nginx"}]}}


@lab.check("quota-exists", "ResourceQuota mylimits exists",
           hint="Apply it in the lab's namespace: kubectl apply -n lab6 -f labs/lab6/quota.yaml "
                "(a quota applied without -n lands in namespace default).")
def quota_exists(s):
    return exists(s, "ResourceQuota", QUOTA)


@lab.check("quota-hard", "Its hard limits: cpu 2, memory 1G, pods 3",
           hint="1G is 10^9 bytes; 1Gi is 2^30. Use requests.cpu/requests.memory or cpu/memory.")
def quota_hard(s):
    hard = match.dig(s.require("ResourceQuota", QUOTA), "spec", "hard", default={})
    outcomes = []
    for name, wanted in HARD.items():
        key = name if name in hard or name == "pods" else f"requests.{name}"
        actual = hard.get(key)
        if not match.same_quantity(actual, wanted):
            outcomes.append(Outcome.failed(
                f"hard {name} is {actual if actual is not None else 'not set'}",
                where=f"resourcequota/{QUOTA}", path=f"spec.hard.{key}",
                expected=f"{wanted}" + ("" if name == "pods" else f" (as {name} or requests.{name})"),
                actual=actual if actual is not None else "not set"))
    return all_of(*outcomes)


@lab.check("limitrange-defaults", "LimitRange defaults gives containers default cpu and memory "
                                  "limits and requests",
           hint="Add a limits item of type Container with default (limits) and defaultRequest for "
                "both cpu and memory.")
def limitrange_defaults(s):
    limits = s.get("LimitRange", LIMITS)
    if limits is None:
        return exists(s, "LimitRange", LIMITS)
    items = [item for item in match.dig(limits, "spec", "limits", default=[]) if item.get("type") == "Container"]
    where = f"limitrange/{LIMITS}"
    if not items:
        return Outcome.failed("no item of type Container", where=where, path="spec.limits",
                              expected="an item with type: Container", actual=match.dig(limits, "spec", "limits"))
    # The API server fills defaultRequest from default (and default from max): read what it stored.
    for item in items:
        gaps = [f"{field}.{resource}" for field in ("default", "defaultRequest") for resource in ("cpu", "memory")
                if match.dig(item, field, resource) is None]
        if not gaps:
            return Outcome.passed()
    return Outcome.failed(f"no default for {', '.join(gaps)}", where=where,
                          path="spec.limits[type=Container]",
                          expected="default and defaultRequest for cpu and memory",
                          actual={"default": item.get("default"), "defaultRequest": item.get("defaultRequest")})


@lab.check("quota-pod", "Pod quota-pod sets its own cpu and memory requests and limits",
           hint="Write requests and limits for cpu and memory in every container yourself; values "
                "the LimitRange filled in do not count. Then delete the pod and apply again: a "
                "resize would not erase the LimitRange's note (annotation kubernetes.io/limit-ranger) "
                "of the values it filled in.")
def quota_pod(s):
    if absent := missing(s, "Pod", POD):
        return absent
    pod = s.pod(POD)
    filled = match.filled_by_limit_range(pod)
    outcomes = []
    for entry in pod["spec"]["containers"]:
        ref = container(s, POD, entry["name"], init=False)
        gaps = [key for key in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
                if match.dig(entry, "resources", *key.split(".")) is None or (entry["name"], key) in filled]
        if gaps:
            by_limit_range = sorted(key for (name, key) in filled if name == entry["name"])
            outcomes.append(Outcome.failed(
                f"container {entry['name']} does not set {', '.join(gaps)} itself", where=ref.where,
                path=ref.path("resources"), expected="requests and limits for cpu and memory",
                actual=json.dumps(entry.get("resources") or {})
                       + (f" ({', '.join(by_limit_range)} filled in by the LimitRange)" if by_limit_range else "")))
    return all_of(*outcomes)


@lab.check("quota-pod-running", "Pod quota-pod is Running and Ready",
           hint="kubectl describe pod quota-pod -n lab6 shows why it is not.")
def quota_pod_running(s):
    return ready(s, POD)


@lab.check("quota-in-use", "The quota counts between 1 and 3 pods",
           hint="The quota counts the pods of its namespace: create quota-pod in lab6.")
def quota_in_use(s):
    quota = s.require("ResourceQuota", QUOTA)
    used = match.dig(quota, "status", "used", "pods")
    if used is None:
        if "pods" not in match.dig(quota, "spec", "hard", default={}):
            return Outcome.failed("the quota does not count pods", where=f"resourcequota/{QUOTA}",
                                  path="spec.hard.pods", expected="3", actual="not set")
        return Outcome.pending("the quota's usage has not been computed yet", f"resourcequota/{QUOTA}")
    count = match.quantity(used)
    if 1 <= count <= 3:
        return Outcome.passed()
    pod = s.get("Pod", POD)
    if count == 0 and pod is not None and match.dig(pod, "status", "phase") not in ("Succeeded", "Failed"):
        # Seen on a real control plane: a pod admitted in the moment the quota is taken in can go
        # uncounted until the controller's next full recount (every 5 minutes). An unscoped quota
        # counts every pod of its namespace, so quota-pod is counted; the learner did their part.
        if not match.dig(quota, "spec", "scopes") and not match.dig(quota, "spec", "scopeSelector"):
            return Outcome.passed(f"the quota counts every pod of its namespace; its status still says 0 "
                                  f"because the quota controller has not recounted since {POD} was "
                                  f"created (it does every few minutes)", f"resourcequota/{QUOTA}")
        return Outcome.pending("the quota controller has not counted quota-pod yet (it recounts "
                               "every few minutes)", f"resourcequota/{QUOTA}")
    return Outcome.failed(f"the quota counts {used} pods", where=f"resourcequota/{QUOTA}",
                          path="status.used.pods", expected="1 to 3", actual=used)


@lab.check("defaults-admit", "A pod with no resources at all would be admitted",
           hint="Under a quota on cpu and memory, a pod that sets nothing is refused unless the "
                "LimitRange gives defaults for both.")
def defaults_admit(s):
    refusal = s.refused("Pod", BARE_POD)
    if refusal is None:
        return Outcome.passed()
    return Outcome.failed("the API server refuses a pod without resources", where=f"namespace/{s.namespace}",
                          expected="admitted (server-side dry run)", actual=refusal)
