"""The simulated cluster: the course's control plane with KWOK playing two nodes and their
kubelets (sim/: the states a real kubelet reaches in the course's scenarios). Needs Go to build;
needs no Docker and no network once built."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import textwrap
from pathlib import Path

import controlplane
from common import HERE, NAME, cache_dir, kubectl, log, run, versions
from images import catalog

SIM = HERE / "sim"  # the simulated kubelet's behaviour: stages, logs
CONTEXT = controlplane.context(NAME)
# KWOK's default stages, which kwokctl leaves out once any stage of ours is given.
KWOK_DEFAULT_STAGES = ["node/fast/node-initialize.yaml",
                       "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
                       "pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"]


def definition_files() -> list[Path]:
    """The files whose content defines the simulated cluster: a cluster made from other
    contents is recreated."""
    return [HERE / "versions.env", HERE / "kwok.yaml", HERE / "nodes.yaml", catalog.CATALOG,
            *sorted(p for p in SIM.rglob("*") if p.is_file())]


def definition_hash() -> str:
    digest = hashlib.sha256()
    for path in definition_files():
        digest.update(str(path.relative_to(HERE)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _listed(name: str) -> list[str]:
    return [line.strip() for line in (SIM / name).read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def pod_jq() -> str:
    """pods.jq on one line with its lists filled in: the definitions in front of every selector
    of stages.yaml that says @POD_JQ@."""
    images, settings = catalog.repositories(), _listed("db-root-settings.txt")
    programs = _listed("busybox-programs.txt")
    definitions = " ".join(line.strip() for line in (SIM / "pods.jq").read_text().splitlines()
                           if line.strip() and not line.lstrip().startswith("#"))
    return (definitions.replace("@KNOWN_IMAGES_JQ@", ", ".join(json.dumps(i) for i in images))
            .replace("@DB_ROOT_SETTINGS_JQ@", ", ".join(json.dumps(v) for v in settings))
            .replace("@BUSYBOX_PROGRAMS_JQ@", ", ".join(json.dumps(v) for v in programs)))


def config() -> Path:
    """kwokctl's configuration: kwok.yaml, KWOK's default stages, the course's stages (with
    their shared jq definitions and lists filled in) and the simulated logs."""
    directory = cache_dir() / "sim" / definition_hash()
    target = directory / "kwok.yaml"
    if target.exists():
        return target
    found = run(["go", "mod", "download", "-json", f"sigs.k8s.io/kwok@{versions()['KWOK_VERSION']}"])
    kwok_stages = Path(json.loads(found.stdout)["Dir"]) / "kustomize" / "stage"
    # The images that pull: the same catalog the real node's registry serves.
    images, settings = catalog.repositories(), _listed("db-root-settings.txt")
    programs = _listed("busybox-programs.txt")
    stages = re.sub(r"^( *)@INCLUDE (\S+)@$",  # a shared template, indented where it goes
                    lambda m: textwrap.indent((SIM / m[2]).read_text(), m[1]),
                    (SIM / "stages.yaml").read_text(), flags=re.MULTILINE)
    stages = (stages.replace("@POD_JQ@", pod_jq())
              .replace("@KNOWN_IMAGES@", " ".join(json.dumps(i) for i in images))
              .replace("@DB_ROOT_SETTINGS@", " ".join(json.dumps(v) for v in settings))
              .replace("@BUSYBOX_PROGRAMS@", " ".join(json.dumps(v) for v in programs)))
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(SIM / "logs", directory / "logs", dirs_exist_ok=True)
    logs = (SIM / "logs.yaml").read_text().replace("@LOGS@", str(directory / "logs"))
    documents = [(HERE / "kwok.yaml").read_text(),
                 *((kwok_stages / name).read_text() for name in KWOK_DEFAULT_STAGES), stages, logs]
    target.write_text("\n---\n".join(doc.strip() for doc in documents) + "\n")
    return target


def _create(binaries: dict[str, Path], name: str) -> None:
    log("creating the simulated cluster" + ("" if name == NAME else f" {name}"))
    controlplane.create(name, binaries, config(), definition_hash())
    run([kubectl(), "--context", controlplane.context(name), "apply", "-f", str(HERE / "nodes.yaml")])


def up(binaries: dict[str, Path], name: str = NAME) -> None:
    """Bring the simulated cluster up (another one beside it under another `name`: say, to
    spread a batch over two clusters)."""
    context = controlplane.context(name)
    if controlplane.ensure(name, definition_hash(), lambda: _create(binaries, name), "simulated cluster"):
        log(f"the simulated cluster is already up (context {context})")
    controlplane.settle(name)
    log(f"the simulated cluster is up; kubectl now uses context {context}")


def down(name: str = NAME) -> None:
    if not controlplane.kwokctl_path().exists():
        log("no simulated cluster (its tools were never built)")
    elif controlplane.delete(name):
        log("the simulated cluster is deleted")
    else:
        log("no simulated cluster to delete")
