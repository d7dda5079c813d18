"""Hostile submissions (tests/hostile/ and generated ones): each refused before anything reaches
a cluster, with a message naming the file, document or line and the rule; quickly and in little
memory."""
from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from graders.submission import MAX_BYTES, Rejected, load

HOSTILE = Path(__file__).resolve().parent.parent / "hostile"
LAB = "lab8"  # allows Pod, Secret and ConfigMap: the widest door


def expected(path: Path) -> str:
    first = (path.read_text().splitlines() or [""])[0]
    return first.removeprefix("# rejects:").strip() if first.startswith("# rejects:") else "define no object"


def generated() -> dict[str, tuple[bytes, str]]:
    pod = "{apiVersion: v1, kind: Pod, metadata: {name: p%d}}\n"
    return {
        "oversize": (("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  k: "
                      + "x" * (MAX_BYTES + 1) + "\n").encode(), "add up to"),
        "invalid-utf8": (b"apiVersion: v1\nkind: Pod\nmetadata: {name: \xff\xfe}\n", "not UTF-8"),
        "control-characters": (b"apiVersion: v1\nkind: Pod\nmetadata: {name: a\x07b}\n", "control character 0x07"),
        "deep-nesting": (("a: " + "[" * 5000 + "]" * 5000 + "\n").encode(), "nested deeper than"),
        "thousands-of-documents": ("---\n".join(pod % i for i in range(3000)).encode(), "more than 20 documents"),
    }


def assert_refused(folder: Path, message: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    with pytest.raises(Rejected) as refused:
        load(LAB, folder)
    seconds = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert message in str(refused.value), str(refused.value)
    assert seconds < 10 and peak < 256 * 2**20, (seconds, peak)


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.yaml")), ids=lambda p: p.stem)
def test_hostile_file_is_refused(path, tmp_path):
    (tmp_path / path.name).write_bytes(path.read_bytes())
    assert_refused(tmp_path, expected(path))


@pytest.mark.parametrize("name", sorted(generated()))
def test_generated_hostile_input_is_refused(name, tmp_path):
    content, message = generated()[name]
    (tmp_path / f"{name}.yaml").write_bytes(content)
    assert_refused(tmp_path, message)


def test_refusals_name_the_file_and_the_document(tmp_path):
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
                                      "spec: {containers: [{name: web, image: nginx}]}\n")
    (tmp_path / "two.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                                       "apiVersion: v1\nkind: Node\nmetadata: {name: n}\n")
    with pytest.raises(Rejected) as refused:
        load(LAB, tmp_path)
    assert str(refused.value).startswith("two.yaml, document 2: Node n is not allowed")


def test_dates_stay_text_and_lists_are_read_as_kubectl_does(tmp_path):
    (tmp_path / "list.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n"
        "    name: a\n    annotations: {since: 2024-01-01}\n  data: {k: v}\n")
    documents = load(LAB, tmp_path).documents
    assert [d.kind for d in documents] == ["ConfigMap"]
    assert documents[0].body["metadata"]["annotations"]["since"] == "2024-01-01"
