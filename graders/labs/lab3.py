"""Lab 3 - Init containers: `prepare` runs to completion and seeds the page that `web` serves.
Contract: shared LABS.md, lab3."""
from graders import match
from graders.checks import (Lab, answers, container, emptydir_mounts, exists, init_container_ref, mount_of,
                            ready, real_init_container, runs_image, writes_into_emptydir)
from graders.results import Outcome, Status

lab = Lab("lab3", "Init containers", objects="Pod init-demo (init container prepare, container web)",
          kinds=("Pod",))
POD = "init-demo"
HTML_DIR = "/usr/share/nginx/html"
PAGE = "index.html"


@lab.check("pod-exists", "Pod init-demo exists",
           hint="Apply your manifest: kubectl apply -n lab3 -f labs/lab3/init-demo.yaml")
def pod_exists(s):
    return exists(s, "Pod", POD)


@lab.check("init-container", "prepare is a real init container",
           hint="prepare belongs under spec.initContainers, without restartPolicy: Always "
                "(that would make it a sidecar that never completes).")
def init_container(s):
    return real_init_container(s, POD, "prepare")


@lab.check("init-writes-page", "prepare mounts an emptyDir volume and writes index.html under its mount path",
           hint="Mount an emptyDir in prepare and have its shell command write a file named index.html "
                "under that mountPath. A file in /tmp, or with another name, is not the page web serves.")
def init_writes_page(s):
    return writes_into_emptydir(s, POD, "prepare", "index.html")


@lab.check("web-serves-volume", "web runs nginx and mounts prepare's volume at /usr/share/nginx/html",
           hint="nginx serves /usr/share/nginx/html: mount the volume prepare writes to exactly there.")
def web_serves_volume(s):
    web = container(s, POD, "web", init=False)
    image = runs_image(web, "nginx")
    if image.status is not Status.PASSED:
        return image
    volumes = emptydir_mounts(init_container_ref(s, POD, "prepare"))
    for name in volumes:
        mount = mount_of(web, name)
        if mount and mount.get("mountPath", "").rstrip("/") == HTML_DIR:
            return Outcome.passed()
    mounts = {m.get("name"): m.get("mountPath") for m in match.mounts(web.container)}
    return Outcome.failed(
        "web does not mount prepare's volume at /usr/share/nginx/html", where=web.where,
        path=web.path("volumeMounts"),
        expected=f"one of {volumes or ['<the emptyDir prepare mounts>']} at {HTML_DIR}",
        actual=mounts or "no volumeMounts")


@lab.check("init-completed", "prepare terminated with exit code 0",
           hint="kubectl logs init-demo -c prepare -n lab3 shows what prepare printed.")
def init_completed(s):
    prepare = init_container_ref(s, POD, "prepare")
    status = match.container_status(prepare.pod, "prepare") or {}
    terminated = match.dig(status, "state", "terminated") or match.dig(status, "lastState", "terminated")
    where, path = f"pod/{POD}", "status.initContainerStatuses[name=prepare].state"
    if not terminated:
        waiting = match.dig(status, "state", "waiting", "reason")
        if waiting in ("CrashLoopBackOff", "ErrImagePull", "ImagePullBackOff", "InvalidImageName"):
            return Outcome.failed(f"prepare is stuck in {waiting}", where=where, path=path,
                                  expected="terminated, exit code 0", actual=waiting)
        return Outcome.pending("prepare has not finished yet", where)
    if terminated.get("exitCode") == 0:
        return Outcome.passed()
    return Outcome.failed(f"prepare exited with code {terminated.get('exitCode')}", where=where,
                          path=path + ".terminated.exitCode", expected=0, actual=terminated.get("exitCode"))


@lab.check("web-ready", "The pod is Ready and web is ready",
           hint="kubectl describe pod init-demo -n lab3 shows where it is stuck (Init:0/1 means "
                "prepare has not completed).")
def web_ready(s):
    return ready(s, POD, containers=["web"])


def prepared_page(answer) -> str | None:
    """A `problem` for web's answer: 200 with a page that is not nginx's own welcome page."""
    if answer.status == 403:
        return "answered 403: nginx found no index.html in /usr/share/nginx/html"
    if answer.status != 200:
        return f"answered {answer.status}"
    if "Welcome to nginx!" in answer.text:
        return "answered nginx's default welcome page, not the page prepare wrote"
    return None


@lab.check("serves-prepared-page", "web serves the page prepare wrote", behaviour=True,
           requires=("init-writes-page", "web-serves-volume", "init-completed", "web-ready"),
           hint="Ask it yourself: kubectl get --raw /api/v1/namespaces/lab3/pods/init-demo:80/proxy/ . "
                "prepare must write index.html into the volume, at the path where prepare mounts it.")
def serves_prepared_page(s):
    return answers(s, POD, 80, "/", wanted="HTTP 200 with the page prepare wrote", problem=prepared_page)
