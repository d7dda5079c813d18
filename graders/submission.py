"""A learner's submission as files: find them, parse them, and check them before anything
reaches a cluster. Nothing here talks to a cluster; a submission that is refused leaves none of
its objects behind because none was created."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from graders.cluster import KINDS

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# What a lab's submission may create in its grading namespace.
ALLOWED_KINDS = ("Pod", "ConfigMap", "Secret", "ResourceQuota", "LimitRange")


class Rejected(ValueError):
    """The submission cannot be replayed; the message names the file, document and rule."""


@dataclass(frozen=True)
class Document:
    source: str  # "webserver.yaml, document 2"
    body: dict

    @property
    def kind(self) -> str:
        return self.body["kind"]

    @property
    def name(self) -> str:
        return self.body["metadata"]["name"]


@dataclass
class Submission:
    lab: str
    files: list[Path]
    documents: list[Document] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def manifest_files(folder: Path) -> list[Path]:
    """The manifests of a folder as `kubectl apply -f FOLDER` takes them: its .yaml, .yml and
    .json files, by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MANIFEST_SUFFIXES)


def load(lab: str, folder: Path) -> Submission:
    """Parse and check every manifest of `folder` for `lab`; raise Rejected on the first
    problem. `metadata.namespace` must be absent or the lab's id; it is removed (the grader
    chooses the namespace). A Namespace document is ignored, with a note."""
    files = manifest_files(folder)
    submission = Submission(lab, files)
    if not files:
        raise Rejected(f"no manifests (.yaml, .yml or .json files) in {folder}")
    for path in files:
        for index, body in enumerate(_parse(path), start=1):
            source = f"{path.name}, document {index}"
            if body is None:
                continue  # an empty document, as kubectl skips it
            document = _checked(lab, source, body)
            if document.kind == "Namespace":
                submission.notes.append(f"{source}: the Namespace {document.name} was ignored; "
                                        "the grader chooses the namespace")
                continue
            submission.documents.append(document)
    if not submission.documents:
        raise Rejected(f"the manifests in {folder} define no object")
    return submission


def _parse(path: Path) -> list:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(f"{path.name}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    try:
        if path.suffix.lower() == ".json":
            return [json.loads(text)]
        documents = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        raise Rejected(f"{path.name}: not valid YAML at line {mark.line + 1}, column {mark.column + 1}: "
                       f"{error.problem}") from None
    except (yaml.YAMLError, ValueError) as error:
        raise Rejected(f"{path.name}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {error}") from None
    # `kind: List` holds its objects in `items`, as kubectl reads it.
    flat = []
    for doc in documents:
        if isinstance(doc, dict) and doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            flat.extend(doc["items"])
        else:
            flat.append(doc)
    return flat


def _checked(lab: str, source: str, body) -> Document:
    if not isinstance(body, dict):
        raise Rejected(f"{source}: a manifest must be a mapping (apiVersion, kind, metadata, ...), "
                       f"not {type(body).__name__}")
    for required in ("apiVersion", "kind"):
        if not isinstance(body.get(required), str) or not body[required]:
            raise Rejected(f"{source}: missing {required}")
    metadata = body.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata["name"]:
        raise Rejected(f"{source}: missing metadata.name")
    kind = body["kind"]
    if kind == "Namespace":
        return Document(source, body)
    if kind not in ALLOWED_KINDS or kind not in KINDS:
        raise Rejected(f"{source}: {kind} {metadata['name']} is not allowed in a {lab} submission "
                       f"(allowed: {', '.join(ALLOWED_KINDS)})")
    namespace = metadata.get("namespace")
    if namespace not in (None, lab):
        raise Rejected(f"{source}: {kind} {metadata['name']} names namespace {namespace!r}; leave "
                       f"metadata.namespace out (or write {lab})")
    body = {**body, "metadata": {k: v for k, v in metadata.items() if k != "namespace"}}
    return Document(source, body)
