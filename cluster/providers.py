"""The kinds of course cluster, in one registry: the command line, the Makefile (through it) and
the test suite name them from here. Each lives in a module of its own behind the same small
interface; `auto` takes the first, in this order, that it may choose here."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import kindcluster
import realnode
import simulated
from common import answers, build


@dataclass(frozen=True)
class Provider:
    name: str                                   # what --provider and PROVIDER= say
    context: str                                # the kubeconfig context it makes
    summary: str
    unavailable: Callable[[], str | None]       # why it cannot run here, or None
    auto_unavailable: Callable[[], str | None]  # why `auto` should not choose it here, or None
    up: Callable[[], None]                      # bring it up (idempotent), make it the context
    down: Callable[[], None]                    # delete it, leaving nothing behind

    def status(self) -> str:
        return "up" if answers(self.context) else "down"


PROVIDERS = {p.name: p for p in [
    Provider("kind", kindcluster.CONTEXT,
             "kind: Kubernetes in Docker containers, three nodes (Docker; kind is built when missing)",
             kindcluster.unavailable, kindcluster.auto_unavailable, kindcluster.up, kindcluster.down),
    Provider("node", realnode.CONTEXT,
             "the real node: a kubelet, containerd and runc on this machine (Linux, root)",
             realnode.unavailable, realnode.unavailable, realnode.up, realnode.down),
    Provider("sim", simulated.CONTEXT,
             "the simulated cluster: KWOK nodes, no container runs (any machine)",
             lambda: None, lambda: None, lambda: simulated.up(build("all")), simulated.down),
]}
