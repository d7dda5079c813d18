"""The real node, measured beside the simulated cluster on the same machine, in one run:

- bring-up from built binaries and images (`down`, then `up`), and a second `up` (already up);
- `kubectl apply` of an nginx pod -> Ready, median of --pods runs, on each kind of cluster;
- `grade batch` of the 100 lab3 submissions at the default concurrency, on each;
- memory of the node (containerd, kubelet, the shims, the supervisor) with the eight lab
  solutions running.

    sudo .venv/bin/python benchmarks/realnode.py [--pods 10] [--students 100]

Needs root (the real node). Leaves the real node up and the current context as it found it.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "cluster"))

import cgroups  # noqa: E402
from benchmarks.batch import make_class  # noqa: E402

NODE, SIM = "kwok-pods-course-node", "kwok-pods-course"
CLUSTER = [sys.executable, str(REPO / "cluster" / "cluster.py")]
NGINX = json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bench"},
                    "spec": {"terminationGracePeriodSeconds": 0,
                             "containers": [{"name": "web", "image": "nginx:1.27-alpine"}]}})


def run(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def timed(*args: str) -> float:
    started = time.perf_counter()
    run(*args)
    return time.perf_counter() - started


def kubectl(context: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("kubectl", "--context", context, *args, **kwargs)


def apply_to_ready(context: str, namespace: str, runs: int) -> list[float]:
    """Seconds from `kubectl apply` to the pod's Ready condition, as `kubectl wait` sees it."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        kubectl(context, "apply", "-n", namespace, "-f", "-", input=NGINX)
        kubectl(context, "wait", "-n", namespace, "pod/bench", "--for=condition=Ready", "--timeout=60s")
        times.append(time.perf_counter() - started)
        kubectl(context, "delete", "-n", namespace, "pod/bench", "--wait=true", "--grace-period=0")
    return times


def batch_seconds(context: str, submissions: Path, scratch: Path) -> float:
    store = scratch / f"{context}.sqlite"
    return timed(sys.executable, "-m", "graders.cli", "batch", "lab3", str(submissions), "--store",
                 str(store), "--context", context, "--csv", str(scratch / f"{context}.csv"))


def node_memory_mib() -> dict[str, float]:
    """Resident memory of the node's own processes, by program, from /proc."""
    found: dict[str, float] = {}
    for pid in cgroups.pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            cgroup = Path(f"/proc/{pid}/cgroup").read_text()
        except OSError:
            continue
        if "/pods-course/node" not in cgroup:
            continue  # a container's process, not the node's
        rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        key = "containerd-shim" if name.startswith("containerd-shim") else name
        found[key] = found.get(key, 0) + rss / 1024
    return found


def lab_solutions_running() -> int:
    pods = 0
    for lab in sorted(p.name for p in (REPO / "solutions").iterdir()):
        namespace = f"bench-{lab}"
        kubectl(NODE, "create", "namespace", namespace, check=False)
        kubectl(NODE, "apply", "-n", namespace, "-f", str(REPO / "solutions" / lab))
    time.sleep(20)  # the databases take a few seconds to start
    listed = json.loads(kubectl(NODE, "get", "pods", "-A", "-o", "json").stdout)["items"]
    pods = sum(1 for p in listed if p["metadata"]["namespace"].startswith("bench-")
               and p["status"].get("phase") == "Running")
    return pods


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=10)
    parser.add_argument("--students", type=int, default=100)
    args = parser.parse_args()
    previous = run("kubectl", "config", "current-context", check=False).stdout.strip()
    rows = []
    try:
        run(*CLUSTER, "down", "--provider", "node")
        run(*CLUSTER, "up", "--provider", "node")  # once, so that nothing is built below
        run(*CLUSTER, "down", "--provider", "node")
        rows.append(("real node up (control plane included), from built binaries and images",
                     f"{timed(*CLUSTER, 'up', '--provider', 'node'):.1f} s"))
        again = [timed(*CLUSTER, "up", "--provider", "node") for _ in range(3)]
        rows.append(("second `up` (already up), median of 3", f"{statistics.median(again):.2f} s"))
        run(*CLUSTER, "up", "--provider", "sim")
        for context in (NODE, SIM):
            kubectl(context, "create", "namespace", "bench", check=False)
            times = apply_to_ready(context, "bench", args.pods)
            rows.append((f"apply nginx -> Ready on {context}, median of {args.pods} (min-max)",
                         f"{statistics.median(times):.2f} s ({min(times):.2f}-{max(times):.2f})"))
            kubectl(context, "delete", "namespace", "bench", "--wait=false")
        with tempfile.TemporaryDirectory() as scratch:
            submissions = make_class(Path(scratch), args.students)
            for context in (NODE, SIM):
                seconds = batch_seconds(context, submissions, Path(scratch))
                rows.append((f"grade batch lab3, {args.students} submissions, default concurrency, on {context}",
                             f"{seconds:.1f} s"))
        running = lab_solutions_running()
        memory = node_memory_mib()
        rows.append((f"node memory with the 8 lab solutions running ({running} pods): "
                     + ", ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items())),
                     f"{sum(memory.values()):.0f} MiB"))
        for lab in sorted(p.name for p in (REPO / "solutions").iterdir()):
            kubectl(NODE, "delete", "namespace", f"bench-{lab}", "--wait=false", check=False)
    finally:
        if previous:
            run("kubectl", "config", "use-context", previous, check=False)
    width = max(len(r[0]) for r in rows)
    for what, value in rows:
        print(f"{what:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
