"""A learner's submission as files: find them, parse them, and check them before anything
reaches a cluster. Nothing here talks to a cluster; a submission that is refused leaves none of
its objects behind because none was created."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from graders import labs
from graders.strict_yaml import UnsafeYAML, load_all

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_BYTES = 256 * 1024  # all the manifests of one submission together
MAX_DOCUMENTS = 20
# Characters no manifest needs (C0 controls but tab, newline, carriage return; DEL; C1).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


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
    size = sum(path.stat().st_size for path in files)
    if size > MAX_BYTES:
        raise Rejected(f"the manifests add up to {size} bytes; a submission may have {MAX_BYTES}")
    allowed = labs.get(lab).kinds
    count = 0
    for path in files:
        for index, body in enumerate(_parse(path), start=1):
            source = f"{path.name}, document {index}"
            if body is None:
                continue  # an empty document, as kubectl skips it
            count += 1
            if count > MAX_DOCUMENTS:
                raise Rejected(f"more than {MAX_DOCUMENTS} documents; {lab} needs a few")
            document = _checked(lab, allowed, source, body)
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
    control = CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise Rejected(f"{path.name}: line {line}: control character {ord(control.group()):#04x} is not allowed")
    try:
        if path.suffix.lower() == ".json":
            return [json.loads(text, object_pairs_hook=_no_duplicate_keys)]
        documents = load_all(text, most=MAX_DOCUMENTS + 1)  # one more is refused: parse no further
    except UnsafeYAML as error:
        raise Rejected(f"{path.name}: {error}") from None
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


def _no_duplicate_keys(pairs: list) -> dict:
    keys = [key for key, _ in pairs]
    duplicated = {key for key in keys if keys.count(key) > 1}
    if duplicated:
        raise UnsafeYAML(f"the key {sorted(duplicated)[0]!r} appears twice in one object")
    return dict(pairs)


# Fields a submission may not set: they would place, keep, own or fake what the cluster decides.
FORBIDDEN = (("metadata", "finalizers"), ("metadata", "ownerReferences"), ("status",), ("spec", "nodeName"))


def _checked(lab: str, allowed: tuple[str, ...], source: str, body) -> Document:
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
    if kind not in allowed:
        raise Rejected(f"{source}: {kind} {metadata['name']} is not allowed in a {lab} submission "
                       f"(allowed: {', '.join(allowed)})")
    for path in FORBIDDEN:
        if _has(body, path):
            raise Rejected(f"{source}: {kind} {metadata['name']} sets {'.'.join(path)}, which a "
                           "submission may not set")
    if kind == "Secret" and body.get("type") == "kubernetes.io/service-account-token":
        raise Rejected(f"{source}: Secret {metadata['name']} asks for a service-account token, which a "
                       "submission may not")
    if kind == "Pod":
        reaching = _reaches_the_node(body.get("spec"))
        if reaching:
            path, what = reaching
            raise Rejected(f"{source}: Pod {metadata['name']} sets {path}: {what}, which batch grading "
                           "does not allow")
    namespace = metadata.get("namespace")
    if namespace not in (None, lab):
        raise Rejected(f"{source}: {kind} {metadata['name']} names namespace {namespace!r}; leave "
                       f"metadata.namespace out (or write {lab})")
    body = {**body, "metadata": {k: v for k, v in metadata.items() if k != "namespace"}}
    return Document(source, body)


BASELINE = " (Pod Security baseline)"


def _reaches_the_node(spec) -> tuple[str, str] | None:
    """(path, what it does) of the first setting that reaches past the pod into the node or the
    cluster: what Pod Security `baseline` refuses at admission, refused here first with a path the
    learner can find; and a ServiceAccount of the submission's choosing."""
    if not isinstance(spec, dict):
        return None
    for shared in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(shared) is True:
            return f"spec.{shared}", "the pod would share a namespace of the node" + BASELINE
    for volume in _dicts(spec.get("volumes")):
        if "hostPath" in volume:
            return (f"spec.volumes[{volume.get('name')}].hostPath",
                    "the pod would mount a directory of the node" + BASELINE)
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account not in (None, "default"):
        return "spec.serviceAccountName", (f"the pod would run as ServiceAccount {account!r}, not the "
                                           "namespace's default")
    for group in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts(spec.get(group)):
            where = f"spec.{group}[{container.get('name')}]"
            context = container.get("securityContext")
            if isinstance(context, dict) and context.get("privileged") is True:
                return f"{where}.securityContext.privileged", "the container would run privileged" + BASELINE
            for index, port in enumerate(_dicts(container.get("ports"))):
                if port.get("hostPort"):
                    return f"{where}.ports[{index}].hostPort", "the container would open a port on the node" + BASELINE
    return None


def _dicts(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _has(body: dict, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return False
        body = body[key]
    return body not in (None, [], {}, "")
