"""Lab 10 - A pod from an empty file: the capstone. The learner writes every line of one pod from
a description in words: a web server whose page an init container writes, a sidecar that
reports its access log, a readiness probe, requests and limits that make it Guaranteed, and no
root anywhere.

Teaches: the lessons together, with no skeleton to fill in.
Objects: Pod `site` with the init container `prepare`, the container `web` (the unprivileged
nginx image, `nginxinc/nginx-unprivileged`, which listens on 8080 as user 101) and the sidecar
`logger`. The starter `site.yaml` holds comments only.

| check id | must hold |
|---|---|
| `pod-exists` | Pod `site` exists |
| `web-container` | container `web` (in `containers`) runs `nginxinc/nginx-unprivileged` and declares `containerPort: 8080` (TCP) |
| `init-container` | `prepare` is a real init container (in `initContainers`, no `restartPolicy: Always`) |
| `init-writes-page` | `prepare` mounts an `emptyDir` volume, and its command and args write a file named `index.html` under that volume's mount path (read as lab3's check of the same name reads them) |
| `web-serves-volume` | `web` mounts that same volume at `/usr/share/nginx/html` |
| `log-volume` | a container `logger` exists (regular container or native sidecar), and one `emptyDir` volume is mounted by `web` at `/var/log/nginx` and by `logger` at any path |
| `logger-reads-log` | `logger`'s command and args, joined, contain `<its mount path of that volume>/access.log` |
| `readiness-probe` | `web` has a `readinessProbe` with `httpGet` on port 8080 (a number, or the name of a containerPort that is 8080) and a path starting with `/` |
| `guaranteed` | `status.qosClass: Guaranteed` (every container, init containers and sidecar included, limits cpu and memory, and requests them equally or not at all) |
| `non-root` | every container: effective `runAsNonRoot: true`, and an effective `runAsUser` other than 0 (without one, only an image known to run as a non-root user: `nginxinc/nginx-unprivileged`, user 101) |
| `no-escalation` | every container: `allowPrivilegeEscalation: false` |
| `running` | (requires `readiness-probe`) pod `Ready=True`, `web` and `logger` ready |
| `serves-page` | *behaviour* (requires `init-writes-page`, `web-serves-volume`, `running`): `GET /` on port 8080 answers 200 with a page containing `Built from an empty file` |
| `logger-sees-requests` | *behaviour* (requires `logger-reads-log`, `running`): after the grader requests port 8080 with a unique marker in the URL, `logger`'s log shows a line with that marker within 10 s |

Named mistakes (tests/cases/lab10): `web` on the root `nginx` image → `web-container` (and where
containers run `running`: it cannot start as user 101); `prepare` without resources →
`guaranteed`; requests below limits in `web` → `guaranteed`; `runAsNonRoot` without a
`runAsUser` for the busybox containers → `non-root` (and `running` where containers run: the
kubelet refuses to start them); `allowPrivilegeEscalation: false` only in `web` →
`no-escalation`; the probe on port 80 → `readiness-probe`; `logger` tails
`/var/log/nginx/access.log` while mounting the volume at `/logs` → `logger-reads-log`; `prepare`
writes `index.html` in `/tmp` → `init-writes-page`.
"""
from graders import match
from graders.checks import (Lab, all_of, answers, container, container_exists, declares_port, emptydir_mounts,
                            emptydir_volumes, exists, init_container_ref, mount_of, reads_from_volume, ready,
                            real_init_container, request_shows_in_log, runs_image, shared_emptydir,
                            writes_into_emptydir)
from graders.results import Outcome, Status
from graders.snapshot import Blocked

lab = Lab("lab10", "A pod from an empty file",
          objects="Pod site (init container prepare, container web, sidecar logger)",
          kinds=("Pod",), judges_resources=True)
POD = "site"
IMAGE = "nginxinc/nginx-unprivileged"
PORT = 8080
HTML_DIR = "/usr/share/nginx/html"
LOG_DIR = "/var/log/nginx"
TEXT = "Built from an empty file"
LOG_PATIENCE = 10  # seconds for a request to show in logger's log, as in lab2
# Images whose own user is not root, so that runAsNonRoot holds without a runAsUser (the
# kubelet reads the image's user; the simulated cluster cannot, so it is written down here).
NON_ROOT_IMAGES = {IMAGE: 101}


def every_container(s) -> list:
    pod = s.pod(POD)
    return [container(s, POD, c["name"]) for field in ("initContainers", "containers")
            for c in match.dig(pod, "spec", field, default=[])]


@lab.check("pod-exists", "Pod site exists",
           hint="Write the pod in site.yaml and apply it: kubectl apply -n lab10 -f labs/lab10/site.yaml")
def pod_exists(s):
    return exists(s, "Pod", POD)


@lab.check("web-container", "Container web runs nginxinc/nginx-unprivileged and declares containerPort 8080",
           hint="The unprivileged nginx image runs as user 101 and listens on 8080; the plain nginx "
                "image needs root for port 80 and its cache.")
def web_container(s):
    found = container_exists(s, POD, "web", init=False)
    if found.status is not Status.PASSED:
        return found
    web = container(s, POD, "web", init=False)
    return all_of(runs_image(web, IMAGE), declares_port(web, PORT))


@lab.check("init-container", "prepare is a real init container",
           hint="An init container runs to completion before the others start: it belongs under "
                "spec.initContainers, without restartPolicy: Always (lesson 04).")
def init_container(s):
    return real_init_container(s, POD, "prepare")


@lab.check("init-writes-page", "prepare mounts an emptyDir volume and writes index.html under its mount path",
           hint="Mount an emptyDir in prepare and have its shell command write a file named index.html "
                "under that mountPath (lesson 04, init containers).")
def init_writes_page(s):
    return writes_into_emptydir(s, POD, "prepare", "index.html")


@lab.check("web-serves-volume", "web mounts prepare's volume at /usr/share/nginx/html",
           hint="nginx serves /usr/share/nginx/html: mount the volume prepare writes to exactly there.")
def web_serves_volume(s):
    web = container(s, POD, "web", init=False)
    volumes = emptydir_mounts(init_container_ref(s, POD, "prepare"))
    if any((mount_of(web, name) or {}).get("mountPath", "").rstrip("/") == HTML_DIR for name in volumes):
        return Outcome.passed()
    return Outcome.failed(
        "web does not mount prepare's volume at /usr/share/nginx/html", where=web.where,
        path=web.path("volumeMounts"), expected=f"one of {volumes or ['<the emptyDir prepare mounts>']} at {HTML_DIR}",
        actual={m.get("name"): m.get("mountPath") for m in match.mounts(web.container)} or "no volumeMounts")


def log_volume(s) -> str | None:
    """The emptyDir volume web mounts at /var/log/nginx and logger mounts too, if any."""
    return shared_emptydir(s, POD, "web", LOG_DIR, "logger")


@lab.check("log-volume", "A logger container shares an emptyDir with web, which web mounts at /var/log/nginx",
           hint="nginx writes access.log into /var/log/nginx: make that directory an emptyDir that the "
                "logger (a sidecar) mounts too (lesson 04).")
def log_volume_check(s):
    found = container_exists(s, POD, "logger")
    if found.status is not Status.PASSED:
        return found
    if log_volume(s):
        return Outcome.passed()
    web, logger = container(s, POD, "web", init=False), container(s, POD, "logger")
    return Outcome.failed(
        "no emptyDir volume is mounted by web at /var/log/nginx and by logger", where=f"pod/{POD}",
        path="spec.volumes, spec.containers[*].volumeMounts",
        expected="an emptyDir volume mounted by web at /var/log/nginx and by logger",
        actual={"emptyDir volumes": emptydir_volumes(web.pod),
                "web mounts": {m.get("name"): m.get("mountPath") for m in match.mounts(web.container)},
                "logger mounts": {m.get("name"): m.get("mountPath") for m in match.mounts(logger.container)}})


@lab.check("logger-reads-log", "logger reads access.log from its mount of the shared volume",
           hint="The logger sees the volume at ITS OWN mountPath: follow <that path>/access.log (tail -F).")
def logger_reads_log(s):
    volume = log_volume(s)
    if volume is None:
        raise Blocked("there is no shared log volume yet (see log-volume)")
    return reads_from_volume(s, POD, "logger", volume, "access.log")


@lab.check("readiness-probe", "web has an httpGet readinessProbe on port 8080",
           hint="A readiness probe belongs to the container, next to image: httpGet on the port nginx "
                "listens on (lesson 05).")
def readiness_probe(s):
    web = container(s, POD, "web", init=False)
    probe = web.container.get("readinessProbe")
    if not probe or "httpGet" not in probe:
        used = next((k for k in ("tcpSocket", "exec", "grpc") if k in (probe or {})), None)
        return Outcome.failed(f"the readinessProbe uses {used}" if used else "web has no readinessProbe",
                              where=web.where, path=web.path("readinessProbe"),
                              expected=f"a readinessProbe with httpGet on port {PORT}", actual=used or "none")
    port = probe["httpGet"].get("port")
    if match.resolve_port(web.container, port) != PORT:
        return Outcome.failed(f"the readinessProbe checks port {port}", where=web.where,
                              path=web.path("readinessProbe", "httpGet", "port"),
                              expected=f"{PORT} (or the name of a containerPort that is {PORT})", actual=port)
    path = str(probe["httpGet"].get("path", "/"))
    if not path.startswith("/"):
        return Outcome.failed("the HTTP path must start with /", where=web.where,
                              path=web.path("readinessProbe", "httpGet", "path"), expected="/...", actual=path)
    return Outcome.passed()


def unequal(ref) -> dict | None:
    """What keeps this container from Guaranteed (a missing limit, a request below its limit), or None."""
    resources = ref.container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    for name in ("cpu", "memory"):
        if match.quantity(limits.get(name)) is None or (
                name in requests and not match.same_quantity(requests[name], limits[name])):
            return {"requests": requests or "none", "limits": limits or "none"}
    return None


@lab.check("guaranteed", "The pod's QoS class is Guaranteed",
           hint="Guaranteed needs, in every container (init containers and sidecars too), cpu and memory "
                "limits, with requests equal to them or left out (lesson 06).")
def guaranteed(s):
    actual = match.dig(s.pod(POD), "status", "qosClass")
    if actual == "Guaranteed":
        return Outcome.passed()
    culprits = {ref.name: found for ref in every_container(s) if (found := unequal(ref))}
    return Outcome.failed(f"QoS class is {actual}", where=f"pod/{POD}", path="status.qosClass",
                          expected="Guaranteed", actual={"qosClass": actual, **culprits} if culprits else actual)


@lab.check("non-root", "Every container runs as a non-root user",
           hint="Set runAsNonRoot: true, and a runAsUser other than 0 for the containers whose image would "
                "run as root (busybox's does; the unprivileged nginx image runs as 101). The pod's "
                "securityContext sets both for every container (lesson 08).")
def non_root(s):
    problems = []
    for ref in every_container(s):
        flag = match.effective_security(ref.pod, ref.container, "runAsNonRoot")
        user = match.effective_security(ref.pod, ref.container, "runAsUser")
        image_user = next((uid for image, uid in NON_ROOT_IMAGES.items()
                           if match.runs_image(ref.container.get("image"), image)), None)
        if flag is not True:
            problems.append(Outcome.failed(
                f"runAsNonRoot is not true for {ref.name}", where=ref.where,
                path=ref.path("securityContext.runAsNonRoot"), expected=True,
                actual=flag if flag is not None else "not set (pod or container)"))
        elif user == 0 or (user is None and image_user is None):
            problems.append(Outcome.failed(
                f"{ref.name} would run as root", where=ref.where, path=ref.path("securityContext.runAsUser"),
                expected="a UID other than 0",
                actual=0 if user == 0 else f"not set, and {ref.container.get('image')} runs as root"))
    return all_of(*problems)


@lab.check("no-escalation", "No container can gain privileges: allowPrivilegeEscalation false in each",
           hint="allowPrivilegeEscalation is a setting of each container's securityContext (the pod's has "
                "none): set it in every container, init containers and sidecar included.")
def no_escalation(s):
    missing_it = {ref.name: match.dig(ref.container, "securityContext", "allowPrivilegeEscalation",
                                      default="not set") for ref in every_container(s)
                  if match.dig(ref.container, "securityContext", "allowPrivilegeEscalation") is not False}
    if not missing_it:
        return Outcome.passed()
    first = next(ref for ref in every_container(s) if ref.name in missing_it)
    return Outcome.failed(f"allowPrivilegeEscalation is not false in {', '.join(missing_it)}", where=f"pod/{POD}",
                          path=first.path("securityContext.allowPrivilegeEscalation"),
                          expected="false in every container", actual=missing_it)


@lab.check("running", "The pod is Ready, with web and logger ready", requires=("readiness-probe",),
           hint="kubectl describe pod site -n lab10 shows where it is stuck; kubectl logs site -c web -n "
                "lab10 what nginx said.")
def running(s):
    outcome = ready(s, POD, containers=["web", "logger"])
    if outcome.status is Status.PENDING:
        return probe_keeps_failing(s) or outcome
    return outcome


def probe_keeps_failing(s) -> Outcome | None:
    """A failed outcome when web runs, is not ready, and the kubelet has reported its readiness
    probe failing for longer than the probe's own failure window (initialDelaySeconds +
    failureThreshold x periodSeconds): not a slow start but a probe that does not pass (a 403 of
    an empty html directory, a wrong path). None while it may still be starting."""
    from datetime import datetime, timezone

    pod = s.pod(POD)
    status = match.container_status(pod, "web") or {}
    started = match.dig(status, "state", "running", "startedAt")
    probe = container(s, POD, "web", init=False).container.get("readinessProbe") or {}
    if status.get("ready") or not started:
        return None
    window = (probe.get("initialDelaySeconds", 0)
              + probe.get("failureThreshold", 3) * probe.get("periodSeconds", 10))
    since = datetime.now(timezone.utc) - datetime.fromisoformat(started.replace("Z", "+00:00"))
    said = [e.get("message", "") for e in s.warnings(POD) if e.get("reason") == "Unhealthy"
            and "Readiness probe failed" in e.get("message", "")]
    if not said or since.total_seconds() < window:
        return None
    return Outcome.failed(f"web has been running for {since.total_seconds():.0f}s and its readiness probe "
                          "keeps failing, so the pod is never Ready", where=f"pod/{POD}",
                          path="status.conditions[type=Ready]", expected="Ready=True",
                          actual={"the kubelet said": said[-1]})


def the_page(answer) -> str | None:
    """A `problem` for web's answer: 200 with the page prepare wrote."""
    if answer.status == 403:
        return "answered 403: nginx found no index.html in /usr/share/nginx/html"
    if answer.status != 200:
        return f"answered {answer.status}"
    if TEXT.lower() not in answer.text.lower():
        return f"answered a page without {TEXT!r}"
    return None


@lab.check("serves-page", "GET / on port 8080 answers with the page prepare wrote", behaviour=True,
           requires=("init-writes-page", "web-serves-volume", "running"),
           hint=f"Ask it yourself: kubectl get --raw /api/v1/namespaces/lab10/pods/{POD}:{PORT}/proxy/ . "
                f"The page must say {TEXT}.")
def serves_page(s):
    return answers(s, POD, PORT, "/", wanted=f"HTTP 200 with a page saying {TEXT}", problem=the_page)


@lab.check("logger-sees-requests", "A request to web shows in logger's log within 10 s", behaviour=True,
           requires=("logger-reads-log", "running"),
           hint="Request the page and watch kubectl logs site -c logger -n lab10: logger must follow the "
                "very file nginx writes (tail -F), and print what it reads.")
def logger_sees_requests(s):
    return request_shows_in_log(s, POD, PORT, "logger", LOG_PATIENCE)
