"""The objects of one namespace as read at one moment. Each object is read once, on first use,
so a check costs a request only for what it looks at, and all checks of one pass agree."""
from __future__ import annotations

from graders.cluster import Answer, ApiError, Cluster, Forbidden
from graders.settling import Sightings

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
LOG_LINES = 20  # the end of a container's log that a report quotes


class Blocked(Exception):
    """Raised while judging when something the check depends on is missing (the pod, a
    container): the check is reported `blocked`, not failed, so one root cause fails once."""


class Snapshot:
    def __init__(self, cluster: Cluster | None, namespace: str, sightings: Sightings | None = None):
        self.cluster = cluster  # None for a recorded snapshot: what it does not hold is absent
        self.namespace = namespace
        # When this grade first saw each pod running, kept across its passes (graders/settling.py).
        self.sightings = sightings or Sightings()
        self._objects: dict[tuple[str, str], dict | None] = {}
        self._nodes: dict[str, dict] | None = None
        self._dry_runs: dict[str, str | None] = {}
        # What pods did, read once per pass: answers through the pod proxy, log ends, followed logs.
        self._answers: dict[tuple[str, str, str], Answer] = {}
        self._logs: dict[tuple[str, str, bool], str | None] = {}
        self._followed: dict[tuple[str, str, str], tuple[bool, list[str]]] = {}
        self._marker: str | None = None
        self._lists: dict[tuple, list[dict]] = {}

    # --- recording: what one grading pass read, replayable without a cluster ----------------

    def to_record(self) -> dict:
        return {"namespace": self.namespace,
                "objects": [{"kind": kind, "name": name, "object": obj}
                            for (kind, name), obj in sorted(self._objects.items())],
                "nodes": sorted(self._nodes.values(), key=lambda n: n["metadata"]["name"])
                if self._nodes is not None else None,
                "dryRuns": self._dry_runs,
                "answers": [{"pod": pod, "port": port, "path": path, "status": a.status,
                             "contentType": a.content_type, "body": a.text}
                            for (pod, port, path), a in sorted(self._answers.items())],
                "logs": [{"pod": pod, "container": c, "previous": previous, "text": text}
                         for (pod, c, previous), text in sorted(self._logs.items())],
                "followed": [{"pod": pod, "container": c, "text": text, "found": found, "lines": lines}
                             for (pod, c, text), (found, lines) in sorted(self._followed.items())],
                "marker": self._marker}

    @classmethod
    def from_record(cls, record: dict) -> "Snapshot":
        snapshot = cls(None, record["namespace"])
        snapshot._objects = {(o["kind"], o["name"]): o["object"] for o in record["objects"]}
        if record["nodes"] is not None:
            snapshot._nodes = {node["metadata"]["name"]: node for node in record["nodes"]}
        snapshot._dry_runs = dict(record["dryRuns"])
        snapshot._answers = {(a["pod"], a["port"], a["path"]): Answer(a["status"], a["contentType"], a["body"].encode())
                             for a in record.get("answers", [])}
        snapshot._logs = {(e["pod"], e["container"], e["previous"]): e["text"] for e in record.get("logs", [])}
        snapshot._followed = {(f["pod"], f["container"], f["text"]): (f["found"], f["lines"])
                              for f in record.get("followed", [])}
        snapshot._marker = record.get("marker")
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

    def warnings(self, pod: str) -> list[dict]:
        """The pod's Warning events (what the kubelet said about it: failed probes, back-off),
        oldest first."""
        key = ("Events", pod)
        if key not in self._objects:
            found = (self.cluster.list("Event", self.namespace, fieldSelector=f"involvedObject.name={pod}",
                                       limit=200).get("items") or []) if self.cluster else []
            self._objects[key] = {"items": [e for e in found if e.get("type") == "Warning"]}
        return sorted(self._objects[key]["items"], key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    def list(self, kind: str, **query) -> list[dict]:
        """The objects of `kind` in the namespace (query: labelSelector=..., fieldSelector=...),
        listed once per pass so that the checks agree. Not recorded: the labs read by name."""
        key = (kind, *sorted(query.items()))
        if key not in self._lists:
            self._lists[key] = (self.cluster.list(kind, self.namespace, **query).get("items") or []) \
                if self.cluster else []
        return self._lists[key]

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

    # --- what pods do (only where containers run) ---------------------------------------------

    def fetch(self, pod: str, port: int | str, path: str = "/") -> Answer:
        """GET `path` from the pod's `port` through the API server's pod proxy."""
        key = (pod, str(port), path)
        if key not in self._answers:
            self._answers[key] = self._live().proxy_get(self.namespace, pod, port, path)
        return self._answers[key]

    def log(self, pod: str, container: str, *, previous: bool = False) -> str | None:
        """The last LOG_LINES lines of the container's log (of its previous run with `previous`);
        None when there is none."""
        key = (pod, container, previous)
        if key not in self._logs:
            self._logs[key] = self._live().log(self.namespace, pod, container, previous=previous,
                                               tail_lines=LOG_LINES)
        return self._logs[key]

    def log_shows(self, pod: str, container: str, text: str, seconds: float) -> tuple[bool, list[str]]:
        """Follow the container's log until a line with `text` shows or `seconds` pass: whether it
        showed, and the lines read (the last LOG_LINES)."""
        key = (pod, container, text)
        if key not in self._followed:
            lines: list[str] = []
            for line in self._live().follow_log(self.namespace, pod, container,
                                                since_seconds=int(seconds) + 60, timeout=seconds):
                lines = [*lines[-LOG_LINES + 1:], line]
                if text in line:
                    break
            self._followed[key] = (any(text in line for line in lines), lines)
        return self._followed[key]

    @property
    def marker(self) -> str:
        """A token unique to this grading pass, for requests whose trace a check looks for."""
        if self._marker is None:
            import uuid  # here: most passes need no marker, and a cold `grade` need not import it

            self._marker = f"pods-course-{uuid.uuid4().hex[:12]}"
        return self._marker

    def _live(self) -> Cluster:
        if self.cluster is None:
            raise KeyError("the recording holds no such answer or log")
        return self.cluster

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
