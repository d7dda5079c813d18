"""The real node: the course's control plane with one real node beside it on this machine -- a
kubelet and kube-proxy built from the same Kubernetes sources, containerd and runc, and a small
cluster DNS -- running the course's images, built here from Debian packages and served by a
registry of our own (cluster/images). Pods really run: exec, logs, port-forward, probes, OOM
kills, exit codes, Services.

Linux and root only (cgroups, mounts, network namespaces). The node lives in a network namespace
of its own (the pods' bridge, the pod addresses and the kubelet's address are inside it; the host
reaches it through a veth pair), in a mount namespace of its own, and in one cgroup tree: `down`
leaves no process, mount, cgroup, interface or file of it behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cgroups
import controlplane
from common import (HERE, NAME, ClusterError, answers, build, cache_dir, kubectl, log, run,
                    use_context, wait_until)

CLUSTER = f"{NAME}-node"          # kwokctl's name for the node's control plane
CONTEXT = controlplane.context(CLUSTER)
NODE = CLUSTER                    # the Node object's name
NETNS = CLUSTER                   # the node's network namespace (ip netns)
HOST_VETH = "pcnode0"             # the host's end of the veth pair; the node's end is eth0
HOST_IP, NODE_IP, LINK_PREFIX = "10.213.0.1", "10.213.0.2", 30
POD_SUBNET = "10.213.1.0/24"
REGISTRY_PORT = 5000              # the images registry, on the node's loopback
ASSETS = HERE / "node"
# Paths the kubelet and the CNI plugins write to whatever they are told, and /var/local (where
# lesson 07's hostPath volume lives): inside the node's mount namespace each is a tmpfs of its
# own, gone with the node (a missing one is made here and removed by `down`).
PRIVATE_DIRS = ["/var/lib/cni", "/var/log/pods", "/var/log/containers", "/var/local"]
# Distribution packages the node needs, by the command that shows they are there.
PACKAGES = {"runc": "runc", "nft": "nftables", "ip": "iproute2", "sysctl": "procps", "openssl": "openssl"}


def home() -> Path:
    return cache_dir() / "node"


def state() -> Path:
    """What exists only while the node runs (containerd's and the kubelet's state, pod volumes)."""
    return home() / "state"


def pidfile() -> Path:
    return home() / "supervise.pid"


# --- can it run here --------------------------------------------------------------------------

def unavailable() -> str | None:
    """Why the real node cannot run on this machine, or None."""
    if platform.system() != "Linux":
        return "the real node needs Linux (cgroups and namespaces)"
    if os.geteuid() != 0:
        return ("the real node needs root (it makes cgroups, mounts and a network namespace): "
                "run `sudo make start` or `sudo python cluster/cluster.py up --provider node`")
    if not cgroups.hierarchies():
        return "no cgroup filesystem is mounted"
    missing = [p for cmd, p in PACKAGES.items() if not shutil.which(cmd)]
    if missing and not shutil.which("apt-get"):
        return f"the real node needs {', '.join(missing)}: install them with your package manager"
    return None


def install_missing() -> None:
    """Install the distribution packages the node needs, saying so first."""
    missing = [p for cmd, p in PACKAGES.items() if not shutil.which(cmd)]
    if not missing:
        return
    log(f"installing {' '.join(missing)} (Debian packages, with apt-get) for the real node")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env, timeout=900)


# --- definition -------------------------------------------------------------------------------

def definition_hash(image_dirs: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for path in [HERE / "versions.env", *sorted(p for p in ASSETS.rglob("*") if p.is_file()
                                                 and "__pycache__" not in p.parts)]:
        digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    for recipe, directory in sorted(image_dirs.items()):
        digest.update(f"{recipe}={directory.name}".encode())
    return digest.hexdigest()[:16]


def reserved_memory() -> str:
    """What the pods may not take of this machine's memory: a quarter of it, at least 1Gi."""
    total_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal:"))
    return f"{max(1024 * 1024, total_kib // 4)}Ki"


def fill(template: str, values: dict[str, object]) -> str:
    text = (ASSETS / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    return text


# --- network ----------------------------------------------------------------------------------

def ip(*args: str, check: bool = True):
    return run(["ip", *args], check=check)


def in_node(*args: str, check: bool = True):
    return run(["ip", "netns", "exec", NETNS, *args], check=check)


def network_up() -> None:
    """The node's network namespace, the veth pair to it, and the host's route to the pods."""
    if NETNS not in ip("netns", "list").stdout.split():
        clash = ip("route", "show", "to", "match", NODE_IP).stdout + \
            ip("route", "show", "to", "match", POD_SUBNET.split("/")[0]).stdout
        if any(line and not line.startswith("default") for line in clash.splitlines()):
            raise ClusterError(f"this machine already routes the node's addresses "
                               f"({HOST_IP}/{LINK_PREFIX}, {POD_SUBNET}):\n{clash}")
        ip("netns", "add", NETNS)
    if ip("link", "show", HOST_VETH, check=False).returncode != 0:
        ip("link", "add", HOST_VETH, "type", "veth", "peer", "name", "eth0", "netns", NETNS)
        run(["sysctl", "-q", "-w", f"net.ipv6.conf.{HOST_VETH}.disable_ipv6=1"], check=False)
        ip("addr", "add", f"{HOST_IP}/{LINK_PREFIX}", "dev", HOST_VETH)
        ip("link", "set", HOST_VETH, "up")
        in_node("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", check=False)
        in_node("ip", "addr", "add", f"{NODE_IP}/{LINK_PREFIX}", "dev", "eth0")
        in_node("ip", "link", "set", "eth0", "up")
        in_node("ip", "link", "set", "lo", "up")
        # Forwarding between the veth and the pods' bridge, in the node's namespace only.
        in_node("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
    in_node("nft", "-f", str(ASSETS / "firewall.nft"))
    ip("route", "replace", POD_SUBNET, "via", NODE_IP, "dev", HOST_VETH)


def network_down() -> None:
    if NETNS in ip("netns", "list", check=False).stdout.split():
        ip("netns", "delete", NETNS, check=False)
    if ip("link", "show", HOST_VETH, check=False).returncode == 0:  # gone with the namespace
        ip("link", "delete", HOST_VETH, check=False)


# --- identity ---------------------------------------------------------------------------------

def certificates(pki: Path, target: Path) -> None:
    """The kubelet's client certificate (the Node authorizer's identity system:node:NODE), its
    serving certificate (the API server verifies it for exec, logs and port-forward), and
    kube-proxy's client certificate."""
    target.mkdir(parents=True, exist_ok=True)
    for name, subject, extensions in [
            ("kubelet-client", f"/O=system:nodes/CN=system:node:{NODE}", "extendedKeyUsage=clientAuth"),
            # kube-proxy's and the DNS server's: RBAC's default system:node-proxier binding
            # lets it read Services, EndpointSlices and Nodes.
            ("kube-proxy-client", "/CN=system:kube-proxy", "extendedKeyUsage=clientAuth"),
            ("kubelet-serving", f"/O=system:nodes/CN=system:node:{NODE}",
             f"extendedKeyUsage=serverAuth\nsubjectAltName=IP:{NODE_IP},DNS:{NODE}")]:
        key, csr, crt, ext = (target / f"{name}.{s}" for s in ("key", "csr", "crt", "ext"))
        ext.write_text(extensions + "\n")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-subj", subject, "-out", str(csr)])
        run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(pki / "ca.crt"),
             "-CAkey", str(pki / "ca.key"), "-set_serial", str(int.from_bytes(os.urandom(8), "big")),
             "-days", "3650", "-extfile", str(ext), "-out", str(crt)])
        csr.unlink()
        ext.unlink()


# --- the node's processes ---------------------------------------------------------------------

def supervisor_alive() -> bool:
    try:
        pid = int(pidfile().read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return Path(f"/proc/{pid}/cmdline").read_bytes().find(b"supervise.py") >= 0


def node_ready() -> bool:
    result = run([kubectl(), "--context", CONTEXT, "--request-timeout=3s", "get", "node", NODE,
                  "-o", "jsonpath={.status.conditions[?(@.type=='Ready')].status}"], check=False)
    return result.stdout.strip() == "True"


def start(binaries: dict[str, Path], image_dirs: dict[str, Path], definition: str) -> None:
    node = home()
    config_dir, logs, run_state = node / "config", node / "logs", state()
    for directory in (config_dir, logs, run_state):
        directory.mkdir(parents=True, exist_ok=True)
    pki = controlplane.cluster_dir(CLUSTER) / "pki"
    certificates(pki, config_dir)
    api_port = controlplane.server_port(CLUSTER)
    values = {"STATE": run_state, "CONFIG": config_dir, "PKI": pki, "API_PORT": api_port,
              "NODE_IP": NODE_IP, "POD_SUBNET": POD_SUBNET, "NODE": NODE,
              "CNI_BIN": binaries["bridge"].parent, "RUNC": shutil.which("runc"),
              "REGISTRY": f"127.0.0.1:{REGISTRY_PORT}", "RESERVED_MEMORY": reserved_memory()}
    for template in ("containerd.toml", "kubelet.yaml", "resolv.conf", "kube-proxy.yaml"):
        (config_dir / template).write_text(fill(template, values))
    (config_dir / "kubeconfig.yaml").write_text(fill("kubeconfig.yaml", {**values, "CLIENT": "kubelet"}))
    (config_dir / "kube-proxy.kubeconfig").write_text(fill("kubeconfig.yaml", {**values, "CLIENT": "kube-proxy"}))
    (config_dir / "cni").mkdir(exist_ok=True)
    (config_dir / "cni" / "10-pods-course.conflist").write_text(fill("cni.conflist", values))
    hosts = config_dir / "certs.d" / "_default"
    hosts.mkdir(parents=True, exist_ok=True)
    (hosts / "hosts.toml").write_text(fill("hosts.toml", values))
    created = [d for d in PRIVATE_DIRS if not os.path.isdir(d)]
    for directory in created:
        os.makedirs(directory)
    (node / "created-dirs").write_text("\n".join(created))
    supervise = {
        "netns_path": f"/run/netns/{NETNS}", "api_port": api_port, "registry_port": REGISTRY_PORT,
        "images": {recipe: str(path) for recipe, path in image_dirs.items()},
        "images_module_dir": str(HERE),
        "state": str(run_state), "logs": str(logs), "private_dirs": PRIVATE_DIRS,
        "cgroups": cgroups.create(),
        "path": [str(binaries["containerd"].parent), str(Path(shutil.which("runc")).parent),
                 "/usr/sbin", "/usr/bin", "/sbin", "/bin"],
        "containerd": str(binaries["containerd"]),
        "containerd_config": str(config_dir / "containerd.toml"),
        "containerd_socket": "/run/pods-course-node/containerd.sock",
        "kubelet": str(binaries["kubelet"]),
        "kube_proxy": str(binaries["kube-proxy"]),
        "kube_proxy_args": ["--config", str(config_dir / "kube-proxy.yaml"), "--v", "1"],
        "dns": {"address": NODE_IP, "server": f"https://127.0.0.1:{api_port}", "ca": str(pki / "ca.crt"),
                "cert": str(config_dir / "kube-proxy-client.crt"),
                "key": str(config_dir / "kube-proxy-client.key")},
        "kubelet_args": ["--config", str(config_dir / "kubelet.yaml"),
                         "--kubeconfig", str(config_dir / "kubeconfig.yaml"),
                         "--hostname-override", NODE, "--node-ip", NODE_IP,
                         "--root-dir", str(run_state / "kubelet"), "--v", "1"],
    }
    (config_dir / "supervise.json").write_text(json.dumps(supervise, indent=1))
    with open(logs / "supervise.log", "ab") as out:
        process = subprocess.Popen([sys.executable, str(ASSETS / "supervise.py"),
                                    str(config_dir / "supervise.json")],
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                   start_new_session=True, cwd="/")
    pidfile().write_text(str(process.pid))
    (node / "definition").write_text(definition)

    def registered() -> bool:
        if process.poll() is not None:
            raise ClusterError(f"the node stopped while starting; see {logs}/supervise.log, "
                               f"{logs}/containerd.log and {logs}/kubelet.log")
        return node_ready()
    wait_until(f"node {NODE} to be Ready (logs in {logs})", registered, 90, step_s=0.2)


def stop() -> None:
    """Stop the node and remove every trace of it from the host."""
    if supervisor_alive():
        pid = int(pidfile().read_text())
        os.kill(pid, signal.SIGTERM)
        for _ in range(150):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
    survivors = cgroups.kill_all()  # the containers and their shims, which outlive containerd
    if survivors:
        raise ClusterError(f"processes of the node would not stop: {sorted(survivors)}")
    stuck = cgroups.remove()
    network_down()
    created = home() / "created-dirs"
    if created.exists():
        for directory in created.read_text().split():
            try:
                os.rmdir(directory)
            except OSError:
                pass
        created.unlink()
    shutil.rmtree(state(), ignore_errors=True)
    pidfile().unlink(missing_ok=True)
    if stuck:
        raise ClusterError(f"cgroups of the node could not be removed: {', '.join(map(str, stuck))}")


# --- provider ---------------------------------------------------------------------------------

def _kwok_config() -> Path:
    pki = controlplane.cluster_dir(CLUSTER) / "pki"
    target = home() / "kwok.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(fill("kwok.yaml", {"PKI": pki}))
    return target


def up() -> None:
    reason = unavailable()
    if reason:
        raise ClusterError(reason)
    install_missing()
    binaries = build("all", "containerd", "cni")
    from images import build as images  # noqa: E402  (builds only what changed)
    image_dirs = images.build_all()
    definition = definition_hash(image_dirs)
    stamp = home() / "definition"
    if supervisor_alive() and stamp.exists() and stamp.read_text() == definition \
            and answers(CONTEXT) and node_ready():
        use_context(CONTEXT)
        log(f"the real node is already up (context {CONTEXT})")
        return
    if supervisor_alive() or cgroups.pids() or controlplane.exists(CLUSTER):
        log("restarting the real node (it was stopped, or made from an older definition)")
        down()

    def create() -> None:
        log("creating the real node's control plane")
        controlplane.create(CLUSTER, binaries, _kwok_config(), definition, "--disable", "kwok-controller")
    controlplane.ensure(CLUSTER, definition, create, "real node's control plane")
    log("starting the real node (containerd, kubelet)")
    network_up()
    start(binaries, image_dirs, definition)
    controlplane.settle(CLUSTER)
    log(f"the real node is up; kubectl now uses context {CONTEXT}")


def down() -> None:
    was_up = supervisor_alive() or cgroups.pids()
    if os.geteuid() == 0:
        stop()
    elif was_up:
        raise ClusterError("stopping the real node needs root: sudo python cluster/cluster.py down")
    deleted = controlplane.delete(CLUSTER)
    if was_up or deleted:
        log("the real node is stopped and its control plane deleted")
