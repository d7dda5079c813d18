#!/usr/bin/env python3
"""The course cluster: bring it up, report its state, tear it down.

Three kinds of cluster serve the course, each in a module of its own behind one interface
(providers.py):

  kind  a kind cluster (real containers in Docker), from kind.yaml: a control plane and two
        workers. Uses the Docker engine that runs here; on Linux as root without one, starts a
        private engine of its own. kind is built when missing (kindcluster.py).
  node  a real node on this machine: the course's control plane with a kubelet, containerd and
        runc, and the course's images built here from Debian packages. Pods really run. Needs
        Linux and root, Go to build; no Docker, no registry (realnode.py).
  sim   the simulated cluster: the same control plane with KWOK playing the nodes and kubelets;
        no container runs. Needs Go to build; runs anywhere, as any user (simulated.py).

`auto` picks kind where a Docker engine runs, then the real node where it can run, else the
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

import simulated
from common import ClusterError, build, go, kubectl, log, run
from providers import PROVIDERS

CONTEXTS = {name: provider.context for name, provider in PROVIDERS.items()}


def choose_provider(provider: str) -> str:
    if provider != "auto":
        return provider
    if not go() and PROVIDERS["kind"].auto_unavailable():
        raise ClusterError(
            "No way to make a cluster here. Either\n"
            "  - run `make venv`: it installs the project's Go, which builds the real node (Linux, as "
            "root) or the simulated cluster (no Docker needed), or\n"
            "  - install and start Docker for a kind cluster with real containers.")
    reasons = []
    for name, candidate in PROVIDERS.items():
        reason = candidate.auto_unavailable()
        if reason is None:
            if reasons:
                log(f"auto: {candidate.summary}; not {'; not '.join(reasons)} "
                    f"(`--provider` chooses another)")
            return name
        reasons.append(f"{name}: {reason}")
    raise ClusterError("no kind of cluster can run here:\n  " + "\n  ".join(reasons))


def up(provider: str) -> None:
    started = time.monotonic()
    chosen = PROVIDERS[choose_provider(provider)]
    if reason := chosen.unavailable():
        raise ClusterError(reason)
    chosen.up()
    log(f"ready in {time.monotonic() - started:.1f}s")


def down(provider: str) -> None:
    for name, candidate in reversed(PROVIDERS.items()):
        if provider in ("auto", name):
            candidate.down()


def status(provider: str) -> int:
    """Prints one line per kind of cluster; exit 0 when a course cluster answers."""
    up_count = 0
    current = run([kubectl(), "config", "current-context"], check=False).stdout.strip()
    for name, candidate in PROVIDERS.items():
        if provider not in ("auto", name):
            continue
        state = candidate.status()
        up_count += state == "up"
        marker = " (current context)" if current == candidate.context else ""
        print(f"{name:4} {candidate.context:22} {state}{marker}")
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
    parser.add_argument("--provider", choices=["auto", *PROVIDERS], default="auto",
                        help="auto (default) picks kind where a Docker engine runs, then the real "
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
