"""Lab 8 - Troubleshooting: find why `web` and `mydb` fail (get, describe, logs, events) and
recreate them fixed. Contract: shared LABS.md, lab8."""

from graders.checks import Lab, all_of, container, missing, ready, restarts, runs_image
from graders.results import Outcome

lab = Lab("lab8", "Troubleshooting", objects="Pods web and mydb (from labs/lab8/broken.yaml)",
          kinds=("Pod", "Secret", "ConfigMap"))
ROOT_SETTINGS = ("ROOT_PASSWORD", "ROOT_PASSWORD_HASH", "ALLOW_EMPTY_ROOT_PASSWORD", "RANDOM_ROOT_PASSWORD")
VARIABLES = [f"{prefix}_{setting}" for prefix in ("MARIADB", "MYSQL") for setting in ROOT_SETTINGS]
# The settings whose value is a secret (the others are switches such as "1").
SECRET_VALUED = {f"{prefix}_{setting}" for prefix in ("MARIADB", "MYSQL")
                 for setting in ("ROOT_PASSWORD", "ROOT_PASSWORD_HASH")}


def db_settings(s) -> dict[str, str]:
    """The root-password variables mydb's containers set, each with where its value comes from:
    'literal', 'secret', 'configmap' or 'field'."""
    pod = s.pod("mydb")
    found: dict[str, str] = {}
    for entry in pod["spec"]["containers"]:
        for var in entry.get("env") or []:
            if var.get("name") in VARIABLES:
                source = var.get("valueFrom") or {}
                found[var["name"]] = ("secret" if "secretKeyRef" in source else
                                      "configmap" if "configMapKeyRef" in source else
                                      "field" if source else "literal")
        for bulk in entry.get("envFrom") or []:
            prefix = bulk.get("prefix", "")
            for kind, label in (("Secret", "secret"), ("ConfigMap", "configmap")):
                ref = bulk.get(f"{kind[0].lower()}{kind[1:]}Ref")
                if not ref:
                    continue
                source = s.get(kind, ref.get("name", ""))
                keys = (source or {}).get("data") or {}
                for key in keys:
                    if prefix + key in VARIABLES:
                        found.setdefault(prefix + key, label)
    return found


@lab.check("web-image", "Pod web runs nginx",
           hint="kubectl describe pod web -n lab8: ErrImagePull means the image name is wrong. "
                "Fix the name, then delete and re-create the pod.")
def web_image(s):
    return missing(s, "Pod", "web") or all_of(*(runs_image(container(s, "web", c["name"], init=False), "nginx")
                                                for c in s.pod("web")["spec"]["containers"]))


@lab.check("web-running", "Pod web is Ready",
           hint="kubectl get pod web -n lab8 -w shows it starting; describe shows why it does not.")
def web_running(s):
    return ready(s, "web")


@lab.check("db-configured", "Pod mydb sets a root-password option",
           hint="kubectl logs mydb -n lab8 --previous shows what mariadb printed before it exited: it "
                "names the settings it accepts, which are environment variables of the container.")
def db_configured(s):
    if absent := missing(s, "Pod", "mydb"):
        return absent
    if db_settings(s):
        return Outcome.passed()
    return Outcome.failed("mydb sets none of the root-password variables", where="pod/mydb",
                          path="spec.containers[*].env", expected=f"one of {', '.join(VARIABLES)}",
                          actual=[v.get("name") for c in s.pod("mydb")["spec"]["containers"]
                                  for v in c.get("env") or []] or "no env")


@lab.check("db-password-secret", "A root password, if set, comes from a Secret",
           hint="Keep the password in a Secret: kubectl create secret generic mydb-root -n lab8 "
                "--from-literal=password=...; then valueFrom.secretKeyRef.")
def db_password_secret(s):
    settings = db_settings(s)
    exposed = sorted(name for name, source in settings.items()
                     if name in SECRET_VALUED and source != "secret")
    if not exposed:
        return Outcome.passed()
    return Outcome.failed(f"{', '.join(exposed)} is not taken from a Secret", where="pod/mydb",
                          path=f"spec.containers[*].env[name={exposed[0]}]",
                          expected="valueFrom.secretKeyRef (or envFrom a Secret)",
                          actual=f"{settings[exposed[0]]} value")


@lab.check("db-running", "Pod mydb is Ready and never restarted",
           hint="A crash loop shows in kubectl get pods (RESTARTS) and kubectl logs mydb --previous.")
def db_running(s):
    pod = s.pod("mydb")
    names = [c["name"] for c in pod["spec"]["containers"]]
    return all_of(ready(s, "mydb"), *(restarts(s, "mydb", name, at_most=0) for name in names))
