"""The real node's cgroups: one tree, /pods-course, in every cgroup hierarchy of the host (v1 or
v2), holding the node's processes (node/) and, as the kubelet's cgroupRoot, every pod. `down`
empties and removes the tree, so the host keeps no trace of the node. (The private Docker engine
keeps a tree of its own the same way: pids, kill_all and remove take its root.)"""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

ROOT = "pods-course"


def hierarchies() -> list[Path]:
    """The mount points of the host's cgroup hierarchies (v1 controllers and the v2 tree)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        fstype = right.split()[0]
        if fstype in ("cgroup", "cgroup2"):
            found.append(Path(left.split()[4]))
    return found


def create() -> list[str]:
    """Make /pods-course and /pods-course/node everywhere; return the cgroup.procs files the
    node's supervisor joins (one per hierarchy, so that every process of the node is found)."""
    procs = []
    for hierarchy in hierarchies():
        root = hierarchy / ROOT
        root.mkdir(exist_ok=True)
        if (hierarchy / "cpuset.cpus").exists():  # a v1 cpuset starts empty: inherit the root's
            for name in ("cpuset.cpus", "cpuset.mems"):
                (root / name).write_text((hierarchy / name).read_text())
        if (hierarchy / "cgroup.subtree_control").exists():  # v2: hand the controllers down
            wanted = set((hierarchy / "cgroup.controllers").read_text().split())
            for directory in (hierarchy, root):
                enabled = set((directory / "cgroup.subtree_control").read_text().split())
                for controller in sorted(wanted - enabled):
                    try:
                        (directory / "cgroup.subtree_control").write_text(f"+{controller}")
                    except OSError:
                        pass  # a controller the host keeps for itself
        node = root / "node"
        node.mkdir(exist_ok=True)
        if (hierarchy / "cpuset.cpus").exists():
            for name in ("cpuset.cpus", "cpuset.mems"):
                (node / name).write_text((root / name).read_text())
        procs.append(str(node / "cgroup.procs"))
    return procs


def _tree(hierarchy: Path, name: str = ROOT) -> list[Path]:
    root = hierarchy / name
    if not root.is_dir():
        return []
    found = [Path(d) for d, _, _ in os.walk(root)]
    return sorted(found, key=lambda p: len(p.parts), reverse=True)  # leaves first


def pids(root: str = ROOT) -> set[int]:
    found = set()
    for hierarchy in hierarchies():
        for directory in _tree(hierarchy, root):
            try:
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
            except OSError:
                pass
    return found


def kill_all(seconds: float = 20, root: str = ROOT) -> set[int]:
    """SIGKILL every process of the tree until none is left (a fork bomb keeps forking until
    it is frozen or gone); returns what survived the time given."""
    deadline = time.monotonic() + seconds
    while (left := pids(root)) and time.monotonic() < deadline:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    return pids(root)


def remove(root: str = ROOT) -> list[Path]:
    """rmdir the tree in every hierarchy, leaves first; returns what could not be removed."""
    stuck = []
    for hierarchy in hierarchies():
        for directory in _tree(hierarchy, root):
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)  # the kernel frees a cgroup shortly after its last process
            else:
                stuck.append(directory)
    return stuck
