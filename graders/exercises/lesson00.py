"""Lesson 00 - What is a pod?: a Deployment keeps its pods running, a naked pod has no one. The
Deployment web comes from course/exercises/00-web.yaml; its pods are the ones its ReplicaSet made
(named web-HASH-xxxxx, where HASH is their label pod-template-hash) and still selects (app=web)."""
from __future__ import annotations

import re

from graders import match
from graders.checks import missing, ready
from graders.exercises import Exercise
from graders.exercises.answers import given, how_to_answer
from graders.results import Outcome
from graders.snapshot import Snapshot

DEPLOYMENT = "web"
APPLY_SETUP = "Apply the lesson's Deployment again: kubectl apply -n course-00 -f exercises/00-web.yaml"
def made_by_web(pod: dict) -> bool:
    """Whether web's ReplicaSet made the pod: it named it after itself, web-HASH-xxxxx."""
    template = match.dig(pod, "metadata", "labels", "pod-template-hash")
    return bool(template) and pod["metadata"]["name"].startswith(f"{DEPLOYMENT}-{template}-")


def owner(pod: dict) -> str | None:
    """The object that controls the pod, as KIND/NAME, or None for a naked pod."""
    refs = [r for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")]
    return f"{refs[0]['kind']}/{refs[0]['name']}" if refs else None


def selected(pod: dict) -> bool:
    return match.dig(pod, "metadata", "labels", "app") == DEPLOYMENT


def web_pods(s: Snapshot) -> list[dict]:
    """The pods web has now: made by it, still selected, not being deleted."""
    return [p for p in s.list("Pod", labelSelector="pod-template-hash") if made_by_web(p) and selected(p)
            and owner(p) is not None and not p["metadata"].get("deletionTimestamp")]


def replicas(s: Snapshot) -> int:
    return match.dig(s.require("Deployment", DEPLOYMENT), "spec", "replicas", default=1)


def is_ready(pod: dict) -> bool:
    return (match.condition(pod, "Ready") or {}).get("status") == "True"


# --- 00-take-out ------------------------------------------------------------------------------

take_out = Exercise(
    "00-take-out", "Take a pod out of its Deployment", setup=("00-web.yaml",), kinds=("Deployment", "Pod"),
    explanation="A Deployment's pods are the pods it selects by label (`app=web`). Change that label on one "
                "of them and the Deployment lets it go: the pod keeps running, but as a naked pod, with no "
                "owner to replace it. The Deployment, one pod short, makes a new one to keep its count. "
                "(Its pods' owner is a *ReplicaSet*, the object a Deployment keeps for each version of its "
                "template: `kubectl get pod NAME -o jsonpath='{.metadata.ownerReferences}'` shows it. Taking a "
                "misbehaving pod out this way keeps it for a look while the Deployment carries on.)",
    solution="""kubectl rollout status deployment/web -n $NS
pod=$(kubectl get pods -n $NS -l app=web -o jsonpath='{.items[0].metadata.name}')
kubectl label pod $pod app=debug --overwrite -n $NS
kubectl get pods -n $NS --show-labels""")


def taken_out(s: Snapshot) -> list[dict]:
    """Pods web made that it no longer selects."""
    return [p for p in s.list("Pod", labelSelector="pod-template-hash") if made_by_web(p) and not selected(p)
            and not p["metadata"].get("deletionTimestamp")]


@take_out.check("taken-out", "A pod that web made no longer has the label app=web",
                hint="Change the label app of one of web's pods: kubectl label pod NAME app=debug --overwrite "
                     "-n course-00 (kubectl get pods -n course-00 -l app=web lists them).")
def _(s):
    if gone := missing(s, "Deployment", DEPLOYMENT):
        return gone
    found = taken_out(s)
    if found:
        pod = found[0]["metadata"]
        return Outcome.passed(f"its label app is {pod['labels'].get('app', '(none)')!r}", f"pod/{pod['name']}")
    return Outcome.failed("every pod web made still has app=web", where=f"deployment/{DEPLOYMENT}",
                          path="metadata.labels.app", expected="one of web's pods with another label app (debug)",
                          actual={p["metadata"]["name"]: "app=web" for p in web_pods(s)} or "no pods")


@take_out.check("naked", "Nothing owns that pod any more", requires=("taken-out",),
                hint="Look at its owner: kubectl get pod NAME -n course-00 -o jsonpath='{.metadata.ownerReferences}'")
def _(s):
    pod = taken_out(s)[0]
    name = pod["metadata"]["name"]
    if owner(pod) is None:
        return Outcome.passed("a naked pod: no ownerReferences", f"pod/{name}")
    return Outcome.pending(f"still owned by {owner(pod)}, which lets it go in a moment", f"pod/{name}")


@take_out.check("still-runs", "That pod still runs", requires=("taken-out",),
                hint="Taking a pod out does not stop it: kubectl describe pod NAME -n course-00 says what happened.")
def _(s):
    return ready(s, taken_out(s)[0]["metadata"]["name"])


@take_out.check("count-kept", "web has made another pod: it has all its replicas, Ready", requires=("taken-out",),
                hint="kubectl get deployment web -n course-00 shows how many pods it wants and has.")
def _(s):
    wanted, pods = replicas(s), web_pods(s)
    ready_ones = [p for p in pods if is_ready(p)]
    if len(pods) == wanted and len(ready_ones) == wanted:
        return Outcome.passed(f"{wanted} of {wanted} pods Ready", f"deployment/{DEPLOYMENT}")
    return Outcome.pending(f"{len(ready_ones)} of {wanted} pods Ready ({len(pods)} exist): web is making them",
                           f"deployment/{DEPLOYMENT}")


# --- 00-replaced ------------------------------------------------------------------------------

replaced = Exercise(
    "00-replaced", "Scale a Deployment down, and see its pod replaced", setup=("00-web.yaml",),
    kinds=("Deployment", "Pod"),
    explanation="`kubectl scale` changes how many pods the Deployment wants (its `spec.replicas`); it stops "
                "the extra ones. Delete the last one and the Deployment makes a new one at once, with a new "
                "name: a pod is never brought back, it is replaced. (The loop waits until the pods that are "
                "stopping have gone.)",
    solution="""kubectl scale deployment web --replicas=1 -n $NS
until [ "$(kubectl get pods -n $NS -l app=web -o name | wc -l)" -eq 1 ]; do sleep 1; done
old=$(kubectl get pods -n $NS -l app=web -o jsonpath='{.items[0].metadata.name}')
kubectl delete pod $old -n $NS
until [ "$(kubectl get pods -n $NS -l app=web -o name | wc -l)" -eq 1 ]; do sleep 1; done
kubectl get pods -n $NS -l app=web
new=$(kubectl get pods -n $NS -l app=web -o jsonpath='{.items[0].metadata.name}')
kubectl annotate pod $new answer=$old --overwrite -n $NS""")


@replaced.check("one-replica", "Deployment web wants 1 pod",
                hint="How many pods a Deployment keeps is its spec.replicas: the lesson's cell that scales web "
                     "to 3 shows how to change it.")
def _(s):
    if gone := missing(s, "Deployment", DEPLOYMENT):
        return gone
    wanted = replicas(s)
    if wanted == 1:
        return Outcome.passed("spec.replicas is 1", f"deployment/{DEPLOYMENT}")
    return Outcome.failed(f"it wants {wanted} pods", where=f"deployment/{DEPLOYMENT}", path="spec.replicas",
                          expected=1, actual=wanted)


def the_pod(s: Snapshot) -> str:
    """The name of web's one pod (the check `one-pod` has passed)."""
    return web_pods(s)[0]["metadata"]["name"]


@replaced.check("one-pod", "web has one pod, Running and Ready", requires=("one-replica",),
                hint="kubectl get pods -n course-00 -l app=web shows web's pods; "
                     "kubectl describe pod NAME -n course-00 says why one does not run.")
def _(s):
    pods = web_pods(s)
    if len(pods) != 1:
        return Outcome.pending(f"web has {len(pods)} pods: it is stopping or making some",
                               f"deployment/{DEPLOYMENT}")
    return ready(s, pods[0]["metadata"]["name"])


@replaced.check("answered", "web's pod carries your answer", requires=("one-pod",),
                hint=how_to_answer("NEW", "00").replace("=WHAT-YOU-FOUND", "=OLD")
                + " NEW is the name of web's pod now, OLD the name of the one you deleted.")
def _(s):
    return given(s, the_pod(s))


DELETED = re.compile(r"^Deleted pod: (\S+)$")


def scaled_away(s: Snapshot) -> set[str]:
    """The pods web's ReplicaSets deleted themselves (scaling down), from their events. A pod that
    someone else deleted leaves no such event: it is simply replaced."""
    events = s.list("Event", fieldSelector="involvedObject.kind=ReplicaSet,reason=SuccessfulDelete")
    return {found[1] for event in events
            if match.dig(event, "involvedObject", "name", default="").startswith(f"{DEPLOYMENT}-")
            and (found := DELETED.match(event.get("message") or ""))}


@replaced.check("replaced", "The answer is the name of the pod you deleted, which web replaced",
                requires=("answered",),
                hint="Scale web to 1, note its pod's name, delete that pod (kubectl delete pod NAME -n "
                     "course-00), and write the old name on the new pod.")
def _(s):
    name = the_pod(s)
    answer = s.pod(name)["metadata"]["annotations"]["answer"].strip()
    where, path = f"pod/{name}", "metadata.annotations.answer"

    def wrong(message: str) -> Outcome:
        return Outcome.failed(message, where=where, path=path, expected="the name of the pod web replaced",
                              actual=answer)
    if answer == name:
        return wrong("that is the new pod's own name")
    if not answer.startswith(f"{DEPLOYMENT}-"):
        return wrong("web names its pods web-...: this is not one of them")
    if s.get("Pod", answer) is not None:
        return wrong(f"pod {answer} still exists: delete it, and web replaces it")
    if answer in scaled_away(s):
        return wrong(f"web deleted {answer} itself when it scaled down: delete the pod that is left")
    return Outcome.passed(f"{answer} was deleted and replaced by {name}", where)


exercises = [take_out, replaced]
