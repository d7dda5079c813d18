"""Lesson 07 - Configuration: follow a pod's reference to the Secret it reads, and make a page
follow its ConfigMap while the pod runs. The objects come from course/exercises/07-*.yaml."""
import base64
import binascii
import time
from datetime import datetime

from graders import match, settling
from graders.checks import ready
from graders.exercises import Exercise
from graders.exercises.answers import compared, given, how_to_answer
from graders.results import Outcome
from graders.snapshot import Blocked

GIVE_AN_ANSWER = "answered"

which_password = Exercise(
    "07-which-password", "Find the password a pod gets from a Secret", setup=("07-legacy.yaml",),
    explanation="The pod does not hold the password: its `env` names a Secret and a key "
                "(`secretKeyRef`). Follow the reference, then read that key: a Secret's `data` is "
                "base64, an encoding that `base64 -d` undoes. Anyone who may read the Secret may read "
                "the password. (Where containers run, `kubectl exec legacy -- env` "
                "shows the same value.)",
    solution="""kubectl get pod legacy -n $NS -o jsonpath='{.spec.containers[0].env[?(@.name=="DB_PASSWORD")].valueFrom}'; echo
kubectl get secret db-production -n $NS -o jsonpath='{.data.root-password}' | base64 -d; echo
kubectl annotate pod legacy -n $NS --overwrite \\
  answer=$(kubectl get secret db-production -n $NS -o jsonpath='{.data.root-password}' | base64 -d)""")


def password_of(s, pod: str, variable: str) -> str:
    """The value the kubelet gives `variable` in the pod's first container, read from the Secret
    its env entry names (raises Blocked when the reference does not lead to a value)."""
    containers = match.dig(s.pod(pod), "spec", "containers", default=[])
    env = containers[0].get("env") or [] if containers else []
    ref = next((match.dig(e, "valueFrom", "secretKeyRef") for e in env if e.get("name") == variable), None)
    if not ref:
        raise Blocked(f"pod/{pod} no longer takes {variable} from a Secret")
    secret = s.get("Secret", ref.get("name", ""))
    value = match.dig(secret, "data", ref.get("key", ""))
    if value is None:
        raise Blocked(f"Secret {ref.get('name')} with a key {ref.get('key')} does not exist in {s.namespace}")
    try:
        return base64.b64decode(value).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Blocked(f"the key {ref.get('key')} of Secret {ref.get('name')} is not text") from None


@which_password.check(GIVE_AN_ANSWER, "Pod legacy carries your answer", hint=how_to_answer("legacy", "07"))
def _(s):
    return given(s, "legacy")


@which_password.check("right-password", "The answer is the password legacy's container gets as DB_PASSWORD",
                      requires=(GIVE_AN_ANSWER,),
                      hint="First find which Secret and which key DB_PASSWORD comes from: kubectl get pod legacy "
                           "-n course-07 -o yaml (its env). Then read that key of that Secret, and decode it: the "
                           "lesson's cell with base64 -d shows how.")
def _(s):
    return compared(s, "legacy", password_of(s, "legacy", "DB_PASSWORD"), what="the password legacy gets")


live_config = Exercise(
    "07-live-config", "Make a page follow its ConfigMap without a restart", setup=("07-board.yaml",),
    needs_containers=True,
    explanation="A file mounted with `subPath` is put in place when the container starts, and does not "
                "follow the ConfigMap after. A ConfigMap volume mounted as a directory is kept up to date by "
                "the kubelet (at its next sync of the pod: seconds on the course's node, up to a minute or "
                "so on most clusters). The volume stays; only the mount changes, and a pod's mounts cannot "
                "be edited: make the pod again, then change the ConfigMap and watch the running pod follow.",
    solution="""kubectl delete pod board -n $NS
kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: board
spec:
  volumes:
    - name: page
      configMap:
        name: board
  containers:
    - name: web
      image: nginx:1.27-alpine
      ports:
        - containerPort: 80
      volumeMounts:
        - name: page
          mountPath: /usr/share/nginx/html   # the whole directory: each key is a file
EOF
kubectl wait --for=condition=Ready pod/board -n $NS --timeout=60s
kubectl patch configmap board -n $NS --type merge -p '{"data":{"index.html":"open"}}'
# the running container's file changes at the kubelet's next sync of the pod
until [ "$(kubectl exec board -n $NS -- cat /usr/share/nginx/html/index.html)" = open ]; do sleep 2; done
kubectl get --raw "/api/v1/namespaces/$NS/pods/board:80/proxy/"; echo""")

PAGE = "index.html"
SETTLE = 120  # seconds a kubelet may take to bring a changed ConfigMap into a volume


def configmap_volumes(pod: dict, name: str) -> set[str]:
    """The pod's volumes that show ConfigMap `name` (directly, or in a projected volume)."""
    found = set()
    for volume in match.dig(pod, "spec", "volumes", default=[]):
        sources = [volume.get("configMap")] + [p.get("configMap") for p in match.dig(volume, "projected", "sources",
                                                                                     default=[])]
        if any(source and source.get("name") == name for source in sources):
            found.add(volume["name"])
    return found


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def clock(moment: float) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(moment))


def last_change(configmap: dict) -> float:
    """When the ConfigMap was last written (its newest managed-fields entry, else its creation)."""
    stamps = [entry.get("time") for entry in configmap["metadata"].get("managedFields") or []]
    stamps.append(configmap["metadata"].get("creationTimestamp"))
    return max(seconds(stamp) for stamp in stamps if stamp)


@live_config.check("directory-mount", "board mounts ConfigMap board as a directory, without subPath",
                   hint="A key mounted with subPath is put in place when the container starts, and never follows. "
                        "Mount the ConfigMap's volume on a directory (nginx serves /usr/share/nginx/html): each key "
                        "becomes a file there, kept up to date. A pod's mounts cannot be edited: delete board and "
                        "create it again.")
def _(s):
    pod = s.pod("board")
    volumes = configmap_volumes(pod, "board")
    if not volumes:
        return Outcome.failed("no volume of board shows ConfigMap board", where="pod/board", path="spec.volumes",
                              expected="a configMap volume of ConfigMap board",
                              actual=[v.get("name") for v in match.dig(pod, "spec", "volumes", default=[])])
    mounts = [(c["name"], m) for c in match.dig(pod, "spec", "containers", default=[])
              for m in match.mounts(c) if m.get("name") in volumes]
    whole = [(name, m) for name, m in mounts if not (m.get("subPath") or m.get("subPathExpr"))]
    if whole:
        name, mount = whole[0]
        return Outcome.passed(f'container "{name}" mounts it on {mount.get("mountPath")}', "pod/board")
    if not mounts:
        return Outcome.failed("no container mounts the ConfigMap's volume", where="pod/board",
                              path="spec.containers[*].volumeMounts", expected=f"a mount of {sorted(volumes)}",
                              actual="not mounted")
    name, mount = mounts[0]
    return Outcome.failed("the ConfigMap is mounted one key at a time, with subPath",
                          where=f'pod/board container "{name}"',
                          path=f"spec.containers[name={name}].volumeMounts[name={mount['name']}].subPath",
                          expected="a mount of the whole volume on a directory (no subPath)",
                          actual={"mountPath": mount.get("mountPath"),
                                  "subPath": mount.get("subPath") or mount.get("subPathExpr")})


@live_config.check("configmap-open", "ConfigMap board's index.html says open",
                   hint="Change the ConfigMap, not the pod: kubectl edit configmap board -n course-07, or kubectl "
                        "patch with a merge of its data.")
def _(s):
    configmap = s.get("ConfigMap", "board")
    if configmap is None:
        return Outcome.failed("ConfigMap board was not found", where="configmap/board", expected="ConfigMap board",
                              actual="nothing with that name")
    value = (configmap.get("data") or {}).get(PAGE)
    if (value or "").strip() == "open":
        return Outcome.passed()
    return Outcome.failed(f"{PAGE} does not say open", where="configmap/board", path=f"data.{PAGE}",
                          expected="open", actual=value if value is not None else f"no key {PAGE}")


@live_config.check("running", "Pod board is Running and Ready")
def _(s):
    return ready(s, "board")


@live_config.check("page-follows", "board's page says open", requires=("directory-mount", "configmap-open", "running"),
                   hint="The running pod must show the ConfigMap's new text: GET / on board's port 80. A subPath "
                        "mount never changes; a directory mount changes at the kubelet's next sync.")
def _(s):
    answer = s.fetch("board", 80, "/")
    if answer.status == 200 and answer.text.strip() == "open":
        return Outcome.passed("GET / on port 80 answered 'open'", "pod/board")
    changed = last_change(s.get("ConfigMap", "board"))
    if time.time() - changed < SETTLE:
        return Outcome.pending("the ConfigMap changed less than two minutes ago: the kubelet brings a change into "
                               "the volume at its next sync of the pod", "pod/board")
    return Outcome.failed("GET / on port 80 does not show the ConfigMap's text", where="pod/board",
                          path="pods/board:80/proxy/", expected="HTTP 200 'open'",
                          actual=f"HTTP {answer.status}: {answer.text.strip()[:80]!r}")


@live_config.check("changed-while-running", "board's containers were running before the ConfigMap changed",
                   requires=("page-follows",),
                   hint="A container that starts after the change reads the new text anyway: that proves nothing. "
                        "With board running, change the ConfigMap again (to something else and back to open) and "
                        "watch the page follow.")
def _(s):
    pod = s.pod("board")
    started = settling.last_start(pod)
    changed = last_change(s.get("ConfigMap", "board"))
    if started is None:
        return Outcome.pending("a container of board is not running", "pod/board")
    # Both times are whole seconds: a start in the same second as the change counts as before it.
    if int(started) <= int(changed):
        return Outcome.passed("the page changed while board ran", "pod/board")
    return Outcome.failed("a container of board (re)started after the ConfigMap's last change", where="pod/board",
                          path="status.containerStatuses[*].state.running.startedAt",
                          expected=f"started before {clock(changed)} (the ConfigMap's last change)",
                          actual=f"started at {clock(started)}")


exercises = [which_password, live_config]
