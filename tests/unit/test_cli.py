"""The grade command without a cluster: usage errors and an unreachable cluster."""
import socket
import subprocess
import sys

import pytest

from graders import labs


def grade(*args, env=None):
    return subprocess.run([sys.executable, "-m", "graders.cli", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_unknown_lab_is_a_usage_error_listing_the_labs():
    result = grade("lab42")
    assert result.returncode == 2
    assert "unknown lab 'lab42'" in result.stderr
    for lab in labs.lab_ids():
        assert lab in result.stderr


def test_list_names_every_lab():
    result = grade("list")
    assert result.returncode == 0
    assert [line.split()[0] for line in result.stdout.splitlines() if line.startswith("lab")] == labs.lab_ids()


def test_bad_options_are_usage_errors():
    assert grade("lab1", "--wait", "-3").returncode == 2
    assert grade("reset").returncode == 2
    assert grade().returncode == 2


def test_help_ends_with_examples():
    result = grade("--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].strip().startswith("grade ")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def unreachable_kubeconfig(tmp_path, monkeypatch):
    port = free_port()  # nothing listens there once the socket is closed
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: gone, cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}}}]
users: [{{name: me, user: {{token: abc}}}}]
contexts: [{{name: gone-cluster, context: {{cluster: gone, user: me}}}}]
current-context: gone-cluster
""")
    return {"KUBECONFIG": str(path), "PATH": "/usr/bin:/bin"}


def test_unreachable_cluster_exits_3_and_says_what_to_do(unreachable_kubeconfig):
    result = grade("lab1", env=unreachable_kubeconfig)
    assert result.returncode == 3, result.stderr
    assert "gone-cluster" in result.stderr and "make cluster" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_kubeconfig_exits_3(tmp_path):
    result = grade("lab1", env={"KUBECONFIG": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 3
    assert "no kubeconfig found" in result.stderr


def test_unknown_context_exits_3(unreachable_kubeconfig):
    result = grade("lab1", "--context", "nope", env=unreachable_kubeconfig)
    assert result.returncode == 3
    assert "context 'nope' is not in kubeconfig (known: gone-cluster)" in result.stderr
