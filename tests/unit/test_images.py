"""The course's image catalog (cluster/images/catalog.py) and its registry (registry.py), without
containerd, root or a real image build: a tiny OCI layout written by build.write_layout."""
from __future__ import annotations

import hashlib
import http.client
import json
import sys
from pathlib import Path

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
sys.path.insert(0, str(CLUSTER))

from images import build, catalog, registry  # noqa: E402

A_DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("reference", "repository"), [
    ("nginx", "nginx"), ("nginx:latest", "nginx"), ("nginx:1.27-alpine", "nginx"),
    ("docker.io/library/nginx:1.27", "nginx"), ("index.docker.io/library/nginx", "nginx"),
    ("registry-1.docker.io/library/nginx:1.27", "nginx"), ("library/nginx", "nginx"),
    ("docker.io/nginx", "nginx"), ("nginx@" + A_DIGEST, "nginx"), ("nginx:1.27@" + A_DIGEST, "nginx"),
    ("mariadb:11.4", "mariadb"), ("busybox:1.36", "busybox"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause"), ("registry.k8s.io/busybox", "registry.k8s.io/busybox"),
    ("nginxinc/nginx-unprivileged:1.27", "nginxinc/nginx-unprivileged"),
    ("docker.io/nginxinc/nginx-unprivileged", "nginxinc/nginx-unprivileged"),
    ("registry.example:5000/team/app:1.0", "registry.example:5000/team/app"),
    ("localhost:5000/nginx", "localhost:5000/nginx"), ("ngnx", "ngnx"),
])
def test_repository_normalises_like_pods_jq(reference, repository):
    assert catalog.repository(reference) == repository


def test_catalog_lists_the_course_images():
    repos = catalog.repositories()
    for needed in ["nginx", "busybox", "alpine", "httpd", "mariadb", "mysql", "registry.k8s.io/pause",
                   "registry.k8s.io/busybox"]:
        assert needed in repos
    assert "ngnx" not in repos and "pause" not in repos
    entries = catalog.entries()
    assert entries["mysql"] == entries["mariadb"]
    for recipe in set(entries.values()):
        assert (CLUSTER / "images" / "recipes" / recipe / "recipe.json").is_file()


@pytest.fixture(scope="module")
def layouts(tmp_path_factory):
    """Two tiny images: one served for nginx, one for everything else."""
    result = {}
    for name in ("web", "other"):
        root = tmp_path_factory.mktemp(f"{name}-rootfs")
        (root / "hello.txt").write_text(f"hello from {name}\n")
        (root / "bin").mkdir()
        (root / "bin" / "sh").symlink_to("busybox")
        dest = tmp_path_factory.mktemp(f"{name}-layout")
        build.write_layout(root, {"Cmd": ["sh"]}, dest, ref_name=name)
        result[name] = dest
    return result


@pytest.fixture(scope="module")
def server(layouts):
    entries = {repo: ("web" if repo == "nginx" else "other") for repo in catalog.repositories()}
    logged: list[str] = []
    srv = registry.serve("127.0.0.1", 0, layouts, entries=entries, log=logged.append)
    srv.logged = logged
    yield srv
    srv.shutdown()
    srv.server_close()


def fetch(server, path, method="GET", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def test_layout_is_an_oci_image_layout(layouts):
    layout = layouts["web"]
    assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    blob = (layout / "blobs/sha256" / digest.split(":")[1]).read_bytes()
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == digest
    manifest = json.loads(blob)
    config = json.loads((layout / "blobs/sha256" / manifest["config"]["digest"].split(":")[1]).read_bytes())
    assert config["config"]["Cmd"] == ["sh"] and config["os"] == "linux"
    assert len(config["rootfs"]["diff_ids"]) == len(manifest["layers"]) == 1


def test_layers_are_reproducible(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_text("a")
    first = build.write_layout(root, {}, tmp_path / "one")
    (root / "a").touch()
    assert build.write_layout(root, {}, tmp_path / "two") == first


def test_base_and_health(server):
    status, headers, _ = fetch(server, "/v2/")
    assert status == 200 and headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert fetch(server, "/healthz")[0] == 200


@pytest.mark.parametrize("path", [
    "/v2/library/nginx/manifests/latest?ns=docker.io", "/v2/library/nginx/manifests/1.27-alpine?ns=docker.io",
    "/v2/nginx/manifests/1.27", "/v2/library/nginx/manifests/stable-perl",
])
def test_any_tag_of_nginx_is_the_nginx_image(server, layouts, path):
    status, headers, body = fetch(server, path)
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.oci.image.manifest.v1+json"
    assert headers["Docker-Content-Digest"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert int(headers["Content-Length"]) == len(body)
    assert headers["Docker-Content-Digest"] == registry.Image(layouts["web"]).digest


def test_head_and_digest(server):
    status, headers, body = fetch(server, "/v2/library/busybox/manifests/1.36?ns=docker.io", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0
    digest = headers["Docker-Content-Digest"]
    status, headers2, body = fetch(server, f"/v2/library/busybox/manifests/{digest}?ns=docker.io")
    assert status == 200 and "sha256:" + hashlib.sha256(body).hexdigest() == digest
    assert int(headers["Content-Length"]) == len(body)


def test_registry_k8s_io_pause_resolves_but_docker_io_pause_does_not(server):
    assert fetch(server, "/v2/pause/manifests/3.10?ns=registry.k8s.io")[0] == 200
    assert fetch(server, "/v2/busybox/manifests/1.27.2?ns=registry.k8s.io")[0] == 200
    status, _, body = fetch(server, "/v2/pause/manifests/3.10?ns=docker.io")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"
    assert fetch(server, "/v2/library/pause/manifests/3.10")[0] == 404


def test_blobs_verify(server):
    _, _, body = fetch(server, "/v2/library/nginx/manifests/latest?ns=docker.io")
    manifest = json.loads(body)
    for desc in [manifest["config"]] + manifest["layers"]:
        status, headers, blob = fetch(server, f"/v2/library/nginx/blobs/{desc['digest']}?ns=docker.io")
        assert status == 200 and len(blob) == desc["size"]
        assert "sha256:" + hashlib.sha256(blob).hexdigest() == desc["digest"] == headers["Docker-Content-Digest"]
        status, headers, empty = fetch(server, f"/v2/library/nginx/blobs/{desc['digest']}?ns=docker.io", "HEAD")
        assert status == 200 and empty == b"" and int(headers["Content-Length"]) == desc["size"]
    layer = manifest["layers"][0]["digest"]
    status, headers, part = fetch(server, f"/v2/library/nginx/blobs/{layer}", headers={"Range": "bytes=10-"})
    assert status == 206 and len(part) == manifest["layers"][0]["size"] - 10


def test_unknown_things_are_404(server):
    status, _, body = fetch(server, "/v2/library/ngnx/manifests/latest?ns=docker.io")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "NAME_UNKNOWN"
    status, _, body = fetch(server, f"/v2/library/nginx/manifests/{A_DIGEST}?ns=docker.io")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "MANIFEST_UNKNOWN"
    status, _, body = fetch(server, f"/v2/library/nginx/blobs/{A_DIGEST}?ns=docker.io")
    assert status == 404 and json.loads(body)["errors"][0]["code"] == "BLOB_UNKNOWN"
    # a blob of another repository's image is not nginx's
    _, _, other = fetch(server, "/v2/library/busybox/manifests/latest?ns=docker.io")
    layer = json.loads(other)["layers"][0]["digest"]
    assert fetch(server, f"/v2/library/nginx/blobs/{layer}?ns=docker.io")[0] == 404
    assert fetch(server, "/v2/library/nginx/manifests/latest?ns=quay.io")[0] == 404
    assert fetch(server, "/v2/library/nginx/manifests/latest", method="HEAD")[0] == 200
    assert any("ngnx" in line for line in server.logged)
