"""Lesson 01 - The pod manifest: most of a pod cannot change, so a new spec means a new pod; and
kubectl explain answers what a field means and what the API server fills in. The pod greeter
comes from course/exercises/01-greeter.yaml (GREETING=Hello; it prints "$GREETING from greeter")."""
import re

from graders import match
from graders.checks import has_label, missing, ready
from graders.exercises import Exercise
from graders.exercises.answers import compared, given, how_to_answer
from graders.results import Outcome
from graders.snapshot import Snapshot

POD = "greeter"
FIRST_GREETING = "Hello"
APPLY = "kubectl apply -n course-01 -f greeter.yaml (your copy of exercises/01-greeter.yaml)"

recreate = Exercise(
    "01-recreate", "Change what cannot be changed: a new label and a new greeting", setup=("01-greeter.yaml",),
    explanation="A label can change on a live pod, so `kubectl apply` accepts the new label; but a "
                "container's `env` cannot, and the API server refuses the whole change (`pod updates may "
                "not change fields other than ...`). So the pod must be made again from the file: delete "
                "it, then apply. (`kubectl replace --force -f greeter.yaml` does both.) The new pod has the "
                "same name, but a new `uid`: another pod, which printed the new greeting when it started.",
    solution="""cp exercises/01-greeter.yaml greeter.yaml
# in the copy: the label team: blue, and another greeting
sed -i 's/^    app: greeter$/&\\n    team: blue/; s/value: "Hello"/value: "Bonjour"/' greeter.yaml
kubectl apply -n $NS -f greeter.yaml || echo "refused: env cannot change on a live pod"
kubectl delete -n $NS -f greeter.yaml
kubectl apply -n $NS -f greeter.yaml
kubectl wait --for=condition=Ready pod/greeter -n $NS --timeout=60s
kubectl logs greeter -n $NS
rm greeter.yaml""")


def greeting(s: Snapshot) -> tuple[str, dict | None]:
    """(container name, its GREETING env entry or None), of the container that has one (else the first)."""
    containers = match.dig(s.pod(POD), "spec", "containers", default=[])
    for container in containers:
        for entry in container.get("env") or []:
            if entry.get("name") == "GREETING":
                return container["name"], entry
    return containers[0]["name"], None


@recreate.check("team-blue", "Pod greeter has the label team=blue", hint="Labels go under metadata.labels.")
def _(s):
    return missing(s, "Pod", POD) or has_label(s, "Pod", POD, "team", "blue")


@recreate.check("new-greeting", "Its GREETING is no longer Hello",
                hint="Change GREETING's value in greeter.yaml. The API server refuses to change a pod's env: "
                     "the lesson's section on kubectl apply and notebook 00's 'mostly immutable' say what to do.")
def _(s):
    if gone := missing(s, "Pod", POD):
        return gone
    container, entry = greeting(s)
    where, path = f'pod/{POD} container "{container}"', f"spec.containers[name={container}].env[name=GREETING]"
    if entry is None:
        return Outcome.failed("it has no variable GREETING", where=where, path=path,
                              expected="GREETING with a new value", actual="no GREETING")
    if "valueFrom" in entry or entry.get("value", "") not in ("", FIRST_GREETING):
        return Outcome.passed(f"GREETING: {entry.get('value') or entry.get('valueFrom')}", where)
    return Outcome.failed("GREETING is unchanged", where=where, path=path + ".value",
                          expected=f"a greeting other than {FIRST_GREETING!r}", actual=entry.get("value"))


@recreate.check("runs", "Pod greeter is Running and Ready",
                hint="kubectl describe pod greeter -n course-01 says why it is not (or, if it is gone: " + APPLY + ").")
def _(s):
    return missing(s, "Pod", POD) or ready(s, POD)


SAID = re.compile(r"^(.*) from greeter$", re.MULTILINE)


@recreate.check("greets", "Its container printed the new greeting when it started", behaviour=True,
                requires=("new-greeting", "runs"),
                hint="kubectl logs greeter -n course-01 shows what it printed.")
def _(s):
    container, entry = greeting(s)
    log = s.log(POD, container) or ""
    said = SAID.search(log)
    wanted = entry.get("value") if "value" in entry else None
    if said and said[1] != FIRST_GREETING and (wanted is None or said[1] == wanted):
        return Outcome.passed(f"it printed {said[0]!r}", f"pod/{POD}")
    return Outcome.failed("its log does not show the new greeting", where=f'pod/{POD} container "{container}"',
                          path=f"pods/{POD}/log", expected=f"{wanted or 'NEW-GREETING'} from greeter",
                          actual=log.strip().splitlines()[-3:] or "nothing logged")


explain = Exercise(
    "01-explain", "Ask kubectl explain what the API server fills in", setup=("01-greeter.yaml",),
    explanation="`kubectl explain` prints the API server's own documentation of a field. The description of "
                "`imagePullPolicy` says: `Defaults to Always if :latest tag is specified, or IfNotPresent "
                "otherwise.` (`latest` moves from one version to the next, so the kubelet asks the "
                "registry which image it names each time it starts the container.)",
    solution="""kubectl explain pod.spec.containers.imagePullPolicy
kubectl annotate pod greeter -n $NS --overwrite answer=Always""")


@explain.check("answered", "Pod greeter carries your answer", hint=how_to_answer(POD, "01"))
def _(s):
    return missing(s, "Pod", POD) or given(s, POD)


@explain.check("right-policy", "The answer is the imagePullPolicy the API server would fill in for a :latest image",
               requires=("answered",),
               hint="kubectl explain pod.spec.containers.imagePullPolicy says what it defaults to, and when.")
def _(s):
    return compared(s, POD, "Always", what="the default imagePullPolicy of an image tagged latest",
                    same=lambda answer, truth: answer.strip("'\"").lower() == truth.lower())


exercises = [recreate, explain]
