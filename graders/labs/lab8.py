"""Lab 8 - Troubleshooting: find why `web` and `mydb` fail (get, describe, logs, events) and
recreate them fixed. Contract: shared LABS.md, lab8."""

from graders import db_root_settings as root
from graders.checks import Lab, all_of, container, missing, ready, restarts, runs_image
from graders.results import Outcome

lab = Lab("lab8", "Troubleshooting", objects="Pods web and mydb (from labs/lab8/broken.yaml)",
          kinds=("Pod", "Secret", "ConfigMap"))


def db_variables(s) -> list[root.Variable]:
    """The root-password variables mydb's containers get (an envFrom source's keys read from
    the namespace), whether mariadb takes them or not."""
    return root.variables(s.pod("mydb"), lambda kind, name: (s.get(kind, name) or {}).get("data") or {})


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
    found = db_variables(s)
    if root.configured(found):
        return Outcome.passed()
    unused = [v.describe() for v in found if v.why_unused]
    return Outcome.failed(f"mariadb takes none of mydb's root-password settings: {unused[0]}" if unused
                          else "mydb sets none of the root-password variables mariadb reads",
                          where="pod/mydb", path="spec.containers[*].env",
                          expected=f"one of {', '.join(root.NAMES)}, not empty "
                                   "(a _FILE one: the path of a file in a mounted volume)",
                          actual=unused or [v.get("name") for c in s.pod("mydb")["spec"]["containers"]
                                            for v in c.get("env") or []] or "no env")


@lab.check("db-password-secret", "A root password, if set, comes from a Secret",
           hint="Keep the password in a Secret: kubectl create secret generic mydb-root -n lab8 "
                "--from-literal=password=...; then valueFrom.secretKeyRef.")
def db_password_secret(s):
    exposed = [v for v in db_variables(s)
               if v.name in root.SECRET_VALUED and v.why_unused is None and not v.from_secret]
    if not exposed:
        return Outcome.passed()
    first = exposed[0]
    if first.is_file:
        return Outcome.failed(f"{first.name} reads its file from a volume that is not a Secret", where="pod/mydb",
                              path=f"spec.containers[name={first.container}].volumeMounts",
                              expected="the file in a mounted Secret (volumes[].secret)",
                              actual=f"volume {first.volume.get('name')}: "
                                     f"{', '.join(k for k in first.volume if k != 'name') or 'no source'}")
    return Outcome.failed(f"{', '.join(v.name for v in exposed)} is not taken from a Secret", where="pod/mydb",
                          path=f"spec.containers[name={first.container}].env[name={first.name}]",
                          expected="valueFrom.secretKeyRef (or envFrom a Secret)",
                          actual=f"{first.source} value")


@lab.check("db-running", "Pod mydb is Ready and never restarted",
           hint="A crash loop shows in kubectl get pods (RESTARTS) and kubectl logs mydb --previous.")
def db_running(s):
    pod = s.pod("mydb")
    names = [c["name"] for c in pod["spec"]["containers"]]
    return all_of(ready(s, "mydb"), *(restarts(s, "mydb", name, at_most=0) for name in names))
