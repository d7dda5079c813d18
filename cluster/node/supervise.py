"""Runs the real node: containerd and the kubelet inside the node's network namespace and a
mount namespace of their own, the course's image registry, and the kubelet's way to the API
server. Started (detached, as root) by realnode.py; stops on SIGTERM. Standard library only.

Why each piece:
- The node's network namespace holds the pods' bridge, the pod addresses and the kubelet's
  address, so that nothing the cluster sends to a pod or the kubelet leaves for the host's own
  networks. The kubelet reaches the API server (on the host's loopback) through a forwarder
  that listens on the node's loopback.
- A private mount namespace keeps container mounts and network-namespace pins out of the host's
  mount table, gives containerd a /run of its own (its shims' sockets have a fixed path there),
  and lets read-only copies of kernel tunables stand over the kubelet's attempts to change them
  (vm.overcommit_memory, kernel.panic, ...): the host keeps its values.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
PR_SET_CHILD_SUBREAPER = 36
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
# The kernel tunables a kubelet sets, with the values it wants (pkg/kubelet/cm,
# setupKernelTunables). It reads each first and writes only a different value, failing when it
# cannot: read-only copies holding its values satisfy it, and the host's own stay as they are.
SHIELDED_SYSCTLS = {"vm/overcommit_memory": 1, "vm/panic_on_oom": 0, "kernel/panic": 10,
                    "kernel/panic_on_oops": 1, "kernel/keys/root_maxkeys": 1000000,
                    "kernel/keys/root_maxbytes": 25000000}

libc = ctypes.CDLL(None, use_errno=True)


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} supervise: {message}", file=sys.stderr, flush=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def setns(fd: int, kind: int) -> None:
    _check(libc.setns(fd, kind), "setns")


def mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None,
                      ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def private_mounts(config: dict) -> None:
    """A mount namespace of our own, with a fresh /run and the kernel tunables shielded."""
    _check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mount("none", "/", None, MS_REC | MS_PRIVATE)
    shields = Path(config["state"]) / "sysctl"
    shields.mkdir(parents=True, exist_ok=True)
    for name, wanted in SHIELDED_SYSCTLS.items():
        live = Path("/proc/sys") / name
        if not live.exists():
            continue
        copy = shields / name.replace("/", ".")
        copy.write_text(f"{wanted}\n")
        mount(str(copy), str(live), None, MS_BIND)
        mount(str(copy), str(live), None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    mount("tmpfs", "/run", "tmpfs", 0, "mode=755,size=256m")
    for directory in config["private_dirs"]:  # host paths the kubelet and CNI write to, made ours
        mount("tmpfs", directory, "tmpfs", 0, "mode=755,size=512m")


class Forwarder:
    """TCP from the node's loopback to the host's loopback (the API server)."""

    def __init__(self, listener: socket.socket, port: int):
        self.listener, self.port = listener, port

    def serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self._pipe_pair, args=(client,), daemon=True).start()

    def _pipe_pair(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._copy, args=(upstream, client), daemon=True).start()
        self._copy(client, upstream)

    @staticmethod
    def _copy(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def reap_orphans(own: set[int]) -> None:
    """Collect the exit status of orphans that ended (leaving our own children to Popen)."""
    while True:
        try:
            found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if found is None or found.si_pid in own:
            return
        os.waitpid(found.si_pid, 0)


def wait_for_socket(path: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before {path} appeared")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path} did not appear within {seconds:.0f}s")
        time.sleep(0.05)


def main(config_path: str) -> int:
    config = json.loads(Path(config_path).read_text())
    for procs in config["cgroups"]:  # so that `down` finds every process of the node
        Path(procs).write_text(str(os.getpid()))
    host_net = os.open("/proc/self/ns/net", os.O_RDONLY)
    node_net = os.open(config["netns_path"], os.O_RDONLY)
    sys.path.insert(0, config["images_module_dir"])
    from images import registry  # noqa: E402  (the course's image registry, cluster/images)
    from node import dns  # noqa: E402
    private_mounts(config)  # after the imports: the repository may live under a private path
    # Orphans (containerd's shims) become our children, and are reaped here, not by the host's init.
    _check(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)")

    # Sockets and children made while this thread is in the node's network namespace live there.
    setns(node_net, CLONE_NEWNET)
    try:
        listener = socket.create_server(("127.0.0.1", config["api_port"]), backlog=64)
        registry.serve("127.0.0.1", config["registry_port"],  # serves from a thread of its own
                       {recipe: Path(path) for recipe, path in config["images"].items()})
        logs = Path(config["logs"])
        env = {**os.environ, "PATH": os.pathsep.join(config["path"])}
        containerd = subprocess.Popen([config["containerd"], "--config", config["containerd_config"]],
                                      stdout=subprocess.DEVNULL, stderr=open(logs / "containerd.log", "ab"),
                                      env=env, start_new_session=True)
        wait_for_socket(config["containerd_socket"], containerd, 30)
        kubelet = subprocess.Popen([config["kubelet"], *config["kubelet_args"]],
                                   stdout=subprocess.DEVNULL, stderr=open(logs / "kubelet.log", "ab"),
                                   env=env, start_new_session=True)
        proxy = subprocess.Popen([config["kube_proxy"], *config["kube_proxy_args"]],
                                 stdout=subprocess.DEVNULL, stderr=open(logs / "kube-proxy.log", "ab"),
                                 env=env, start_new_session=True)
        dns_sockets = dns.sockets(config["dns"]["address"])
    finally:
        setns(host_net, CLONE_NEWNET)
    threading.Thread(target=Forwarder(listener, config["api_port"]).serve, daemon=True).start()
    names = config["dns"]
    dns.start(*dns_sockets, dns.Names(names["server"], names["ca"], names["cert"], names["key"]))
    children = (containerd, kubelet, proxy)
    log(f"containerd {containerd.pid}, kubelet {kubelet.pid}, kube-proxy {proxy.pid} started")

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        reap_orphans({p.pid for p in children})
        for process in children:
            if process.poll() is not None:
                log(f"{process.args[0]} exited with {process.returncode}: stopping the node")
                stopping.set()
    for process in (proxy, kubelet, containerd):  # the kubelet before containerd: it talks to it
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
