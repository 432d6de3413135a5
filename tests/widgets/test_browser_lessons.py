"""A new lesson in a real JupyterLab (headless Chromium through Playwright): Run All Cells on the Windows
ducking lesson, then the dashboard shows its sessions with the focus column, and every cell printed what it
prints under nbclient. The picture goes to artifacts/browser/lesson-04.png (gitignored)."""

from __future__ import annotations

import pytest

from .test_browser import SHOTS, page, server, wait_for_output  # noqa: F401 - the fixtures are used by name

pytestmark = pytest.mark.browser


def test_windows_ducking_lesson_in_jupyterlab(server, page):  # noqa: F811 - the imported fixtures
    page.goto(server.page("04-windows-ducking.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')")
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    dash = page.locator(".al-dash")
    dash.wait_for()

    wait_for_output(page, r"nothing\s+music at 1\.00", timeout=90)
    wait_for_output(page, r"music 0\.50, podcast \(opted out\) 1\.00", timeout=60)
    wait_for_output(page, r"the service says 7\.", timeout=60)
    # the calls' sessions ended with their tones; the music and the podcast still play
    assert dash.get_attribute("data-rows") == "3"
    names = page.locator(".al-session .al-display").all_text_contents()
    assert names == ["System Sounds", "Music", "Podcasts"]
    dash.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "lesson-04.png"))
