"""Lesson 05 - Probes: readiness decides which pods a Service sends traffic to (its EndpointSlices
list them), and a startup probe lets a slow server start under a quick liveness probe. Service
menu and pods menu and slow come from course/exercises/05-*.yaml."""
from datetime import datetime

from graders import match
from graders.checks import all_of, container, missing, ready, restarts, settled_problem
from graders.exercises import Exercise
from graders.results import Outcome, Status
from graders.snapshot import Snapshot

NGINX_PORT = 80


def aims_at_nginx(ref, kind: str) -> Outcome:
    """The container's probe `kind` exists and asks nginx's port (httpGet, tcpSocket or grpc, by
    number or by the name of a containerPort). An exec probe's command cannot be judged from the
    manifest: where containers run, its effect is (the pod's readiness, its restarts)."""
    probe = ref.container.get(kind)
    if not probe:
        return Outcome.failed(f"no {kind}", where=ref.where, path=ref.path(kind),
                              expected=f"a {kind} that asks nginx (port {NGINX_PORT})", actual="none")
    for mechanism in ("httpGet", "tcpSocket", "grpc"):
        if mechanism in probe:
            port = match.resolve_port(ref.container, probe[mechanism].get("port"))
            if port == NGINX_PORT:
                return Outcome.passed()
            return Outcome.failed(f"its {kind} asks port {probe[mechanism].get('port')}, where nothing listens",
                                  where=ref.where, path=ref.path(kind, mechanism, "port"),
                                  expected=f"{NGINX_PORT} (nginx's port), or the name of a containerPort that is",
                                  actual=probe[mechanism].get("port"))
    return Outcome.passed()  # exec


def patience(probe: dict) -> int:
    """How long a failing probe is given: initialDelaySeconds + periodSeconds x failureThreshold."""
    return (probe.get("initialDelaySeconds", 0) + probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3))


# --- 05-join-service -----------------------------------------------------------------------------

MENU = "menu"

join_service = Exercise(
    "05-join-service", "Put a pod behind a Service, ready only when nginx answers", setup=("05-menu.yaml",),
    explanation="A Service sends traffic to the pods its selector chooses (`app: menu`) that are ready: its "
                "EndpointSlices list each such pod with `ready: true` or `false`. `menu` carried the label "
                "`app: web`, so the Service did not choose it. With the label `app: menu` it is chosen, and its "
                "readiness probe decides when it counts: the EndpointSlice marks it ready only once nginx "
                "answers on port 80. Labels can be changed on a live pod; probes cannot, so the pod is created "
                "again:",
    solution="""kubectl describe service menu -n $NS | grep -E 'Selector|Endpoints'
kubectl delete pod menu -n $NS
kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: menu
  labels:
    app: menu
spec:
  containers:
    - name: web
      image: nginx:1.27-alpine
      ports:
        - containerPort: 80
      readinessProbe:
        httpGet:
          path: /
          port: 80
        periodSeconds: 5
EOF
kubectl wait --for=condition=Ready pod/menu -n $NS --timeout=60s
kubectl wait --for=jsonpath='{.endpoints[?(@.targetRef.name=="menu")].conditions.ready}'=true \\
  endpointslice -l kubernetes.io/service-name=menu -n $NS --timeout=60s""")


def endpoints(s: Snapshot, name: str) -> list[dict]:
    """The endpoints of Service `name`, from all its EndpointSlices."""
    slices = s.list("EndpointSlice", labelSelector=f"kubernetes.io/service-name={name}")
    return [endpoint for item in slices for endpoint in item.get("endpoints") or []]


@join_service.check("selected", "Service menu's selector chooses pod menu",
                    hint="kubectl describe service menu -n course-05 shows its Selector; a pod is chosen when it "
                         "carries every label of it (kubectl get pod menu -n course-05 --show-labels).")
def _(s):
    svc = s.get("Service", MENU)
    if svc is None:
        return Outcome.failed("Service menu was not found", where=f"service/{MENU}", expected="Service menu",
                              actual="nothing with that name (apply exercises/05-menu.yaml again)")
    if gone := missing(s, "Pod", MENU):
        return gone
    selector = match.dig(svc, "spec", "selector", default={})
    labels = match.dig(s.pod(MENU), "metadata", "labels", default={})
    if selector and all(labels.get(key) == value for key, value in selector.items()):
        return Outcome.passed(f"selector {selector} matches the pod's labels", f"pod/{MENU}")
    return Outcome.failed("the pod does not carry the labels the Service selects", where=f"pod/{MENU}",
                          path="metadata.labels", expected=f"every label of the selector {selector or '(none)'}",
                          actual=labels or "no labels")


@join_service.check("readiness-probe", "Its web container has a readiness probe that asks nginx",
                    hint="A readinessProbe belongs to the container, next to its image: httpGet (or tcpSocket) on "
                         "the port nginx listens on. A pod's probes cannot change: delete it and apply it again.")
def _(s):
    if gone := missing(s, "Pod", MENU):
        return gone
    return aims_at_nginx(container(s, MENU, "web", init=False), "readinessProbe")


@join_service.check("in-endpoints", "The Service's EndpointSlice lists pod menu as ready",
                    requires=("selected", "readiness-probe"),
                    hint="kubectl get endpointslices -n course-05 -l kubernetes.io/service-name=menu -o yaml lists "
                         "the pods behind the Service; kubectl describe pod menu -n course-05 says why one is not "
                         "ready. (The lesson's 'Readiness and Services'.)")
def _(s):
    pod = s.pod(MENU)
    if problem := settled_problem(s, pod):
        return problem
    uid = pod["metadata"]["uid"]
    listed = [e for e in endpoints(s, MENU) if match.dig(e, "targetRef", "uid") == uid]
    if not listed:
        return Outcome.pending("the Service's EndpointSlice does not list this pod yet", f"pod/{MENU}")
    if match.dig(listed[0], "conditions", "ready") is True:
        return Outcome.passed(f"listed ready, at {', '.join(listed[0].get('addresses') or [])}", f"pod/{MENU}")
    # A probe can fail once while nginx starts: fail only when it keeps failing.
    failing = [e for e in s.warnings(MENU) if match.dig(e, "involvedObject", "uid") == uid
               and e.get("reason") == "Unhealthy" and "Readiness" in (e.get("message") or "")]
    if sum(e.get("count") or 1 for e in failing) >= 3:
        return Outcome.failed("listed, but not ready: its readiness probe keeps failing", where=f"pod/{MENU}",
                              path="status.conditions[type=Ready]", expected="ready: true",
                              actual={"the kubelet said": failing[-1].get("message")})
    return Outcome.pending("listed, not ready yet", f"pod/{MENU}")


# --- 05-slow-start -------------------------------------------------------------------------------

SLOW = "slow"
START_SECONDS = 15  # the setup's sleep before nginx listens
LIVENESS_AT_MOST = 10

slow_start = Exercise(
    "05-slow-start", "Probes for a server that starts slowly", setup=("05-slow.yaml",),
    explanation=f"The liveness probe reacts within {LIVENESS_AT_MOST} s (`periodSeconds` x `failureThreshold`), far "
                f"less than the {START_SECONDS} s nginx needs to start: alone, it would kill the container before it "
                "ever answered, again and again. The startup probe holds the liveness and readiness probes back "
                "until it succeeds, and gives the start up to 30 x 2 s = 60 s. The readiness probe keeps the pod "
                "out of Services until nginx answers. Probes cannot be added to a running pod: it is created again.",
    solution="""kubectl delete pod slow -n $NS --grace-period=1   # while it sleeps, its shell ignores the stop signal
kubectl apply -n $NS -f - <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: slow
spec:
  containers:
    - name: web
      image: nginx:1.27-alpine
      command: ["sh", "-c", "sleep 15; exec nginx -g 'daemon off;'"]
      ports:
        - containerPort: 80
      startupProbe:            # up to 30 x 2 s = 60 s to start
        httpGet:
          path: /
          port: 80
        periodSeconds: 2
        failureThreshold: 30
      readinessProbe:
        httpGet:
          path: /
          port: 80
        periodSeconds: 5
      livenessProbe:           # restarted after 2 x 5 s = 10 s without an answer
        tcpSocket:
          port: 80
        periodSeconds: 5
        failureThreshold: 2
EOF
kubectl wait --for=condition=Ready pod/slow -n $NS --timeout=90s
kubectl get pod slow -n $NS""")


def web(s: Snapshot):
    return container(s, SLOW, "web", init=False)


@slow_start.check("readiness-probe", "web has a readiness probe that asks nginx",
                  hint="A readiness probe keeps the pod out of Services until it answers: httpGet or tcpSocket on "
                       "nginx's port. Probes cannot be added to a running pod: delete it and apply it again.")
def _(s):
    if gone := missing(s, "Pod", SLOW):
        return gone
    return aims_at_nginx(web(s), "readinessProbe")


@slow_start.check("liveness-probe", f"web has a liveness probe that asks nginx, with at most {LIVENESS_AT_MOST} s of "
                                    "patience", hint=f"A hung server must be restarted within {LIVENESS_AT_MOST} s: "
                                                     "periodSeconds x failureThreshold (defaults 10 x 3) at most "
                                                     f"{LIVENESS_AT_MOST}.")
def _(s):
    if gone := missing(s, "Pod", SLOW):
        return gone
    ref = web(s)
    aimed = aims_at_nginx(ref, "livenessProbe")
    if aimed.status is not Status.PASSED:
        return aimed
    probe = ref.container["livenessProbe"]
    quick = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
    if quick <= LIVENESS_AT_MOST:
        return Outcome.passed(f"a hung nginx is restarted after {quick} s", ref.where)
    return Outcome.failed(f"a hung nginx would be restarted only after {quick} s", where=ref.where,
                          path=ref.path("livenessProbe"), expected=f"periodSeconds x failureThreshold <= "
                                                                   f"{LIVENESS_AT_MOST}", actual=quick)


@slow_start.check("start-protected", f"The liveness probe waits for the {START_SECONDS} s start",
                  requires=("liveness-probe",),
                  hint=f"nginx needs {START_SECONDS} s before it answers. A startup probe holds the liveness probe "
                       "back until it succeeds; give it the patience (periodSeconds x failureThreshold) to cover the "
                       "start. (The lesson's 'Startup: protecting a slow start'.)")
def _(s):
    ref = web(s)
    startup = ref.container.get("startupProbe")
    if startup:
        aimed = aims_at_nginx(ref, "startupProbe")
        if aimed.status is not Status.PASSED:
            return aimed
        if patience(startup) > START_SECONDS:
            return Outcome.passed(f"the startup probe gives the start {patience(startup)} s", ref.where)
        return Outcome.failed(f"the startup probe gives up after {patience(startup)} s", where=ref.where,
                              path=ref.path("startupProbe"),
                              expected=f"initialDelaySeconds + periodSeconds x failureThreshold > {START_SECONDS}",
                              actual=patience(startup))
    delay = ref.container["livenessProbe"].get("initialDelaySeconds", 0)
    if delay >= START_SECONDS:  # works too, if less well: it waits as long after every start
        return Outcome.passed(f"the liveness probe starts {delay} s after the container", ref.where)
    return Outcome.failed("nothing holds the liveness probe back while nginx starts", where=ref.where,
                          path=ref.path("startupProbe"),
                          expected=f"a startup probe with more than {START_SECONDS} s of patience",
                          actual="no startupProbe" + (f" (liveness initialDelaySeconds {delay})" if delay else ""))


def _seconds(stamp: str | None) -> float | None:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else None


@slow_start.check("ready-once-serving", "slow becomes Ready once nginx answers, and is never restarted",
                  requires=("readiness-probe", "start-protected"),
                  hint="kubectl get pod slow -n course-05 --watch shows READY and RESTARTS; kubectl describe pod "
                       "slow -n course-05 lists what the probes said.")
def _(s):
    pod = s.pod(SLOW)
    settled = all_of(ready(s, SLOW), restarts(s, SLOW, "web", at_most=0))
    if settled.status is not Status.PASSED or s.simulated:
        return settled
    # Where containers run: Ready only after the start, not at once as without probes.
    started = _seconds(match.dig(match.container_status(pod, "web") or {}, "state", "running", "startedAt"))
    became = _seconds((match.condition(pod, "Ready") or {}).get("lastTransitionTime"))
    if started is not None and became is not None and became - started < START_SECONDS - 1:
        return Outcome.failed(f"Ready {became - started:.0f} s after the container started, before nginx answered",
                              where=f"pod/{SLOW}", path="status.conditions[type=Ready].lastTransitionTime",
                              expected=f"Ready about {START_SECONDS} s after the start",
                              actual=f"{became - started:.0f} s")
    return settled


exercises = [join_service, slow_start]
