"""The dashboard's front end (its parts, concatenated as dashboard.py does) on its own in headless Chromium, with a
fake model: full syncs, ``rows_patch`` messages (only the patched rows are touched), grouping by app, rows coming
and going, the view's own changes kept across a relayout, and the meters going still (no endless redraws, no peak
hold on a paused row)."""

from __future__ import annotations

import json
import time

import pytest

from .jupyter import CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser
ORIGIN = "http://audiolab.test"

PAGE = """<!doctype html><html><body><div id="host" style="width:1200px"></div><script type="module">
import widget from "/dashboard.js";
class FakeModel {
  constructor(state) { this.state = state; this.handlers = {}; this.sent = []; }
  get(key) { return this.state[key]; }
  set(key, value) { this.state[key] = value; }
  save_changes() {}
  send(content) { this.sent.push(content); }
  on(name, fn) { (this.handlers[name] ||= []).push(fn); }
  off(name, fn) { this.handlers[name] = (this.handlers[name] || []).filter((f) => f !== fn); }
  emit(name, ...args) { for (const fn of this.handlers[name] || []) fn(...args); }
  update(changes) { Object.assign(this.state, changes); for (const k of Object.keys(changes)) this.emit(`change:${k}`); }
}
window.makeDashboard = (state) => {
  const model = new FakeModel(state);
  widget.render({ model, el: document.getElementById("host") });
  window.model = model;
};
window.ready = true;
</script></body></html>"""


def row(sid: str, app: str, volume: float = 1.0, **extra: object) -> dict[str, object]:
    return {"id": sid, "app": app, "name": app, "role": "music", "flow": "render", "device": "speakers",
            "state": "active", "volume": volume, "muted": False, "focus": "", "focus_kind": "", "gain": 1.0,
            "system": False, **extra}


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    from audiolab.widgets.dashboard import _dashboard_esm

    js = _dashboard_esm()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=require_chromium(), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})

            def serve(route):
                if route.request.url.endswith("/dashboard.js"):
                    route.fulfill(body=js, content_type="text/javascript")
                else:
                    route.fulfill(body=PAGE, content_type="text/html")

            page.route(f"{ORIGIN}/**", serve)
            yield page
        finally:
            browser.close()


def render(page, rows: dict[str, dict[str, object]], order: list[str], grouped: bool = False) -> None:
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("() => window.ready")
    state = {"rows": rows, "order": order, "group_by_app": grouped, "peaks": None, "metering": False,
             "title": "Audio sessions", "backend": "sim", "visible": False, "fps": 30}
    page.evaluate(f"() => makeDashboard({json.dumps(state)})")


def patch(page, rows: dict[str, dict[str, object]], removed: list[str] = ()) -> None:
    content = {"kind": "rows_patch", "rows": rows, "removed": list(removed)}
    page.evaluate(f"() => model.emit('msg:custom', {json.dumps(content)}, [])")


def update(page, **changes: object) -> None:
    page.evaluate(f"() => model.update({json.dumps(changes)})")


def shown(page) -> list[tuple[str, str]]:
    """(kind, text) of the body's children in order: group headers and session rows."""
    return page.evaluate("""() => [...document.querySelector('.al-body').children].map(e =>
        e.classList.contains('al-group')
          ? ['group', e.querySelector('.al-group-name').textContent + ' ' + e.querySelector('.al-group-count')
              .textContent + ' ' + e.querySelector('.al-group-slider').value]
          : ['row', e.dataset.sessionId + ' ' + e.querySelector('.al-pct').textContent])""")


def test_patches_touch_only_their_rows_and_grouping_follows(page):
    rows = {"a1": row("a1", "Browser"), "b": row("b", "Music"), "a2": row("a2", "Browser", 0.5)}
    render(page, rows, ["a1", "b", "a2"])
    assert page.evaluate("() => model.sent") == [{"kind": "hello"}]
    assert shown(page) == [["row", "a1 100%"], ["row", "b 100%"], ["row", "a2 50%"]]
    page.evaluate("() => document.querySelectorAll('.al-session').forEach(e => { e.dataset.mark = 'kept'; })")

    patch(page, {"b": row("b", "Music", 0.3, focus="paused by Phone", focus_kind="paused")})
    assert shown(page) == [["row", "a1 100%"], ["row", "b 30%"], ["row", "a2 50%"]]
    assert page.locator(".al-session[data-session-id='b'] .al-focus-text").text_content() == "paused by Phone"
    assert page.locator(".al-session[data-mark='kept']").count() == 3  # same elements, updated in place

    update(page, group_by_app=True, order=["a1", "a2", "b"])
    assert shown(page) == [["group", "Browser 2 sessions 75"], ["row", "a1 100%"], ["row", "a2 50%"],
                           ["group", "Music 1 session 30"], ["row", "b 30%"]]
    patch(page, {"a2": row("a2", "Browser", 0.9)})  # the group's average follows
    assert shown(page)[0] == ["group", "Browser 2 sessions 95"]

    # A new row: patched first, drawn once `order` lists it.
    patch(page, {"a3": row("a3", "Browser", 0.2)})
    assert len(shown(page)) == 5
    update(page, order=["a1", "a2", "a3", "b"])
    assert shown(page) == [["group", "Browser 3 sessions 70"], ["row", "a1 100%"], ["row", "a2 90%"],
                           ["row", "a3 20%"], ["group", "Music 1 session 30"], ["row", "b 30%"]]

    # A removed row goes, and its group with it when it was the last.
    patch(page, {}, removed=["b"])
    update(page, order=["a1", "a2", "a3"])
    assert shown(page) == [["group", "Browser 3 sessions 70"], ["row", "a1 100%"], ["row", "a2 90%"],
                           ["row", "a3 20%"]]
    assert page.locator(".al-dash").get_attribute("data-rows") == "3"

    # A full sync replaces whatever the patches built.
    update(page, rows={"z": row("z", "Zed", 0.4)}, order=["z"])
    assert shown(page) == [["group", "Zed 1 session 40"], ["row", "z 40%"]]


def test_a_change_made_in_the_view_survives_grouping_and_the_group_slider_sets_its_rows(page):
    render(page, {"m": row("m", "Music"), "v": row("v", "Video", 0.5)}, ["m", "v"])
    page.locator(".al-session[data-session-id='m'] .al-slider").fill("25")
    page.locator(".al-session[data-session-id='m'] .al-mute").click()
    time.sleep(0.8)  # past the view's quiet time after a local change: what it shows now comes from its rows
    muted = ".al-session[data-session-id='m'].al-muted"
    update(page, group_by_app=True)
    assert shown(page) == [["group", "Music 1 session 25"], ["row", "m 25%"], ["group", "Video 1 session 50"],
                           ["row", "v 50%"]]
    assert page.locator(muted).count() == 1
    update(page, group_by_app=False)
    assert shown(page) == [["row", "m 25%"], ["row", "v 50%"]] and page.locator(muted).count() == 1
    update(page, group_by_app=True)
    page.locator(".al-group-slider").first.fill("60")
    time.sleep(0.8)
    update(page, group_by_app=False)
    assert shown(page) == [["row", "m 60%"], ["row", "v 50%"]]
    sent = page.evaluate("() => model.sent")
    assert {"kind": "mute", "id": "m", "value": True} in sent
    assert {"kind": "group_volume", "app": "Music", "value": 0.6} in sent


FRAME_JS = """(peak) => {
  model.state.metering = true; model.emit('change:metering');
  model.state.peaks = new Float32Array([peak]).buffer; model.emit('change:peaks');
}"""


def lit_pixels(page) -> int:
    """Opaque bright pixels of the first meter: its bar and its peak-hold tick."""
    return page.evaluate("""() => {
      const c = document.querySelector('.al-canvas');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let bright = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 200 && data[i] + data[i + 1] + data[i + 2] > 300) bright++;
      return bright;
    }""")


def draws(page) -> int:
    return int(page.locator(".al-dash").get_attribute("data-draws") or 0)


def test_redraws_stop_when_the_meters_are_still_and_a_paused_row_drops_its_hold(page):
    render(page, {"m": row("m", "Music")}, ["m"])
    page.evaluate(FRAME_JS, 0.5)
    page.evaluate(FRAME_JS, 0.0)  # silence: the level falls, the hold waits 1.5 s, then falls below the floor
    time.sleep(4.5)
    before = draws(page)
    time.sleep(0.5)
    assert draws(page) == before  # nothing falls any more: no redraws (a hold used to fall for ever)
    assert page.locator(".al-dash").get_attribute("data-fps") == "0"
    assert page.locator(".al-live").get_attribute("title").startswith("0 meter frames")

    page.evaluate(FRAME_JS, 0.5)
    time.sleep(0.2)
    assert lit_pixels(page) > 0  # the bar (the check below sees what is drawn)
    patch(page, {"m": row("m", "Music", state="inactive", focus="paused by Phone", focus_kind="paused")})
    page.evaluate(FRAME_JS, 0.0)
    time.sleep(0.3)
    before = draws(page)
    time.sleep(0.5)
    assert draws(page) == before  # the paused row's level and hold went at once
    assert lit_pixels(page) == 0  # no bar and no peak-hold tick on the paused row


def test_the_teaching_bar_a_rows_stop_button_and_pinning_send_what_the_kernel_expects(page):
    page.goto(f"{ORIGIN}/")
    page.wait_for_function("() => window.ready")
    # A notebook's scroller around the view: where a pinned dashboard docks.
    page.evaluate("""() => { const nb = document.createElement('div'); nb.className = 'jp-Notebook';
      document.body.appendChild(nb); nb.appendChild(document.getElementById('host')); }""")
    state = {"rows": {"m": row("m", "Music", stoppable=True, focus="playing", why="nothing else plays",
                               focus_kind="playing")},
             "order": ["m"], "group_by_app": False, "peaks": None, "metering": False, "title": "Audio sessions",
             "backend": "sim", "visible": False, "fps": 30, "controls": True, "pinned": True, "policy": "android",
             "ducking": "", "status": "Started Music", "status_error": False,
             "choices": {"roles": [["music", "Music"], ["alarm", "Alarm"]], "policies": ["android", "windows"]}}
    page.evaluate(f"() => makeDashboard({json.dumps(state)})")
    page.wait_for_selector(".jp-Notebook > .al-pin-dock > .al-dash.al-pinned")
    assert page.locator("#host > .al-pinned-here").count() == 1
    assert page.locator(".al-status").text_content() == "Started Music"

    page.locator(".al-teach-role").select_option("alarm")
    page.locator(".al-teach-app").fill("Clock")
    page.locator(".al-teach-hz").fill("880")
    page.locator(".al-teach-start").click()
    page.locator(".al-teach-policy").select_option("windows")
    page.locator(".al-teach-reset").click()
    page.locator(".al-session[data-session-id='m'] .al-stop").click()
    page.locator(".al-session[data-session-id='m'] .al-focus").click()
    assert "al-why-open" in page.locator(".al-session[data-session-id='m'] .al-focus").get_attribute("class")
    assert page.evaluate("() => model.sent") == [
        {"kind": "hello"},
        {"kind": "teach", "do": "start", "role": "alarm", "app": "Clock", "hz": 880, "beeps": True},
        {"kind": "teach", "do": "policy", "policy": "windows", "ducking": "mute"},
        {"kind": "teach", "do": "reset"},
        {"kind": "teach", "do": "stop", "id": "m"},
    ]

    page.locator(".al-pinned-here .al-button").click()  # Unpin
    assert page.evaluate("() => model.state.pinned") is False
    update(page, pinned=False)
    assert page.locator("#host > .al-dash:not(.al-pinned)").count() == 1
    assert page.locator(".al-pin-dock, .al-pinned-here").count() == 0
