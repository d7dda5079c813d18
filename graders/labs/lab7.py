"""Lab 7 - Configuration and security context: settings from a ConfigMap and a Secret, a
container that runs without root. Contract: shared LABS.md, lab7."""
from graders import match
from graders.checks import Lab, all_of, container, container_exists, missing, ready
from graders.results import Outcome, Status

lab = Lab("lab7", "Configuration and security context",
          objects="ConfigMap app-config, Secret app-secret, Pod secure-app (container app)",
          kinds=("ConfigMap", "Secret", "Pod"))
POD = "secure-app"


def app(s):
    return container(s, POD, "app", init=False)


def env_entry(ref, name: str) -> dict | None:
    return next((e for e in ref.container.get("env") or [] if e.get("name") == name), None)


def effective(ref, field: str):
    return match.effective_security(ref.pod, ref.container, field)


@lab.check("configmap", "ConfigMap app-config has a non-empty key GREETING",
           hint="A ConfigMap holds plain settings as keys; `kubectl create configmap --help` shows how "
                "to make one from literal values.")
def configmap(s):
    if absent := missing(s, "ConfigMap", "app-config"):
        return absent
    found = s.get("ConfigMap", "app-config")
    value = (found.get("data") or {}).get("GREETING")
    if value:
        return Outcome.passed()
    return Outcome.failed("GREETING is missing or empty", where="configmap/app-config",
                          path="data.GREETING", expected="a non-empty value",
                          actual=repr(value) if value is not None else f"keys: {sorted(found.get('data') or {})}")


@lab.check("secret", "Secret app-secret (type Opaque) has a key password",
           hint="A Secret is made like a ConfigMap (`kubectl create secret generic --help`); pods refer "
                "to its keys by name.")
def secret(s):
    if absent := missing(s, "Secret", "app-secret"):
        return absent
    found = s.get("Secret", "app-secret")
    kind = found.get("type", "Opaque")
    keys = sorted(found.get("data") or {})
    return all_of(
        Outcome.passed() if kind == "Opaque" else Outcome.failed(
            f"type is {kind}", where="secret/app-secret", path="type", expected="Opaque", actual=kind),
        Outcome.passed() if "password" in keys else Outcome.failed(
            "no key password", where="secret/app-secret", path="data.password",
            expected="a key named password", actual=f"keys: {keys}"))


def _pod_and_app(s) -> Outcome | None:
    """The first check that looks at the pod says when it or its container is missing."""
    found = missing(s, "Pod", POD) or container_exists(s, POD, "app", init=False)
    return None if found.status is Status.PASSED else found


@lab.check("env-from-configmap", "app gets GREETING from app-config",
           hint="An env entry can take its value from a ConfigMap's key instead of a literal, or envFrom "
                "can take every key: kubectl explain pod.spec.containers.env.valueFrom")
def env_from_configmap(s):
    if problem := _pod_and_app(s):
        return problem
    ref = app(s)
    entry = env_entry(ref, "GREETING")
    if entry is not None:
        source = match.dig(entry, "valueFrom", "configMapKeyRef", default={})
        if source.get("name") == "app-config" and source.get("key") == "GREETING":
            return Outcome.passed()
        return Outcome.failed("GREETING does not come from app-config's key GREETING", where=ref.where,
                              path=ref.path("env[name=GREETING]"),
                              expected="valueFrom.configMapKeyRef {name: app-config, key: GREETING}",
                              actual=entry.get("valueFrom") or {"value": entry.get("value")})
    if any(match.dig(e, "configMapRef", "name") == "app-config" for e in ref.container.get("envFrom") or []):
        return Outcome.passed()
    return Outcome.failed("app has no GREETING variable from app-config", where=ref.where,
                          path=ref.path("env"), expected="GREETING from ConfigMap app-config",
                          actual=[e.get("name") for e in ref.container.get("env") or []] or "no env")


@lab.check("env-from-secret", "app gets DB_PASSWORD from app-secret's key password",
           hint="Never write a password into the pod: take it from the Secret's key "
                "(kubectl explain pod.spec.containers.env.valueFrom).")
def env_from_secret(s):
    if problem := _pod_and_app(s):
        return problem
    ref = app(s)
    entry = env_entry(ref, "DB_PASSWORD")
    path = ref.path("env[name=DB_PASSWORD]")
    expected = "valueFrom.secretKeyRef {name: app-secret, key: password}"
    if entry is None:
        return Outcome.failed("app has no DB_PASSWORD variable", where=ref.where, path=ref.path("env"),
                              expected=expected, actual=[e.get("name") for e in ref.container.get("env") or []] or "no env")
    if "value" in entry:
        return Outcome.failed("DB_PASSWORD is written into the pod as a literal value", where=ref.where,
                              path=path + ".value", expected=expected, actual="a literal value (hidden)")
    source = match.dig(entry, "valueFrom", "secretKeyRef", default={})
    if source.get("name") == "app-secret" and source.get("key") == "password":
        return Outcome.passed()
    return Outcome.failed("DB_PASSWORD does not come from app-secret's key password", where=ref.where,
                          path=path, expected=expected, actual=entry.get("valueFrom"))


@lab.check("non-root", "app runs as a non-root user (runAsNonRoot and a runAsUser other than 0)",
           hint="Make the kubelet refuse root, and choose a user id other than 0 (kubectl explain "
                "pod.spec.containers.securityContext; the container's setting overrides the pod's).")
def non_root(s):
    ref = app(s)
    non_root_flag, user = effective(ref, "runAsNonRoot"), effective(ref, "runAsUser")
    return all_of(
        Outcome.passed() if non_root_flag is True else Outcome.failed(
            "runAsNonRoot is not true", where=ref.where, path=ref.path("securityContext.runAsNonRoot"),
            expected=True, actual=non_root_flag if non_root_flag is not None else "not set (pod or container)"),
        Outcome.passed() if isinstance(user, int) and user != 0 else Outcome.failed(
            "runAsUser must be a user other than root (0)", where=ref.where,
            path=ref.path("securityContext.runAsUser"), expected="a UID other than 0",
            actual=user if user is not None else "not set (pod or container)"))


@lab.check("no-escalation", "app cannot gain privileges: allowPrivilegeEscalation false, drop ALL",
           hint="Forbid gaining privileges, and give up every Linux capability, not just some "
                "(kubectl explain pod.spec.containers.securityContext).")
def no_escalation(s):
    ref = app(s)
    escalation = match.dig(ref.container, "securityContext", "allowPrivilegeEscalation")
    dropped = match.dig(ref.container, "securityContext", "capabilities", "drop", default=[])
    return all_of(
        Outcome.passed() if escalation is False else Outcome.failed(
            "allowPrivilegeEscalation is not false", where=ref.where,
            path=ref.path("securityContext.allowPrivilegeEscalation"), expected=False,
            actual=escalation if escalation is not None else "not set"),
        Outcome.passed() if "ALL" in dropped else Outcome.failed(
            "not all capabilities are dropped", where=ref.where,
            path=ref.path("securityContext.capabilities.drop"), expected=["ALL"], actual=dropped or "nothing dropped"))


@lab.check("read-only-root", "app's root filesystem is read-only",
           hint="Make the container's root filesystem read-only (kubectl explain pod.spec.containers.securityContext).")
def read_only_root(s):
    ref = app(s)
    value = match.dig(ref.container, "securityContext", "readOnlyRootFilesystem")
    if value is True:
        return Outcome.passed()
    return Outcome.failed("readOnlyRootFilesystem is not true", where=ref.where,
                          path=ref.path("securityContext.readOnlyRootFilesystem"), expected=True,
                          actual=value if value is not None else "not set")


@lab.check("running", "The pod is Ready",
           hint="kubectl describe pod secure-app -n lab7: a missing ConfigMap or Secret key shows "
                "as CreateContainerConfigError.")
def running(s):
    return ready(s, POD)
