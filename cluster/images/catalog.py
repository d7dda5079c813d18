#!/usr/bin/env python3
"""The course's image catalog (catalog.txt): which repositories can be pulled, and the recipe that
builds the image served for each. Standard library only; importable as ``images.catalog`` when
``cluster/`` is on sys.path, or runnable: ``python3 cluster/images/catalog.py [IMAGE...]``."""
from __future__ import annotations

import re
import sys
from pathlib import Path

CATALOG = Path(__file__).resolve().parent / "catalog.txt"

_DOCKER_HOSTS = re.compile(r"^(docker\.io|index\.docker\.io|registry-1\.docker\.io)/")


def repository(image_reference: str) -> str:
    """An image reference's repository as Docker Hub spells it short, like the jq ``repo`` of
    cluster/sim/pods.jq: "docker.io/library/nginx:1.27" -> "nginx",
    "registry.k8s.io/pause:3.10" -> "registry.k8s.io/pause", "nginx@sha256:..." -> "nginx"."""
    ref = re.sub(r"@.*$", "", image_reference.strip())     # digest
    ref = re.sub(r":[^/:]*$", "", ref)                      # tag (not a registry's port)
    ref = _DOCKER_HOSTS.sub("", ref)
    return re.sub(r"^library/", "", ref)


def entries(path: Path = CATALOG) -> dict[str, str]:
    """{repository: recipe}, in the file's order."""
    result: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected 'repository recipe', got {line!r}")
        repo, recipe = fields
        if repository(repo) != repo:
            raise ValueError(f"{path}:{number}: write the repository short: {repository(repo)!r}")
        result[repo] = recipe
    return result


def repositories(path: Path = CATALOG) -> list[str]:
    """The pullable repositories, in the file's order."""
    return list(entries(path))


def recipes(path: Path = CATALOG) -> list[str]:
    """The recipes the catalog uses, each once, in the file's order."""
    return list(dict.fromkeys(entries(path).values()))


def recipe_for(image_reference: str, path: Path = CATALOG) -> str | None:
    """The recipe serving an image reference, or None when its repository is not in the catalog."""
    return entries(path).get(repository(image_reference))


def main(argv: list[str]) -> int:
    if not argv:
        for repo, recipe in entries().items():
            print(f"{repo:32} {recipe}")
        return 0
    status = 0
    for ref in argv:
        recipe = recipe_for(ref)
        print(f"{ref} -> {repository(ref)} -> {recipe or 'NOT IN CATALOG'}")
        status |= recipe is None
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
