#!/usr/bin/env python3
"""The offline kind node image: a kindest/node of the course's own Kubernetes, made from the
project's own parts, for a machine that cannot pull the pinned image (no internet: a classroom,
CI). It is assembled the way kind's `build node-image` assembles one, without a registry:

  rootfs        Debian bookworm (mmdebstrap minbase) with systemd and the node's tools, kind's
                own files (entrypoint, systemd units, containerd's configuration) from the kind
                module, and files/ (the course's additions)
  binaries      containerd, runc (Debian's), the CNI plugins, the kubelet (the control plane's
                multi-call binary), kubeadm and kubectl, all from cluster/build.sh
  images        the control plane's images (kube-apiserver, -controller-manager, -scheduler,
                kube-proxy from the multi-call binary; etcd; CoreDNS; the pod network of
                kindnet/), two shared layers in all; and the course's image catalog. A registry
                on each node's loopback (the course's images/registry.py) serves them all, as
                on the real node: any tag of a catalog repository pulls, a typo fails to pull.

    python3 cluster/kindimage/build.py     # build what is missing, import it into Docker, print its tag

Each step prints one line (an estimate from the last build, then the time it took); a step that
fails prints the end of its log and the log's path. Everything is cached under
$COURSE_CACHE/kindimage/ and keyed by what it is made of. Standard library only; needs Linux,
root (mmdebstrap), Go (cluster/build.sh) and a Docker engine (DOCKER_HOST is honoured).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLUSTER = HERE.parent
sys.path.insert(0, str(CLUSTER))
from common import ClusterError, build as build_binaries, cache_dir, go, log, versions  # noqa: E402
from images import build as images, catalog  # noqa: E402

FILES = HERE / "files"          # the course's additions to the node's root filesystem
REPOSITORY = "pods-course/kind-node"
# The node's packages: kind's base image's list (images/base/Dockerfile), without what only
# rootless or storage tests need, plus runc and Python for the course's registry.
NODE_PACKAGES = ["systemd", "conntrack", "iptables", "nftables", "iproute2", "ethtool", "util-linux",
                 "mount", "kmod", "libseccomp2", "pigz", "bash", "ca-certificates", "curl", "jq",
                 "procps", "runc", "python3"]
# What kind's Dockerfile removes from systemd's defaults, so only the node's own units start.
SYSTEMD_PRUNE = ["lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service",
                 "lib/systemd/system/multi-user.target.wants/*", "etc/systemd/system/*.wants/*",
                 "lib/systemd/system/local-fs.target.wants/*", "lib/systemd/system/sockets.target.wants/*udev*",
                 "lib/systemd/system/sockets.target.wants/*initctl*", "lib/systemd/system/basic.target.wants/*"]
ENABLED_UNITS = ["containerd.service", "kubelet.service", "undo-mount-hacks.service",
                 "course-node-setup.service", "course-registry.service"]
KUBE_BIN = "/usr/local/bin"
# The Kubernetes images in the node: repository -> (image name, entrypoint). kubeadm gives each
# static pod its command; the entrypoints are the upstream images'.
KUBE_IMAGES = {
    "registry.k8s.io/kube-apiserver": ("kube-apiserver", [f"{KUBE_BIN}/kube-apiserver"]),
    "registry.k8s.io/kube-controller-manager": ("kube-controller-manager", [f"{KUBE_BIN}/kube-controller-manager"]),
    "registry.k8s.io/kube-scheduler": ("kube-scheduler", [f"{KUBE_BIN}/kube-scheduler"]),
    "registry.k8s.io/kube-proxy": ("kube-proxy", [f"{KUBE_BIN}/kube-proxy"]),
    "registry.k8s.io/etcd": ("etcd", [f"{KUBE_BIN}/etcd"]),
    "registry.k8s.io/coredns/coredns": ("coredns", ["/coredns"]),
    "localhost/pods-course/kindnet": ("kindnet", [f"{KUBE_BIN}/kindnet"]),
}


# The image tags a kind cluster of this image must ask kubeadm for (kindcluster.py patches its
# ClusterConfiguration): the versions built here, not kubeadm's defaults.
def etcd_tag() -> str:
    return versions()["ETCD_VERSION"].lstrip("v") + "-0"


def coredns_tag() -> str:
    return versions()["COREDNS_VERSION"]


# --- steps ------------------------------------------------------------------------------------

def home() -> Path:
    return cache_dir() / "kindimage"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m {seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


@contextmanager
def step(name: str, title: str):
    """One progress line for a step: what it builds, an estimate from the last build, the time it
    took. Inside, `yield`ed is the step's log file; on failure its end is shown with its path."""
    timings, logs = cache_dir() / "timings", cache_dir() / "logs"
    timings.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    last = timings / f"kindimage-{name}"
    estimate = (f"about {_duration(float(last.read_text()))} by the last build" if last.exists()
                else "no earlier build to estimate from")
    print(f"kindimage: {title}: building ({estimate}) ... ", end="", file=sys.stderr, flush=True)
    logfile = logs / f"kindimage-{name}.log"
    started = time.monotonic()
    with open(logfile, "w") as out:
        try:
            yield out
        except BaseException as error:
            took = time.monotonic() - started
            print(f"failed after {_duration(took)}", file=sys.stderr, flush=True)
            out.write(f"\n{error}\n")
            out.flush()
            tail = logfile.read_text(errors="replace").splitlines()[-20:]
            log(f"the node image's step {name} failed. The end of its log:\n" +
                "\n".join("    " + line for line in tail) + f"\nthe whole log: {logfile}")
            raise ClusterError(f"building the kind node image failed at step {name} "
                               f"(its log: {logfile})") from error
    took = time.monotonic() - started
    print(f"done in {_duration(took)}", file=sys.stderr, flush=True)
    last.write_text(f"{took:.0f}\n")


def logged(command: list[str], out, **kwargs) -> None:
    out.write(f"$ {' '.join(command)}\n")
    out.flush()
    subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True, **kwargs)


def digest_of(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            for path in sorted([part] if part.is_file() else part.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    h.update(str(path.relative_to(CLUSTER)).encode() + b"\0" + path.read_bytes())
        else:
            h.update(str(part).encode() + b"\0")
    return h.hexdigest()[:12]


# --- the Kubernetes images --------------------------------------------------------------------

def kind_base_files() -> Path:
    """kind's own files for its base image, from the kind module (the Go module proxy)."""
    found = subprocess.run([go(), "mod", "download", "-json", f"sigs.k8s.io/kind@{versions()['KIND_VERSION']}"],
                           capture_output=True, text=True, env={**os.environ, "GOFLAGS": "-mod=mod"})
    if found.returncode != 0:
        raise ClusterError(f"could not fetch the kind module: {found.stderr.strip()}")
    return Path(json.loads(found.stdout)["Dir"]) / "images" / "base" / "files"


def _blob(layout: Path, digest: str) -> Path:
    return layout / "blobs" / "sha256" / digest.split(":", 1)[1]


def _manifest(layout: Path) -> dict:
    index = json.loads((layout / "index.json").read_text())
    return json.loads(_blob(layout, index["manifests"][0]["digest"]).read_bytes())


def kube_layer(binaries: dict[str, Path], root: Path) -> None:
    """The second layer every Kubernetes image shares: all their programs (one copy each)."""
    bin_dir = root / KUBE_BIN.lstrip("/")
    bin_dir.mkdir(parents=True)
    shutil.copy2(binaries["controlplane"], bin_dir / "controlplane")
    for name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy"):
        (bin_dir / name).symlink_to("controlplane")
    shutil.copy2(binaries["etcd"], bin_dir / "etcd")
    shutil.copy2(binaries["kindnet"], bin_dir / "kindnet")
    shutil.copy2(binaries["coredns"], root / "coredns")


def kube_images(binaries: dict[str, Path], target: Path) -> None:
    """One OCI layout per Kubernetes image in target/, all of the same two layers (the kube-base
    recipe's Debian layer, then kube_layer), their blobs hard-linked, not copied."""
    base = images.build("kube-base")
    base_manifest = _manifest(base)
    base_config = json.loads(_blob(base, base_manifest["config"]["digest"]).read_bytes())
    shared = target / "blobs"
    shared.mkdir(parents=True)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        kube_layer(binaries, Path(tmp) / "root")
        diff_id, digest, size, tar_size = images.write_layer(Path(tmp) / "root", shared / "layer.tmp")
    (shared / "layer.tmp").rename(shared / digest.split(":")[1])
    base_layer = base_manifest["layers"][0]
    os.link(_blob(base, base_layer["digest"]), shared / base_layer["digest"].split(":")[1])
    layers = [base_layer, {"mediaType": images.MT_LAYER, "digest": digest, "size": size,
                           "annotations": {"org.opencontainers.image.uncompressed-size": str(tar_size)}}]
    for repository, (name, entrypoint) in KUBE_IMAGES.items():
        layout = target / name
        blobs = layout / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        for layer in layers:
            os.link(shared / layer["digest"].split(":")[1], blobs / layer["digest"].split(":")[1])

        def put(data: bytes) -> str:
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            (blobs / digest.split(":")[1]).write_bytes(data)
            return digest
        config = {"created": images.CREATED, **images.oci_platform(),
                  "config": {**base_config["config"], "Entrypoint": entrypoint},
                  "rootfs": {"type": "layers", "diff_ids": [base_config["rootfs"]["diff_ids"][0], diff_id]},
                  "history": [{"created": images.CREATED, "created_by": f"k8s-pods-course cluster/kindimage {name}"}]}
        config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
        manifest = {"schemaVersion": 2, "mediaType": images.MT_MANIFEST,
                    "config": {"mediaType": images.MT_CONFIG, "digest": put(config_bytes), "size": len(config_bytes)},
                    "layers": layers, "annotations": {"org.opencontainers.image.title": repository}}
        manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        index = {"schemaVersion": 2, "mediaType": images.MT_INDEX,
                 "manifests": [{"mediaType": images.MT_MANIFEST, "digest": put(manifest_bytes),
                                "size": len(manifest_bytes), "platform": images.oci_platform()}]}
        (layout / "index.json").write_text(json.dumps(index, indent=1) + "\n")
        (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}\n')
    shutil.rmtree(shared)


# --- the node's root filesystem ---------------------------------------------------------------

def rootfs(root: Path, out) -> None:
    """Debian bookworm with the node's packages, shaped as kind's base image shapes it."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", str(images.EPOCH))
    out.write(f"mmdebstrap minbase with {' '.join(NODE_PACKAGES)}\n")
    out.flush()
    images.debootstrap(root, NODE_PACKAGES, "minbase")
    images.prune(root, images.PRUNE + SYSTEMD_PRUNE, images.PRUNE_KEEP)
    journald = root / "etc/systemd/journald.conf"
    journald.write_text(journald.read_text() + "ReadKMsg=no\n")
    init = root / "sbin/init"
    if not init.exists() and not init.is_symlink():
        init.symlink_to("/usr/lib/systemd/systemd")
    (root / "etc/systemd/system/systemd-binfmt.service").symlink_to("/dev/null")
    (root / "etc/kubernetes/manifests").mkdir(parents=True)


# --- the image --------------------------------------------------------------------------------

class Tree:
    """The node image's files, written as one tar stream for `docker import`."""

    def __init__(self, stream):
        self.tar = tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT)
        self.seen: set[str] = set()

    def _parents(self, arc: str) -> None:
        parts = arc.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            directory = "/".join(parts[:i])
            if directory and directory not in self.seen:
                self.seen.add(directory)
                info = tarfile.TarInfo(directory)
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, images.EPOCH
                self.tar.addfile(info)

    def path(self, source: Path, arc: str, mode: int | None = None) -> None:
        """A file, symlink or whole directory tree at arc (owners and modes kept, unless mode;
        hard links stay links)."""
        arc = arc.strip("/")
        if arc:
            self._parents(arc)
            info = self.tar.gettarinfo(str(source), arc)
            if info.isdev() or info.isfifo() or info.type == tarfile.CONTTYPE:
                return  # the runtime provides /dev
            info.uname = info.gname = ""
            if mode is not None:
                info.mode = mode
            if info.isreg():
                with open(source, "rb") as f:
                    self.tar.addfile(info, f)
            elif not (info.isdir() and arc in self.seen):
                self.tar.addfile(info)
            self.seen.add(arc)
        if source.is_dir() and not source.is_symlink():
            for child in sorted(os.listdir(source)):
                self.path(source / child, f"{arc}/{child}" if arc else child)

    def data(self, arc: str, content: bytes, mode: int = 0o644) -> None:
        arc = arc.strip("/")
        self._parents(arc)
        info = tarfile.TarInfo(arc)
        info.size, info.mode, info.mtime = len(content), mode, images.EPOCH
        self.tar.addfile(info, io.BytesIO(content))
        self.seen.add(arc)

    def symlink(self, arc: str, target: str) -> None:
        arc = arc.strip("/")
        self._parents(arc)
        info = tarfile.TarInfo(arc)
        info.type, info.linkname, info.mtime = tarfile.SYMTYPE, target, images.EPOCH
        self.tar.addfile(info)
        self.seen.add(arc)

    def close(self) -> None:
        self.tar.close()

    def abandon(self) -> None:
        """Give up on a stream nobody reads any more, without a last write."""
        self.tar.fileobj.closed = self.tar.closed = True


def containerd_config(kind_files: Path, ctr: Path) -> tuple[bytes, bytes]:
    """kind's containerd configuration with the course's registry for every image, and the base
    runtime spec kind's Dockerfile generates (`ctr oci spec`, with kind's hook, no rlimits)."""
    config = (kind_files / "etc/containerd/config.toml").read_text()
    config += (FILES / "etc/containerd/config-registry.toml").read_text()
    spec = json.loads(subprocess.run([str(ctr), "oci", "spec"], capture_output=True, text=True,
                                     check=True).stdout)
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append({"path": "/kind/bin/mount-product-files.sh"})
    spec["process"].pop("rlimits", None)
    return config.encode(), (json.dumps(spec, indent=2) + "\n").encode()


def write_tree(tree: Tree, root: Path, kind_files: Path, binaries: dict[str, Path],
               kube: Path, course: dict[str, Path]) -> None:
    tree.path(root, "")
    # kind's base files, as its Dockerfile copies them
    for source in sorted(kind_files.rglob("*")):
        rel = source.relative_to(kind_files).as_posix()
        if source.is_file() and rel != "etc/containerd/config.toml":  # extended below
            executable = rel.startswith(("usr/local/bin/", "kind/bin/"))
            tree.path(source, rel, 0o755 if executable else 0o644)
    config, spec = containerd_config(kind_files, binaries["ctr"])
    tree.data("etc/containerd/config.toml", config)
    tree.data("etc/containerd/cri-base.json", spec)
    for source in sorted(p for p in FILES.rglob("*") if p.is_file() and p.name != "config-registry.toml"):
        rel = source.relative_to(FILES).as_posix()
        tree.path(source, rel, 0o755 if os.access(source, os.X_OK) else 0o644)
    for unit in ENABLED_UNITS:
        tree.symlink(f"etc/systemd/system/multi-user.target.wants/{unit}", f"/etc/systemd/system/{unit}")
    # programs
    for name in ("containerd", "containerd-shim-runc-v2", "ctr"):
        tree.path(binaries[name], f"usr/local/bin/{name}", 0o755)
    tree.path(binaries["controlplane"], "usr/local/bin/controlplane", 0o755)
    tree.symlink("usr/bin/kubelet", "/usr/local/bin/controlplane")
    tree.path(binaries["kubeadm"], "usr/local/bin/kubeadm", 0o755)
    tree.symlink("usr/bin/kubeadm", "/usr/local/bin/kubeadm")
    tree.symlink("usr/bin/kubectl", "/usr/local/bin/kubeadm")
    for plugin in ("ptp", "host-local", "loopback", "portmap", "bridge"):
        tree.path(binaries[plugin], f"opt/cni/bin/{plugin}", 0o755)
    tree.data("kind/version", (versions()["KUBERNETES_VERSION"] + "\n").encode())
    # the registry and what it serves
    for name in ("registry.py", "catalog.py"):
        tree.path(CLUSTER / "images" / name, f"kind/registry/images/{name}", 0o755)
    current, lines = {}, []
    for recipe, layout in sorted(course.items()):
        tree.path(layout, f"kind/images/{recipe}")
        current[recipe] = f"/kind/images/{recipe}"
    for repository, (name, _) in KUBE_IMAGES.items():
        tree.path(kube / name, f"kind/images/{name}")
        current[name] = f"/kind/images/{name}"
        lines.append(f"{repository} {name}")
    tree.data("kind/images/current.json", (json.dumps(current, indent=1, sort_keys=True) + "\n").encode())
    node_catalog = catalog.CATALOG.read_text() + "\n# the offline kind node's Kubernetes images\n" + "\n".join(lines) + "\n"
    tree.data("kind/images/catalog.txt", node_catalog.encode())


def ensure(env: dict[str, str]) -> str:
    """The offline node image's tag, built and imported into the Docker engine `env` reaches
    (DOCKER_HOST) when missing."""
    env = {**os.environ, **env}

    def docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["docker", *args], env=env, **kwargs)

    binaries = build_binaries("kindimage")
    course = images.build_all()
    kind_files = kind_base_files()
    kube_key = digest_of(*(binaries[n].parent.name for n in ("controlplane", "etcd", "coredns", "kindnet")),
                         images.image_dir("kube-base").name, Path(__file__))
    kube = home() / f"kube-images-{kube_key}"
    images.build("kube-base")  # (prints a line of its own when it builds)
    if not kube.is_dir():
        with step("kube-images", "the Kubernetes images (apiserver, ..., etcd, CoreDNS, network)") as out:
            out.write(f"into {kube}\n")
            partial = kube.with_name(kube.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            kube_images(binaries, partial)
            partial.rename(kube)
    root_key = digest_of(" ".join(NODE_PACKAGES), Path(__file__), Path(images.__file__), images.deb_arch())
    root = home() / f"rootfs-{root_key}"
    if not root.is_dir():
        with step("rootfs", "the node's root filesystem (Debian bookworm, systemd)") as out:
            partial = root.with_name(root.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            rootfs(partial, out)
            partial.rename(root)
    tag = f"{REPOSITORY}:{versions()['KUBERNETES_VERSION']}-" + digest_of(
        root.name, kube.name, *sorted(p.name for p in course.values()),
        *sorted(p.parent.name for p in binaries.values()), versions()["KIND_VERSION"], FILES, Path(__file__),
        CLUSTER / "images" / "registry.py", catalog.CATALOG)
    if docker("image", "inspect", tag, capture_output=True).returncode == 0:
        return tag
    with step("import", f"the node image {tag} (into Docker)") as out:
        # (docker import takes no STOPSIGNAL: kind removes its nodes with `docker rm -f`)
        importer = subprocess.Popen(
            ["docker", "import", "--change", "ENV container=docker",
             "--change", 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]', "-", tag],
            stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT, env=env)
        tree = Tree(importer.stdin)
        try:
            write_tree(tree, root, kind_files, binaries, kube, course)
            tree.close()
        except BrokenPipeError:
            tree.abandon()  # docker import stopped reading: what it said is in the log
        finally:
            importer.stdin.close()
        if importer.wait() != 0:
            raise ClusterError(f"docker import failed (exit {importer.returncode})")
    for old in docker("images", "--format", "{{.Repository}}:{{.Tag}}", REPOSITORY,
                      capture_output=True, text=True).stdout.split():
        if old != tag:  # an older build: no cluster should use it any more
            docker("rmi", old, capture_output=True)
    return tag


def main() -> int:
    try:
        print(ensure({}))
    except ClusterError as error:
        log(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
