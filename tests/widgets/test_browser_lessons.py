"""New lessons in a real JupyterLab 4 at 1280x720 with the file browser open (headless Chromium through
Playwright), each with Run All, as a teacher would project them.

- Lesson 2 on real time (its first cell says ``CLOCK = "real"`` watches it at the speed of life): while the cell
  that waits 10 s for a session to expire runs, with the notebook scrolled down to it, the pinned dashboard is in
  the viewport, shows that session going Inactive, then Expired, and no column is clipped.
- Lesson 4: the pinned dashboard shows its sessions, and every cell printed what it prints under nbclient.

The page, the output and viewport helpers are the classroom test's. Pictures go to artifacts/browser/
(gitignored).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import nbformat
import pytest

from .jupyter import NOTEBOOKS, LabServer, jupyter_lab, require_chromium
from .test_classroom_browser import CLIPPED_JS, PINNED, SHOTS, in_viewport, page, wait_for_output  # noqa: F401

pytestmark = pytest.mark.browser
REAL_TIME = "02-sessions-real-time.ipynb"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LabServer]:
    require_chromium()
    root = tmp_path_factory.mktemp("lessons-lab")
    with jupyter_lab(root) as lab_server:
        nb = nbformat.read(NOTEBOOKS / "02-sessions.ipynb", as_version=4)
        setup = next(cell for cell in nb.cells if 'CLOCK = "virtual"' in cell.source)
        setup.source = setup.source.replace('CLOCK = "virtual"', 'CLOCK = "real"')
        nbformat.write(nb, str(root / "notebooks" / REAL_TIME))
        yield lab_server


def run_all(page, server: LabServer, notebook: str) -> None:  # noqa: F811 - the imported fixture's name
    page.goto(server.page(notebook))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')")
    assert page.locator(".jp-FileBrowser").is_visible()  # the file browser is open beside the notebook
    time.sleep(1.0)  # let the kernel's websocket settle before executing
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()


def badge(page, session: str) -> str:  # noqa: F811
    return page.locator(f".al-pin-dock .al-session:has(.al-display:text-is('{session}')) .al-badge").text_content()


def test_sessions_lesson_on_real_time_keeps_its_dashboard_in_view(server, page):  # noqa: F811
    run_all(page, server, REAL_TIME)
    wait_for_output(page, r"-- Player #2 stops")
    # The cell now sleeps 10 s (real time) until the session expires. Scrolled down to that running cell, the
    # class still sees the dashboard, with the session Inactive.
    running = page.locator(".jp-CodeCell", has=page.locator(".jp-OutputArea-output", has_text="-- Player #2 stops"))
    running.evaluate("cell => cell.scrollIntoView({block: 'end'})")
    time.sleep(0.5)
    assert running.locator(".jp-InputPrompt").text_content().strip() == "[*]:"  # it is still running
    assert page.evaluate("() => document.querySelector('.jp-WindowedPanel-outer').scrollTop") > 500
    assert in_viewport(page, PINNED)
    assert running.locator(".jp-InputArea").is_visible()
    assert badge(page, "Player #2") == "Inactive"
    assert page.evaluate(CLIPPED_JS, PINNED) == []
    page.screenshot(path=str(SHOTS / "lesson-02-real-time-pinned.png"))

    wait_for_output(page, r"-- 10 s later", timeout=30)
    page.wait_for_function(  # the expired row lingers a moment, struck through, then goes
        "() => [...document.querySelectorAll('.al-pin-dock .al-badge')].some(b => b.textContent === 'Expired')",
        timeout=10_000)
    assert in_viewport(page, PINNED)
    wait_for_output(page, r"set to 0\.30: \['Game \(window 1\)', 'Game \(window 2\)'\]", timeout=60)
    assert in_viewport(page, PINNED)


def test_windows_ducking_lesson_in_jupyterlab(server, page):  # noqa: F811
    run_all(page, server, "04-windows-ducking.ipynb")
    dash = page.locator(PINNED)
    dash.wait_for()

    wait_for_output(page, r"nothing\s+music at 1\.00", timeout=90)
    wait_for_output(page, r"music 0\.50, podcast \(opted out\) 1\.00", timeout=60)
    wait_for_output(page, r"the service says 7\.", timeout=60)
    # the calls' sessions ended with their tones; the music and the podcast still play (and the dashboard keeps
    # these rows once the lesson's last cell has closed the Lab)
    last = page.locator(".jp-CodeCell").last.locator(".jp-InputPrompt")
    page.wait_for_function("(prompt) => /^\\[\\d+\\]:$/.test(prompt.textContent.trim())", arg=last.element_handle())
    assert dash.get_attribute("data-rows") == "3"
    names = page.locator(f"{PINNED} .al-session .al-display").all_text_contents()
    assert names == ["System Sounds", "Music", "Podcasts"]
    assert in_viewport(page, PINNED)
    page.screenshot(path=str(SHOTS / "lesson-04.png"))
