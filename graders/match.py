"""The equivalences of the lab contracts (shared LABS.md, "Rules shared by every lab"):
images by repository, quantities as numbers, probe ports by number or name, containers by name
(native sidecars included), the effective security context. Pure functions on plain dicts.
What a command line writes is read in graders.shell_writes."""
from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where quantities are read (below)
    from decimal import Decimal

# --- images -----------------------------------------------------------------------------------

_DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def image_repository(image: str) -> str:
    """The repository an image reference names, as Docker Hub spells it in full:
    'nginx:1.27-alpine', 'docker.io/library/nginx@sha256:...' -> 'library/nginx'."""
    ref = (image or "").strip().lower()
    ref = ref.split("@", 1)[0]
    last_slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > last_slash:  # a tag, not a registry port
        ref = ref[:colon]
    for hub in _DOCKER_HUB:
        if ref.startswith(hub):
            ref = ref[len(hub):]
            break
    if "/" not in ref:
        ref = "library/" + ref
    return ref


def runs_image(image: str | None, wanted: str) -> bool:
    """Whether `image` is the repository `wanted` (e.g. 'nginx'), whatever its tag or digest."""
    return bool(image) and image_repository(image) == image_repository(wanted)


# --- quantities -------------------------------------------------------------------------------

# decimal is imported where quantities are read: only labs that judge resources read them, and
# a cold `grade` of the others does without it.
@cache
def _suffixes() -> dict:
    from decimal import Decimal

    return {
        "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
        "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9, "T": Decimal(10) ** 12,
        "P": Decimal(10) ** 15, "E": Decimal(10) ** 18,
        "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
        "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60,
    }


_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$")


def quantity(value) -> Decimal | None:
    """A Kubernetes quantity as an exact number ('250m' -> 0.25, '1Gi' -> 1073741824);
    None when absent or not a quantity."""
    from decimal import Decimal, InvalidOperation

    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    number, exponent, suffix = match.groups()
    try:
        result = Decimal(number)
        return result * (Decimal(10) ** int(exponent[1:]) if exponent else _suffixes()[suffix or ""])
    except (InvalidOperation, ValueError):
        return None


def same_quantity(a, b) -> bool:
    qa, qb = quantity(a), quantity(b)
    return qa is not None and qa == qb


# --- objects ----------------------------------------------------------------------------------

def dig(obj: dict | None, *keys, default=None):
    """obj[k1][k2]... or `default` where any step is missing."""
    for key in keys:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return default
        if obj is None:
            return default
    return obj


def find_container(pod: dict, name: str, *, init: bool = True) -> tuple[str, dict] | None:
    """('containers' | 'initContainers', container) for the container called `name`."""
    lists = ("containers", "initContainers") if init else ("containers",)
    for field in lists:
        for container in dig(pod, "spec", field, default=[]):
            if container.get("name") == name:
                return field, container
    return None


def is_native_sidecar(container: dict) -> bool:
    return container.get("restartPolicy") == "Always"


def container_status(pod: dict, name: str) -> dict | None:
    for field in ("containerStatuses", "initContainerStatuses"):
        for status in dig(pod, "status", field, default=[]):
            if status.get("name") == name:
                return status
    return None


def condition(pod: dict, kind: str) -> dict | None:
    for cond in dig(pod, "status", "conditions", default=[]):
        if cond.get("type") == kind:
            return cond
    return None


def resolve_port(container: dict, port) -> int | None:
    """A probe's port as a number: itself, a numeric string, or the name of a containerPort."""
    if isinstance(port, bool):
        return None
    if isinstance(port, int):
        return port
    if isinstance(port, str):
        if port.isdigit():
            return int(port)
        for declared in container.get("ports") or []:
            if declared.get("name") == port:
                return declared.get("containerPort")
    return None


def effective_security(pod: dict, container: dict, field: str):
    """The container's securityContext `field`, else the pod's (where the pod level has it)."""
    value = dig(container, "securityContext", field)
    if value is None:
        value = dig(pod, "spec", "securityContext", field)
    return value


def command_line(container: dict) -> str:
    """command and args joined, as the contract reads them."""
    return " ".join(str(part) for part in (container.get("command") or []) + (container.get("args") or []))


def volume(pod: dict, name: str) -> dict | None:
    for vol in dig(pod, "spec", "volumes", default=[]):
        if vol.get("name") == name:
            return vol
    return None


def mounts(container: dict) -> list[dict]:
    return container.get("volumeMounts") or []


_LIMIT_RANGER = re.compile(r"\s*(.+) (request|limit) for container (\S+)\s*")


def filled_by_limit_range(pod: dict) -> set[tuple[str, str]]:
    """(container, "requests.cpu" | "limits.memory" | ...) that the LimitRanger admission plugin
    filled in, as it records them: "LimitRanger plugin set: cpu, memory request for container
    app; cpu limit for container app"."""
    note = dig(pod, "metadata", "annotations", "kubernetes.io/limit-ranger", default="")
    filled = set()
    for clause in note.removeprefix("LimitRanger plugin set:").split(";"):
        found = _LIMIT_RANGER.fullmatch(clause)
        if found:
            resources, kind, name = found.groups()
            section = "requests" if kind == "request" else "limits"
            filled |= {(name, f"{section}.{r.strip()}") for r in resources.split(",")}
    return filled


def image_tag(image: str | None) -> str | None:
    """The tag of an image reference ('docker.io/library/nginx:1.27-alpine' -> '1.27-alpine')."""
    ref = (image or "").split("@", 1)[0]
    colon = ref.rfind(":")
    return ref[colon + 1:] if colon > ref.rfind("/") else None
