"""Lab 2 - A logging sidecar: two containers sharing an emptyDir volume.
Contract: shared LABS.md, lab2."""
from graders import match
from graders.checks import (Lab, all_of, container, container_exists, declares_port, exists, reads_from_volume,
                            ready, request_shows_in_log, runs_image, shared_emptydir)
from graders.results import Outcome, Status
from graders.snapshot import Blocked

lab = Lab("lab2", "A logging sidecar", objects="Pod web-logger (containers web and logger)",
          kinds=("Pod",))
POD = "web-logger"
LOG_DIR = "/var/log/nginx"
LOG_PATIENCE = 10  # seconds for a request to show in logger's log (LABS.md)


@lab.check("pod-exists", "Pod web-logger exists",
           hint="Apply your manifest: kubectl apply -n lab2 -f labs/lab2/web-logger.yaml")
def pod_exists(s):
    return exists(s, "Pod", POD)


@lab.check("web-container", "Container web runs nginx and declares containerPort 80",
           hint="The web container is the nginx server: image nginx, containerPort 80.")
def web_container(s):
    found = container_exists(s, POD, "web", init=False)
    if found.status is not Status.PASSED:
        return found
    web = container(s, POD, "web", init=False)
    return all_of(runs_image(web, "nginx"), declares_port(web, 80))


@lab.check("logger-container", "Container logger exists (regular container or native sidecar)",
           hint="Add a second container named logger (e.g. busybox), or a native sidecar: an "
                "initContainer with restartPolicy: Always.")
def logger_container(s):
    return container_exists(s, POD, "logger")


def shared_log_volume(s) -> str | None:
    """The emptyDir volume web mounts at /var/log/nginx and logger mounts too, if any."""
    return shared_emptydir(s, POD, "web", LOG_DIR, "logger")


@lab.check("shared-volume", "One emptyDir volume: web mounts it at /var/log/nginx, logger mounts it too",
           hint="Declare an emptyDir under spec.volumes and list it in both containers' volumeMounts.")
def shared_volume(s):
    if shared_log_volume(s):
        return Outcome.passed()
    web, logger = container(s, POD, "web", init=False), container(s, POD, "logger")
    volumes = {v["name"]: next((k for k in v if k != "name"), "?")
               for v in match.dig(web.pod, "spec", "volumes", default=[])}
    web_mounts = {m.get("name"): m.get("mountPath") for m in match.mounts(web.container)}
    logger_mounts = {m.get("name"): m.get("mountPath") for m in match.mounts(logger.container)}
    return Outcome.failed(
        "no emptyDir volume is mounted by web at /var/log/nginx and by logger",
        where=f"pod/{POD}", path="spec.volumes, spec.containers[*].volumeMounts",
        expected="an emptyDir volume mounted by web at /var/log/nginx and by logger",
        actual={"volumes": volumes, "web mounts": web_mounts, "logger mounts": logger_mounts})


@lab.check("logger-reads-log", "logger reads access.log from its mount of the shared volume",
           hint="The logger sees the volume at ITS OWN mountPath: tail <that path>/access.log.")
def logger_reads_log(s):
    volume = shared_log_volume(s)
    if volume is None:
        raise Blocked("there is no shared log volume yet (see shared-volume)")
    return reads_from_volume(s, POD, "logger", volume, "access.log")


@lab.check("all-ready", "The pod is Ready with both web and logger ready",
           hint="kubectl describe pod web-logger -n lab2 shows which container is not ready and why.")
def all_ready(s):
    return ready(s, POD, containers=["web", "logger"])


@lab.check("logger-sees-requests", "A request to web shows in logger's log within 10 s", behaviour=True,
           requires=("logger-reads-log", "all-ready"),
           hint="Request the page (kubectl get --raw /api/v1/namespaces/lab2/pods/web-logger:80/proxy/) "
                "and watch kubectl logs web-logger -c logger -n lab2: logger must follow the very file "
                "nginx writes (tail -F), and print what it reads.")
def logger_sees_requests(s):
    return request_shows_in_log(s, POD, 80, "logger", LOG_PATIENCE)
