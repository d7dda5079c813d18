"""One catalog of images for both kinds of course cluster (cluster/images/catalog.txt): a
manifest's image pulls on the simulated cluster exactly when it pulls on the real node. Runs on
whichever cluster is current; `make test` runs it on both."""
from __future__ import annotations

import pytest

from tests.waiting import watch_until

PULLS = ["nginx", "nginx:latest", "nginx:1.27-alpine", "docker.io/library/nginx:1.27",
         "busybox", "busybox:1.36", "registry.k8s.io/busybox", "alpine:3.20", "httpd:2.4",
         "mariadb:11.4", "mysql:8.0", "debian:bookworm", "ubuntu:24.04", "nginxinc/nginx-unprivileged",
         "registry.k8s.io/pause:3.10"]
FAILS = ["ngnx", "ngnx:1.27", "redis", "postgres:16", "quay.io/library/nginx", "library/busybx:1.36",
         "index.docker.io/library/nginx@sha256:" + "0" * 64]


def pulled(pod) -> bool | None:
    """True once the image was pulled (the container ran or runs), False when the pull failed,
    None while undecided."""
    status = next(iter(pod.status.container_statuses or []), None)
    if status is None:
        return None
    if status.state.running or status.state.terminated or status.last_state.terminated:
        return True
    reason = status.state.waiting and status.state.waiting.reason
    return False if reason in ("ErrImagePull", "ImagePullBackOff") else None


@pytest.mark.parametrize("image", PULLS + FAILS)
def test_an_image_pulls_exactly_when_the_catalog_has_it(core, namespace, image):
    core.create_namespaced_pod(namespace, {"metadata": {"name": "pull"}, "spec": {
        "terminationGracePeriodSeconds": 1,
        "containers": [{"name": "app", "image": image, "command": None}]}})
    pod = watch_until(core.list_namespaced_pod, lambda p: pulled(p) is not None, namespace=namespace,
                      timeout=60, what=f"{image} pulled or refused")
    assert pulled(pod) is (image in PULLS), f"{image}: {pod.status.container_statuses[0].state}"
