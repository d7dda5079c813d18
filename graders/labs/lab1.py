"""Lab 1 - Your first pod: the manifest, labels, ports. Contract: shared LABS.md, lab1."""
from graders.checks import (Lab, answers, container, container_exists, declares_port, exists, has_label, html_page,
                            names, ready, runs_image)
from graders.results import Outcome

lab = Lab("lab1", "Your first pod", objects="Pod webserver",
          kinds=("Pod",))
POD = "webserver"


@lab.check("pod-exists", "Pod webserver exists",
           hint="Apply your manifest: kubectl apply -n lab1 -f labs/lab1/webserver.yaml")
def pod_exists(s):
    return exists(s, "Pod", POD)


@lab.check("label", "It has the label app=webserver",
           hint="Labels go under metadata.labels, as key: value.")
def label(s):
    return has_label(s, "Pod", POD, "app", "webserver")


@lab.check("one-container", "It has exactly one container",
           hint="List one entry under spec.containers.")
def one_container(s):
    found = names(s.pod(POD))
    if len(found) == 1:
        return Outcome.passed()
    return Outcome.failed(f"{len(found)} containers", where=f"pod/{POD}", path="spec.containers",
                          expected="exactly 1 container", actual=found)


@lab.check("container-name", "Its container is named webserver",
           hint="Each entry of spec.containers has a name: name it webserver.")
def container_name(s):
    return container_exists(s, POD, "webserver", init=False)


@lab.check("image", "It runs nginx",
           hint="Set image: nginx (any tag, e.g. nginx:1.27-alpine).")
def image(s):
    return runs_image(container(s, POD, "webserver", init=False), "nginx")


@lab.check("port", "It declares containerPort 80 (TCP)",
           hint="Add ports: [{containerPort: 80}] to the container.")
def port(s):
    return declares_port(container(s, POD, "webserver", init=False), 80)


@lab.check("running", "It is Running and Ready",
           hint="kubectl describe pod webserver -n lab1 shows why it is not; check its events.")
def running(s):
    return ready(s, POD)


@lab.check("serves-page", "GET / on port 80 answers 200 with an HTML page", behaviour=True,
           requires=("image", "port", "running"),
           hint="Ask it yourself: kubectl get --raw /api/v1/namespaces/lab1/pods/webserver:80/proxy/ "
                "(or kubectl port-forward pod/webserver -n lab1 8080:80, then open localhost:8080).")
def serves_page(s):
    return answers(s, POD, 80, "/", wanted="HTTP 200 with an HTML page", problem=html_page)
