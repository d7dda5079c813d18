"""The root-password settings of the mariadb image, as its docker-entrypoint.sh reads them
(docker-library's; the course's stand-in follows it): without one that is set, the server exits
before it starts. Pure functions on plain dicts: what an envFrom source holds is looked up by the
caller. The simulated cluster lists the same names (cluster/sim/db-root-settings.txt).

A variable counts when its value is not empty (the entrypoint tests `-n`). A value from a Secret
or ConfigMap (secretKeyRef, configMapKeyRef, envFrom) or a field is not read: it counts. A _FILE
variant's value is a path whose file holds the setting: it counts when the path lies in a volume
mounted into the container (the image holds no such file), from a Secret when that volume is
one."""
from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from graders.match import dig, volume

# Each setting, named as the entrypoint's error message names it, with the variables it is read
# from: the MYSQL_ spelling of the older ones, and a _FILE variant of the password and the hash.
# Upstream reads no MYSQL_ROOT_PASSWORD_HASH, MYSQL_ALLOW_EMPTY_ROOT_PASSWORD or switch _FILE.
SETTINGS = {
    "MARIADB_ROOT_PASSWORD": ("MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD",
                              "MARIADB_ROOT_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD_FILE"),
    "MARIADB_ROOT_PASSWORD_HASH": ("MARIADB_ROOT_PASSWORD_HASH", "MARIADB_ROOT_PASSWORD_HASH_FILE"),
    "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD": ("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD"),
    "MARIADB_RANDOM_ROOT_PASSWORD": ("MARIADB_RANDOM_ROOT_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"),
}
NAMES = tuple(name for names in SETTINGS.values() for name in names)
# The variables whose value is a secret (the others are switches such as "1").
SECRET_VALUED = SETTINGS["MARIADB_ROOT_PASSWORD"] + SETTINGS["MARIADB_ROOT_PASSWORD_HASH"]

# The keys a Secret or ConfigMap holds, by kind and name (empty when it does not exist).
KeysOf = Callable[[str, str], Iterable[str]]


@dataclass(frozen=True)
class Variable:
    """One of the settings' variables as a container's environment ends up with it."""
    name: str
    container: str
    source: str  # "literal", "secret", "configmap" or "field"
    value: str | None = None  # a literal's value; None when it comes from elsewhere
    volume: dict | None = None  # for a _FILE's literal path: the volume mounted where it points

    @property
    def is_file(self) -> bool:
        return self.name.endswith("_FILE")

    @property
    def why_unused(self) -> str | None:
        """Why the entrypoint does not take it, or None when it does."""
        if self.value == "":
            return "empty"
        if self.is_file and self.value is not None and self.volume is None:
            return f"no volume is mounted at {self.value}"
        return None

    @property
    def from_secret(self) -> bool:
        """Whether its value is kept in a Secret: a _FILE's file in a Secret volume, else the
        variable's own source. A _FILE whose path is not written out is given the doubt."""
        if self.is_file:
            return self.value is None or is_secret_volume(self.volume)
        return self.source == "secret"

    def describe(self) -> str:
        """Its name, and why the entrypoint does not take it or where it comes from; never a value
        that may be a password."""
        if self.why_unused:
            return f"{self.name} ({self.why_unused})"
        return f"{self.name} ({f'the file {self.value}' if self.is_file and self.value else f'{self.source} value'})"


def is_secret_volume(vol: dict | None) -> bool:
    return bool(vol) and ("secret" in vol or any("secret" in source for source in
                                                 dig(vol, "projected", "sources", default=[])))


def volume_at(pod: dict, container: dict, path: str) -> dict | None:
    """The volume whose mount holds `path` (the deepest, where mounts nest), or None. A relative
    path starts from the container's working directory."""
    path = posixpath.normpath(posixpath.join(container.get("workingDir") or "/", path))
    best: tuple[int, str] | None = None
    for mount in container.get("volumeMounts") or []:
        at = posixpath.normpath(mount.get("mountPath") or "/")
        if (path == at or path.startswith(at.rstrip("/") + "/")) and (best is None or len(at) > best[0]):
            best = (len(at), mount.get("name", ""))
    return volume(pod, best[1]) if best else None


def environment(container: dict, keys_of: KeysOf) -> dict[str, tuple[str, str | None]]:
    """Every variable the container gets: name -> (source, literal value or None). As the
    kubelet builds it: envFrom in order, then env, a later one replacing an earlier."""
    env: dict[str, tuple[str, str | None]] = {}
    for bulk in container.get("envFrom") or []:
        prefix = bulk.get("prefix") or ""
        for field, kind, source in (("secretRef", "Secret", "secret"), ("configMapRef", "ConfigMap", "configmap")):
            if ref := bulk.get(field):
                env.update((prefix + key, (source, None)) for key in keys_of(kind, ref.get("name", "")))
    for var in container.get("env") or []:
        ref = var.get("valueFrom")
        env[var.get("name", "")] = (("secret" if "secretKeyRef" in ref else
                                     "configmap" if "configMapKeyRef" in ref else "field"), None) \
            if ref else ("literal", var.get("value") or "")
    return env


def variables(pod: dict, keys_of: KeysOf) -> list[Variable]:
    """The settings' variables the pod's containers get, whether the entrypoint takes them or not."""
    found = []
    for container in dig(pod, "spec", "containers", default=[]):
        for name, (source, value) in environment(container, keys_of).items():
            if name in NAMES:
                held = volume_at(pod, container, value) if name.endswith("_FILE") and value else None
                found.append(Variable(name, container.get("name", ""), source, value, held))
    return found


def configured(found: Iterable[Variable]) -> bool:
    """Whether the entrypoint finds a root-password setting among them."""
    return any(v.why_unused is None for v in found)
