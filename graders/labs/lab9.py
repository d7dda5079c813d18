"""Lab 9 - kubectl drill: objects made with imperative commands (`kubectl run`, `create ...
--dry-run=client -o yaml`, `set`, `label`, `annotate`, `edit`), graded on what they left in the
namespace, however they were made.

Teaches: the imperative commands of lesson 02 and their flags; starting a manifest with
`--dry-run=client -o yaml`; which fields of a running pod can change (image, labels,
annotations) and which cannot (env, resources through `kubectl set`: make the new pod instead).
Objects: ConfigMap `drill-settings` and Pod `legacy` (the starter `drill.yaml` creates them),
Pods `web`, `greeter`, `worker`. Each pod has one container named like the pod, as `kubectl
run` names it.

| check id | must hold |
|---|---|
| `web-labels` | Pod `web` has the labels `app=web` and `tier=frontend` |
| `web-port` | container `web` runs nginx and declares `containerPort: 80` (TCP) |
| `web-running` | Pod `web` `Ready=True` |
| `web-serves` | *behaviour* (requires `web-port`, `web-running`): `GET /` on port 80 answers 200 with an HTML body |
| `greeter-env` | container `greeter` has `GREETING=bonjour` (a literal, or from a ConfigMap key that holds it), and its command and args name `GREETING` (or run `env`/`printenv`) |
| `greeter-running` | Pod `greeter` `Ready=True`: it keeps running after it has printed |
| `greeter-says` | *behaviour* (requires `greeter-env`, `greeter-running`): `greeter`'s log has a line containing `bonjour` |
| `settings-mode` | ConfigMap `drill-settings` has `mode: batch`, and still `colour: blue` |
| `worker-resources` | container `worker`: requests cpu = 50m, memory = 32Mi; limits cpu = 100m, memory = 64Mi (as numbers) |
| `worker-mode` | container `worker` takes `MODE` from ConfigMap `drill-settings`, key `mode` (`configMapKeyRef`), not a literal |
| `worker-running` | Pod `worker` `Ready=True` |
| `legacy-image` | container `legacy` runs nginx with the tag `1.27-alpine`, and Pod `legacy` is `Ready=True` |
| `legacy-labels` | Pod `legacy` has `tier=backend`, still has `app=legacy`, and no longer has a label `stage` |
| `legacy-annotation` | Pod `legacy` has the annotation `owner=platform-team` |

Named mistakes (tests/cases/lab9): `--labels=app=web, tier=frontend` (the shell splits at the
space: only `app=web`) → `web-labels`; `--port=8080` → `web-port`; greeter's command in double
quotes, so that the learner's shell expanded `$GREETING` to nothing → `greeter-env`; greeter run
with `--restart=Never` and no sleep → `greeter-running` where containers run; `32M` for 32Mi →
`worker-resources`; `MODE=batch` as a literal → `worker-mode`; `drill-settings` made again with
`mode` only → `settings-mode`; `legacy` and `drill-settings` as the starter left them →
`settings-mode`, `legacy-image`, `legacy-labels`, `legacy-annotation`.

Handing in: batch grading and nbgrader replay manifests, so `grade hand-in lab9 FILE`
writes the drill's objects, as they are in the namespace, to FILE as manifests that create them
again (labs/lab9/drill.yaml: it replaces the starter).
"""
from __future__ import annotations

import re

from graders import match
from graders.checks import (Lab, all_of, answers, container, container_exists, declares_port, has_label,
                            html_page, missing, ready, runs_image)
from graders.results import Outcome, Status

lab = Lab("lab9", "kubectl drill",
          objects="ConfigMap drill-settings, Pods web, greeter, worker and legacy (one container each, "
                  "named like the pod)",
          kinds=("Pod", "ConfigMap"), judges_resources=True,
          # a drill leaves live objects, not files: `grade hand-in lab9 FILE` writes these as manifests
          hand_in=(("ConfigMap", "drill-settings"), ("Pod", "legacy"), ("Pod", "web"), ("Pod", "greeter"),
                   ("Pod", "worker")))
SETTINGS = "drill-settings"
GREETING = "bonjour"
WORKER_RESOURCES = {("requests", "cpu"): "50m", ("requests", "memory"): "32Mi",
                    ("limits", "cpu"): "100m", ("limits", "memory"): "64Mi"}
LEGACY_TAG = "1.27-alpine"


def only(s, pod: str):
    """The pod's container, named like the pod (as `kubectl run` names it)."""
    return container(s, pod, pod, init=False)


def first_look(s, pod: str) -> Outcome | None:
    """For the first check of a pod: a failed outcome when the pod or its container is missing."""
    found = missing(s, "Pod", pod) or container_exists(s, pod, pod, init=False)
    return None if found.status is Status.PASSED else found


def env_value(s, ref, name: str) -> tuple[str | None, str]:
    """(value, where it comes from: 'literal', 'configmap' or 'other') of the container's
    variable `name`, resolving ConfigMap keys; (None, 'absent') when it is not set."""
    for entry in ref.container.get("env") or []:
        if entry.get("name") != name:
            continue
        if "valueFrom" not in entry:
            return str(entry.get("value", "")), "literal"
        key = match.dig(entry, "valueFrom", "configMapKeyRef", default={})
        if key:
            data = (s.get("ConfigMap", key.get("name", "")) or {}).get("data") or {}
            return data.get(key.get("key")), "configmap"
        return None, "other"
    for bulk in ref.container.get("envFrom") or []:
        source = match.dig(bulk, "configMapRef", "name")
        data = ((s.get("ConfigMap", source) or {}).get("data") or {}) if source else {}
        prefix = bulk.get("prefix", "")
        for key, value in data.items():
            if prefix + key == name:
                return value, "configmap"
    return None, "absent"


# --- web: kubectl run with --image, --labels, --port -------------------------------------------

@lab.check("web-labels", "Pod web has the labels app=web and tier=frontend",
           hint="kubectl run sets labels with --labels, as one comma-separated list without spaces "
                "(kubectl run --help); kubectl label adds a label to a pod that exists.")
def web_labels(s):
    if absent := missing(s, "Pod", "web"):
        return absent
    return all_of(has_label(s, "Pod", "web", "app", "web"), has_label(s, "Pod", "web", "tier", "frontend"))


@lab.check("web-port", "Container web runs nginx and declares containerPort 80",
           hint="--image chooses the image and --port declares the port the container listens on "
                "(kubectl run --help).")
def web_port(s):
    if problem := first_look(s, "web"):
        return problem
    web = only(s, "web")
    return all_of(runs_image(web, "nginx"), declares_port(web, 80))


@lab.check("web-running", "Pod web is Running and Ready",
           hint="kubectl describe pod web -n lab9: its Events say why it does not start.")
def web_running(s):
    return ready(s, "web")


@lab.check("web-serves", "GET / on port 80 answers 200 with an HTML page", behaviour=True,
           requires=("web-port", "web-running"),
           hint="Ask it yourself: kubectl get --raw /api/v1/namespaces/lab9/pods/web:80/proxy/")
def web_serves(s):
    return answers(s, "web", 80, "/", wanted="HTTP 200 with an HTML page", problem=html_page)


# --- greeter: kubectl run with --env and a command ---------------------------------------------

def names_the_variable(line: str) -> bool:
    """Whether a command line reads GREETING: names it, or prints the whole environment."""
    return "GREETING" in line or re.search(r"(^|[\s;&|(])(env|printenv)\s*($|[;&|)])", line) is not None


@lab.check("greeter-env", "Container greeter has GREETING=bonjour and its command prints it",
           hint="--env NAME=VALUE sets a variable (kubectl run --help), and everything after -- is the "
                "command. In single quotes, $GREETING reaches the container's shell; in double quotes "
                "your own shell replaces it first (with nothing).")
def greeter_env(s):
    if problem := first_look(s, "greeter"):
        return problem
    greeter = only(s, "greeter")
    value, source = env_value(s, greeter, "GREETING")
    line = match.command_line(greeter.container)
    argv = (greeter.container.get("command") or []) + (greeter.container.get("args") or [])
    return all_of(
        Outcome.passed() if value == GREETING else Outcome.failed(
            "GREETING is not bonjour" if source != "absent" else "greeter has no GREETING variable",
            where=greeter.where, path=greeter.path("env[name=GREETING]"), expected=GREETING,
            actual=value if source in ("literal", "configmap") else
            ([e.get("name") for e in greeter.container.get("env") or []] or "no env")),
        Outcome.passed() if names_the_variable(line) else Outcome.failed(
            "greeter's command does not print GREETING", where=greeter.where,
            path=greeter.path("args" if greeter.container.get("args") else "command"),
            expected="a command that prints $GREETING, e.g. sh -c 'echo \"$GREETING\"; sleep 3600'",
            actual=argv or "no command or args (the image's default runs)"))


@lab.check("greeter-running", "Pod greeter is Running and Ready: it keeps running after it prints",
           hint="A pod's container that ends is finished (or restarted): after printing, keep it alive "
                "(sleep), and leave --restart at its default.")
def greeter_running(s):
    return ready(s, "greeter")


@lab.check("greeter-says", "greeter's log shows bonjour", behaviour=True,
           requires=("greeter-env", "greeter-running"),
           hint="kubectl logs greeter -n lab9 shows what it printed.")
def greeter_says(s):
    lines = (s.log("greeter", "greeter") or "").splitlines()
    if any(GREETING in line for line in lines):
        return Outcome.passed(f"its log says {GREETING}", "pod/greeter")
    return Outcome.failed(f"greeter's log has no line with {GREETING}", where="pod/greeter",
                          path="pods/greeter/log?container=greeter", expected=f"a line with {GREETING}",
                          actual={"last log lines": lines[-8:]} if lines else "nothing logged")


# --- drill-settings: kubectl edit --------------------------------------------------------------

@lab.check("settings-mode", "ConfigMap drill-settings has mode: batch, and still colour: blue",
           hint="A ConfigMap can be changed in place: kubectl edit configmap drill-settings -n lab9 opens "
                "it in your editor (KUBE_EDITOR chooses which; kubectl edit --help). Change one value; "
                "keep the other key.")
def settings_mode(s):
    if absent := missing(s, "ConfigMap", SETTINGS):
        return absent
    data = s.get("ConfigMap", SETTINGS).get("data") or {}
    found = []
    for key, wanted in (("mode", "batch"), ("colour", "blue")):
        if data.get(key) != wanted:
            found.append(Outcome.failed(f"{key} is {data[key]!r}" if key in data else f"no key {key}",
                                        where=f"configmap/{SETTINGS}", path=f"data.{key}", expected=wanted,
                                        actual=data.get(key) if key in data else f"keys: {sorted(data)}"))
    return all_of(*found)


# --- worker: run --dry-run=client -o yaml, set resources, set env ------------------------------

@lab.check("worker-resources", "Container worker requests 50m cpu and 32Mi memory, limits 100m and 64Mi",
           hint="kubectl set resources --requests=... --limits=... (kubectl set resources --help). On a "
                "pod that exists it is refused: set them on the manifest before you create the pod "
                "(--local -f FILE -o yaml, or -f - in a pipe). Mind the units: 32Mi is not 32M.")
def worker_resources(s):
    if problem := first_look(s, "worker"):
        return problem
    worker = only(s, "worker")
    found = []
    for (section, name), wanted in WORKER_RESOURCES.items():
        raw = match.dig(worker.container, "resources", section, name)
        if not match.same_quantity(raw, wanted):
            found.append(Outcome.failed(f"{section}.{name} is {raw if raw is not None else 'not set'}",
                                        where=worker.where, path=worker.path("resources", section, name),
                                        expected=wanted, actual=raw if raw is not None else "not set"))
    return all_of(*found)


@lab.check("worker-mode", "worker takes MODE from ConfigMap drill-settings, key mode",
           hint="kubectl set env --from=configmap/NAME --keys=KEY writes a reference to the key "
                "(kubectl set env --help). A running pod's env cannot change: print the changed pod "
                "with --dry-run=client -o yaml, then replace the pod with it (kubectl replace --force).")
def worker_mode(s):
    worker = only(s, "worker")
    entry = next((e for e in worker.container.get("env") or [] if e.get("name") == "MODE"), None)
    expected = f"valueFrom.configMapKeyRef {{name: {SETTINGS}, key: mode}}"
    if entry is None:
        return Outcome.failed("worker has no MODE variable", where=worker.where, path=worker.path("env"),
                              expected=expected,
                              actual=[e.get("name") for e in worker.container.get("env") or []] or "no env")
    key = match.dig(entry, "valueFrom", "configMapKeyRef", default={})
    if key.get("name") == SETTINGS and key.get("key") == "mode":
        return Outcome.passed()
    return Outcome.failed("MODE is written into the pod as a literal" if "value" in entry
                          else "MODE does not come from drill-settings' key mode",
                          where=worker.where, path=worker.path("env[name=MODE]"), expected=expected,
                          actual=entry.get("valueFrom") or {"value": entry.get("value")})


@lab.check("worker-running", "Pod worker is Running and Ready",
           hint="kubectl describe pod worker -n lab9: its Events say why it does not start.")
def worker_running(s):
    return ready(s, "worker")


# --- legacy: changed in place with set image, label, annotate ----------------------------------

@lab.check("legacy-image", "Container legacy runs nginx:1.27-alpine and the pod is Ready",
           hint="The image is one of the few fields of a running pod that can change: kubectl set image "
                "POD CONTAINER=IMAGE (kubectl set image --help), or kubectl edit.")
def legacy_image(s):
    if problem := first_look(s, "legacy"):
        return problem
    legacy = only(s, "legacy")
    image = legacy.container.get("image")
    if not match.runs_image(image, "nginx") or match.image_tag(image) != LEGACY_TAG:
        return Outcome.failed(f"runs {image!r}", where=legacy.where, path=legacy.path("image"),
                              expected=f"nginx:{LEGACY_TAG}", actual=image)
    return ready(s, "legacy")


@lab.check("legacy-labels", "Pod legacy has tier=backend, keeps app=legacy, and has no label stage",
           hint="kubectl label POD KEY=VALUE adds a label, KEY- removes one (kubectl label --help).")
def legacy_labels(s):
    labels = match.dig(s.pod("legacy"), "metadata", "labels", default={})
    return all_of(
        has_label(s, "Pod", "legacy", "tier", "backend"), has_label(s, "Pod", "legacy", "app", "legacy"),
        Outcome.passed() if "stage" not in labels else Outcome.failed(
            "the label stage is still there", where="pod/legacy", path="metadata.labels.stage",
            expected="no label stage", actual=labels["stage"]))


@lab.check("legacy-annotation", "Pod legacy has the annotation owner=platform-team",
           hint="Annotations are set like labels, with kubectl annotate (kubectl annotate --help).")
def legacy_annotation(s):
    annotations = match.dig(s.pod("legacy"), "metadata", "annotations", default={})
    if annotations.get("owner") == "platform-team":
        return Outcome.passed()
    return Outcome.failed("no annotation owner=platform-team", where="pod/legacy",
                          path="metadata.annotations.owner", expected="platform-team",
                          actual=annotations.get("owner", "no annotation owner"))
