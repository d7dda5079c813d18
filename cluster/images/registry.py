#!/usr/bin/env python3
"""A read-only container registry serving the course's images (the pull side of the OCI
distribution spec, as containerd uses it through registry mirrors).

    python3 cluster/images/registry.py --listen 127.0.0.1:5000 [--images DIR] [--catalog FILE]

DIR is build.py's images directory (its current.json names each recipe's image layout; default
$COURSE_CACHE/images). From Python: ``serve(host, port, images)`` with images = build_all()'s
{recipe: layout dir} (or such a directory) returns a started ThreadingHTTPServer (serving in a
daemon thread; ``server.shutdown()`` stops it).

Any tag of a catalog repository (catalog.txt) returns that repository's image manifest; a
repository outside the catalog, or a digest that is not one of the image's, is a 404, as a typo
is on a real cluster. containerd sends the repository without its registry and, through a mirror,
adds ``?ns=docker.io`` or ``?ns=registry.k8s.io``: the ns disambiguates, so registry.k8s.io/pause
resolves and docker.io's pause does not (without ns the name is taken as docker.io's, unless its
first part is a host, e.g. /v2/registry.k8s.io/pause/...). Standard library only.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from images import catalog  # noqa: E402

TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
PATH = re.compile(r"^/v2/(?P<name>.+)/(?P<kind>manifests|blobs)/(?P<ref>[^/]+)$")


class Image:
    """One OCI image layout: its manifest and the blobs it references."""

    def __init__(self, layout: Path):
        self.layout = Path(layout)
        index = json.loads((self.layout / "index.json").read_text())
        desc = index["manifests"][0]
        self.media_type = desc.get("mediaType", "application/vnd.oci.image.manifest.v1+json")
        self.digest = desc["digest"]
        self.manifest = self._path(self.digest).read_bytes()
        manifest = json.loads(self.manifest)
        self.blobs = {manifest["config"]["digest"]} | {layer["digest"] for layer in manifest["layers"]}
        for digest in self.blobs:
            if not self._path(digest).is_file():
                raise FileNotFoundError(f"{layout}: blob {digest} is missing")

    def _path(self, digest: str) -> Path:
        return self.layout / "blobs" / "sha256" / digest.split(":", 1)[1]

    def blob(self, digest: str) -> Path | None:
        if digest in self.blobs:
            return self._path(digest)
        return None


def load_images(images) -> dict[str, Image]:
    """{recipe: Image} from build_all()'s {recipe: Path} or from build.py's images directory."""
    if not isinstance(images, dict):
        root = Path(images)
        current = root / "current.json"
        if current.is_file():
            images = {name: Path(p) for name, p in json.loads(current.read_text()).items()}
        else:  # no current.json: the newest layout of each recipe
            found: dict[str, Path] = {}
            for layout in sorted(root.glob("*-*/index.json"), key=lambda p: p.stat().st_mtime):
                found[layout.parent.name.rsplit("-", 1)[0]] = layout.parent
            images = found
    return {name: Image(Path(path)) for name, path in images.items()}


class Registry:
    def __init__(self, images, entries: dict[str, str] | None = None, log=None):
        self.images = load_images(images)
        self.entries = entries if entries is not None else catalog.entries()
        missing = sorted({r for r in self.entries.values() if r not in self.images})
        if missing:
            raise ValueError(f"no image for recipe(s) {', '.join(missing)} (run cluster/images/build.py)")
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))

    def image_for(self, name: str, ns: str | None) -> tuple[str, Image | None]:
        """The repository (short form) a request names, and its image or None."""
        first = name.split("/", 1)[0]
        full = name if (ns is None and ("." in first or ":" in first or first == "localhost")) \
            else f"{ns or 'docker.io'}/{name}"
        repo = catalog.repository(full)
        recipe = self.entries.get(repo)
        return repo, (self.images[recipe] if recipe else None)


class Handler(BaseHTTPRequestHandler):
    server_version = "k8s-pods-course-registry/1"
    protocol_version = "HTTP/1.1"
    registry: Registry  # set on the subclass made by serve()

    def log_message(self, format, *args):  # no per-request noise
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _error(self, status: int, code: str, message: str, detail=None, head: bool = False) -> None:
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": detail}]}).encode()
        self._send(status, body, head=head)

    def do_HEAD(self):
        self._route(head=True)

    def do_GET(self):
        self._route(head=False)

    def _route(self, head: bool) -> None:
        try:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            ns = query.get("ns", [None])[0]
            if url.path in ("/healthz", "/readyz"):
                return self._send(200, b"ok\n", head=head, content_type="text/plain")
            if url.path in ("/v2", "/v2/"):
                return self._send(200, b"{}", head=head)
            if url.path == "/v2/_catalog":
                body = json.dumps({"repositories": sorted(self.registry.entries)}).encode()
                return self._send(200, body, head=head)
            match = PATH.match(url.path)
            if not match:
                return self._error(404, "NOT_FOUND", "no such endpoint (this registry is read-only)", head=head)
            name, kind, ref = match["name"], match["kind"], match["ref"]
            repo, image = self.registry.image_for(name, ns)
            where = f"{ns + '/' if ns else ''}{name}"
            if image is None:
                if kind == "manifests":
                    self.registry.log(f"registry: 404 {where}:{ref}: repository {repo!r} is not in the course's catalog")
                return self._error(404, "NAME_UNKNOWN", "repository name not known to registry",
                                   {"name": name}, head=head)
            if kind == "manifests":
                return self._manifest(image, repo, where, ref, head)
            return self._blob(image, ref, head)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _manifest(self, image: Image, repo: str, where: str, ref: str, head: bool) -> None:
        if DIGEST.match(ref):
            if ref != image.digest:
                self.registry.log(f"registry: 404 {where}@{ref}: not the digest of the course's {repo}")
                return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"digest": ref}, head=head)
        elif not TAG.match(ref):
            return self._error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"tag": ref}, head=head)
        elif not head:
            self.registry.log(f"registry: pull {where}:{ref} -> {image.layout.name} {image.digest[:19]}")
        self._send(200, image.manifest, {"Docker-Content-Digest": image.digest, "ETag": f'"{image.digest}"'},
                   head=head, content_type=image.media_type)

    def _blob(self, image: Image, digest: str, head: bool) -> None:
        path = image.blob(digest) if DIGEST.match(digest) else None
        if path is None:
            return self._error(404, "BLOB_UNKNOWN", "blob unknown to registry", {"digest": digest}, head=head)
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        rng = re.match(r"^bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        if rng and size:
            start = int(rng[1])
            end = min(int(rng[2]), size - 1) if rng[2] else size - 1
            if start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Docker-Content-Digest", digest)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(1 << 20, left))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)


def serve(host: str, port: int, images, entries: dict[str, str] | None = None, log=None) -> ThreadingHTTPServer:
    """Start the registry on host:port in a daemon thread; return the server (``.server_address``
    gives the port when port is 0; ``.shutdown()`` then ``.server_close()`` stop it)."""
    registry = Registry(images, entries, log)
    handler = type("BoundHandler", (Handler,), {"registry": registry})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.registry = registry
    threading.Thread(target=server.serve_forever, name="course-registry", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:5000", help="HOST:PORT (default 127.0.0.1:5000)")
    parser.add_argument("--images", help="build.py's images directory (default $COURSE_CACHE/images)")
    parser.add_argument("--catalog", type=Path, default=catalog.CATALOG,
                        help="the repositories served and their recipes (default: catalog.txt)")
    args = parser.parse_args(argv)
    host, _, port = args.listen.rpartition(":")
    if args.images:
        images = Path(args.images)
    else:
        from images import build
        images = build.images_root()
    try:
        server = serve(host.strip("[]") or "127.0.0.1", int(port), images, catalog.entries(args.catalog))
    except (OSError, ValueError) as e:
        print(f"registry.py: {e}", file=sys.stderr)
        return 1
    print(f"registry.py: serving {len(server.registry.entries)} repositories on http://{args.listen}/",
          file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
