"""Lesson 06 - Resources, QoS and quota: a Guaranteed pod under the lesson's quota and LimitRange
(course/exercises/06-budget.yaml), and how much of the quota it takes; a pod given more memory in
place, through its resize subresource (course/exercises/06-tight.yaml)."""
import json
import re
from decimal import Decimal

from graders import match
from graders.checks import container, missing
from graders.exercises import Exercise
from graders.exercises.answers import KEY, given, how_to_answer
from graders.results import Outcome
from graders.snapshot import Snapshot

MI = Decimal(2) ** 20

# --- 06-guaranteed -------------------------------------------------------------------------------

EXACT = "exact"
MEMORY = Decimal(100_000_000)  # 100M
CLOSE_ENOUGH = Decimal("0.1")  # Mi: one decimal place is enough

guaranteed = Exercise(
    "06-guaranteed", "A Guaranteed pod under the quota, and its share of the quota", setup=("06-budget.yaml",),
    explanation="A pod is `Guaranteed` when every container has cpu and memory limits, and requests equal to "
                "them. Limits alone do it (the requests default to the limits), but only for *both* cpu and "
                "memory: a container that sets only memory gets its cpu request and limit from the LimitRange "
                "(`100m` and `200m`, not equal), and the pod is `Burstable`. The quota counts the pod's requests "
                "and limits: `exact` adds 100M = 100,000,000 bytes to the memory requested and to the memory "
                "limited (`kubectl describe quota` shows the sum for all the namespace's pods: with `tight`'s "
                "64Mi, 167108864 bytes). In Mi (1Mi = 1,048,576 bytes) that is 100,000,000 / 1,048,576 = 95.37Mi.",
    solution="""kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: exact
spec:
  containers:
    - name: app
      image: nginx:1.27-alpine
      resources:
        limits:            # requests default to the limits
          cpu: 250m
          memory: 100M
EOF
kubectl get pod exact -n $NS -o jsonpath='{.status.qosClass}{"\\n"}'
kubectl describe quota team-quota -n $NS
awk 'BEGIN { printf "%.2f\\n", 100000000 / 1048576 }'   # bytes to Mi
kubectl annotate pod exact -n $NS --overwrite answer=95.37Mi""")


def pod_memory(pod: dict) -> Decimal | None:
    """The memory the quota counts for the pod's requests: the pod-level request if it sets one,
    else the sum of its containers' (or its largest init container's, if larger); None if unset."""
    spec = pod.get("spec") or {}
    pod_level = match.dig(spec, "resources", "requests", "memory") or match.dig(spec, "resources", "limits", "memory")
    if pod_level is not None:
        return match.quantity(pod_level)
    def asked(c: dict) -> Decimal | None:
        return match.quantity(match.dig(c, "resources", "requests", "memory"))
    apps = [asked(c) for c in spec.get("containers") or []]
    if None in apps:
        return None
    inits = [asked(c) or 0 for c in spec.get("initContainers") or [] if not match.is_native_sidecar(c)]
    sidecars = [asked(c) or 0 for c in spec.get("initContainers") or [] if match.is_native_sidecar(c)]
    return max([sum(apps) + sum(sidecars), *inits])


@guaranteed.check("guaranteed", "Pod exact is Guaranteed",
                  hint="Guaranteed: every container limits cpu AND memory, with requests equal to the limits. What "
                       "you leave out, the LimitRange fills in with its own defaults (kubectl get pod exact -n "
                       "course-06 -o yaml shows them, and its annotation kubernetes.io/limit-ranger says which).")
def _(s):
    if gone := missing(s, "Pod", EXACT):
        return gone
    pod = s.pod(EXACT)
    qos = match.dig(pod, "status", "qosClass")
    if qos == "Guaranteed":
        return Outcome.passed("QoS class Guaranteed", f"pod/{EXACT}")
    filled = sorted(f"{name}: {key}" for name, key in match.filled_by_limit_range(pod))
    resources = {c["name"]: c.get("resources") or {} for c in match.dig(pod, "spec", "containers", default=[])}
    return Outcome.failed(f"its QoS class is {qos}", where=f"pod/{EXACT}", path="status.qosClass",
                          expected="Guaranteed",
                          actual={"qosClass": qos, "resources": json.dumps(resources),
                                  **({"filled in by the LimitRange": filled} if filled else {})})


@guaranteed.check("memory-100M", "It asks for 100M of memory in all",
                  hint="100M is 100,000,000 bytes; 100Mi is 104,857,600. (The lesson's 'Units'.)")
def _(s):
    if gone := missing(s, "Pod", EXACT):
        return gone
    memory = pod_memory(s.pod(EXACT))
    if memory == MEMORY:
        return Outcome.passed("memory 100M (100,000,000 bytes)", f"pod/{EXACT}")
    return Outcome.failed("it does not ask for 100M of memory", where=f"pod/{EXACT}",
                          path="spec.containers[*].resources.requests.memory", expected="100M in all (100000000 bytes)",
                          actual=f"{memory} bytes" if memory is not None else "no memory request")


@guaranteed.check("answered", "Pod exact carries your answer", hint=how_to_answer(EXACT, "06"))
def _(s):
    return given(s, EXACT)


NUMBER_OF_MI = re.compile(r"([0-9]+(?:[.,][0-9]+)?)\s*(?:Mi|MiB)?", re.IGNORECASE)


@guaranteed.check("right-share", "The answer is exact's memory in the quota, in Mi",
                  requires=("answered", "memory-100M"),
                  hint="kubectl describe quota team-quota -n course-06 shows what the namespace's pods use; exact's "
                       "share is its memory request. 1Mi is 1,048,576 bytes: give one decimal place at least. "
                       "(The lesson's 'Units'.)")
def _(s: Snapshot):
    truth = pod_memory(s.pod(EXACT)) / MI
    answer = ((s.pod(EXACT)["metadata"].get("annotations") or {}).get(KEY) or "").strip()
    found = NUMBER_OF_MI.fullmatch(answer)
    if found and abs(Decimal(found[1].replace(",", ".")) - truth) <= CLOSE_ENOUGH:
        return Outcome.passed(f"{truth:.2f}Mi", f"pod/{EXACT}")
    return Outcome.failed(f"{answer!r} is not exact's memory in Mi, to one decimal place" if found else
                          f"{answer!r} is not a number of Mi", where=f"pod/{EXACT}", path=f"metadata.annotations.{KEY}",
                          expected="a number of Mi (such as 12.3Mi)", actual=answer)


# --- 06-resize -----------------------------------------------------------------------------------

TIGHT = "tight"
TWICE = Decimal(128) * MI

resize = Exercise(
    "06-resize", "Give a running pod more memory, in place", setup=("06-tight.yaml",), needs_containers=True,
    explanation="A pod's cpu and memory change through its `resize` subresource, without a new pod. A resize may "
                "not change the QoS class: raising only the limit would make this Guaranteed pod Burstable, and "
                "the API server refuses (`Pod QOS Class may not change as a result of resizing`). Raise the "
                "request with the limit. The pod's `metadata.generation` counts the changes to its spec; the "
                "container's status shows what it runs with once the kubelet has applied it, without a restart:",
    solution="""kubectl patch pod tight -n $NS --subresource resize --patch \\
  '{"spec":{"containers":[{"name":"app","resources":{"requests":{"memory":"128Mi"},"limits":{"memory":"128Mi"}}}]}}'
kubectl wait --for=jsonpath='{.status.containerStatuses[0].resources.limits.memory}'=128Mi pod/tight -n $NS \\
  --timeout=60s
kubectl get pod tight -n $NS \\
  -o jsonpath='generation {.metadata.generation}, {.status.qosClass}, restarts {.status.containerStatuses[0].restartCount}{"\\n"}'""")


@resize.check("twice-the-memory", "tight's container app asks for 128Mi of memory and is limited to it",
              hint="Double both the memory request and the limit: a Guaranteed pod stays Guaranteed only with "
                   "requests equal to limits.")
def _(s):
    if gone := missing(s, "Pod", TIGHT):
        return gone
    app = container(s, TIGHT, "app", init=False)
    wanted = {key: match.quantity(match.dig(app.container, "resources", *key.split(".")))
              for key in ("requests.memory", "limits.memory")}
    if all(value == TWICE for value in wanted.values()):
        return Outcome.passed("memory 128Mi, requested and limited", app.where)
    return Outcome.failed("its memory is not 128Mi, requested and limited", where=app.where,
                          path=app.path("resources"), expected="requests.memory and limits.memory 128Mi",
                          actual=json.dumps(app.container.get("resources") or {}))


@resize.check("same-pod", "It is the same pod, resized: not a new one", requires=("twice-the-memory",),
              hint="kubectl patch pod tight -n course-06 --subresource resize --patch '...' changes a running pod. "
                   "Deleting it and creating it again makes a new pod. (The lesson's 'Changing resources'.)")
def _(s):
    pod = s.pod(TIGHT)
    generation = match.dig(pod, "metadata", "generation", default=1)
    if generation > 1:
        return Outcome.passed(f"its spec changed {generation - 1} time(s) since it was created", f"pod/{TIGHT}")
    return Outcome.failed("its spec has not changed since the pod was created: it was made anew with 128Mi",
                          where=f"pod/{TIGHT}", path="metadata.generation",
                          expected="2 or more (a resize raises it)", actual=generation)


@resize.check("applied", "The kubelet runs app with 128Mi, without restarting it", requires=("same-pod",),
              hint="kubectl describe pod tight -n course-06 shows the pod's conditions: PodResizePending says why "
                   "the node has not applied it.")
def _(s):
    pod = s.pod(TIGHT)
    status = match.container_status(pod, "app") or {}
    limit = match.quantity(match.dig(status, "resources", "limits", "memory"))
    if status.get("restartCount"):
        return Outcome.failed("app was restarted", where=f"pod/{TIGHT}",
                              path="status.containerStatuses[name=app].restartCount", expected=0,
                              actual=status.get("restartCount"))
    if limit == TWICE:
        return Outcome.passed("app runs with a 128Mi memory limit", f"pod/{TIGHT}")
    pending = match.condition(pod, "PodResizePending") or {}
    if pending.get("reason") == "Infeasible":
        return Outcome.failed("the node cannot give it that much", where=f"pod/{TIGHT}",
                              path="status.conditions[type=PodResizePending]", expected="resized",
                              actual=pending.get("message") or "Infeasible")
    return Outcome.pending("the kubelet has not applied the resize yet", f"pod/{TIGHT}")


exercises = [guaranteed, resize]
