"""Lesson 09 - Troubleshooting: get a pod that no node fits running, and find how a container's
previous run ended. The pods come from course/exercises/09-*.yaml."""
import re

from graders import match
from graders.checks import missing, ready
from graders.exercises import Exercise
from graders.exercises.answers import compared, given, how_to_answer
from graders.results import Outcome

GIVE_AN_ANSWER = "answered"

pending = Exercise(
    "09-pending", "Get a pod that no node fits running", setup=("09-report.yaml",),
    explanation="`kubectl describe pod report` ends with the scheduler's `FailedScheduling` event: no node "
                "matches the pod's node affinity (it wants a node in zone `eu-north-1a`, and no node carries "
                "that label). A pod's affinity cannot be edited: make the pod again without it (or with a "
                "rule that a node meets). Labelling a node would work too, but changes the node for every "
                "pod of the cluster.",
    solution="""kubectl describe pod report -n $NS | sed -n '/^Events:/,$p'
kubectl delete pod report -n $NS
kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: report
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: busybox:1.36
      command: ["sleep", "86400"]
EOF
kubectl wait --for=condition=Ready pod/report -n $NS --timeout=60s""")


@pending.check("pod-exists", "Pod report exists and runs busybox",
               hint="Keep the pod's name and program: fix what keeps it from a node, not what it runs.")
def _(s):
    if absent := missing(s, "Pod", "report"):
        return absent
    images = [c.get("image") for c in match.dig(s.pod("report"), "spec", "containers", default=[])]
    if any(match.runs_image(image, "busybox") for image in images):
        return Outcome.passed()
    return Outcome.failed("report does not run busybox any more", where="pod/report", path="spec.containers[*].image",
                          expected="busybox (any tag)", actual=images)


@pending.check("running", "Pod report is scheduled, Running and Ready", requires=("pod-exists",),
               hint="kubectl describe pod report -n course-09: the FailedScheduling event at the end says what no "
                    "node matches. The lesson's picky fails the same way.")
def _(s):
    return ready(s, "report")


previous_run = Exercise(
    "09-previous-run", "Find the exit code of a container's previous run", setup=("09-flaky.yaml",),
    needs_containers=True,
    explanation="`RESTARTS` 1: the container ran once before this run. `kubectl describe pod` shows how that "
                "run ended under `Last State: Terminated` (`Reason: Error`, `Exit Code: ...`), and "
                "`kubectl logs --previous` what it printed before it gave up. The code is the program's "
                "own (from 1 to 125): it is not a signal (128 + n) and not a shell's 126 or 127.",
    solution="""kubectl logs flaky -n $NS --previous
kubectl describe pod flaky -n $NS | grep -A 5 'Last State'
kubectl annotate pod flaky -n $NS --overwrite \\
  answer=$(kubectl get pod flaky -n $NS -o jsonpath='{.status.containerStatuses[0].lastState.terminated.exitCode}')""")


@previous_run.check(GIVE_AN_ANSWER, "Pod flaky carries your answer", hint=how_to_answer("flaky", "09"))
def _(s):
    return given(s, "flaky")


def number(answer: str) -> str | None:
    """The one number of an answer ("42", "exit code 42"), or None."""
    found = re.findall(r"\d+", answer)
    return found[0] if len(found) == 1 else None


@previous_run.check("right-exit-code", "The answer is the exit code of flaky's previous run",
                    requires=(GIVE_AN_ANSWER,),
                    hint="kubectl describe pod flaky -n course-09: under the container, Last State shows how the run "
                         "before this one ended. (kubectl logs flaky -n course-09 --previous shows what it printed.)")
def _(s):
    status = match.container_status(s.pod("flaky"), "app") or {}
    code = match.dig(status, "lastState", "terminated", "exitCode")
    return compared(s, "flaky", None if code is None else str(code), what="the exit code of flaky's previous run",
                    same=lambda answer, truth: number(answer) == truth)


exercises = [pending, previous_run]
