"""The objects of one namespace as read at one moment. Each object is read once, on first use,
so a check costs a request only for what it looks at, and all checks of one pass agree."""
from __future__ import annotations

from graders.cluster import ApiError, Cluster, Forbidden

KWOK_ANNOTATION = "kwok.x-k8s.io/node"


class Blocked(Exception):
    """Raised while judging when something the check depends on is missing (the pod, a
    container): the check is reported `blocked`, not failed, so one root cause fails once."""


class Snapshot:
    def __init__(self, cluster: Cluster | None, namespace: str):
        self.cluster = cluster  # None for a recorded snapshot: what it does not hold is absent
        self.namespace = namespace
        self._objects: dict[tuple[str, str], dict | None] = {}
        self._nodes: dict[str, dict] | None = None
        self._dry_runs: dict[str, str | None] = {}

    # --- recording: what one grading pass read, replayable without a cluster ----------------

    def to_record(self) -> dict:
        return {"namespace": self.namespace,
                "objects": [{"kind": kind, "name": name, "object": obj}
                            for (kind, name), obj in sorted(self._objects.items())],
                "nodes": sorted(self._nodes.values(), key=lambda n: n["metadata"]["name"])
                if self._nodes is not None else None,
                "dryRuns": self._dry_runs}

    @classmethod
    def from_record(cls, record: dict) -> "Snapshot":
        snapshot = cls(None, record["namespace"])
        snapshot._objects = {(o["kind"], o["name"]): o["object"] for o in record["objects"]}
        if record["nodes"] is not None:
            snapshot._nodes = {node["metadata"]["name"]: node for node in record["nodes"]}
        snapshot._dry_runs = dict(record["dryRuns"])
        return snapshot

    # --- reading --------------------------------------------------------------------------

    def get(self, kind: str, name: str) -> dict | None:
        key = (kind, name)
        if key not in self._objects:
            self._objects[key] = self.cluster.get(kind, name, self.namespace) if self.cluster else None
        return self._objects[key]

    def require(self, kind: str, name: str) -> dict:
        obj = self.get(kind, name)
        if obj is None:
            raise Blocked(f"{kind} {name} does not exist in namespace {self.namespace}")
        return obj

    def pod(self, name: str) -> dict:
        return self.require("Pod", name)

    def pods_read(self) -> list[dict]:
        """The pods this snapshot has read so far."""
        return [obj for (kind, _), obj in self._objects.items() if kind == "Pod" and obj]

    def nodes(self) -> dict[str, dict] | None:
        """Nodes by name; None when we may not list them (a learner with namespace rights only)."""
        if self._nodes is None and self.cluster is not None:
            try:
                items = self.cluster.list("Node").get("items") or []
            except Forbidden:
                return None
            self._nodes = {node["metadata"]["name"]: node for node in items}
        return self._nodes

    @property
    def simulated(self) -> bool:
        """Whether the cluster's nodes are played by KWOK (containers do not really run)."""
        nodes = self.nodes() or {}
        return any(KWOK_ANNOTATION in (node["metadata"].get("annotations") or {})
                   for node in nodes.values())

    def refused(self, kind: str, body: dict) -> str | None:
        """Server-side dry run of creating `body`: None if it would be admitted, else the API
        server's reason."""
        key = f"{kind}:{body['metadata']['name']}"
        if key not in self._dry_runs:
            if self.cluster is None:
                raise KeyError(f"the recording holds no dry run of {key}")
            try:
                self.cluster.create(kind, body, self.namespace, dry_run=True)
                self._dry_runs[key] = None
            except ApiError as error:
                self._dry_runs[key] = error.args[0]
        return self._dry_runs[key]
