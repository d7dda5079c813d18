"""The equivalences of the lab contracts (shared LABS.md, rules shared by every lab)."""
from decimal import Decimal

import pytest

from graders import match

ACCEPTED_AS_NGINX = ["nginx", "nginx:1.27-alpine", "nginx@sha256:" + "a" * 64, "docker.io/nginx",
                     "docker.io/library/nginx:latest", "index.docker.io/library/nginx", "library/nginx",
                     "nginx:1.27@sha256:" + "b" * 64]
REJECTED_AS_NGINX = ["ngnx", "nginx-unprivileged", "bitnami/nginx", "httpd", "nginxinc/nginx-unprivileged",
                     "quay.io/nginx", "registry.example:5000/nginx", "", None]


@pytest.mark.parametrize("image", ACCEPTED_AS_NGINX)
def test_images_match_on_the_repository(image):
    assert match.runs_image(image, "nginx")


@pytest.mark.parametrize("image", REJECTED_AS_NGINX)
def test_other_repositories_are_not_nginx(image):
    assert not match.runs_image(image, "nginx")


def test_registry_port_is_not_a_tag():
    assert match.image_repository("registry.example:5000/team/app:1.0") == "registry.example:5000/team/app"


@pytest.mark.parametrize(("a", "b"), [("0.25", "250m"), ("1G", "1000M"), ("2", "2000m"), ("64Mi", "67108864"),
                                      ("1Ki", "1024"), ("1e3", "1k"), (0.5, "500m"), ("0.5Gi", "512Mi")])
def test_equal_quantities(a, b):
    assert match.same_quantity(a, b)


@pytest.mark.parametrize(("a", "b"), [("1G", "1Gi"), ("64M", "64Mi"), ("250m", "0.3"), ("1", None),
                                      ("abc", "abc"), ("1.5.2", "1.5.2")])
def test_different_or_invalid_quantities(a, b):
    assert not match.same_quantity(a, b)


def test_quantity_values():
    assert match.quantity("1Gi") == Decimal(2) ** 30
    assert match.quantity("100n") == Decimal("1e-7")
    assert match.quantity(True) is None


WEB = {"name": "web", "ports": [{"name": "http", "containerPort": 80}, {"name": "admin", "containerPort": 9000}]}


@pytest.mark.parametrize(("port", "number"), [(80, 80), ("80", 80), ("http", 80), ("admin", 9000),
                                              ("web", None), (None, None), (True, None)])
def test_probe_ports_resolve_by_number_or_name(port, number):
    assert match.resolve_port(WEB, port) == number


def test_security_context_container_overrides_pod():
    pod = {"spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000}}}
    assert match.effective_security(pod, {}, "runAsNonRoot") is True
    assert match.effective_security(pod, {"securityContext": {"runAsNonRoot": False}}, "runAsNonRoot") is False
    assert match.effective_security(pod, {"securityContext": {"runAsUser": 0}}, "runAsUser") == 0
    assert match.effective_security({"spec": {}}, {}, "runAsUser") is None


def test_containers_are_found_by_name_including_native_sidecars():
    pod = {"spec": {"containers": [{"name": "web"}],
                    "initContainers": [{"name": "logger", "restartPolicy": "Always"}, {"name": "prepare"}]}}
    assert match.find_container(pod, "web") == ("containers", {"name": "web"})
    field, logger = match.find_container(pod, "logger")
    assert field == "initContainers" and match.is_native_sidecar(logger)
    assert match.find_container(pod, "logger", init=False) is None
    assert not match.is_native_sidecar(match.find_container(pod, "prepare")[1])


def test_limit_ranger_annotation_as_the_api_server_writes_it():
    pod = {"metadata": {"annotations": {"kubernetes.io/limit-ranger":
           "LimitRanger plugin set: cpu, memory request for container app; memory limit for container app; "
           "cpu request for init container setup"}}}
    assert match.filled_by_limit_range(pod) == {("app", "requests.cpu"), ("app", "requests.memory"),
                                                 ("app", "limits.memory")}
    assert match.filled_by_limit_range({"metadata": {}}) == set()


def test_dig_walks_dicts_and_lists():
    obj = {"a": [{"b": 1}]}
    assert match.dig(obj, "a", 0, "b") == 1
    assert match.dig(obj, "a", 3, "b", default="x") == "x"
    assert match.dig(obj, "z", default=[]) == []
