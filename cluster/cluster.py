#!/usr/bin/env python3
"""The course cluster: bring it up, report its state, tear it down.

Three kinds of cluster serve the course, each in a module of its own:

  kind  a kind cluster (real containers in Docker), from kind.yaml. Needs Docker and kind
        (kindcluster.py).
  node  a real node on this machine: the course's control plane with a kubelet, containerd and
        runc, and the course's images built here from Debian packages. Pods really run. Needs
        Linux and root, Go to build; no Docker, no registry (realnode.py).
  sim   the simulated cluster: the same control plane with KWOK playing the nodes and kubelets;
        no container runs. Needs Go to build; runs anywhere, as any user (simulated.py).

`auto` picks kind where Docker and kind work, then the real node where it can run, else the
simulated cluster. `up` is idempotent: when the cluster already answers it only makes it the
current context. Uses only the standard library, so it runs before (and without) the course's
virtualenv.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import kindcluster
import realnode
import simulated
from common import ClusterError, answers, build, go, kubectl, log, run

CONTEXTS = {"kind": kindcluster.CONTEXT, "node": realnode.CONTEXT, "sim": simulated.CONTEXT}


def choose_provider(provider: str) -> str:
    if provider != "auto":
        return provider
    if kindcluster.possible():
        return "kind"
    if not go():
        raise ClusterError(
            "No way to make a cluster here. Either\n"
            "  - run `make venv`: it installs the project's Go, which builds the real node (Linux, as "
            "root) or the simulated cluster (no Docker needed), or\n"
            "  - install Docker and kind (https://kind.sigs.k8s.io/) for a cluster with real containers.")
    reason = realnode.unavailable()
    if reason is None:
        log("auto: no Docker here, so the course runs on a real node on this machine "
            "(containers really run); `--provider sim` chooses the simulated cluster instead")
        return "node"
    log(f"auto: the simulated cluster (no container runs): {reason}")
    return "sim"


def up(provider: str) -> None:
    started = time.monotonic()
    chosen = choose_provider(provider)
    if chosen == "kind":
        kindcluster.up()
    elif chosen == "node":
        realnode.up()
    else:
        simulated.up(build("all"))
    log(f"ready in {time.monotonic() - started:.1f}s")


def down(provider: str) -> None:
    if provider in ("auto", "sim"):
        simulated.down()
    if provider in ("auto", "node"):
        realnode.down()
    if provider in ("auto", "kind"):
        kindcluster.down()


def status(provider: str) -> int:
    """Prints one line per kind of cluster; exit 0 when a course cluster answers."""
    up_count = 0
    current = run([kubectl(), "config", "current-context"], check=False).stdout.strip()
    for kind, context in CONTEXTS.items():
        if provider not in ("auto", kind):
            continue
        state = "up" if answers(context) else "down"
        up_count += state == "up"
        marker = " (current context)" if current == context else ""
        print(f"{kind:4} {context:22} {state}{marker}")
    if state_details := _server_version(current) if current in CONTEXTS.values() else None:
        print(f"server version: {state_details}")
    return 0 if up_count else 1


def _server_version(context: str) -> str | None:
    result = run([kubectl(), "--context", context, "version", "-o", "json", "--request-timeout=3s"],
                 check=False)
    try:
        return json.loads(result.stdout)["serverVersion"]["gitVersion"]
    except (ValueError, KeyError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cluster.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  python cluster/cluster.py up\n  python cluster/cluster.py up --provider node\n"
               "  python cluster/cluster.py status\n  python cluster/cluster.py down")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--provider", choices=["auto", "kind", "node", "sim"], default="auto",
                        help="auto (default) picks kind when Docker and kind work, then the real "
                             "node (Linux, root), else sim")
    parser.add_argument("--name", help="another simulated cluster beside the course's (with --provider sim): "
                                        "its context is kwok-NAME")
    args = parser.parse_args(argv)
    if args.name and (args.provider != "sim" or args.command == "status"):
        parser.error("--name makes another simulated cluster: use it with up/down --provider sim")
    try:
        if args.name and args.command == "up":
            simulated.up(build("all"), args.name)
        elif args.name:
            simulated.down(args.name)
        elif args.command == "up":
            up(args.provider)
        elif args.command == "down":
            down(args.provider)
        else:
            return status(args.provider)
    except ClusterError as error:
        log(f"error: {error}")
        return 1
    except subprocess.TimeoutExpired as error:
        log(f"error: `{' '.join(error.cmd)}` did not finish within {error.timeout:.0f}s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
