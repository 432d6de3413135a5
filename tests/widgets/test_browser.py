"""The tour notebook in a real JupyterLab, driven by Debian's headless Chromium through Playwright.

Run All Cells from the menu; then: the pinned dashboard is in view while a later cell runs, it shows the
sessions, its meters move (two screenshots of the music meter differ), and dragging the music slider changes the
volume in the kernel (the last cell, run again, prints the kernel's value). Screenshots go to artifacts/browser/ (gitignored).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from .jupyter import ARTIFACTS, LabServer, chromium_page, jupyter_lab, require_chromium
from .test_classroom_browser import PINNED, in_viewport

pytestmark = pytest.mark.browser
SHOTS = ARTIFACTS / "browser"
OUTPUTS_JS = "() => [...document.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent)"
MUSIC_FOCUS = ".al-session[data-session-id^='Music'] .al-focus-text"
MUSIC_WHY = ".al-session[data-session-id^='Music'] .al-focus-why"
# Records every text the music row's focus cell shows, as the page shows it: the dashboard sets the cell's
# textContent on each update (a new text node each time), so a MutationObserver sees each value even when the
# browser is too slow to paint it. The navigation prompt ducks the music for only 2.5 s, so the test checks this
# history afterwards instead of racing to read the cell while the prompt plays.
RECORD_MUSIC_FOCUS_JS = """([selector, name]) => {
  const seen = window[name] = [];
  const note = (text) => { if (seen[seen.length - 1] !== text) seen.push(text); };
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeType === Node.TEXT_NODE) {
          if (node.parentElement?.matches(selector)) note(node.data);
        } else if (node.nodeType === Node.ELEMENT_NODE) {
          if (node.matches(selector)) note(node.textContent);
          else node.querySelectorAll(selector).forEach((e) => note(e.textContent));
        }
      }
    }
  }).observe(document.body, {childList: true, subtree: true});
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LabServer]:
    require_chromium()
    with jupyter_lab(tmp_path_factory.mktemp("jupyterlab")) as lab_server:
        yield lab_server


@pytest.fixture(scope="module")
def page(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(1500, 1000) as page:
        yield page


def kernel_line(page, pattern: str) -> re.Match[str] | None:
    for text in page.evaluate(OUTPUTS_JS):
        found = re.search(pattern, text)
        if found:
            return found
    return None


def wait_for_output(page, pattern: str, timeout: float = 60.0) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = kernel_line(page, pattern)
        if found:
            return found
        time.sleep(0.2)
    page.screenshot(path=str(SHOTS / "timeout.png"))
    raise AssertionError(f"no output matching {pattern!r} after {timeout} s; outputs: {page.evaluate(OUTPUTS_JS)}")


def test_tour_in_jupyterlab(server, page):
    started = time.monotonic()
    page.goto(server.page("01-tour.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
    page.wait_for_function(
        "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')")
    time.sleep(1.0)  # let the kernel's websocket settle before executing
    page.evaluate(RECORD_MUSIC_FOCUS_JS, [MUSIC_FOCUS, "alMusicFocus"])
    page.evaluate(RECORD_MUSIC_FOCUS_JS, [MUSIC_WHY, "alMusicWhy"])

    # Run -> Run All Cells, through the menu as a person would.
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    dash = page.locator(".al-dash")
    dash.wait_for()

    # While the navigation prompt plays, the music row says it is ducked and by whom (a picture of it, when the
    # page is quick enough; what is checked is the recorded history, below).
    page.wait_for_function("() => window.alMusicFocus.some(text => text.startsWith('ducked to 20%'))",
                           timeout=60_000)
    dash.scroll_into_view_if_needed()
    time.sleep(0.4)  # the meters draw only while visible: give them a few frames for the picture (not checked)
    dash.screenshot(path=str(SHOTS / "dashboard-ducked.png"))

    # The tour pins its dashboard: while the call's cell runs, with the notebook scrolled down to that cell,
    # the dashboard is in the viewport, and its own cell says where it went.
    wait_for_output(page, r"music: paused by Phone")
    running = page.locator(".jp-CodeCell", has=page.locator(".jp-OutputArea-output", has_text="music: paused by Phone"))
    running.evaluate("cell => cell.scrollIntoView({block: 'end'})")
    assert running.locator(".jp-InputPrompt").text_content().strip() == "[*]:"  # still running (the call goes on)
    assert in_viewport(page, PINNED)
    assert page.locator(".al-pinned-here").count() == 1
    page.screenshot(path=str(SHOTS / "tour-pinned-while-running.png"))

    wait_for_output(page, r"rows=\d+ music volume=\d\.\d\d", timeout=90)
    assert kernel_line(page, r"rows=4 music volume=0\.80")
    assert kernel_line(page, r"music after the prompt: not ducked")
    assert kernel_line(page, r"music after the call: active")

    # The music row's focus cell, as the page showed it: ducked by Maps, back, paused by Phone, back.
    history = page.evaluate("() => window.alMusicFocus")
    ducked = [i for i, text in enumerate(history) if text.startswith("ducked to 20%")]
    assert ducked and "by Maps" in history[ducked[0]], history
    paused = [i for i, text in enumerate(history) if text.startswith("paused by Phone")]
    assert paused and paused[0] > ducked[-1], history
    assert "\u2014" in history[ducked[-1] + 1:paused[0]], history  # not ducked any more before the call
    assert history[-1] == "\u2014", history  # nothing holds the music after the call
    # ... and under the focus text, the rule behind it (the HarmonyOS interrupt table's entry)
    why = page.evaluate("() => window.alMusicWhy")
    assert any(w.startswith("why: HarmonyOS interrupt table: STREAM_NAVIGATION starting while STREAM_MUSIC") for w in why), why
    assert any("STREAM_VOICE_COMMUNICATION starting while STREAM_MUSIC plays -> PAUSE" in w for w in why), why

    # The dashboard's rows, from the browser's side.
    dash.scroll_into_view_if_needed()
    assert dash.get_attribute("data-rows") == "4"
    names = page.locator(".al-session .al-display").all_text_contents()
    assert names == ["System Sounds", "Music player", "Maps", "Phone"]
    badges = page.locator(".al-session .al-badge").all_text_contents()
    assert badges[1] == "Active" and set(badges) <= {"Active", "Inactive", "Expired"}
    assert page.locator(".al-live.al-on").count() == 1  # the kernel is sending meters: the view is visible

    # The meters move: two screenshots of the music meter differ (the music is a beat, on and off).
    meter = page.locator(".al-session[data-session-id^='Music'] .al-canvas")
    draws_before = int(dash.get_attribute("data-draws") or 0)
    shots = [meter.screenshot(path=str(SHOTS / "meter-a.png"))]
    for _ in range(20):
        time.sleep(0.15)
        shots.append(meter.screenshot(path=str(SHOTS / "meter-b.png")))
        if shots[-1] != shots[0]:
            break
    assert shots[-1] != shots[0], "the music meter did not move in 3 s"
    assert int(dash.get_attribute("data-draws") or 0) > draws_before
    dash.screenshot(path=str(SHOTS / "dashboard.png"))

    # Drag the music slider from 80 % down to about 30 %.
    slider = page.locator(".al-session[data-session-id^='Music'] .al-slider")
    box = slider.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.8, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.8 - 0.05 * step), y)
        time.sleep(0.03)
    page.mouse.up()
    shown = int(page.locator(".al-session[data-session-id^='Music'] .al-pct").text_content().rstrip("%"))
    assert 20 <= shown <= 40
    time.sleep(0.5)
    dash.screenshot(path=str(SHOTS / "dashboard-after-drag.png"))

    # Round trip: run the last cell again; the kernel prints the volume the drag set.
    last = page.locator(".jp-CodeCell").last
    last.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    found = wait_for_output(page, r"rows=\d+ music volume=(?!0\.80)(\d\.\d\d)", timeout=30)
    assert float(found.group(1)) == pytest.approx(shown / 100, abs=0.011)
    page.screenshot(path=str(SHOTS / "jupyterlab.png"))
    print(f"browser test: {time.monotonic() - started:.1f} s in the page")
