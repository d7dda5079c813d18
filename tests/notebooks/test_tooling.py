"""The notebook tests' own machinery: the committed form (tidy.py), the strict test kernel
(kernel.py) and the sanitize file nbval applies to checked outputs."""
from __future__ import annotations

import os
import re

import nbformat
import pytest

from tests.notebooks import kernel, tidy

SANITIZE = tidy.REPO / "tests" / "notebooks" / "sanitize.cfg"


def notebook_with_outputs() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    plain = nbformat.v4.new_code_cell("!kubectl get pods", execution_count=3, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="NAME  READY\n")])
    plain.metadata = {"scrolled": True, "execution": {"iopub.status.busy": "2026-01-01"}}
    checked = nbformat.v4.new_code_cell("!echo checked", execution_count=7, outputs=[
        nbformat.v4.new_output("stream", name="stdout", text="che"),
        nbformat.v4.new_output("stream", name="stdout", text="cked\n")])
    checked.metadata = {"tags": [tidy.CHECKED]}
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 — A title"), plain, checked]
    nb.metadata = {"widgets": {}, "kernelspec": {"name": "other"}}
    return nb


def test_committed_form_clears_outputs_but_keeps_checked_ones_numbered():
    path = tidy.lessons()[1]
    nb = tidy.committed_form(notebook_with_outputs(), path)
    plain, checked, nav = nb.cells[1], nb.cells[2], nb.cells[-1]
    assert plain.outputs == [] and plain.execution_count is None and plain.metadata == {}
    assert checked.execution_count == 1
    assert [o.text for o in checked.outputs] == ["checked\n"], "stream chunks joined, as nbval does"
    assert nb.metadata == tidy.METADATA
    assert nav.metadata.tags == [tidy.NAV] and "Next:" in nav.source and "Previous:" in nav.source


def test_committed_form_is_stable():
    path = tidy.lessons()[1]
    once = tidy.committed_form(notebook_with_outputs(), path)
    twice = tidy.committed_form(nbformat.reads(nbformat.writes(once), as_version=4), path)
    assert nbformat.writes(once) == nbformat.writes(twice)


def test_the_test_kernel_fails_a_cell_whose_command_fails(tmp_path):
    """Without this, `!kubectl ...` failing would print an error and the notebook test pass."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    env = {**os.environ, **kernel.prepare(tmp_path / "ipython")}
    cases = {"!false": True, "%%bash\nfalse\necho the next line runs": True,
             "!false || echo expected": False, "%%bash\nfalse || echo expected": False}
    nb = nbformat.v4.new_notebook()
    for source, fails in cases.items():
        nb.cells = [nbformat.v4.new_code_cell(source)]
        client = NotebookClient(nb, timeout=60, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}})
        if fails:
            with pytest.raises(CellExecutionError):
                client.execute(env=env)
        else:
            client.execute(env=env)


def test_sanitize_file_masks_ages_ips_generated_names_and_nodes():
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns(SANITIZE.read_text())

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    first = "web-7b8c57c6d6-kb6r2   1/1   Running   0   12s   10.0.0.22   course-worker-1"
    second = "web-55bc9c454c-v9s59   1/1   Running   0   3m4s   10.0.0.9   course-worker-2"
    assert sanitize(first) == sanitize(second)
    assert "phase=Succeeded reason=Completed exitCode=0" == \
        sanitize("phase=Succeeded reason=Completed exitCode=0"), "leaves plain facts alone"
