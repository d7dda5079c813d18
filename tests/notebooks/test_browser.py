"""A real browser: the JupyterLab that `make lab` starts (with the learner's configuration,
jupyter/), Debian's headless Chromium driven by Playwright. What a learner sees first: lesson 00,
the course's name as the page title, no nbgrader instructor tools, no Jupyter news pop-up. Then
lab 1's notebook, its grading cell, and the report table it must show.

The screenshots are kept in build/test-artifacts/ (printed at the end of each test).
"""
from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.notebooks.tidy import REPO

CHROMIUM = Path("/usr/bin/chromium")
# The course's kubectl sits next to this Python (in .venv/bin), whatever PATH says.
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or "kubectl"
ARTIFACTS = REPO / "build" / "test-artifacts"
# What works for Chromium here (no sandbox as root, no GPU, nothing fetched from outside).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LAB = "lab1"
NOTEBOOK = REPO / "labs" / LAB / f"{LAB}.ipynb"
# JupyterLab settings for the test: never save the notebook (it must stay in committed form).
# Nothing else: the rest is the learner's configuration that `make lab` brings (jupyter/).
SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}
FIRST_LESSON = "course/00-what-is-a-pod.ipynb"
TITLE = "Kubernetes pods course"
NEWS_POPUP = "Would you like to get notified about official Jupyter news?"

pytestmark = [pytest.mark.browser, pytest.mark.cluster]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture
def jupyterlab(tmp_path):
    """`make lab` with a port, a token and settings of its own; yields the base URL and token."""
    config = tmp_path / "jupyter-config"
    for name, values in SETTINGS.items():
        path = config / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime")}
    args = f"--port={port} --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    server = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=REPO,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=read_lines, args=(server.stdout, lines), daemon=True).start()
    log = []
    deadline = time.monotonic() + 120
    try:
        while True:  # JupyterLab prints its URL once it serves
            try:
                line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail("JupyterLab did not start within 120 s:\n" + "".join(log))
            if line is None:
                pytest.fail("`make lab` ended:\n" + "".join(log))
            log.append(line)
            if f"127.0.0.1:{port}/lab" in line:
                break
        yield f"http://127.0.0.1:{port}", token
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make chromium` as root, "
                    "or apt-get install chromium)", pytrace=False)


def test_learner_lab_opens_lesson_00_without_news_or_instructor_tools(jupyterlab):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyterlab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "browser-learner-lab.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/?token={token}")  # the server's root sends to the default URL
            expect(page).to_have_url(re.compile(rf"/lab/tree/{re.escape(FIRST_LESSON)}$"),
                                     timeout=60_000)
            notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            expect(notebook.locator(".jp-Notebook")).to_be_visible(timeout=60_000)
            expect(page.locator(".lm-DockPanel-tabBar .lm-mod-current .lm-TabBar-tabLabel")
                   ).to_have_text(Path(FIRST_LESSON).name)
            expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
                   ).to_have_count(1, timeout=60_000)
            # JupyterLab shortens the notebook's name: "00-what-is-a… - Kubernetes pods course".
            expect(page).to_have_title(re.compile(rf"^00-what-is-a\S* - {TITLE}$"))
            # The news pop-up comes as soon as the layout is restored, before the kernel is idle;
            # give it a few seconds more before saying it is absent.
            page.wait_for_timeout(5_000)
            assert page.get_by_text(NEWS_POPUP).count() == 0, "the Jupyter news pop-up is shown"
            menus = [m.strip() for m in page.locator(".lm-MenuBar-itemLabel").all_inner_texts()]
            assert "Run" in menus and "Nbgrader" not in menus, menus
            sidebar = page.locator(".jp-SideBar.jp-mod-right .lm-TabBar-tab").evaluate_all(
                "tabs => tabs.map(tab => tab.title)")
            assert "Property Inspector" in sidebar and not any(
                "Assignment" in tab for tab in sidebar), sidebar
            assert notebook.locator(".validate-button").count() == 0, "nbgrader's Validate button"
            # nbgrader's server side is off too: no formgrader behind the menus.
            assert page.request.get(f"{base}/formgrader?token={token}").status == 404
        finally:
            page.screenshot(path=str(screenshot), full_page=False)
            browser.close()
    print(f"screenshot: {screenshot}")


def test_lab_notebook_grading_cell_shows_the_report_table(jupyterlab):
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, token = jupyterlab
    committed = NOTEBOOK.read_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"browser-{LAB}-report.png"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                 args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                page.goto(f"{base}/lab/tree/labs/{LAB}/{LAB}.ipynb?token={token}")
                notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
                expect(notebook).to_be_visible(timeout=60_000)
                expect(page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
                       ).to_have_count(1, timeout=60_000)
                # Select the grading cell, run everything above it, then the cell itself.
                grading = notebook.locator(".jp-CodeCell", has_text=f'grade("{LAB}"')
                expect(grading).to_have_count(1)
                grading.locator(".jp-InputPrompt").click()
                run_menu(page, "Run All Above Selected Cell")
                run_menu(page, "Run Selected Cell")
                report = grading.locator(".jp-OutputArea .pods-course-report")
                expect(report).to_be_visible(timeout=120_000)
                report.scroll_into_view_if_needed()
                table = report.locator("table")
                expect(table).to_be_visible()
                headers = [h.strip().lower() for h in table.locator("th").all_inner_texts()]
                assert headers == ["status", "check", "points", "details"], headers
                statuses = [s.strip() for s in table.locator("tbody tr td:first-child").all_inner_texts()]
                # The untouched starter: two checks fail (label, port), serves-page waits for port
                # (blocked), the others pass.
                assert len(statuses) == 8 and set(statuses) == {"PASS", "FAIL", "BLOCKED"}, statuses
                assert re.search(r"score 5/8", report.locator("h4").inner_text()), \
                    report.locator("h4").inner_text()
            finally:
                page.screenshot(path=str(screenshot), full_page=False)
                browser.close()
        print(f"screenshot: {screenshot}")
    finally:
        subprocess.run([KUBECTL, "delete", "namespace", LAB, "--ignore-not-found", "--wait=true"],
                       capture_output=True, timeout=120, check=False)
        if NOTEBOOK.read_text() != committed:  # never leave a notebook saved with outputs
            NOTEBOOK.write_text(committed)
            pytest.fail(f"JupyterLab saved {NOTEBOOK.relative_to(REPO)} during the test")


def run_menu(page, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")).click()
