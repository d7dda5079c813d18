"""Lab 4 - Probes: readiness gates traffic, liveness restarts a hung server, startup protects a
slow start. Contract: shared LABS.md, lab4."""
from graders import match
from graders.checks import Lab, all_of, answers, container, ready, restarts, runs_image, status_in
from graders.results import Outcome, Status
from graders.snapshot import Blocked

lab = Lab("lab4", "Liveness, readiness and startup probes", objects="Pod probed (container web)",
          kinds=("Pod",))
POD = "probed"
PORT = 80
DEFAULTS = {"failureThreshold": 3, "periodSeconds": 10}


def web(s):
    return container(s, POD, "web", init=False)


def probe(s, kind: str, *, http: bool, tcp: bool) -> Outcome:
    """web's `kind` probe uses httpGet (when `http`) or tcpSocket (when `tcp`) on port 80."""
    ref = web(s)
    spec = ref.container.get(kind)
    allowed = [name for name, ok in (("httpGet", http), ("tcpSocket", tcp)) if ok]
    if not spec:
        return Outcome.failed(f"web has no {kind}", where=ref.where, path=ref.path(kind),
                              expected=f"a {kind} with {' or '.join(allowed)} on port {PORT}",
                              actual="none")
    handler = next((name for name in allowed if name in spec), None)
    if handler is None:
        used = next((k for k in ("httpGet", "tcpSocket", "exec", "grpc") if k in spec), "nothing")
        return Outcome.failed(f"the {kind} uses {used}", where=ref.where, path=ref.path(kind),
                              expected=" or ".join(allowed), actual=used)
    port = spec[handler].get("port")
    number = match.resolve_port(ref.container, port)
    if number != PORT:
        reason = (f"port {port!r} is not the name of any containerPort of web"
                  if number is None and isinstance(port, str) else f"the {kind} checks port {port}")
        return Outcome.failed(reason, where=ref.where, path=ref.path(kind, handler, "port"),
                              expected=f"{PORT} (or the name of a containerPort that is {PORT})",
                              actual=port)
    if handler == "httpGet" and not str(spec[handler].get("path", "/")).startswith("/"):
        return Outcome.failed("the HTTP path must start with /", where=ref.where,
                              path=ref.path(kind, handler, "path"), expected="/...",
                              actual=spec[handler].get("path"))
    return Outcome.passed()


def patience(s, kind: str, at_least: int) -> Outcome:
    """failureThreshold x periodSeconds: how long a failing container is given."""
    ref = web(s)
    spec = ref.container.get(kind) or {}
    threshold = spec.get("failureThreshold", DEFAULTS["failureThreshold"])
    period = spec.get("periodSeconds", DEFAULTS["periodSeconds"])
    if threshold * period >= at_least:
        return Outcome.passed()
    return Outcome.failed(f"failureThreshold {threshold} x periodSeconds {period} = {threshold * period}s",
                          where=ref.where, path=ref.path(kind),
                          expected=f"failureThreshold x periodSeconds >= {at_least}s",
                          actual=f"{threshold} x {period} = {threshold * period}s")


@lab.check("pod-exists", "Pod probed exists with container web running nginx",
           hint="Apply your manifest: kubectl apply -n lab4 -f labs/lab4/probed.yaml")
def pod_exists(s):
    pod = s.get("Pod", POD)
    if pod is None:
        return Outcome.failed(f"Pod {POD} was not found in namespace {s.namespace}", where=f"pod/{POD}",
                              expected=f"a Pod named {POD}", actual="nothing with that name")
    if match.find_container(pod, "web", init=False) is None:
        return Outcome.failed('no container named "web"', where=f"pod/{POD}",
                              path="spec.containers[*].name", expected="web",
                              actual=[c.get("name") for c in pod["spec"]["containers"]])
    return runs_image(web(s), "nginx")


@lab.check("readiness-probe", "web has an httpGet readinessProbe on port 80",
           hint="The probe must hit the port nginx listens on: httpGet {path: /, port: 80}.")
def readiness_probe(s):
    return probe(s, "readinessProbe", http=True, tcp=False)


@lab.check("liveness-probe", "web has an httpGet or tcpSocket livenessProbe on port 80",
           hint="A liveness probe belongs to the container, next to image.")
def liveness_probe(s):
    return probe(s, "livenessProbe", http=True, tcp=True)


@lab.check("liveness-patience", "The liveness probe allows at least 30 s of failures",
           hint="failureThreshold x periodSeconds is how long a failing server survives; "
                "the defaults are 3 x 10s.")
def liveness_patience(s):
    if not web(s).container.get("livenessProbe"):
        raise Blocked("web has no livenessProbe (see liveness-probe)")
    return patience(s, "livenessProbe", 30)


@lab.check("startup-probe", "web has a startupProbe on port 80 allowing at least 60 s",
           hint="A startupProbe holds the other probes back while a slow server starts; "
                "failureThreshold x periodSeconds is how long it waits.")
def startup_probe(s):
    found = probe(s, "startupProbe", http=True, tcp=True)
    if found.status is not Status.PASSED:
        return found
    return patience(s, "startupProbe", 60)


@lab.check("ready-no-restarts", "The pod is Ready and web never restarted",
           hint="Restarts mean the liveness probe failed: kubectl describe pod probed -n lab4.",
           requires=("readiness-probe", "liveness-probe"))
def ready_no_restarts(s):
    return all_of(ready(s, POD, containers=["web"]), restarts(s, POD, "web", at_most=0))


@lab.check("probe-paths-answer", "Every httpGet probe of web answers 200-399", behaviour=True,
           requires=("readiness-probe", "liveness-probe", "ready-no-restarts"),
           hint="Ask the path yourself: kubectl get --raw /api/v1/namespaces/lab4/pods/probed:80/proxy/PATH "
                "(nginx answers 404 for a file it does not have).")
def probe_paths_answer(s):
    ref = web(s)
    asked = []
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        http = (ref.container.get(kind) or {}).get("httpGet")
        if not http:
            continue
        port = match.resolve_port(ref.container, http.get("port"))
        asked.append(answers(s, POD, port, str(http.get("path", "/")),
                             wanted=f"the {kind}'s path answering 200-399", problem=status_in(200, 399)))
    return all_of(*asked)
