"""Lesson 08 - Security context and Pod Security: a web server on a read-only root file system,
and a pod that Pod Security's restricted level admits. 08-restricted's pod comes from
course/exercises/08-app.yaml."""
from graders import match
from graders.checks import answers, container_exists, html_page, missing, ready
from graders.exercises import Exercise
from graders.results import Outcome, Status

read_only = Exercise(
    "08-read-only", "Serve nginx from a read-only root file system", needs_containers=True,
    explanation="With `readOnlyRootFilesystem: true` nginx cannot create its temporary files: its log (of the "
                "run that crashed, `kubectl logs static --previous`) names each place it writes. Mount an "
                "`emptyDir` on each of them — `/var/cache/nginx`, then `/var/run` for its pid file — and the "
                "rest of the image stays read-only.",
    solution="""kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: static
spec:
  volumes:
    - name: cache
      emptyDir: {}
    - name: run
      emptyDir: {}
  containers:
    - name: web
      image: nginx:1.27-alpine
      ports:
        - containerPort: 80
      securityContext:
        readOnlyRootFilesystem: true
      volumeMounts:
        - name: cache                # nginx's temporary files
          mountPath: /var/cache/nginx
        - name: run                  # nginx.pid
          mountPath: /var/run
EOF
kubectl wait --for=condition=Ready pod/static -n $NS --timeout=60s""")

POD, WEB = "static", "web"


@read_only.check("pod-exists", "Pod static has a container web running nginx",
                 hint="Write the pod: its container web runs nginx (nginx:1.27-alpine), as in the lesson's "
                      "read-only-nginx.")
def _(s):
    if absent := missing(s, "Pod", POD):
        return absent
    found = container_exists(s, POD, WEB, init=False)
    if found.status is not Status.PASSED:
        return found
    image = match.find_container(s.pod(POD), WEB, init=False)[1].get("image")
    if match.runs_image(image, "nginx"):
        return Outcome.passed()
    return Outcome.failed(f"runs {image!r}, not nginx", where=f'pod/{POD} container "{WEB}"',
                          path=f"spec.containers[name={WEB}].image", expected="nginx (any tag)", actual=image)


@read_only.check("read-only-root", "web's root file system is read-only", requires=("pod-exists",),
                 hint="readOnlyRootFilesystem is a field of the container's securityContext (not the pod's).")
def _(s):
    container = match.find_container(s.pod(POD), WEB, init=False)[1]
    value = match.dig(container, "securityContext", "readOnlyRootFilesystem")
    if value is True:
        return Outcome.passed()
    return Outcome.failed("the root file system is writable", where=f'pod/{POD} container "{WEB}"',
                          path=f"spec.containers[name={WEB}].securityContext.readOnlyRootFilesystem",
                          expected=True, actual=value if value is not None else "not set")


@read_only.check("running", "Pod static is Running and Ready", requires=("pod-exists",),
                 hint="nginx exits when it cannot write: kubectl logs static -n course-08 --previous says where it "
                      "tried. An emptyDir mounted there is writable; the lesson's hardened pod mounts one on /tmp.")
def _(s):
    return ready(s, POD)


@read_only.check("serves-page", "static serves its page on port 80", requires=("read-only-root", "running"),
                 hint="GET / on port 80 must answer with nginx's page: keep /usr/share/nginx/html as the image has "
                      "it (mount nothing over it).")
def _(s):
    return answers(s, POD, 80, "/", wanted="HTTP 200 with an HTML page", problem=html_page)


restricted = Exercise(
    "08-restricted", "Run a pod in a namespace that enforces the restricted level", setup=("08-app.yaml",),
    explanation="The label `pod-security.kubernetes.io/enforce=restricted` makes the API server refuse every "
                "new pod that breaks the restricted level; pods already there keep running (the label only "
                "warns about them), so `app` must be made again. Restricted asks for `runAsNonRoot`, "
                "`allowPrivilegeEscalation: false`, `capabilities: {drop: [ALL]}` and a `RuntimeDefault` "
                "seccomp profile. Admission does not know who the image runs as: busybox runs as root, so "
                "without a `runAsUser` the kubelet refuses to start it (`CreateContainerConfigError`).",
    solution="""kubectl label namespace $NS pod-security.kubernetes.io/enforce=restricted
kubectl delete pod app -n $NS
kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  terminationGracePeriodSeconds: 1
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000                  # busybox's image would run as root
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: app
      image: busybox:1.36
      command: ["sleep", "86400"]
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop: ["ALL"]
EOF
kubectl wait --for=condition=Ready pod/app -n $NS --timeout=60s""")

LEVEL = "pod-security.kubernetes.io/enforce"


@restricted.check("namespace-restricted", "The namespace enforces Pod Security's restricted level",
                  hint="Pod Security reads labels of the namespace: the lesson labels course-08-restricted. Do the "
                       "same to course-08.")
def _(s):
    namespace = s.get("Namespace", s.namespace) or {}
    value = (namespace.get("metadata", {}).get("labels") or {}).get(LEVEL)
    if value == "restricted":
        return Outcome.passed()
    return Outcome.failed("the namespace does not enforce restricted", where=f"namespace/{s.namespace}",
                          path=f"metadata.labels.{LEVEL}", expected="restricted", actual=value or "no such label")


@restricted.check("pod-exists", "Pod app exists")
def _(s):
    return missing(s, "Pod", "app") or Outcome.passed()


@restricted.check("admitted", "Pod Security (restricted) admits app as it is now",
                  requires=("namespace-restricted", "pod-exists"),
                  hint="A pod created before the label was not checked: the API server only warned. Delete app and "
                       "create it again; the refusal lists each field restricted asks for (the lesson's hardened "
                       "pod has them all).")
def _(s):
    pod = s.pod("app")
    # Ask the API server itself: create a copy of app's spec, as a dry run, in this namespace.
    spec = {key: value for key, value in pod["spec"].items() if key not in ("ephemeralContainers", "nodeName")}
    copy = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app-admission-check"}, "spec": spec}
    refused = s.refused("Pod", copy)
    if refused is None:
        return Outcome.passed("the API server would create it under restricted", "pod/app")
    return Outcome.failed("the API server would refuse app now", where="pod/app", path="spec",
                          expected="a pod that restricted admits", actual=refused)


@restricted.check("running", "Pod app is Running and Ready", requires=("pod-exists",),
                  hint="Admitted is not started: kubectl describe pod app -n course-08 says what the kubelet refuses. "
                       "runAsNonRoot only forbids root; busybox's image runs as root unless runAsUser says otherwise.")
def _(s):
    return ready(s, "app")


exercises = [read_only, restricted]
