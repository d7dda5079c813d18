"""Lesson 04 - Multi-container pods and init containers: a sidecar that only reads the volume it
shares (course/exercises/04-logged.yaml), and an init container whose failure keeps the app
container from ever starting (the learner makes pod gated)."""
import re

from graders import match
from graders.checks import container, missing, ready, runs_image
from graders.exercises import Exercise
from graders.exercises.answers import KEY, given, how_to_answer
from graders.results import Outcome, Status
from graders.shell_writes import lies_under, normal_path, written_files

# --- 04-read-only-sidecar ------------------------------------------------------------------------

LOGGED = "logged"
APP_LINE = re.compile(r"app wrote line \d+")

read_only_sidecar = Exercise(
    "04-read-only-sidecar", "A sidecar that only reads the volume it shares", setup=("04-logged.yaml",),
    explanation="`readOnly: true` on a volume mount makes the volume read-only for that container only: "
                "`app` still writes the log, `log-shipper` can only read it. Its old command created the file "
                "first (`touch`), which a read-only mount refuses (`Read-only file system`): the container "
                "exits with an error and is restarted again and again. It needs no such help: `tail -F` "
                "waits for the file to appear, then follows it. A pod's volume mounts cannot be changed in "
                "place, so the pod is deleted and created again:",
    solution="""kubectl delete pod logged -n $NS
kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: logged
spec:
  terminationGracePeriodSeconds: 1
  volumes:
    - name: logs
      emptyDir: {}
  containers:
    - name: app
      image: busybox:1.36
      command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo \\"app wrote line $i\\" >> /var/log/app/app.log; sleep 2; done"]
      volumeMounts:
        - name: logs
          mountPath: /var/log/app
    - name: log-shipper
      image: busybox:1.36
      command: ["sh", "-c", "tail -F /logs/app.log"]   # -F: waits for the file, no need to create it
      volumeMounts:
        - name: logs
          mountPath: /logs
          readOnly: true
EOF
kubectl wait --for=condition=Ready pod/logged -n $NS --timeout=60s
kubectl logs logged -c log-shipper -n $NS --tail=3""")


def shared_mounts(s):
    """(app, log-shipper, [(app's mount, log-shipper's mount) of each volume both mount])."""
    app = container(s, LOGGED, "app", init=False)
    shipper = container(s, LOGGED, "log-shipper")  # a native sidecar (initContainers) is one too
    pairs = [(mount_a, mount_s) for mount_a in match.mounts(app.container)
             for mount_s in match.mounts(shipper.container) if mount_a.get("name") == mount_s.get("name")]
    return app, shipper, pairs


@read_only_sidecar.check("read-only", "log-shipper mounts the volume app writes to read-only; app can still write",
                         hint="A volume mount takes readOnly: true, container by container "
                              "(spec.containers[*].volumeMounts[*].readOnly). A pod's mounts cannot change: delete "
                              "the pod and apply it again.")
def _(s):
    if gone := missing(s, "Pod", LOGGED):
        return gone
    app, shipper, pairs = shared_mounts(s)
    if not pairs:
        return Outcome.failed("app and log-shipper share no volume", where=f"pod/{LOGGED}",
                              path="spec.containers[*].volumeMounts",
                              expected="one volume mounted by both (the lesson's emptyDir)",
                              actual={"app": [m.get("name") for m in match.mounts(app.container)],
                                      "log-shipper": [m.get("name") for m in match.mounts(shipper.container)]})
    writable = [(a, m) for a, m in pairs if not a.get("readOnly")]
    if not writable:
        return Outcome.failed("app mounts the shared volume read-only too: it can no longer write its log",
                              where=app.where, path=app.path("volumeMounts[*].readOnly"),
                              expected="app's mount writable (no readOnly)", actual=True)
    if any(m.get("readOnly") is True for _, m in writable):
        return Outcome.passed("log-shipper reads the volume, read-only", shipper.where)
    mount = writable[0][1]
    return Outcome.failed("log-shipper may still write to the shared volume", where=shipper.where,
                          path=shipper.path(f"volumeMounts[name={mount.get('name')}].readOnly"),
                          expected=True, actual=mount.get("readOnly", "not set (read-write)"))


@read_only_sidecar.check("pod-ready", "The pod is Ready, app and log-shipper ready", requires=("read-only",),
                         hint="A container that crashes says why in its log: kubectl logs logged -c log-shipper "
                              "-n course-04 --previous. Which of its commands writes?")
def _(s):
    return ready(s, LOGGED, containers=["app", "log-shipper"])


@read_only_sidecar.check("ships-lines", "log-shipper prints the lines app writes", requires=("read-only", "pod-ready"),
                         hint="log-shipper must follow the file app writes, at its own mount path: "
                              "kubectl logs logged -c log-shipper -n course-04 should show 'app wrote line ...'. "
                              "(The lesson's sidecar section.)")
def _(s):
    app, shipper, pairs = shared_mounts(s)
    if s.simulated:
        # No container runs to ask: judge the command. A write under its read-only mount fails
        # there (Read-only file system); the command must not stop at it.
        read_only = [normal_path(m["mountPath"]) for _, m in pairs if m.get("readOnly") is True and m.get("mountPath")]
        writes = written_files(shipper.container)
        blocked = [f for f in (writes.stopping if writes else ()) if any(lies_under(f, d) for d in read_only)]
        if blocked:
            return Outcome.failed(f"log-shipper's command writes {', '.join(blocked)}, under its read-only mount, and "
                                  "stops when that write fails: a real cluster refuses it (Read-only file system)",
                                  where=shipper.where, path=shipper.path("command"),
                                  expected="a command that only reads the shared volume",
                                  actual=match.command_line(shipper.container))
        return Outcome.passed("judged from the manifest (its command does not stop at a write under its read-only "
                              "mount): the simulated cluster runs no containers to ask", shipper.where)
    text = s.log(LOGGED, "log-shipper") or ""
    shipped = [line for line in text.splitlines() if APP_LINE.search(line)]
    if shipped:
        return Outcome.passed(f"log-shipper printed {shipped[-1]!r}", shipper.where)
    return Outcome.failed("log-shipper's log shows none of the lines app writes", where=shipper.where,
                          path=f"pods/{LOGGED}/log?container=log-shipper", expected="lines 'app wrote line N'",
                          actual={"last log lines": text.splitlines()[-8:]} if text.strip() else "nothing logged")


# --- 04-init-fails -------------------------------------------------------------------------------

GATED = "gated"
STATUSES = ("Init:Error", "Init:CrashLoopBackOff")

init_fails = Exercise(
    "04-init-fails", "An init container that fails keeps nginx from starting", needs_containers=True,
    explanation="The init container `check` exits with an error (`test -f` finds no file). The kubelet runs it "
                "again and again, waiting longer each time, and never starts `web`: `STATUS` shows `Init:Error` "
                "when an attempt has failed, `Init:CrashLoopBackOff` while the kubelet waits to try again, and "
                "`Init:0/1` while an attempt runs; `web` stays `waiting` (`PodInitializing`). The init "
                "container's log (`kubectl logs gated -c check`) and `kubectl describe pod` say why.",
    solution="""kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: gated
spec:
  initContainers:
    - name: check
      image: busybox:1.36
      command: ["sh", "-c", "echo looking for the page; test -f /site/index.html"]   # no such file: exit 1
  containers:
    - name: web
      image: nginx:1.27-alpine
EOF
# between two attempts (while an attempt runs, STATUS shows Init:0/1)
kubectl wait --for=jsonpath='{.status.initContainerStatuses[0].state.waiting.reason}'=CrashLoopBackOff \\
  pod/gated -n $NS --timeout=90s
kubectl get pod gated -n $NS
kubectl annotate pod gated -n $NS --overwrite answer=$(kubectl get pod gated -n $NS --no-headers | awk '{print $3}')""")


def failed_init(pod: dict) -> dict | None:
    """The status of an init container (not a native sidecar) that has exited with an error, now or before."""
    inits = match.dig(pod, "spec", "initContainers", default=[])
    sidecars = {c.get("name") for c in inits if match.is_native_sidecar(c)}
    for status in match.dig(pod, "status", "initContainerStatuses", default=[]):
        if status.get("name") in sidecars:
            continue
        for state in ("state", "lastState"):
            ended = match.dig(status, state, "terminated") or {}
            if ended and ended.get("exitCode") != 0:
                return status
    return None


@init_fails.check("init-fails", "An init container of pod gated exits with an error",
                  hint="Write pod gated: an init container whose command fails (exits with a code other than 0), "
                       "then a container that runs nginx.")
def _(s):
    if gone := missing(s, "Pod", GATED):
        return gone
    pod = s.pod(GATED)
    regular = [c for c in match.dig(pod, "spec", "initContainers", default=[]) if not match.is_native_sidecar(c)]
    if not regular:
        return Outcome.failed("pod gated has no init container (a native sidecar does not count: it never "
                              "completes)", where=f"pod/{GATED}", path="spec.initContainers",
                              expected="an init container", actual=[c.get("name") for c in regular] or "none")
    status = failed_init(pod)
    if status:
        ended = match.dig(status, "state", "terminated") or match.dig(status, "lastState", "terminated")
        return Outcome.passed(f'init container "{status["name"]}" exited with code {ended.get("exitCode")}',
                              f"pod/{GATED}")
    statuses = match.dig(pod, "status", "initContainerStatuses", default=[])
    if statuses and all(match.dig(st, "state", "terminated", "exitCode") == 0 for st in statuses):
        return Outcome.failed("every init container succeeded", where=f"pod/{GATED}",
                              path="status.initContainerStatuses[*].state.terminated.exitCode",
                              expected="an exit code other than 0", actual=0)
    return Outcome.pending("no init container has failed yet", f"pod/{GATED}")


@init_fails.check("nginx-waits", "nginx never started", requires=("init-fails",),
                  hint="The app containers start only once every init container has succeeded: put nginx in "
                       "spec.containers, not in initContainers.")
def _(s):
    pod = s.pod(GATED)
    app = [container(s, GATED, c["name"], init=False) for c in match.dig(pod, "spec", "containers", default=[])]
    nginx = [ref for ref in app if runs_image(ref, "nginx").status is Status.PASSED]
    if not nginx:
        return Outcome.failed("no app container runs nginx", where=f"pod/{GATED}", path="spec.containers[*].image",
                              expected="nginx (any tag)", actual=[ref.container.get("image") for ref in app])
    for ref in nginx:
        status = match.container_status(pod, ref.name) or {}
        state = status.get("state") or {}
        if status.get("started") or status.get("restartCount") or "running" in state or "terminated" in state:
            return Outcome.failed(f'container "{ref.name}" has started', where=ref.where,
                                  path=f"status.containerStatuses[name={ref.name}].state",
                                  expected="waiting (PodInitializing)", actual=state)
    return Outcome.passed(f"{', '.join(ref.name for ref in nginx)} never started", f"pod/{GATED}")


@init_fails.check("answered", "Pod gated carries your answer", hint=how_to_answer(GATED, "04"))
def _(s):
    return given(s, GATED)


@init_fails.check("right-status", "The answer is a STATUS kubectl get shows for gated",
                  requires=("answered", "init-fails"),
                  hint="Watch it: kubectl get pod gated -n course-04 --watch (Ctrl+C stops). Write the STATUS "
                       "column as kubectl prints it after a failed attempt, not while one runs. (The lesson's table "
                       "under 'When an init container fails'.)")
def _(s):
    pod = s.pod(GATED)
    answer = ((pod["metadata"].get("annotations") or {}).get(KEY) or "").strip()
    # Retried (Always, OnFailure): the STATUS goes Init:Error, Init:CrashLoopBackOff, Init:Error, ...
    # Under Never the failure is final: Init:Error stays.
    shown = STATUSES[:1] if match.dig(pod, "spec", "restartPolicy") == "Never" else STATUSES
    if answer.lower() in {status.lower() for status in shown}:
        return Outcome.passed(f"STATUS {answer}", f"pod/{GATED}")
    return Outcome.failed(f"{answer!r} is not what kubectl shows once the init container has failed",
                          where=f"pod/{GATED}", path=f"metadata.annotations.{KEY}",
                          expected="the STATUS column of kubectl get pod gated", actual=answer)


exercises = [read_only_sidecar, init_fails]
