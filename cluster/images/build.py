#!/usr/bin/env python3
"""Build the course's container images from Debian packages, without Docker or a registry.

Each recipe (recipes/<name>/recipe.json, plus the files beside it) becomes an OCI image layout
directory (oci-layout, index.json, blobs/sha256/...) with one gzip layer, under
``$COURSE_CACHE/images/<recipe>-<hash>/``; the hash covers the recipe's files (and those of the
recipe it extends) and this script, so an image is rebuilt only when its recipe changes.
COURSE_CACHE defaults to ${XDG_CACHE_HOME:-~/.cache}/k8s-pods-course.

    python3 cluster/images/build.py            # build every recipe of catalog.txt (cached)
    python3 cluster/images/build.py nginx      # build some recipes
    python3 cluster/images/build.py --list     # the catalog: repository, recipe, cached image
    python3 cluster/images/build.py --force    # rebuild even when cached

From Python: ``build_all() -> {recipe: Path}``. Standard library only (Python 3.10+): it runs
before the project's virtualenv exists. Needs root, mmdebstrap (installed with apt-get when
missing) and, for the pause image, Go.

recipe.json keys (all optional):
  extends      another recipe whose settings and rootfs/ come first
  packages     Debian packages to extract (with their dependencies) via mmdebstrap
  variant      mmdebstrap variant: "extract" (default) or "minbase" (a full minimal Debian)
  go           {"main": "main.go", "output": "/pause"}: a static Go program built into the image
  busybox      true: link every busybox applet into the image (busybox --install -s semantics)
  remove       extra paths (globs, relative to /) to delete
  keep         paths (globs) the default pruning must keep
  symlinks     {"/path": "target"}
  dirs         {"/path": "mode uid:gid"}: created or changed (e.g. "1777 0:0")
  config       the image config's "config" (Entrypoint, Cmd, Env, WorkingDir, ExposedPorts,
               StopSignal, User, Labels)
  rootfs/      a folder beside recipe.json copied over the root filesystem (owned by root)
"""
from __future__ import annotations

import argparse
import fnmatch
import glob
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECIPES = HERE / "recipes"
sys.path.insert(0, str(HERE.parent))
from images import catalog  # noqa: E402  (cluster/ on sys.path)

# Every file's mtime is clamped to this (2024-01-01T00:00:00Z), so layers are reproducible.
EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1704067200"))
CREATED = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH))

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# What every image drops: documentation (but not the copyright files), manuals, translations,
# apt's and dpkg's leftovers, the build-time /dev.
PRUNE = ["usr/share/doc/*/*", "usr/share/man", "usr/share/info", "usr/share/locale",
         "usr/share/lintian", "usr/share/linda", "usr/share/bug", "usr/share/menu",
         "var/cache/apt/*", "var/lib/apt/lists/*", "var/cache/debconf/*-old", "var/log/*",
         "var/cache/ldconfig/*", "dev/*", "proc/*", "sys/*", "run/*", "tmp/*",
         "etc/apt/apt.conf.d/99mmdebstrap", "etc/dpkg/dpkg.cfg.d/99mmdebstrap", "etc/machine-id",
         "var/lib/dbus/machine-id", "etc/hostname", "etc/resolv.conf"]
# What images made of extracted packages (no package manager inside) drop as well.
PRUNE_EXTRACT = ["etc/apt", "etc/dpkg", "var/lib/dpkg", "var/lib/apt", "var/cache/apt", "etc/fstab",
                 "usr/share/initramfs-tools", "etc/cron.daily", "etc/logrotate.d", "etc/init.d",
                 "etc/systemd", "lib/systemd", "usr/lib/systemd", "etc/ufw", "etc/apparmor.d",
                 "etc/default", "usr/share/debconf", "var/cache/debconf", "usr/share/perl5",
                 "usr/share/lintian", "etc/logcheck", "etc/insserv.conf.d", "usr/lib/*-linux-gnu/gconv", "linuxrc"]
PRUNE_KEEP = ["usr/share/doc/*/copyright"]

DEB_TO_OCI_ARCH = {"amd64": ("amd64", None), "arm64": ("arm64", "v8"), "armhf": ("arm", "v7"),
                   "armel": ("arm", "v5"), "i386": ("386", None), "ppc64el": ("ppc64le", None),
                   "s390x": ("s390x", None), "riscv64": ("riscv64", None)}


class BuildError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Where things go

def cache_root() -> Path:
    if os.environ.get("COURSE_CACHE"):
        return Path(os.environ["COURSE_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "k8s-pods-course"


def images_root() -> Path:
    return cache_root() / "images"


def deb_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def oci_platform() -> dict:
    arch, variant = DEB_TO_OCI_ARCH.get(deb_arch(), (deb_arch(), None))
    return {"architecture": arch, "os": "linux", **({"variant": variant} if variant else {})}


# ---------------------------------------------------------------------------------------------
# Recipes

def recipe_names() -> list[str]:
    return sorted(p.name for p in RECIPES.iterdir() if (p / "recipe.json").is_file())


def _chain(name: str) -> list[str]:
    """The recipe and the ones it extends, base first."""
    chain: list[str] = []
    while name:
        if name in chain:
            raise BuildError(f"recipe {name}: 'extends' loops")
        if not (RECIPES / name / "recipe.json").is_file():
            raise BuildError(f"no recipe {name!r} (expected {RECIPES / name / 'recipe.json'})")
        chain.insert(0, name)
        name = json.loads((RECIPES / name / "recipe.json").read_text()).get("extends", "")
    return chain


def load_recipe(name: str) -> dict:
    """The recipe's settings merged over those it extends (lists concatenated, dicts merged)."""
    merged: dict = {"rootfs": []}
    for part in _chain(name):
        data = json.loads((RECIPES / part / "recipe.json").read_text())
        data.pop("extends", None)
        for key, value in data.items():
            if isinstance(value, list):
                merged[key] = merged.get(key, []) + value
            elif isinstance(value, dict) and key != "go":
                merged[key] = {**merged.get(key, {}), **value}   # a key of the recipe replaces the base's
            else:
                merged[key] = value
        if (RECIPES / part / "rootfs").is_dir():
            merged["rootfs"].append(RECIPES / part / "rootfs")
        if "go" in data:
            merged["go_dir"] = RECIPES / part
    return merged


def recipe_hash(name: str) -> str:
    h = hashlib.sha256()
    h.update(Path(__file__).resolve().read_bytes())
    h.update(deb_arch().encode())
    for part in _chain(name):
        base = RECIPES / part
        for path in sorted(base.rglob("*")):
            rel = path.relative_to(RECIPES).as_posix()
            if path.is_symlink():
                h.update(f"L {rel} {os.readlink(path)}\n".encode())
            elif path.is_file():
                mode = "x" if os.access(path, os.X_OK) else "-"
                h.update(f"F {rel} {mode} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()[:12]


def image_dir(name: str) -> Path:
    return images_root() / f"{name}-{recipe_hash(name)}"


# ---------------------------------------------------------------------------------------------
# Tools

def _need_root(why: str) -> None:
    if os.geteuid() != 0:
        raise BuildError(f"building the images needs root ({why}); run as root (e.g. with sudo)")


def ensure_mmdebstrap() -> str:
    found = shutil.which("mmdebstrap")
    if found:
        return found
    apt = shutil.which("apt-get")
    if os.geteuid() != 0 or not apt:
        raise BuildError("mmdebstrap is missing: install it (Debian/Ubuntu: "
                         "`sudo apt-get install --no-install-recommends mmdebstrap`), then run again")
    log("build.py: installing mmdebstrap: apt-get install -y --no-install-recommends mmdebstrap")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sim = subprocess.run([apt, "install", "-s", "--no-install-recommends", "mmdebstrap"],
                         capture_output=True, text=True, env=env)
    pkgs = [line.split()[1] for line in sim.stdout.splitlines() if line.startswith("Inst ")]
    log(f"build.py: apt-get will install: {' '.join(pkgs) or '(nothing new)'}")
    done = subprocess.run([apt, "install", "-y", "--no-install-recommends", "mmdebstrap"],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0 or not shutil.which("mmdebstrap"):
        raise BuildError("apt-get could not install mmdebstrap:\n" + done.stdout[-2000:] + done.stderr[-2000:])
    return shutil.which("mmdebstrap")


def _os_release() -> dict:
    values = {}
    for line in Path("/etc/os-release").read_text().splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            values[key] = value.strip().strip('"')
    return values


def host_sources(codename: str) -> list[str]:
    """The host's apt sources for its own Debian release, as one-line "deb [...] URI suite comps"
    entries (deb822 .sources and one-line .list files; others are not read by apt either)."""
    files = [Path("/etc/apt/sources.list")] + sorted(Path("/etc/apt/sources.list.d").glob("*"))
    lines: list[str] = []
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.name.endswith(".sources"):
            for stanza in text.split("\n\n"):
                fields: dict[str, str] = {}
                last = None
                for raw in stanza.splitlines():
                    if raw.startswith("#") or not raw.strip():
                        continue
                    if raw[0] in " \t" and last:
                        fields[last] += " " + raw.strip()
                        continue
                    if ":" in raw:
                        last, value = raw.split(":", 1)
                        last = last.strip().lower()
                        fields[last] = value.strip()
                if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes") == "no":
                    continue
                opts = f" [signed-by={fields['signed-by']}]" if fields.get("signed-by", "").startswith("/") else ""
                for uri in fields.get("uris", "").split():
                    for suite in fields.get("suites", "").split():
                        if suite.split("-")[0] == codename:
                            lines.append(f"deb{opts} {uri} {suite} {fields.get('components', 'main')}")
        elif path.name.endswith(".list"):
            for raw in text.splitlines():
                words = raw.split("#", 1)[0].split()
                if not words or words[0] != "deb":
                    continue
                rest = words[1:]
                opts = ""
                if rest and rest[0].startswith("["):
                    while rest and not rest[0].endswith("]"):
                        opts += rest.pop(0) + " "
                    opts = " " + opts + rest.pop(0)
                if len(rest) >= 2 and rest[1].split("-")[0] == codename:
                    lines.append(f"deb{opts} {' '.join(rest)}")
    return lines


# ---------------------------------------------------------------------------------------------
# Building a root filesystem

def _run(cmd: list[str], what: str, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise BuildError(f"{what} failed ({done.returncode}): {' '.join(cmd)}\n"
                         + (done.stdout[-3000:] + done.stderr[-3000:]).strip())
    return done


def debootstrap(root: Path, packages: list[str], variant: str) -> None:
    mmdebstrap = ensure_mmdebstrap()
    release = _os_release()
    codename = release.get("VERSION_CODENAME", "")
    if release.get("ID") != "debian" or not codename:
        raise BuildError("the images are built from Debian packages; this machine is "
                         f"{release.get('PRETTY_NAME', 'not Debian')} (expected Debian 12 or later)")
    sources = host_sources(codename) or [f"deb http://deb.debian.org/debian {codename} main"]
    cmd = [mmdebstrap, "--quiet", f"--variant={variant}", "--mode=root", "--format=directory",
           "--dpkgopt=path-exclude=/usr/share/man/*", "--dpkgopt=path-exclude=/usr/share/locale/*",
           "--dpkgopt=path-exclude=/usr/share/info/*", "--dpkgopt=path-exclude=/usr/share/doc/*",
           "--dpkgopt=path-include=/usr/share/doc/*/copyright",
           "--aptopt=Apt::Install-Recommends \"false\"", "--aptopt=Acquire::Languages \"none\""]
    if packages:
        cmd.append("--include=" + ",".join(packages))
    cmd += [codename, str(root)] + sources
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(EPOCH), "DEBIAN_FRONTEND": "noninteractive"}
    _run(cmd, "mmdebstrap", env=env)


def build_go(recipe: dict, root: Path, tmp: Path) -> None:
    spec = recipe["go"]
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if not go:
        raise BuildError("the pause image needs Go (https://go.dev/dl/ or `apt-get install golang-go`)")
    src = tmp / "go-src"
    src.mkdir()
    shutil.copy(recipe["go_dir"] / spec["main"], src / "main.go")
    (src / "go.mod").write_text("module coursepause\n\ngo 1.19\n")
    out = root / spec["output"].lstrip("/")
    out.parent.mkdir(parents=True, exist_ok=True)
    arch = oci_platform()
    env = {**os.environ, "CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": arch["architecture"],
           "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", "GO111MODULE": "on"}
    if arch.get("variant", "").startswith("v") and arch["architecture"] == "arm":
        env["GOARM"] = arch["variant"][1:]
    _run([go, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(out), "."], "go build", cwd=src, env=env)
    out.chmod(0o755)


def _rm(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def prune(root: Path, patterns: list[str], keep: list[str]) -> None:
    keep_paths = set()
    for pattern in keep:
        keep_paths.update(glob.glob(str(root / pattern)))
    for pattern in patterns:
        for hit in sorted(glob.glob(str(root / pattern.lstrip("/"))), reverse=True):
            if hit in keep_paths:
                continue
            if any(k.startswith(hit + "/") for k in keep_paths):
                # a directory holding something to keep: empty it around that
                for sub in sorted(Path(hit).rglob("*"), reverse=True):
                    if str(sub) not in keep_paths and not any(k.startswith(str(sub) + "/") for k in keep_paths):
                        if not sub.is_dir() or sub.is_symlink():
                            sub.unlink()
                        elif not any(sub.iterdir()):
                            sub.rmdir()
                continue
            _rm(Path(hit))


def copy_overlay(src: Path, root: Path) -> None:
    for path in sorted(src.rglob("*")):
        dest = root / path.relative_to(src)
        if path.is_symlink():
            if dest.exists() or dest.is_symlink():
                _rm(dest)
            dest.symlink_to(os.readlink(path))
        elif path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            os.chown(dest, 0, 0)
        else:
            if dest.is_symlink() or dest.is_dir():
                _rm(dest)
            shutil.copyfile(path, dest)
            os.chmod(dest, 0o755 if os.access(path, os.X_OK) else 0o644)
            os.chown(dest, 0, 0)


def _resolve_in(root: Path, path: str) -> Path:
    """A path inside root, following symlinks inside the image (e.g. /bin -> usr/bin)."""
    current = root
    for part in Path(path.lstrip("/")).parts:
        current = current / part
        hops = 0
        while current.is_symlink() and hops < 20:
            target = os.readlink(current)
            current = (root / target.lstrip("/")) if target.startswith("/") else current.parent / target
            hops += 1
    return current


def install_busybox(root: Path) -> None:
    """busybox --install -s: a symlink to /bin/busybox for every applet not already present."""
    busybox = _resolve_in(root, "/bin/busybox")
    if not busybox.exists():
        busybox = _resolve_in(root, "/usr/bin/busybox")
    if not busybox.exists():
        raise BuildError("busybox is not in the image (add busybox-static to packages)")
    target = "/" + busybox.relative_to(root).as_posix()
    listing = _run([str(busybox), "--list-full"], "busybox --list-full").stdout.split()
    for applet in listing:
        dest = _resolve_in(root, "/" + str(Path(applet).parent)) / Path(applet).name
        if dest.exists() or dest.is_symlink():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)


def make_rootfs(name: str, recipe: dict, root: Path, tmp: Path) -> None:
    packages = recipe.get("packages", [])
    if packages or recipe.get("variant", "extract") != "extract":
        debootstrap(root, packages, recipe.get("variant", "extract"))
    else:
        root.mkdir()
    if "go" in recipe:
        build_go(recipe, root, tmp)
    extract = PRUNE_EXTRACT if recipe.get("variant", "extract") == "extract" else []
    prune(root, PRUNE + extract + recipe.get("remove", []), PRUNE_KEEP + recipe.get("keep", []))
    for overlay in recipe["rootfs"]:
        copy_overlay(overlay, root)
    if recipe.get("busybox"):
        install_busybox(root)
    for link, target in sorted(recipe.get("symlinks", {}).items()):
        dest = _resolve_in(root, str(Path(link).parent)) / Path(link).name
        if dest.exists() or dest.is_symlink():
            _rm(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(target)
    for path, spec in sorted(recipe.get("dirs", {}).items()):
        mode, owner = spec.split()
        uid, gid = (int(x) for x in owner.split(":"))
        dest = _resolve_in(root, path)
        dest.mkdir(parents=True, exist_ok=True)
        os.chown(dest, uid, gid)
        os.chmod(dest, int(mode, 8))
    if (root / "etc").is_dir() and any(root.glob("*lib*/*-linux-gnu*")) and shutil.which("ldconfig"):
        subprocess.run(["ldconfig", "-r", str(root)], capture_output=True)
        _rm(root / "var/cache/ldconfig") if (root / "var/cache/ldconfig").exists() else None


# ---------------------------------------------------------------------------------------------
# The OCI image layout

def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _HashingWriter(io.RawIOBase):
    def __init__(self, target):
        self.target, self.hash, self.size = target, hashlib.sha256(), 0

    def writable(self):
        return True

    def write(self, data):
        self.target.write(data)
        self.hash.update(data)
        self.size += len(data)
        return len(data)


def write_layer(root: Path, dest_file: Path) -> tuple[str, str, int, int]:
    """A reproducible gzip tar of root: sorted entries, numeric owners, mtimes clamped to EPOCH.
    Returns (diff_id, digest, compressed size, uncompressed size)."""
    with open(dest_file, "wb") as raw:
        gz_hash = _HashingWriter(raw)
        with gzip.GzipFile(filename="", mode="wb", fileobj=gz_hash, mtime=0, compresslevel=6) as gz:
            tar_hash = _HashingWriter(gz)
            with tarfile.open(fileobj=tar_hash, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                seen: dict[tuple[int, int], str] = {}

                def add(path: Path, arc: str) -> None:
                    st = path.lstat()
                    info = tarfile.TarInfo(arc)
                    info.mode = stat.S_IMODE(st.st_mode)
                    info.uid, info.gid, info.uname, info.gname = st.st_uid, st.st_gid, "", ""
                    info.mtime = min(int(st.st_mtime), EPOCH)
                    if stat.S_ISDIR(st.st_mode):
                        info.type = tarfile.DIRTYPE
                        tar.addfile(info)
                    elif stat.S_ISLNK(st.st_mode):
                        info.type, info.linkname = tarfile.SYMTYPE, os.readlink(path)
                        tar.addfile(info)
                    elif stat.S_ISREG(st.st_mode):
                        key = (st.st_dev, st.st_ino)
                        if st.st_nlink > 1 and key in seen:
                            info.type, info.linkname = tarfile.LNKTYPE, seen[key]
                            tar.addfile(info)
                            return
                        seen[key] = arc
                        info.size = st.st_size
                        with open(path, "rb") as f:
                            tar.addfile(info, f)
                    elif stat.S_ISFIFO(st.st_mode):
                        info.type = tarfile.FIFOTYPE
                        tar.addfile(info)
                    # devices and sockets are left out: the runtime provides /dev

                def walk(directory: Path, prefix: str) -> None:
                    for entry in sorted(os.listdir(directory)):
                        path = directory / entry
                        arc = prefix + entry
                        add(path, arc)
                        if path.is_dir() and not path.is_symlink():
                            walk(path, arc + "/")

                walk(root, "")
            tar_size = tar_hash.size
        return ("sha256:" + tar_hash.hash.hexdigest(), "sha256:" + gz_hash.hash.hexdigest(),
                gz_hash.size, tar_size)


def write_layout(root: Path, config: dict, dest: Path, ref_name: str = "latest",
                 annotations: dict | None = None) -> str:
    """Write an OCI image layout of root (one layer) to dest; return the manifest's digest."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    tmp_layer = blobs / "layer.tmp"
    diff_id, layer_digest, layer_size, tar_size = write_layer(root, tmp_layer)
    tmp_layer.rename(blobs / layer_digest.split(":")[1])

    def put(data: bytes) -> str:
        digest = _sha(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    image_config = {"created": CREATED, **oci_platform(), "config": config,
                    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                    "history": [{"created": CREATED, "created_by": f"k8s-pods-course cluster/images/build.py {ref_name}"}]}
    config_bytes = json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode()
    config_digest = put(config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": config_digest, "size": len(config_bytes)},
                "layers": [{"mediaType": MT_LAYER, "digest": layer_digest, "size": layer_size,
                            "annotations": {"org.opencontainers.image.uncompressed-size": str(tar_size)}}],
                "annotations": {"org.opencontainers.image.created": CREATED, **(annotations or {})}}
    manifest_bytes = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    manifest_digest = put(manifest_bytes)
    index = {"schemaVersion": 2, "mediaType": MT_INDEX,
             "manifests": [{"mediaType": MT_MANIFEST, "digest": manifest_digest, "size": len(manifest_bytes),
                            "platform": oci_platform(),
                            "annotations": {"org.opencontainers.image.ref.name": ref_name}}]}
    (dest / "index.json").write_text(json.dumps(index, sort_keys=True, indent=1) + "\n")
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}\n')
    return manifest_digest


def image_summary(layout: Path) -> dict:
    """{"manifest": digest, "compressed": bytes, "uncompressed": bytes} of an image layout."""
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs/sha256" / digest.split(":")[1]).read_bytes())
    compressed = sum(layer["size"] for layer in manifest["layers"]) + manifest["config"]["size"]
    uncompressed = sum(int(layer.get("annotations", {}).get("org.opencontainers.image.uncompressed-size", 0))
                       for layer in manifest["layers"])
    return {"manifest": digest, "compressed": compressed, "uncompressed": uncompressed}


# ---------------------------------------------------------------------------------------------
# Building

def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


def build(name: str, force: bool = False, quiet_when_cached: bool = True) -> Path:
    """Build one recipe (if not cached) and return its image layout directory."""
    started = time.monotonic()
    dest = image_dir(name)
    if (dest / "index.json").is_file() and not force:
        if quiet_when_cached:
            return dest
        info = image_summary(dest)
        print(f"{name:20} cached  {time.monotonic() - started:5.1f}s  {_size(info['compressed']):>8} "
              f"({_size(info['uncompressed'])} unpacked)  {dest}", flush=True)
        return dest
    _need_root("mmdebstrap extracts packages with their owners")
    recipe = load_recipe(name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".build-{name}-", dir=dest.parent) as tmp_name:
        tmp = Path(tmp_name)
        root = tmp / "rootfs"
        make_rootfs(name, recipe, root, tmp)
        layout = tmp / "layout"
        annotations = {"org.opencontainers.image.title": name,
                       "org.opencontainers.image.description": recipe.get("description", ""),
                       "org.opencontainers.image.source": "k8s-pods-course cluster/images/recipes/" + name}
        write_layout(root, recipe.get("config", {}), layout, ref_name=name, annotations=annotations)
        if dest.exists():
            shutil.rmtree(dest)
        layout.rename(dest)
    # older builds of this recipe are no longer used
    for old in dest.parent.glob(f"{name}-*"):
        if old != dest and old.is_dir() and len(old.name) == len(dest.name) and (old / "oci-layout").exists():
            shutil.rmtree(old, ignore_errors=True)
    info = image_summary(dest)
    print(f"{name:20} built   {time.monotonic() - started:5.1f}s  {_size(info['compressed']):>8} "
          f"({_size(info['uncompressed'])} unpacked)  {dest}", flush=True)
    return dest


def write_current(images: dict[str, Path]) -> None:
    """images/current.json: {recipe: layout directory}, what registry.py --images reads."""
    path = images_root() / "current.json"
    current = json.loads(path.read_text()) if path.is_file() else {}
    current.update({name: str(p) for name, p in images.items()})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
    tmp.rename(path)


def build_all(recipes: list[str] | None = None, force: bool = False) -> dict[str, Path]:
    """Build (or find cached) every recipe the catalog uses; return {recipe: layout directory}."""
    names = recipes or catalog.recipes()
    result = {name: build(name, force=force) for name in names}
    write_current(result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipes", nargs="*", help="recipes to build (default: all in catalog.txt)")
    parser.add_argument("--list", action="store_true", help="print the catalog and exit")
    parser.add_argument("--force", action="store_true", help="rebuild even when cached")
    args = parser.parse_args(argv)
    if args.list:
        for repo, recipe in catalog.entries().items():
            layout = image_dir(recipe)
            state = "built" if (layout / "index.json").is_file() else "not built"
            print(f"{repo:32} {recipe:20} {state:10} {layout}")
        return 0
    unknown = [r for r in args.recipes if r not in recipe_names()]
    if unknown:
        print(f"unknown recipe(s): {', '.join(unknown)}; known: {', '.join(recipe_names())}", file=sys.stderr)
        return 2
    try:
        build_all(args.recipes or None, force=args.force)
    except BuildError as e:
        print(f"build.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
