"""The classroom dashboard in a real JupyterLab 4 at 1280x720 with the file browser open, driven by Debian's
headless Chromium: a notebook pins the dashboard with its teaching controls, then a long story runs below it.

Checked from the page: the pinned dashboard stays in the viewport while a later cell runs (the notebook scrolled
to that cell); no column is clipped; the role "voice communication" is whole; after changes made in the kernel
and in the browser, the grouped view (and back) shows the session's values; a denied session is a row with its
reason; switching the policy from the dashboard re-evaluates the music's focus. Screenshots go to
artifacts/browser/classroom-*.png (gitignored).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import nbformat
import pytest

from .jupyter import ARTIFACTS, LabServer, chromium_page, jupyter_lab, require_chromium

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "browser"
NOTEBOOK = "classroom-check.ipynb"
OUTPUTS_JS = "() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent)"
PINNED = ".al-pin-dock .al-dash"
MUSIC = ".al-pin-dock .al-session[data-session-id^='Music']"

CELLS = [
    "from audiolab import FocusDeniedError, Role\n"
    "from audiolab.tones import sine\n"
    "from audiolab.widgets import SessionDashboard, start_lab\n"
    "lab = await start_lab(policy='harmonyos')",
    "dash = SessionDashboard(lab, controls=True).pin()\ndash",
    # the kernel changes the music: the view must show 25 % and muted, also once grouped
    "music = await lab.play(sine(440, 0.5), role=Role.MUSIC, app='Music')\n"
    "await lab.set_volume(music.session_id, 0.25)\n"
    "await lab.set_mute(music.session_id, True)\n"
    "call = await lab.play(sine(350, 0.5), role=Role.VOICE_COMMUNICATION, app='Phone')\n"
    "try:\n"
    "    await lab.play(sine(880, 0.5), role=Role.ASSISTANT, app='Assistant')\n"
    "except FocusDeniedError as exc:\n"
    "    print('assistant denied:', exc.why.label)",
    *[f"# a story cell, long enough to push the dashboard's cell out of view\nprint('\\n'.join(['line {i}'] * 12))"
      for i in range(12)],
    "import asyncio\nprint('story running')\nawait asyncio.sleep(6)\nprint('story done')",
]


def write_notebook(folder) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "audiolab venv", "language": "python"}
    nbformat.write(nb, str(folder / NOTEBOOK))


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LabServer]:
    require_chromium()
    root = tmp_path_factory.mktemp("classroom-lab")
    with jupyter_lab(root) as lab_server:
        write_notebook(root / "notebooks")
        yield lab_server


@pytest.fixture(scope="module")
def page(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(1280, 720) as page:
        yield page


def wait_for_output(page, pattern: str, timeout: float = 90.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for text in page.evaluate(OUTPUTS_JS):
            found = re.search(pattern, text)
            if found:
                return found
        time.sleep(0.2)
    page.screenshot(path=str(SHOTS / "classroom-timeout.png"))
    raise AssertionError(f"no output matching {pattern!r} after {timeout} s; outputs: {page.evaluate(OUTPUTS_JS)}")


def in_viewport(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + 40 <= size["height"] and box["x"] >= 0 \
        and box["x"] + box["width"] <= size["width"]


CLIPPED_JS = """(selector) => {
  const dash = document.querySelector(selector);
  const right = dash.getBoundingClientRect().right;
  const out = [];
  if (dash.scrollWidth > dash.clientWidth + 1) out.push(`the card scrolls: ${dash.scrollWidth} > ${dash.clientWidth}`);
  for (const cell of dash.querySelectorAll('.al-head .al-cell, .al-session .al-cell, .al-chip, .al-toggle')) {
    const box = cell.getBoundingClientRect();
    if (box.width && box.right > right + 1) out.push(`${cell.className} ends at ${box.right} > ${right}`);
  }
  for (const cell of dash.querySelectorAll('.al-session .al-volume, .al-session .al-meter, .al-session .al-state')) {
    if (cell.scrollWidth > cell.clientWidth + 1) out.push(`${cell.className} cut: ${cell.scrollWidth} > ${cell.clientWidth}`);
  }
  for (const chip of dash.querySelectorAll('.al-chip')) {
    if (chip.scrollWidth > chip.clientWidth + 1) out.push(`role chip cut: ${chip.textContent}`);
  }
  return out;
}"""


def music_shows(page) -> tuple[str, bool]:
    row = page.locator(MUSIC)
    return row.locator(".al-pct").text_content(), "al-muted" in (row.get_attribute("class") or "")


def test_classroom_dashboard_in_jupyterlab(server, page):
    page.goto(server.page(NOTEBOOK))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')")
    assert page.locator(".jp-FileBrowser").is_visible()  # the file browser is open beside the notebook
    time.sleep(1.0)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()

    # A later cell runs: the notebook is scrolled down to it, and the pinned dashboard is still in view.
    wait_for_output(page, r"story running")
    page.locator(".jp-CodeCell").last.evaluate("cell => cell.scrollIntoView({block: 'end'})")
    time.sleep(0.5)
    assert page.evaluate("() => document.querySelector('.jp-WindowedPanel-outer').scrollTop") > 500
    assert in_viewport(page, PINNED)
    assert page.locator(".jp-CodeCell").last.locator(".jp-InputArea").is_visible()
    assert page.locator(".al-pinned-here").count() == 1  # the cell says where its dashboard went
    # on screen, so the kernel sends meter frames: the phone's steady tone lights its meter
    page.wait_for_selector(".al-pin-dock .al-live.al-on", timeout=10_000)
    page.screenshot(path=str(SHOTS / "classroom-pinned-while-running.png"))
    wait_for_output(page, r"story done", timeout=30)
    assert in_viewport(page, PINNED)

    # No column clipped at 1280x720 with the file browser open; "voice communication" whole.
    assert page.evaluate(CLIPPED_JS, PINNED) == []
    roles = page.locator(f"{PINNED} .al-chip").all_text_contents()
    assert "voice communication" in roles

    # A denied session is a row, with its reason.
    wait_for_output(page, r"assistant denied")
    denied = page.locator(".al-pin-dock .al-session[data-state='denied']")
    assert denied.count() == 1
    assert denied.locator(".al-badge").text_content() == "Denied"
    assert denied.locator(".al-focus-text").text_content() == "focus denied by Phone"
    assert denied.locator(".al-focus-why").text_content().startswith("why: HarmonyOS interrupt table:")

    # The grouped view after changes: the kernel set 25 % and muted, then the browser sets 40 % and unmutes.
    assert music_shows(page) == ("25%", True)
    group = page.locator(".al-pin-dock .al-toggle", has_text="Group by app").locator("input")
    group.check()
    page.wait_for_selector(".al-pin-dock .al-group")
    assert music_shows(page) == ("25%", True)
    page.locator(f"{MUSIC} .al-slider").fill("40")
    page.locator(f"{MUSIC} .al-mute").click()
    time.sleep(1.0)  # past the view's quiet time after a local change
    group.uncheck()
    page.wait_for_selector(".al-pin-dock .al-group", state="detached")
    assert music_shows(page) == ("40%", False)
    group.check()
    page.wait_for_selector(".al-pin-dock .al-group")
    assert music_shows(page) == ("40%", False)
    group.uncheck()
    assert page.evaluate(CLIPPED_JS, PINNED) == []

    # The policy switch from the dashboard: the call paused the music under HarmonyOS; under Windows ("Mute all
    # other sounds") the music plays again, ducked to 0 % by the call, and the reason says so.
    focus = page.locator(f"{MUSIC} .al-focus-text")
    assert focus.text_content() == "paused by Phone"
    page.locator(".al-pin-dock .al-teach-policy").select_option("windows")
    page.wait_for_function("() => !document.querySelector('.al-pin-dock .al-teach-ducking').hidden")
    page.locator(".al-pin-dock .al-teach-ducking").select_option("mute")
    page.wait_for_function(f"() => document.querySelector(\"{MUSIC} .al-focus-text\").textContent"
                           ".startsWith('ducked to 0%')")
    assert page.locator(f"{MUSIC} .al-badge").text_content() == "Active"
    assert page.locator(f"{MUSIC} .al-focus-why").text_content().startswith("why: Windows ducks other sounds")
    assert "re-evaluated" in page.locator(".al-pin-dock .al-status").text_content()

    # Projector mode: large type, still nothing clipped.
    page.locator(".al-pin-dock .al-toggle", has_text="Large type").locator("input").check()
    page.wait_for_selector(".al-pin-dock .al-dash.al-projector")
    time.sleep(0.3)
    page.screenshot(path=str(SHOTS / "classroom-projector.png"))
    assert page.evaluate(CLIPPED_JS, PINNED) == []
