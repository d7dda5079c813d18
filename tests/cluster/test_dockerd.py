"""The course's private Docker engine (cluster/dockerd), for real: engines under test names (never
"pods-course", which serves the kind cluster) run a privileged and a normal container from the
course's busybox layer, `docker exec` into the privileged one, publish a port from a network
like kind's, run side by side, survive a restart with their images, and are stopped -- cleanly,
or after dockerd was killed -- leaving the host as it was: no process, mount, cgroup, bridge,
firewall rule, forwarding or directory of theirs. Linux and root only (docker.io is installed
when missing). `pytest -s` shows how long starting and stopping took."""
from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
sys.path.insert(0, str(CLUSTER))

import cgroups  # noqa: E402
from dockerd import engine  # noqa: E402
from images import build  # noqa: E402

A, B = "pods-course-test", "pods-course-test-b"
IMAGE = "pods-course-test/busybox"
CAP_SYS_ADMIN, CAP_SYS_RESOURCE = 1 << 21, 1 << 24
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))

linux_root = pytest.mark.skipif(platform.system() != "Linux" or os.geteuid() != 0,
                                reason="the private Docker engine runs on Linux, as root")


def docker(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **env})
    if check:
        assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
    return result


def rules(*command: str) -> str:
    """The firewall rules a command lists, without what changes by itself (the comments
    iptables-save dates, packet counters); "" when the command is missing."""
    if not shutil.which(command[0]):
        return ""
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    shown = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("#"))
    return re.sub(r"counter packets \d+ bytes \d+|\[\d+:\d+\]", "", shown)


def host_state() -> dict:
    """What an engine might change on the host and must give back."""
    sysctl = Path("/proc/sys/net")
    return {
        "ip_forward": (sysctl / "ipv4/ip_forward").read_text(),
        "ipv6 forwarding": (sysctl / "ipv6/conf/all/forwarding").read_text()
        if (sysctl / "ipv6").exists() else "",
        "nft": rules("nft", "list", "ruleset"),
        "iptables": rules("iptables-save"),
        "ip6tables": rules("ip6tables-save"),
        "links": set(os.listdir("/sys/class/net")),
        "/lib/modules": sorted(os.listdir("/lib/modules")) if os.path.isdir("/lib/modules") else None,
        **{directory: set(os.listdir(directory)) for directory in ["/run", "/etc", "/lib", "/var/lib"]},
        "cgroups": {str(h): set(os.listdir(h)) for h in cgroups.hierarchies()},
    }


def assert_host_as_before(before: dict) -> None:
    after = host_state()
    for key in ["ip_forward", "ipv6 forwarding", "nft", "iptables", "ip6tables", "/lib/modules"]:
        assert after[key] == before[key], f"{key} changed: {before[key]!r} -> {after[key]!r}"
    for key in ["links", "/run", "/etc", "/lib", "/var/lib"]:
        assert after[key] <= before[key], f"left in {key}: {sorted(after[key] - before[key])}"
    for hierarchy, children in after["cgroups"].items():
        assert children <= before["cgroups"].get(hierarchy, set()), \
            f"cgroups left in {hierarchy}: {sorted(children - before['cgroups'][hierarchy])}"


def assert_gone(eng: engine.Engine, container_pids: list[int]) -> None:
    """No process, mount, cgroup or runtime state of `eng` is left; its containers' processes
    are gone."""
    assert not eng.running()
    ours = (f"{eng.home}/", f"{eng.exec_root}/")
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            assert not any(path in cmdline for path in ours), f"left running: {proc.name} {cmdline}"
    for pid in container_pids:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text(), \
            f"a container's process {pid} survived"
    mounts = [line.split()[4] for line in Path("/proc/self/mountinfo").read_text().splitlines()
              if any(line.split()[4].startswith(path) for path in ours)]
    assert mounts == [], f"mounts left: {mounts}"
    assert not any((h / eng.cgroup).exists() for h in cgroups.hierarchies())
    assert not eng.exec_root.exists() and not eng.pidfile.exists()


def busybox_layer() -> Path:
    """The course's busybox image (built from Debian packages, cached): its single gzip layer."""
    layout = build.build("busybox")
    index = json.loads((layout / "index.json").read_text())
    blob = lambda digest: layout / "blobs" / "sha256" / digest.split(":")[1]  # noqa: E731
    manifest = json.loads(blob(index["manifests"][0]["digest"]).read_text())
    (layer,) = manifest["layers"]
    return blob(layer["digest"])


def import_busybox(env: dict[str, str]) -> None:
    docker(env, "import", "--change", 'CMD ["sh"]', str(busybox_layer()), IMAGE)


def start(name: str) -> tuple[engine.Engine, dict[str, str]]:
    started = time.monotonic()
    env = engine.ensure(name)
    print(f"\n  {name}: started in {time.monotonic() - started:.2f}s")
    return engine.Engine(name), env


def stop(name: str, **options) -> None:
    started = time.monotonic()
    engine.stop(name, **options)
    print(f"\n  {name}: stopped in {time.monotonic() - started:.2f}s")


def pid_of(env: dict[str, str], container: str) -> int:
    return int(docker(env, "inspect", "--format", "{{.State.Pid}}", container).stdout)


def kind_like_network(env: dict[str, str], name: str) -> str:
    """A bridge network as kind makes its own (IPv6 too, masquerading asked for); returns the
    name of its bridge on the host."""
    created = docker(env, "network", "create", "--driver", "bridge", "--ipv6", "--subnet",
                     "fc00:f853:ccd:e793::/64", "--opt",
                     "com.docker.network.bridge.enable_ip_masquerade=true", name)
    bridge = f"br-{created.stdout.strip()[:12]}"
    assert os.path.isdir(f"/sys/class/net/{bridge}/bridge"), f"no bridge {bridge}"
    return bridge


def serve_etc(env: dict[str, str], network: str) -> tuple[int, int]:
    """busybox httpd serving the image's /etc on a published loopback port, as kind publishes the
    API server; returns (its pid, the port)."""
    docker(env, "run", "-d", "--init", "--name", "web", "--network", network,
           "-v", "/lib/modules:/lib/modules:ro",  # as kind mounts it into its nodes
           "-p", "127.0.0.1::80", IMAGE, "httpd", "-f", "-p", "80", "-h", "/etc")
    port = int(docker(env, "port", "web", "80/tcp").stdout.split(":")[-1])
    return pid_of(env, "web"), port


def fetch(port: int, path: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        try:
            with NO_PROXY.open(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
                return answer.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("cache", ["/root/.cache/k8s-pods-course",
                                   "/home/a-learner-with-a-long-name/some/deep/folder/.cache/k8s-pods-course"])
def test_every_path_comes_from_the_name_and_sockets_stay_short(cache, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", cache)
    engines = [engine.Engine(name) for name in ("pods-course", A, B)]
    for eng in engines:
        assert len(f"{eng.exec_root}{engine.LONGEST_SOCKET}") <= engine.SOCKET_PATH_MAX
        assert eng.socket.parent == eng.exec_root and eng.name in str(eng.exec_root)
        assert eng.home == Path(cache) / "docker" / eng.name
    for attribute in ("home", "exec_root", "socket", "cgroup"):
        assert len({str(getattr(eng, attribute)) for eng in engines}) == 3, attribute
    with pytest.raises(ValueError):
        engine.Engine("../elsewhere")


@pytest.fixture
def clean_host():
    """The host's state before the test's engines, which are stopped and purged afterwards.
    docker.io is installed first where it is missing: the package's own files are the machine's
    setup, not what an engine leaves behind."""
    for name in (A, B):
        engine.stop(name, purge=True)  # what an interrupted run left
    engine.install()
    yield host_state()
    for name in (A, B):
        engine.stop(name, purge=True)


@linux_root
def test_privileged_and_normal_containers_run_and_stop_leaves_the_host_as_it_was(clean_host):
    users_engine = engine.works()
    eng, env = start(A)
    assert env == {"DOCKER_HOST": f"unix://{eng.socket}"} and eng.running()
    assert engine.works(env)
    assert engine.works() == users_engine, "the private engine changed what the default socket reaches"
    assert engine.ensure(A) == env  # already running: the same engine, not a second one
    import_busybox(env)

    # The wrapper runtime exactly where root lacks CAP_SYS_RESOURCE.
    lacks = not int(re.search(r"CapBnd:\s*(\w+)", Path("/proc/self/status").read_text())[1], 16) \
        & CAP_SYS_RESOURCE
    assert engine.lacks_cap_sys_resource() == lacks
    expected_runtime = engine.RUNTIME if lacks else "runc"
    assert docker(env, "info", "--format", "{{.DefaultRuntime}}").stdout.strip() == expected_runtime

    docker(env, "run", "-d", "--init", "--privileged", "--name", "privileged", IMAGE, "sleep", "600")
    assert docker(env, "inspect", "--format", "{{.HostConfig.Runtime}}", "privileged").stdout.strip() \
        == expected_runtime
    for exec_options in ([], ["--privileged"]):
        shown = docker(env, "exec", *exec_options, "privileged", "grep", "CapEff", "/proc/self/status").stdout
        granted = int(shown.split()[1], 16)
        assert granted & CAP_SYS_ADMIN, f"exec {exec_options}: not privileged: {shown}"
        assert bool(granted & CAP_SYS_RESOURCE) == (not lacks), shown
    normal = docker(env, "run", "--rm", IMAGE, "sh", "-c", "echo hello; grep CapEff /proc/self/status").stdout
    assert normal.startswith("hello\n") and not int(normal.split()[-1], 16) & CAP_SYS_ADMIN, normal

    assert "docker0" not in os.listdir("/sys/class/net")
    bridge = kind_like_network(env, "kind-like")
    web, port = serve_etc(env, "kind-like")
    assert fetch(port, "/passwd").startswith("root:")
    pids = [pid_of(env, "privileged"), web]

    stop(A)  # with both containers running
    assert_gone(eng, pids)
    assert bridge not in os.listdir("/sys/class/net"), "the network's bridge is left"
    assert eng.data_root.is_dir(), "stop without purge keeps the data root (the images)"
    assert_host_as_before(clean_host)
    stop(A)  # idempotent
    assert_host_as_before(clean_host)


@linux_root
def test_two_engines_side_by_side_a_killed_one_is_cleaned_up_and_images_survive_a_restart(clean_host):
    eng_a, env_a = start(A)
    eng_b, env_b = start(B)
    assert env_a != env_b
    assert len({eng_a.home, eng_b.home, eng_a.exec_root, eng_b.exec_root}) == 4
    import_busybox(env_a)
    import_busybox(env_b)
    docker(env_a, "run", "-d", "--init", "--name", "in-a", "-v", "/lib/modules:/lib/modules:ro",
           IMAGE, "sleep", "600")
    assert docker(env_b, "ps", "-aq").stdout == "", "engine B sees engine A's container"

    # Engine B is killed with a container publishing a port: stop() still cleans up after it.
    bridge = kind_like_network(env_b, "kind-like")
    web, port = serve_etc(env_b, "kind-like")
    assert fetch(port, "/passwd").startswith("root:")
    os.kill(eng_b.pid(), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while eng_b.running():
        assert time.monotonic() < deadline, "dockerd outlived SIGKILL"
        time.sleep(0.1)
    stop(B)
    assert_gone(eng_b, [web])
    assert bridge not in os.listdir("/sys/class/net"), "the network's bridge is left"

    # A is untouched, and what Docker made on the host waits for the last engine to stop.
    assert engine.works(env_a) and docker(env_a, "ps", "--format", "{{.Names}}").stdout.split() == ["in-a"]
    if clean_host["/lib/modules"] is None:
        assert os.path.isdir("/lib/modules"), "removed while engine A (whose container mounts it) runs"

    pids = [pid_of(env_a, "in-a")]
    stop(A)
    assert_gone(eng_a, pids)
    assert_host_as_before(clean_host)

    # Restarted, A still has its image (the data root is a cache); purged, nothing of it is left.
    eng_a, env_a = start(A)
    assert docker(env_a, "image", "inspect", IMAGE, check=False).returncode == 0
    stop(A, purge=True)
    assert not eng_a.home.exists()
    assert_host_as_before(clean_host)
