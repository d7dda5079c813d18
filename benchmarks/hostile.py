"""What a hostile submission costs the grader: `graders.submission.load` (strict parsing and
the rules of batch grading) side by side with what a Python grader would otherwise do, the
official client's way (`kubernetes.utils.create_from_yaml`): `yaml.safe_load_all`, then each
object serialised to JSON for the API server. Each input runs in a fresh process, capped at
2 GiB of address space and 20 s, so its time and peak memory are its own.

    .venv/bin/python benchmarks/hostile.py

Inputs: every file of tests/hostile/ and the generated ones of tests/unit/test_hostile.py.
Needs no cluster.
"""
from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LIMIT_BYTES = 2 * 2**30
LIMIT_SECONDS = 20


def strict(folder: str) -> str:
    from graders.submission import Rejected, load
    try:
        load("lab8", Path(folder))
    except Rejected as refused:
        return f"refused: {refused}"
    return "accepted"


def naive(folder: str) -> str:
    import yaml
    size = 0
    for path in sorted(Path(folder).iterdir()):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            size += len(json.dumps(document))
    return f"parsed, {size} bytes of JSON to send"


def inputs() -> dict[str, Path]:
    from tests.unit.test_hostile import generated
    root = Path(tempfile.mkdtemp(prefix="hostile-"))
    found = {}
    for path in sorted((REPO / "tests" / "hostile").glob("*.yaml")):
        (root / path.stem).mkdir()
        (root / path.stem / path.name).write_bytes(path.read_bytes())
        found[path.stem] = root / path.stem
    for name, (content, _) in sorted(generated().items()):
        (root / name).mkdir()
        (root / name / f"{name}.yaml").write_bytes(content)
        found[name] = root / name
    return found


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        way, folder = sys.argv[2], sys.argv[3]
        print({"strict": strict, "naive": naive}[way](folder))
        return 0
    print("| input | grade: outcome | s | peak MiB | safe_load_all + json: outcome | s | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for name, folder in inputs().items():
        row = [name]
        for way in ("strict", "naive"):
            outcome, seconds, peak = measure(way, folder)
            row += [outcome.split(":")[0] if way == "strict" else outcome, f"{seconds:.2f}", f"{peak:.0f}"]
            if way == "strict":
                worst = max(worst, peak)
        print("| " + " | ".join(row) + " |")
    print(f"\nlargest peak of `grade`'s checks: {worst:.0f} MiB")
    return 0


def measure(way: str, folder: Path) -> tuple[str, float, float]:
    """Run one way on one input in a fresh process; its peak memory from wait4's rusage."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, __file__, "--child", way, str(folder)], preexec_fn=cap,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = started + LIMIT_SECONDS
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            child.kill()
            _, status, usage = os.wait4(child.pid, 0)
            return f"killed after {LIMIT_SECONDS} s", LIMIT_SECONDS, usage.ru_maxrss / 1024
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    out, err = child.stdout.read(), child.stderr.read()
    peak = usage.ru_maxrss / 1024
    if os.waitstatus_to_exitcode(status) != 0:
        raised = [line for line in err.splitlines() if re.match(r"[\w.]+(Error|Exception)\b", line)]
        return f"raised {(raised or ['?'])[-1].split(':')[0]}", seconds, peak
    return out.strip()[:70], seconds, peak


if __name__ == "__main__":
    sys.exit(main())
