"""`grade hand-in lab9`: the kubectl drill done with commands (solutions/lab9/drill.sh) is written
out as the manifests of solutions/lab9/drill.yaml, which batch grading and nbgrader replay."""
from __future__ import annotations

import os
import subprocess

import yaml

from graders.cli import main
from tests.cases import REPO

SOLUTION = REPO / "solutions" / "lab9"


def test_the_drill_done_with_commands_is_handed_in_as_the_solution_manifests(namespace, tmp_path, capsys):
    subprocess.run(["kubectl", "create", "-n", namespace, "-f", str(REPO / "labs" / "lab9" / "drill.yaml")],
                   check=True, capture_output=True, timeout=60)
    done = subprocess.run(["sh", str(SOLUTION / "drill.sh")], cwd=REPO, capture_output=True, text=True,
                          timeout=180, env={**os.environ, "NS": namespace})
    assert done.returncode == 0, done.stdout + done.stderr
    handed_in = tmp_path / "drill.yaml"
    assert main(["hand-in", "lab9", str(handed_in), "--namespace", namespace]) == 0
    assert "Pod worker" in capsys.readouterr().out
    written = [d for d in yaml.safe_load_all(handed_in.read_text()) if d]
    assert written == [d for d in yaml.safe_load_all((SOLUTION / "drill.yaml").read_text()) if d]


def test_a_lab_answered_with_files_has_nothing_to_hand_in(tmp_path, capsys):
    assert main(["hand-in", "lab3", str(tmp_path / "x.yaml")]) == 2
    assert "handed in as the manifests you wrote" in capsys.readouterr().err
    assert not (tmp_path / "x.yaml").exists()


def test_an_empty_namespace_leaves_the_file_as_it_is(namespace, tmp_path, capsys):
    kept = tmp_path / "drill.yaml"
    kept.write_text("# mine\n")
    assert main(["hand-in", "lab9", str(kept), "-n", namespace]) == 1
    assert kept.read_text() == "# mine\n" and "holds none of lab9's objects" in capsys.readouterr().err
