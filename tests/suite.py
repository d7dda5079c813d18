"""The test suite as `make test` and `make test-sim` run it.

On the real node (what CI uses) `make test` runs the node's tests and, side by side with them,
the simulated cluster's: the simulator's own tests, the API-fault tests of batch grading (faults
at the API server's edge do not depend on what runs the containers), the image catalog's, the lab
verdicts and the lesson exercises. The two runs use different clusters and namespaces and spend
most of their time waiting for pods, so together they take little more than the node's run alone.
The simulated cluster's run has a kubeconfig of its own (build/sim.kubeconfig): the user's keeps
its current context throughout. Its output goes to build/test-sim.log, printed when it ends.

On any other cluster (kind, or the simulated cluster as the current context) `make test` is one
pytest run of the whole suite.

    python tests/suite.py [--node-args OPTIONS] [--sim-args OPTIONS] [--no-sim | --sim-only]
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "cluster"))
import realnode, simulated  # noqa: E402  (cluster/ on sys.path: the contexts they make)

CLUSTER = [sys.executable, str(REPO / "cluster" / "cluster.py")]
PYTEST = [sys.executable, "-m", "pytest"]
SIM_ONLY = ["tests/cluster/test_simulator.py", "tests/cluster/test_faults.py"]
SIM_TESTS = [*SIM_ONLY, "tests/cluster/test_catalog.py", "tests/cluster/test_labs.py",
             "tests/cluster/test_exercises.py"]
SIM_LOG = REPO / "build" / "test-sim.log"


def say(message: str) -> None:
    print(f"suite: {message}", flush=True)


def current_context() -> str:
    found = subprocess.run(["kubectl", "config", "current-context"], capture_output=True, text=True)
    return found.stdout.strip()


def user_kubeconfig() -> Path:
    return Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or Path.home() / ".kube" / "config")


def simulated_cluster_env() -> dict[str, str]:
    """Bring the simulated cluster up and return an environment whose kubeconfig (a copy of the
    user's) has it as the current context. The user's current context is put back."""
    before = current_context()
    if subprocess.run([*CLUSTER, "up", "--provider", "sim"]).returncode != 0:
        raise SystemExit("suite: the simulated cluster did not come up (why is above); "
                         "`make test SIM_TESTS=no` runs the rest without it")
    own = REPO / "build" / "sim.kubeconfig"
    own.parent.mkdir(exist_ok=True)
    own.unlink(missing_ok=True)
    own.touch(mode=0o600)  # it holds the clusters' credentials, as the user's own does
    shutil.copyfile(user_kubeconfig(), own)
    if before and before != simulated.CONTEXT:
        subprocess.run(["kubectl", "config", "use-context", before], check=True, stdout=subprocess.DEVNULL)
    return {**os.environ, "KUBECONFIG": str(own)}


def start_sim_run(options: argparse.Namespace) -> subprocess.Popen:
    env = simulated_cluster_env()
    SIM_LOG.parent.mkdir(exist_ok=True)
    command = [*PYTEST, *SIM_TESTS, *shlex.split(options.sim_args)]
    say(f"on the simulated cluster, beside: {shown(command)} > {SIM_LOG.relative_to(REPO)}")
    with SIM_LOG.open("w") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)


def finish_sim_run(sim: subprocess.Popen) -> int:
    status = sim.wait()
    print(f"\n===== the simulated cluster's tests (exit {status}), from {SIM_LOG.relative_to(REPO)} =====")
    sys.stdout.write(SIM_LOG.read_text())
    sys.stdout.flush()
    return status


def shown(command: list[str]) -> str:
    return shlex.join(["pytest", *command[len(PYTEST):]])


def run(command: list[str]) -> int:
    say(shown(command))
    return subprocess.run(command, cwd=REPO).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--node-args", default="", help="pytest options of the main run")
    parser.add_argument("--sim-args", default="", help="pytest options of the simulated cluster's run")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--no-sim", action="store_true", help="leave out the simulated cluster's run")
    which.add_argument("--sim-only", action="store_true", help="only the simulated cluster's run")
    options = parser.parse_args()

    if options.sim_only:
        return finish_sim_run(start_sim_run(options))
    if current_context() != realnode.CONTEXT:
        return run([*PYTEST, *shlex.split(options.node_args)])
    sim = None if options.no_sim else start_sim_run(options)
    try:
        node_status = run([*PYTEST, *(f"--ignore={path}" for path in SIM_ONLY), *shlex.split(options.node_args)])
    except BaseException:
        if sim is not None:
            sim.terminate()
        raise
    if sim is None:
        return node_status
    sim_status = finish_sim_run(sim)
    say(f"the node's run exited {node_status}, the simulated cluster's {sim_status}")
    return node_status or sim_status


if __name__ == "__main__":
    sys.exit(main())
