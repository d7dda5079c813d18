"""The course's private Docker engine, for kind on a Linux machine that has no Docker engine
running (a CI machine, a classroom server): a dockerd of our own, started as root, that leaves
the host as it found it once stopped.

    from dockerd import engine          # with cluster/ on sys.path
    env = engine.ensure()               # {"DOCKER_HOST": "unix://..."}: for docker and kind
    engine.stop()                       # the data root (images) stays; stop(purge=True) too

Each engine has a name ("pods-course" serves the kind cluster; tests start others beside it),
and every path is derived from it: its files under $COURSE_CACHE/docker/<name>/ (data root,
daemon.json, pid file, log), its exec root and socket in <name>/run/ (under /run/<name>-docker
when the cache's path is too long for a unix socket), its cgroup /<name>-docker in every
hierarchy, holding dockerd, containerd, the shims and the containers.

It touches the host no more than it must: no iptables or nftables rules, no ip_forward, no
docker0, no /etc/docker. What Docker still makes outside the cache -- a bridge per Docker
network (kind's), the directories /run/docker/plugins and /run/containerd/s (the shims'
sockets) and, through kind's bind mount, an empty /lib/modules where the kernel has none --
`stop` removes, with whatever mounts and processes a killed engine left behind.

Where root lacks CAP_SYS_RESOURCE (see lacks_cap_sys_resource), privileged containers -- kind's
nodes -- run through runc-without-sys-resource, beside this file.

Standard library only: it runs before (and without) the course's virtualenv.
"""
from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import cgroups
from common import NAME, ClusterError, cache_dir, log, run

HERE = Path(__file__).resolve().parent
RUNTIME = "runc-without-sys-resource"   # the runtime's name for dockerd, and its script's
CAP_SYS_RESOURCE = 24                    # its bit in /proc/<pid>/status's capability masks
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# A unix socket's path holds at most 107 bytes; containerd's longest is this, in the exec root.
SOCKET_PATH_MAX = 107
LONGEST_SOCKET = "/containerd/containerd.sock.ttrpc"
# Directories Docker makes outside its roots when they are missing. Those that were missing
# before our first engine started are removed (when empty) once the last one stops.
HOST_DIRS = ["/lib/modules", "/run/docker/plugins", "/run/docker", "/run/containerd/s",
             "/run/containerd"]
SHIM_SOCKETS = "/run/containerd/s"       # containerd's shims listen here, whatever its root
STOP_GRACE_S = 30      # dockerd stops its containers first (10 s each by default, in parallel)
START_TIMEOUT_S = 60
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MNT_DETACH = 2


def works(env: dict[str, str] | None = None, timeout: float = 10) -> bool:
    """Whether a Docker engine answers `docker info`: the user's (DOCKER_HOST, the current
    context or the default socket), or the one `env` points to."""
    docker = shutil.which("docker", path=os.pathsep.join([os.environ.get("PATH", ""), SYSTEM_PATH]))
    if not docker:
        return False
    try:
        result = run([docker, "info", "--format", "{{.ServerVersion}}"], check=False,
                     timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and bool(result.stdout.strip())


def lacks_cap_sys_resource() -> bool:
    """Whether CAP_SYS_RESOURCE is missing from our bounding set (root in some sandboxes). runc
    then cannot give it to a privileged container, and the engine needs runc-without-sys-resource."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return not int(line.split()[1], 16) >> CAP_SYS_RESOURCE & 1
    return False


def dockerd() -> str | None:
    return shutil.which("dockerd", path=SYSTEM_PATH)


def unavailable() -> str | None:
    """Why the course cannot start a private Docker engine here, or None."""
    if platform.system() != "Linux":
        return ("no Docker engine is running: install Docker Desktop (or colima, or Podman) and "
                "start it, then run this again")
    if os.geteuid() != 0:
        return ("no Docker engine is running: start Docker (`sudo systemctl start docker`), or run "
                "this as root (sudo) and the course starts a private Docker engine of its own")
    if not dockerd() and not shutil.which("apt-get"):
        return ("no Docker engine is installed: install Docker Engine with your package manager "
                "(https://docs.docker.com/engine/install/), then run this again")
    return None


def install() -> None:
    """Debian's Docker engine (docker.io: dockerd, containerd, runc), saying so first."""
    if dockerd():
        return
    log("installing docker.io (Debian's Docker engine, with apt-get) for the course's private "
        "Docker engine")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"], env=env,
        timeout=900)
    if not dockerd():
        raise ClusterError("docker.io is installed but there is no dockerd in /usr/sbin or /usr/bin")


def _version(binary: str) -> tuple[int, int]:
    found = re.search(r"version (\d+)\.(\d+)", run([binary, "--version"]).stdout)
    return (int(found[1]), int(found[2])) if found else (0, 0)


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # when this process started it, it is ours to reap
    except ChildProcessError:
        pass
    return Path(f"/proc/{pid}").exists()


class Engine:
    """One private engine, by name; every path it uses is derived from the name."""

    def __init__(self, name: str = NAME):
        if not NAME_PATTERN.fullmatch(name):
            raise ValueError(f"an engine's name is lowercase letters, digits and dashes: {name!r}")
        self.name = name
        self.home = cache_dir() / "docker" / name
        self.data_root = self.home / "data"
        self.pidfile = self.home / "dockerd.pid"
        self.log_file = self.home / "dockerd.log"
        self.config = self.home / "daemon.json"
        run_dir = self.home / "run"
        if len(str(run_dir)) + len(LONGEST_SOCKET) > SOCKET_PATH_MAX:
            run_dir = Path("/run") / f"{name}-docker"  # a long cache path: sockets need short ones
        self.exec_root = run_dir
        self.socket = run_dir / "docker.sock"
        self.cgroup = f"{name}-docker"

    # --- state ------------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        return {"DOCKER_HOST": f"unix://{self.socket}"}

    def pid(self) -> int | None:
        """dockerd's pid when it runs (the pid file's process, and it is ours)."""
        try:
            pid = int(self.pidfile.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        return pid if str(self.pidfile).encode() in cmdline else None

    def running(self) -> bool:
        return self.pid() is not None

    def command(self) -> list[str]:
        binary = dockerd()
        args = [binary, "--config-file", str(self.config),
                "--host", f"unix://{self.socket}",
                "--data-root", str(self.data_root), "--exec-root", str(self.exec_root),
                "--pidfile", str(self.pidfile),
                # The host's firewall and forwarding stay as they are; kind makes its own network
                # (its ports are published by docker-proxy, which needs no rules).
                "--iptables=false", "--ip6tables=false", "--ip-forward=false", "--bridge=none",
                # Its cgroups in our tree, whatever manages the host's (systemd would want a slice).
                "--exec-opt", "native.cgroupdriver=cgroupfs", "--cgroup-parent", f"/{self.cgroup}"]
        if lacks_cap_sys_resource():
            args += ["--add-runtime", f"{RUNTIME}={HERE / RUNTIME}", "--default-runtime", RUNTIME]
        return args

    # --- start ------------------------------------------------------------------------------

    def start(self) -> None:
        if reason := unavailable():
            raise ClusterError(reason)
        install()
        self._clean()  # what a killed engine of this name may have left
        self._remember_host_dirs()
        self.home.mkdir(parents=True, exist_ok=True)
        self.exec_root.mkdir(parents=True, exist_ok=True)
        config = {}
        if _version(dockerd()) < (23, 0):  # older engines write /etc/docker/key.json otherwise
            config["deprecated-key-path"] = str(self.home / "key.json")
        self.config.write_text(json.dumps(config, indent=1) + "\n")
        procs = self._make_cgroups()

        def join_cgroups() -> None:  # in the child, before exec: all dockerd starts stays inside
            for path in procs:
                Path(path).write_text(str(os.getpid()))

        log(f"starting the course's private Docker engine ({self.name}), log in {self.log_file}")
        started = time.monotonic()
        with open(self.log_file, "wb") as out:
            process = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=out, stderr=out, cwd="/",
                start_new_session=True, preexec_fn=join_cgroups,
                env={**os.environ, "PATH": os.pathsep.join([SYSTEM_PATH, os.environ.get("PATH", "")])})
        while not works(self.environment(), timeout=5):
            if process.poll() is not None or time.monotonic() - started > START_TIMEOUT_S:
                why = (f"stopped (exit {process.returncode})" if process.poll() is not None
                       else f"did not answer within {START_TIMEOUT_S} s")
                tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
                self.stop()
                raise ClusterError(f"the course's private Docker engine {why}; its log, "
                                   f"{self.log_file}, ends:\n{tail}")
            time.sleep(0.2)
        log(f"the private Docker engine answers after {time.monotonic() - started:.1f}s "
            f"(DOCKER_HOST={self.environment()['DOCKER_HOST']})")

    # --- stop -------------------------------------------------------------------------------

    def stop(self, purge: bool = False) -> None:
        """Stop the engine (SIGTERM: dockerd stops its containers; then SIGKILL to whatever is
        left) and remove what it left on the host. The data root (images: a cache) stays
        unless `purge`. Does nothing more when it is already stopped and clean."""
        pid = self.pid()
        if pid:
            log(f"stopping the course's private Docker engine ({self.name})")
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        self._clean()
        if purge:
            shutil.rmtree(self.home, ignore_errors=True)

    def _clean(self) -> None:
        survivors = cgroups.kill_all(root=self.cgroup)
        if survivors:
            raise ClusterError(f"processes of the private Docker engine {self.name} would not "
                               f"stop: {sorted(survivors)}")
        stuck = self._unmount()
        self._remove_bridges()
        self._remove_shim_sockets()
        if not stuck:  # never delete through a mount
            shutil.rmtree(self.exec_root, ignore_errors=True)
            self.pidfile.unlink(missing_ok=True)
        left = cgroups.remove(self.cgroup)
        self._forget_host_dirs()
        if stuck or left:
            raise ClusterError(f"the private Docker engine {self.name} left behind "
                               f"{', '.join(map(str, stuck + left))}")

    # --- cgroups: one tree, /<name>-docker, in every hierarchy --------------------------------

    def _cgroup_dirs(self) -> list[Path]:
        return [hierarchy / self.cgroup for hierarchy in cgroups.hierarchies()]

    def _make_cgroups(self) -> list[str]:
        """The tree, and its `engine` leaf for dockerd and its helpers (the containers are
        siblings, one per id); returns the leaf's cgroup.procs files."""
        procs = []
        for root in self._cgroup_dirs():
            leaf = root / "engine"
            leaf.mkdir(parents=True, exist_ok=True)
            for directory in (root, leaf):
                if (directory.parent / "cpuset.cpus").exists():  # a v1 cpuset starts empty
                    for name in ("cpuset.cpus", "cpuset.mems"):
                        (directory / name).write_text((directory.parent / name).read_text())
            procs.append(str(leaf / "cgroup.procs"))
        return procs

    # --- mounts and bridges -------------------------------------------------------------------

    def _mounts(self) -> list[Path]:
        """Mount points under the data and exec roots (overlays, shm, network namespaces), the
        deepest first."""
        roots = [str(self.data_root), str(self.exec_root)]
        found = []
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
            if any(point == root or point.startswith(root + "/") for root in roots):
                found.append(Path(point))
        return sorted(found, key=lambda p: len(p.parts), reverse=True)

    def _unmount(self) -> list[Path]:
        """Unmount what a killed engine left (a clean stop leaves nothing); returns what stays."""
        libc = ctypes.CDLL(None, use_errno=True)
        for _ in range(5):  # mounts may be stacked on one point
            mounts = self._mounts()
            for point in mounts:
                libc.umount2(os.fsencode(point), MNT_DETACH)
        return self._mounts()

    def _bridges(self) -> list[str]:
        """The bridge interfaces of this engine's Docker networks (kind's): dockerd leaves them
        when it stops. Their names are in its network store, which is read even when the engine
        is gone; only interfaces that are bridges are taken."""
        store = self.data_root / "network" / "files" / "local-kv.db"
        if not store.exists():
            return []
        names = set(re.findall(rb'"BridgeName":"([^"]{1,15})"', store.read_bytes()))
        return sorted(n.decode() for n in names if Path(f"/sys/class/net/{n.decode()}/bridge").is_dir())

    def _remove_bridges(self) -> None:
        for bridge in self._bridges():
            run(["ip", "link", "delete", bridge], check=False)

    def _remove_shim_sockets(self) -> None:
        """The sockets of killed containerd shims. A shim listens on /run/containerd/s/<sha256
        of containerd's address/namespace/container id> and removes it when it ends cleanly."""
        containers = self.data_root / "containers"
        if not containers.is_dir():
            return
        address = self.exec_root / "containerd" / "containerd.sock"
        for container in containers.iterdir():
            digest = hashlib.sha256(f"{address}/moby/{container.name}".encode()).hexdigest()
            Path(SHIM_SOCKETS, digest).unlink(missing_ok=True)

    # --- directories Docker makes outside its roots -------------------------------------------

    def _record(self) -> Path:
        return self.home.parent / "made-on-host"  # shared by the engines: the last one cleans

    def _remember_host_dirs(self) -> None:
        record = self._record()
        known = set(record.read_text().split()) if record.exists() else set()
        made = known | {d for d in HOST_DIRS if not os.path.lexists(d)}
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text("".join(f"{d}\n" for d in sorted(made)))

    def _forget_host_dirs(self) -> None:
        record = self._record()
        if not record.exists() or self._others_running():
            return
        for directory in sorted(record.read_text().split(), key=len, reverse=True):
            try:
                os.rmdir(directory)  # only when empty: then nothing else uses it
            except OSError:
                pass
        record.unlink()

    def _others_running(self) -> bool:
        others = self.home.parent
        return any(Engine(d.name).running() for d in others.iterdir()
                   if d.is_dir() and d.name != self.name and NAME_PATTERN.fullmatch(d.name))


# --- the interface kindcluster.py uses ----------------------------------------------------------

def ensure(name: str = NAME) -> dict[str, str]:
    """The environment that points docker and kind at the private engine `name`, started (and
    docker.io installed, on Debian and Ubuntu) when it does not answer yet."""
    engine = Engine(name)
    if engine.running() and works(engine.environment()):
        return engine.environment()
    if engine.running():
        log(f"restarting the course's private Docker engine ({name}), which does not answer")
        engine.stop()
    engine.start()
    return engine.environment()


def client_env(name: str = NAME) -> dict[str, str]:
    """The environment that points docker and kind at the private engine `name`."""
    return Engine(name).environment()


def running(name: str = NAME) -> bool:
    return Engine(name).running()


def stop(name: str = NAME, purge: bool = False) -> None:
    Engine(name).stop(purge=purge)
