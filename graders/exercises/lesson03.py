"""Lesson 03 - The life of a pod: the conditions say why a pod waits; the restart policy decides
whether a container that exits is started again, and so the phase the pod ends in. The pod too-big
comes from course/exercises/03-too-big.yaml; the learner makes finisher and gives-up."""
from graders import match
from graders.checks import missing
from graders.exercises import Exercise
from graders.exercises.answers import compared, given, how_to_answer
from graders.results import Outcome
from graders.snapshot import Snapshot

# --- 03-why-pending ----------------------------------------------------------------------------

why_pending = Exercise(
    "03-why-pending", "Read in a pod's conditions why it waits", setup=("03-too-big.yaml",),
    explanation="too-big's `PodScheduled` condition is `False`, with the reason `Unschedulable` and the "
                "scheduler's message, `0/1 nodes are available: 1 Insufficient cpu. ...` (it asks for 64 "
                "CPUs; the counts depend on the cluster's nodes). `kubectl describe pod` shows the same "
                "message in its `FailedScheduling` event.",
    solution="""kubectl get pod too-big -n $NS -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.message}{"\\n"}{end}'
kubectl annotate pod too-big -n $NS --overwrite answer="PodScheduled: Insufficient cpu\"""")


@why_pending.check("answered", "Pod too-big carries your answer",
                   hint=how_to_answer("too-big", "03").replace("=WHAT-YOU-FOUND", "='CONDITION: RESOURCE'"))
def _(s):
    return given(s, "too-big")


def scheduled(s: Snapshot) -> dict:
    return match.condition(s.pod("too-big"), "PodScheduled") or {}


@why_pending.check("right-condition", "The answer names the condition that is False", requires=("answered",),
                   hint="List too-big's conditions: kubectl get pod too-big -n course-03 -o "
                        "jsonpath='{.status.conditions}' (the lesson's cell under 'Conditions' does it).")
def _(s):
    truth = "PodScheduled" if scheduled(s).get("status") == "False" else None
    return compared(s, "too-big", truth, what="the condition that is False",
                    same=lambda answer, truth: truth.lower() in answer.lower().replace(" ", ""))


@why_pending.check("right-resource", "The answer names the resource no node has enough of",
                   requires=("answered",),
                   hint="Read that condition's message: what is Insufficient? (cpu, memory, ...)")
def _(s):
    truth = "cpu" if "Insufficient cpu" in (scheduled(s).get("message") or "") else None
    return compared(s, "too-big", truth, what="the resource no node has enough of",
                    same=lambda answer, truth: truth in answer.lower() and "memory" not in answer.lower())


# --- the restart policy of each container, and how they ended ----------------------------------

POLICY_HINT = ("restartPolicy is a field of the pod's spec, next to containers; the lesson's 'Restart policy' "
               "section lists its values.")


def policies(pod: dict) -> dict[str, str]:
    """Each app container's restart policy: its own if it has one (v1.34+), else the pod's."""
    default = match.dig(pod, "spec", "restartPolicy", default="Always")
    return {c["name"]: c.get("restartPolicy") or default for c in match.dig(pod, "spec", "containers", default=[])}


def policy_is(s: Snapshot, name: str, wanted: str) -> Outcome:
    if gone := missing(s, "Pod", name):
        return gone
    found = policies(s.pod(name))
    if all(policy == wanted for policy in found.values()):
        return Outcome.passed(f"restart policy {wanted}", f"pod/{name}")
    return Outcome.failed(f"not every container's restart policy is {wanted}", where=f"pod/{name}",
                          path="spec.restartPolicy", expected=f"{wanted} (the pod's, or each container's own)",
                          actual=found)


def final_phase(s: Snapshot, name: str) -> tuple[str, dict[str, int], Outcome | None]:
    """(the pod's phase, the exit code of each container that has ended, a failure if one was restarted)."""
    pod = s.pod(name)
    statuses = match.dig(pod, "status", "containerStatuses", default=[])
    codes = {st["name"]: st["state"]["terminated"].get("exitCode") for st in statuses
             if match.dig(st, "state", "terminated")}
    again = {st["name"]: st["restartCount"] for st in statuses if st.get("restartCount")}
    problem = None
    if again:
        problem = Outcome.failed("a container was restarted", where=f"pod/{name}",
                                 path="status.containerStatuses[*].restartCount", expected=0, actual=again)
    return match.dig(pod, "status", "phase", default="Pending"), codes, problem


# --- 03-succeeds ---------------------------------------------------------------------------------

succeeds = Exercise(
    "03-succeeds", "A pod that finishes: restartPolicy OnFailure, exit code 0", needs_containers=True,
    explanation="Under `OnFailure` the kubelet restarts a container only when it exits with an error. "
                "`exit 0` is success: the container stays terminated (`Completed`), and a pod whose containers "
                "have all ended with 0, none to be restarted, is `Succeeded`. (Under the default `Always` the "
                "same container would be started again and again: `RESTARTS` climbs, then `CrashLoopBackOff`.)",
    solution="""kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: finisher
spec:
  restartPolicy: OnFailure
  containers:
    - name: app
      image: busybox:1.36
      command: ["sh", "-c", "exit 0"]
EOF
kubectl wait --for=jsonpath='{.status.phase}'=Succeeded pod/finisher -n $NS --timeout=60s
kubectl get pod finisher -n $NS""")


@succeeds.check("on-failure", "Pod finisher restarts its containers only on failure", hint=POLICY_HINT)
def _(s):
    return policy_is(s, "finisher", "OnFailure")


@succeeds.check("succeeded", "It ended Succeeded: its containers exited with 0, none restarted",
                requires=("on-failure",),
                hint="Its container must end by itself with exit code 0 (sh -c \"exit 0\"). "
                     "kubectl get pod finisher -n course-03 shows its STATUS and RESTARTS.")
def _(s):
    phase, codes, restarted = final_phase(s, "finisher")
    if restarted:
        return restarted
    if phase == "Succeeded":
        return Outcome.passed(f"phase Succeeded, exit codes {codes}", "pod/finisher")
    errors = {name: code for name, code in codes.items() if code != 0}
    if phase == "Failed" or errors:
        return Outcome.failed("a container exited with an error", where="pod/finisher",
                              path="status.containerStatuses[*].state.terminated.exitCode", expected=0,
                              actual=errors or f"phase {phase}")
    return Outcome.pending(f"phase {phase}: its containers have not all ended yet", "pod/finisher")


# --- 03-gives-up ---------------------------------------------------------------------------------

gives_up = Exercise(
    "03-gives-up", "A pod that fails and stays failed: restartPolicy Never",
    explanation="mariadb without a root-password setting exits with code 1 (the lesson's `crashes`). Under "
                "`Never` the kubelet leaves it terminated: no restart, and with its only container ended in "
                "an error the pod is `Failed`, for good. (`crashes`, under the default `Always`, is "
                "restarted again and again.)",
    solution="""kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: gives-up
spec:
  restartPolicy: Never
  containers:
    - name: db
      image: mariadb:11.4
EOF
kubectl wait --for=jsonpath='{.status.phase}'=Failed pod/gives-up -n $NS --timeout=120s
kubectl get pod gives-up -n $NS""")


@gives_up.check("never", "Pod gives-up never restarts its containers", hint=POLICY_HINT)
def _(s):
    return policy_is(s, "gives-up", "Never")


@gives_up.check("failed", "It ended Failed: its container exited with an error and was not restarted",
                requires=("never",),
                hint="Run the lesson's crashing database: mariadb:11.4 with no settings. "
                     "kubectl get pod gives-up -n course-03 shows its STATUS and RESTARTS.")
def _(s):
    phase, codes, restarted = final_phase(s, "gives-up")
    if restarted:
        return restarted
    if phase == "Failed":
        return Outcome.passed(f"phase Failed, exit codes {codes}", "pod/gives-up")
    if phase == "Succeeded":
        return Outcome.failed("its containers all exited with 0: it succeeded", where="pod/gives-up",
                              path="status.phase", expected="Failed (a container that exits with an error)",
                              actual=phase)
    return Outcome.pending(f"phase {phase}: its containers have not all ended yet", "pod/gives-up")


exercises = [why_pending, succeeds, gives_up]
