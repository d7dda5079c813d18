"""The class report of `grade report` in a real browser: Debian's headless Chromium (driven by
Playwright) opens the HTML file itself (file://) and every plot must have rendered. The class is
the one of tests/recorded_class.py (no cluster needed). The screenshot is kept in
build/test-artifacts/."""
from __future__ import annotations

from pathlib import Path

import pytest

from graders import cli
from tests.notebooks.tidy import REPO
from tests.recorded_class import write_class

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "build" / "test-artifacts"

pytestmark = pytest.mark.browser


def test_the_class_report_shows_its_plots_in_a_browser(tmp_path, capsys):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`make chromium` as root, "
                    "or apt-get install chromium)", pytrace=False)
    from playwright.sync_api import expect, sync_playwright

    store = write_class(tmp_path / "grade-batch.sqlite", tmp_path / "submitted")
    page_file = tmp_path / "class.html"
    assert cli.main(["report", str(store), "--html", str(page_file)]) == 0, capsys.readouterr().err
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "browser-class-report.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        try:
            page.goto(page_file.as_uri())
            expect(page.locator("h1")).to_have_text("Class report: lab1, lab5")
            images = page.locator("img")
            expect(images).to_have_count(6)  # lab1 and lab5: histogram, outcomes, heat map
            drawn = images.evaluate_all(
                "all => all.map(i => [i.id, i.complete, i.naturalWidth, i.naturalHeight])")
            for name, complete, width, height in drawn:
                assert complete and width > 200 and height > 150, (name, width, height)
            assert {name for name, *_ in drawn} == {f"{lab}-{kind}" for lab in ("lab1", "lab5")
                                                   for kind in ("histogram", "outcomes", "heatmap")}
            heatmap = page.locator("#lab5-heatmap")
            heatmap.scroll_into_view_if_needed()
            box = heatmap.bounding_box()
            assert box and box["width"] > 200 and box["height"] > 150, box
            # the table says in words what the plots show
            row = page.locator("#lab5 tr", has_text="burstable-requests").first  # the checks table
            expect(row).to_contain_text("64M")
            expect(row).to_contain_text("40% of the class")
        finally:
            page.screenshot(path=str(screenshot), full_page=True)
            browser.close()
    print(f"screenshot: {screenshot}")
