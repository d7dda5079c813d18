"""The root-password settings the mariadb image takes (graders/db_root_settings.py), judged alike
by the grader, the course's stand-in entrypoint (cluster/images/recipes/mariadb, run here by the
host's bash: its functions are POSIX sh) and the simulated kubelet (cluster/sim/pods.jq, run by
jq), on the answers below: upstream's docker-entrypoint.sh gives each the verdict it states."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graders import db_root_settings as root

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "cluster/images/recipes/mariadb/rootfs/usr/local/bin/docker-entrypoint.sh"
SIM = REPO / "cluster" / "sim"
SECRETS = "/run/secrets/db"  # where the answers mount the Secret db


def literal(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def from_secret(name: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}


SECRET_MOUNT = {"name": "db", "mountPath": SECRETS, "readOnly": True}
SECRET_VOLUME = {"name": "db", "secret": {"secretName": "db"}}


@dataclass(frozen=True)
class Answer:
    id: str
    env: tuple[dict, ...]
    configured: bool  # upstream's entrypoint initialises the database (else it exits 1)
    mounts: tuple[dict, ...] = ()
    volumes: tuple[dict, ...] = ()
    working_dir: str = ""
    extra: dict = field(default_factory=dict)  # more of the container

    def pod(self) -> dict:
        container = {"name": "mydb", "image": "mariadb:11.4", "env": list(self.env),
                     "volumeMounts": list(self.mounts), **self.extra}
        if self.working_dir:
            container["workingDir"] = self.working_dir
        return {"metadata": {"name": "mydb"}, "spec": {"containers": [container], "volumes": list(self.volumes)}}


def mounted_file(name: str, path: str = f"{SECRETS}/password", **mount) -> dict:
    return {"env": (literal(name, path),), "mounts": ({**SECRET_MOUNT, **mount},), "volumes": (SECRET_VOLUME,)}


ANSWERS = [
    Answer("mariadb-root-password", (literal("MARIADB_ROOT_PASSWORD", "s3cret"),), True),
    Answer("mysql-root-password", (literal("MYSQL_ROOT_PASSWORD", "s3cret"),), True),
    Answer("root-password-hash", (literal("MARIADB_ROOT_PASSWORD_HASH", "*C1A3B2F0AE0B4D5E"),), True),
    Answer("allow-empty", (literal("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1"),), True),
    Answer("mysql-allow-empty", (literal("MYSQL_ALLOW_EMPTY_PASSWORD", "yes"),), True),
    Answer("random", (literal("MARIADB_RANDOM_ROOT_PASSWORD", "1"),), True),
    Answer("mysql-random", (literal("MYSQL_RANDOM_ROOT_PASSWORD", "yes"),), True),
    Answer("root-password-from-secret", (from_secret("MARIADB_ROOT_PASSWORD"),), True),
    Answer("root-password-file", configured=True, **mounted_file("MARIADB_ROOT_PASSWORD_FILE")),
    Answer("mysql-root-password-file", configured=True, **mounted_file("MYSQL_ROOT_PASSWORD_FILE")),
    Answer("root-password-hash-file", configured=True, **mounted_file("MARIADB_ROOT_PASSWORD_HASH_FILE")),
    Answer("file-mounted-by-sub-path", configured=True,
           **mounted_file("MARIADB_ROOT_PASSWORD_FILE", "/etc/mysql/root-password",
                          mountPath="/etc/mysql/root-password", subPath="password")),
    Answer("relative-file", working_dir="/run/secrets", configured=True,
           **mounted_file("MARIADB_ROOT_PASSWORD_FILE", "db/password")),
    Answer("empty-mariadb-name-beside-mysql-one", (literal("MARIADB_ROOT_PASSWORD", ""),
                                                    literal("MYSQL_ROOT_PASSWORD", "s3cret")), True),
    # refused: exits 1, "password option is not specified"
    Answer("nothing", (), False),
    Answer("user-password-only", (literal("MARIADB_USER", "app"), literal("MARIADB_PASSWORD", "s3cret")), False),
    Answer("empty-allow-empty", (literal("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", ""),), False),
    Answer("empty-root-password", (literal("MARIADB_ROOT_PASSWORD", ""),), False),
    Answer("later-entry-empties", (literal("MARIADB_ROOT_PASSWORD", "s3cret"),
                                   literal("MARIADB_ROOT_PASSWORD", "")), False),
    Answer("mysql-allow-empty-root-password", (literal("MYSQL_ALLOW_EMPTY_ROOT_PASSWORD", "1"),), False),
    Answer("mariadb-allow-empty-password", (literal("MARIADB_ALLOW_EMPTY_PASSWORD", "1"),), False),
    Answer("mysql-root-password-hash", (literal("MYSQL_ROOT_PASSWORD_HASH", "*C1A3B2F0AE0B4D5E"),), False),
    Answer("allow-empty-file", configured=False, **mounted_file("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD_FILE")),
    Answer("random-file", configured=False, **mounted_file("MYSQL_RANDOM_ROOT_PASSWORD_FILE")),
    # refused: the entrypoint cannot read the file
    Answer("file-not-mounted", (literal("MARIADB_ROOT_PASSWORD_FILE", f"{SECRETS}/password"),), False),
    Answer("file-beside-the-mount", configured=False,
           **mounted_file("MARIADB_ROOT_PASSWORD_FILE", f"{SECRETS}-other/password")),
    Answer("empty-file-path", (literal("MARIADB_ROOT_PASSWORD_FILE", ""),), False),
]


def no_secrets(kind: str, name: str) -> list[str]:
    return []


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.id)
def test_the_grader_counts_what_the_entrypoint_takes(answer):
    assert root.configured(root.variables(answer.pod(), no_secrets)) is answer.configured


def entrypoint_verdict(answer: Answer, tmp_path: Path) -> subprocess.CompletedProcess:
    """The stand-in entrypoint's environment setup and check, with the answer's variables; a file
    under a mount is made under tmp_path (a value from a Secret is some non-empty text)."""
    env = {"PATH": os.environ["PATH"]}
    container = answer.pod()["spec"]["containers"][0]
    for var in answer.env:
        value = "from-a-secret" if "valueFrom" in var else var["value"]
        if var["name"].endswith("_FILE") and value:
            inside = (Path(answer.working_dir or "/") / value).as_posix()
            if root.volume_at(answer.pod(), container, value):
                (tmp_path / inside.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / inside.lstrip("/")).write_text("s3cret\n")
            value = str(tmp_path / inside.lstrip("/"))
        env[var["name"]] = value
    script = f'. "{ENTRYPOINT}"; docker_setup_env; docker_verify_minimum_env'
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(not shutil.which("bash"), reason="bash runs the entrypoint's functions")
@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.id)
def test_the_stand_in_entrypoint_takes_what_upstreams_takes(answer, tmp_path):
    result = entrypoint_verdict(answer, tmp_path)
    assert result.returncode == (0 if answer.configured else 1), result.stderr


@pytest.mark.skipif(not shutil.which("bash"), reason="bash runs the entrypoint's functions")
@pytest.mark.parametrize("other", ["MARIADB_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
                                   "MYSQL_RANDOM_ROOT_PASSWORD"])
def test_the_stand_in_entrypoint_refuses_a_hash_beside_another_root_setting(other, tmp_path):
    answer = Answer("hash-and-another", (literal("MARIADB_ROOT_PASSWORD_HASH", "*C1A3B2F0AE0B4D5E"),
                                         literal(other, "1")), True)
    result = entrypoint_verdict(answer, tmp_path)
    assert result.returncode == 1 and "Cannot specify MARIADB_ROOT_PASSWORD_HASH and another" in result.stderr, \
        result.stderr


@pytest.mark.skipif(not shutil.which("jq"), reason="jq runs pods.jq (KWOK runs it with gojq)")
@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.id)
def test_the_simulated_database_starts_where_the_entrypoint_would(answer):
    sys.path.insert(0, str(REPO / "cluster"))
    import simulated

    program = f"{simulated.pod_jq()} db_crashes | not"
    result = subprocess.run(["jq", program], input=json.dumps(answer.pod()), capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) is answer.configured


def test_the_simulator_lists_the_graders_names():
    listed = [line.strip() for line in (SIM / "db-root-settings.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert sorted(listed) == sorted(root.NAMES)


def test_the_entrypoints_refusal_names_the_settings():
    assert f"You need to specify one of {', '.join(list(root.SETTINGS)[:-1])} and {list(root.SETTINGS)[-1]}" \
        in ENTRYPOINT.read_text()
