// audiolab SessionDashboard front end (anywidget ES module).
// Rows come from the `order` trait and the `rows` trait (every row: synced when a view opens), kept up to date
// by `rows_patch` custom messages that carry only the rows that changed ({kind, rows: {id: row}, removed}).
// Every meter is drawn from the one `peaks` message per frame
// (float32 peaks in row order). Drawing and sending stop while no view is on screen: each view reports
// IntersectionObserver + document.hidden, and the model's `visible` is true while any view is visible.
// For a classroom: `pinned` moves the view into a sticky dock at the top of the notebook's scroller (JupyterLab 4),
// `projector` is large type, `controls` shows the teaching bar (its commands go to the kernel as {kind: "teach"}).
// The toolbar is built from a list of items (see `toolbarItems`), so a new toggle is one more entry.

const FLOOR_DB = -60;
const HOLD_MS = 1500;
const HOLD_FALL_DB_PER_S = 24;
const LEVEL_FALL_DB_PER_S = 36;
const REDRAW_MS = 33; // while a hold or level is still falling and no new frame came
const DRAG_QUIET_MS = 700; // ignore kernel volume for a row this long after a local change
const SEND_MS = 33;

const SPEAKER =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 9v6h4l5 4V5L8 9H4z" fill="currentColor"/>' +
  '<path class="al-waves" d="M16 8.5a4.5 4.5 0 0 1 0 7M18.5 6a8 8 0 0 1 0 12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>' +
  '<path class="al-cross" d="M16 9l5 6M21 9l-5 6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';

const registry = new WeakMap(); // model -> Map(view key -> visible)

function toDb(x) {
  return x > 1e-6 ? 20 * Math.log10(x) : -Infinity;
}

function toFrac(db) {
  if (!(db > FLOOR_DB)) return 0;
  return Math.min(1, 1 - db / FLOOR_DB);
}

const METER_TICKS = [-48, -36, -24, -12, 0]; // dBFS, on the meter's dB scale
const SLIDER_TICKS = [-20, -6, 0]; // dB of the volume slider's linear amplitude (0..100 %)

function dbText(x) {
  const db = toDb(x);
  return db === -Infinity ? "-\u221E dB" : `${Math.round(db)} dB`;
}

// A row of dB labels; `place(db)` is the label's position as a fraction of the track.
function scale(cls, ticks, place) {
  const node = h("div", `al-scale ${cls}`);
  for (const db of ticks) {
    const tick = h("span", "al-tick", String(db));
    tick.style.left = `${(place(db) * 100).toFixed(2)}%`;
    node.appendChild(tick);
  }
  return node;
}

function option(value, text) {
  const node = h("option", "", text);
  node.value = value;
  return node;
}

// The scroller of a JupyterLab 4 notebook (or of any other page: none), where a pinned dashboard docks.
function notebookScroller(el) {
  return el.closest(".jp-WindowedPanel-outer") || el.closest(".jp-Notebook") || null;
}

function h(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function readPeaks(value) {
  if (!value) return new Float32Array(0);
  if (value instanceof DataView) {
    return new Float32Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  if (value instanceof ArrayBuffer) return new Float32Array(value.slice(0));
  if (ArrayBuffer.isView(value)) {
    return new Float32Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  }
  return new Float32Array(0);
}

function render({ model, el }) {
  const root = h("div", "al-dash");
  el.appendChild(root);

  // --- toolbar and header ----------------------------------------------------------------------------
  const top = h("div", "al-top");
  const title = h("span", "al-title");
  const count = h("span", "al-count");
  const live = h("span", "al-live");
  const spacer = h("span", "al-spacer");

  function toggleItem(text, trait, hint) {
    const label = h("label", "al-toggle");
    const box = h("input");
    box.type = "checkbox";
    label.title = hint;
    label.append(box, h("span", "", text));
    box.addEventListener("change", () => {
      model.set(trait, box.checked);
      model.save_changes();
    });
    return { node: label, sync: () => (box.checked = !!model.get(trait)), trait };
  }
  const groupToggle = toggleItem("Group by app", "group_by_app", "One group per app, with a volume for the group");
  const toolbarItems = [
    toggleItem("Large type", "projector", "Large type, for a projector"),
    toggleItem("Pin", "pinned", "Keep the dashboard in view at the top of the notebook"),
    toggleItem("Controls", "controls", "Start tones, switch the policy"),
    groupToggle,
  ];
  top.append(title, count, spacer, live, ...toolbarItems.map((item) => item.node));
  const listen = typeof audiolabListen === "undefined" ? null : audiolabListen.mount(model); // listen.js
  if (listen) top.insertBefore(listen.el, live);

  const head = h("div", "al-row al-head");
  const headCells = {};
  for (const [key, name] of [["name", "Session"], ["role", "Role \u00B7 device"], ["state", "State"],
    ["volume", "Volume"], ["meter", "Peak (dBFS)"], ["focus", "Focus"]]) {
    headCells[key] = h("div", `al-cell al-hcell al-h-${key}`);
    headCells[key].style.gridArea = key;
    headCells[key].appendChild(h("div", "", name));
    head.appendChild(headCells[key]);
  }
  headCells.volume.appendChild(scale("al-slider-scale", SLIDER_TICKS, (db) => Math.pow(10, db / 20)));
  headCells.meter.appendChild(scale("al-meter-scale", METER_TICKS, toFrac));
  const body = h("div", "al-body");
  const empty = h("div", "al-empty", "No audio sessions yet.");
  const teach = makeTeachBar();
  root.append(top, teach.node, head, body, empty);

  // --- state ---------------------------------------------------------------------------------------------
  const rowEls = new Map(); // id -> row record
  const groupEls = new Map(); // app -> group header record
  let rows = {}; // id -> row: the `rows` trait, patched by `rows_patch` messages
  let members = new Map(); // app -> ids of its rows, in order (while grouped)
  let order = [];
  let orderSet = new Set();
  let peaks = new Float32Array(0);
  let visible = false;
  let intersecting = false;
  let rafId = 0;
  let timerId = 0;
  let draws = 0;
  let lastDraw = 0;
  const frameTimes = []; // arrival times of the meter frames of the last second
  const pending = new Map(); // id -> volume waiting to be sent
  let sendTimer = 0;
  const viewKey = {};

  function send(content) {
    model.send(content);
  }

  function flushSends() {
    sendTimer = 0;
    for (const [id, value] of pending) send({ kind: "volume", id, value });
    pending.clear();
  }

  function queueVolume(id, value, now) {
    pending.set(id, value);
    if (now) {
      clearTimeout(sendTimer);
      flushSends();
    } else if (!sendTimer) {
      sendTimer = setTimeout(flushSends, SEND_MS);
    }
  }

  // --- rows ----------------------------------------------------------------------------------------------
  function makeRow(id) {
    const r = { id, dragging: false, touched: -Infinity, level: -Infinity, hold: -Infinity, holdAt: 0, drawn: "" };
    r.root = h("div", "al-row al-session");
    r.root.dataset.sessionId = id;
    const nameCell = h("div", "al-cell al-name");
    r.name = h("div", "al-display");
    r.sub = h("div", "al-app");
    nameCell.append(r.name, r.sub);
    r.role = h("div", "al-cell al-role");
    r.roleChip = h("span", "al-chip");
    r.device = h("div", "al-device");
    r.role.append(r.roleChip, r.device);
    r.badgeCell = h("div", "al-cell al-state");
    r.badge = h("span", "al-badge");
    r.stop = h("button", "al-stop", "\u25A0 Stop");
    r.stop.type = "button";
    r.stop.title = "Stop the tone this dashboard started";
    r.stop.addEventListener("click", () => send({ kind: "teach", do: "stop", id }));
    r.badgeCell.append(r.badge, r.stop);

    const vol = h("div", "al-cell al-volume");
    r.mute = h("button", "al-mute");
    r.mute.type = "button";
    r.mute.innerHTML = SPEAKER;
    r.slider = h("input", "al-slider");
    r.slider.type = "range";
    r.slider.min = "0";
    r.slider.max = "100";
    r.slider.step = "1";
    r.pct = h("span", "al-pct");
    vol.append(r.mute, r.slider, r.pct);

    const meterCell = h("div", "al-cell al-meter");
    r.canvas = h("canvas", "al-canvas");
    r.ctx = r.canvas.getContext("2d");
    meterCell.appendChild(r.canvas);
    r.focusCell = h("div", "al-cell al-focus");
    r.focus = h("span", "al-focus-text");
    r.why = h("div", "al-focus-why");
    r.focusCell.append(r.focus, r.why);
    // The rule behind the focus state: one line, the whole sentence on a click (readable on a projector,
    // where nobody hovers for a tooltip).
    r.focusCell.addEventListener("click", () => r.focusCell.classList.toggle("al-why-open"));
    nameCell.classList.add("al-name");
    r.root.append(nameCell, r.role, r.badgeCell, vol, meterCell, r.focusCell);

    r.slider.addEventListener("pointerdown", () => {
      r.dragging = true;
      r.touched = performance.now();
    });
    const release = () => {
      if (r.dragging) {
        r.dragging = false;
        r.touched = performance.now();
      }
    };
    r.slider.addEventListener("pointerup", release);
    r.slider.addEventListener("pointercancel", release);
    r.slider.addEventListener("input", () => {
      r.touched = performance.now();
      const value = Number(r.slider.value) / 100;
      showVolume(r, value);
      setLocal(id, { volume: value });
      queueVolume(id, value, false);
    });
    r.slider.addEventListener("change", () => {
      r.touched = performance.now();
      setLocal(id, { volume: Number(r.slider.value) / 100 });
      queueVolume(id, Number(r.slider.value) / 100, true);
    });
    r.mute.addEventListener("click", () => {
      const muted = !r.root.classList.contains("al-muted");
      r.root.classList.toggle("al-muted", muted);
      r.mute.setAttribute("aria-pressed", String(muted));
      r.touched = performance.now();
      setLocal(id, { muted });
      send({ kind: "mute", id, value: muted });
    });
    return r;
  }

  // What this view changed itself is not echoed back by the kernel: keep the view's copy of the row true, so
  // that a relayout (grouping, a new order) draws what the session is, not what it was.
  function setLocal(id, change) {
    if (rows[id]) rows[id] = { ...rows[id], ...change };
  }

  function showVolume(r, volume) {
    const pct = Math.round(volume * 100);
    r.slider.value = String(pct);
    r.pct.textContent = `${pct}%`;
    r.pct.title = dbText(volume);
    r.slider.title = `${pct}% (${dbText(volume)})`;
  }

  function updateRow(r, row) {
    r.name.textContent = row.name;
    r.sub.textContent = row.app; // always the app, also when it is the name
    r.roleChip.textContent = row.role;
    r.roleChip.dataset.role = row.role;
    r.roleChip.title = row.role;
    r.device.textContent = `${row.flow === "capture" ? "\u25C9" : "\u25B6"} ${row.device}`;
    r.device.title = `${row.flow} on ${row.device}`;
    const state = row.state;
    const ended = state === "expired" || state === "denied";
    r.badge.textContent = { active: "Active", inactive: "Inactive", expired: "Expired", denied: "Denied" }[state] || state;
    r.badge.className = `al-badge al-${state}`;
    r.root.classList.toggle("al-ended", ended);
    r.root.dataset.state = state;
    r.stop.hidden = !row.stoppable;
    const quiet = r.dragging || performance.now() - r.touched < DRAG_QUIET_MS;
    if (!quiet) {
      showVolume(r, row.volume);
      r.root.classList.toggle("al-muted", row.muted);
      r.mute.setAttribute("aria-pressed", String(row.muted));
    }
    r.root.dataset.kernelVolume = String(row.volume);
    r.mute.title = row.muted ? "Unmute" : "Mute";
    r.slider.disabled = ended;
    r.mute.disabled = ended;
    // Silent rows (paused, inactive, ended) drop their level and peak hold at once: nothing plays there.
    r.silent = state !== "active" || row.focus_kind === "paused" || row.focus_kind === "stopped";
    if (r.silent) {
      r.level = r.hold = -Infinity;
      schedule();
    }
    r.focus.textContent = row.focus || "\u2014";
    r.focusCell.dataset.kind = row.focus_kind || "";
    r.focus.className = `al-focus-text ${row.focus_kind ? "al-focus-" + row.focus_kind : "al-focus-none"}`;
    const why = row.focus ? row.why || "" : "";
    r.why.textContent = why ? `why: ${why}` : "";
    r.why.hidden = !why;
    r.focusCell.title = why;
  }

  function makeGroup(app) {
    const g = { app };
    g.root = h("div", "al-group");
    g.label = h("span", "al-group-name", app);
    g.count = h("span", "al-group-count");
    g.slider = h("input", "al-slider al-group-slider");
    g.slider.type = "range";
    g.slider.min = "0";
    g.slider.max = "100";
    g.slider.step = "1";
    g.slider.title = `Volume of every ${app} session`;
    g.slider.addEventListener("change", () => {
      const value = Number(g.slider.value) / 100;
      for (const id of members.get(app) || []) {
        const r = rowEls.get(id);
        if (!rows[id] || !r || rows[id].state === "expired" || rows[id].state === "denied") continue;
        setLocal(id, { volume: value });
        r.touched = performance.now();
        showVolume(r, value);
      }
      send({ kind: "group_volume", app, value });
    });
    g.root.append(g.label, g.count, g.slider);
    return g;
  }

  function updateGroup(app) {
    const g = groupEls.get(app);
    const ids = members.get(app);
    if (!g || !ids || !ids.length) return;
    g.count.textContent = `${ids.length} session${ids.length === 1 ? "" : "s"}`;
    const avg = ids.reduce((acc, other) => acc + rows[other].volume, 0) / ids.length;
    g.slider.value = String(Math.round(avg * 100));
  }

  function syncAll() {
    rows = { ...(model.get("rows") || {}) };
    syncRows();
  }

  // Linear in the number of rows: one pass to group, one to lay out.
  function syncRows() {
    order = model.get("order") || [];
    const grouped = model.get("group_by_app");
    const wanted = [];
    const ids = new Set(order);
    orderSet = ids;
    members = new Map();
    if (grouped) {
      for (const id of order) {
        const row = rows[id];
        if (!row) continue;
        const list = members.get(row.app);
        if (list) list.push(id);
        else members.set(row.app, [id]);
      }
    }
    for (const id of order) {
      const row = rows[id];
      if (!row) continue;
      if (grouped && members.get(row.app)[0] === id) {
        let g = groupEls.get(row.app);
        if (!g) {
          g = makeGroup(row.app);
          groupEls.set(row.app, g);
        }
        updateGroup(row.app);
        wanted.push(g.root);
      }
      let r = rowEls.get(id);
      if (!r) {
        r = makeRow(id);
        rowEls.set(id, r);
      }
      r.root.classList.toggle("al-in-group", grouped);
      updateRow(r, row);
      wanted.push(r.root);
    }
    for (const [id, r] of rowEls) {
      if (!ids.has(id)) {
        r.root.remove();
        rowEls.delete(id);
      }
    }
    for (const [app, g] of groupEls) {
      if (!members.has(app)) {
        g.root.remove();
        groupEls.delete(app);
      }
    }
    wanted.forEach((node, i) => {
      if (body.children[i] !== node) body.insertBefore(node, body.children[i] || null);
    });
    const n = order.length;
    count.textContent = `${n} session${n === 1 ? "" : "s"} \u00B7 ${model.get("backend") || "?"}`;
    empty.style.display = n ? "none" : "";
    root.dataset.rows = String(n);
    groupToggle.sync();
    schedule();
  }

  // Only the rows that changed: O(rows in the patch), plus the group headers they belong to.
  function applyPatch(msg) {
    if (!msg || msg.kind !== "rows_patch") return;
    let relayout = false;
    const apps = new Set();
    for (const id of msg.removed || []) {
      if (rows[id]) relayout = true;
      delete rows[id];
    }
    for (const [id, row] of Object.entries(msg.rows || {})) {
      const old = rows[id];
      rows[id] = row;
      const r = rowEls.get(id);
      if (!r) {
        // Not drawn yet: it is drawn when `order` lists it (or now, when `order` already does).
        if (!relayout && orderSet.has(id)) relayout = true;
        continue;
      }
      if (old && old.app !== row.app) relayout = true;
      updateRow(r, row);
      apps.add(row.app);
    }
    if (relayout) {
      syncRows();
    } else if (model.get("group_by_app")) {
      apps.forEach(updateGroup);
    }
  }

  function syncHeader() {
    title.textContent = model.get("title");
    const on = model.get("metering");
    live.textContent = on ? "\u25CF live" : "\u25CB meters paused";
    live.classList.toggle("al-on", on);
    if (!on) {
      peaks = new Float32Array(0);
      schedule();
    }
  }

  // --- meters ----------------------------------------------------------------------------------------------
  function schedule() {
    if (!rafId && visible) rafId = requestAnimationFrame(draw);
  }

  function paint(r, db, now) {
    const canvas = r.canvas;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const hgt = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== hgt) {
      canvas.width = w;
      canvas.height = hgt;
      r.grad = null;
    }
    const ctx = r.ctx;
    if (!r.grad) {
      r.grad = ctx.createLinearGradient(0, 0, w, 0);
      r.grad.addColorStop(0, "#1fbf75");
      r.grad.addColorStop(toFrac(-12), "#7ddc1f");
      r.grad.addColorStop(toFrac(-6), "#f5c518");
      r.grad.addColorStop(toFrac(-2), "#ff7a1a");
      r.grad.addColorStop(1, "#ff3b3b");
    }
    const hold = r.hold;
    const key = `${db.toFixed(1)}|${hold.toFixed(1)}|${w}`;
    if (key === r.drawn) return;
    r.drawn = key;
    ctx.clearRect(0, 0, w, hgt);
    ctx.fillStyle = "rgba(255,255,255,0.07)";
    ctx.fillRect(0, 0, w, hgt);
    const fill = Math.round(toFrac(db) * w);
    if (fill > 0) {
      ctx.fillStyle = r.grad;
      ctx.fillRect(0, 0, fill, hgt);
    }
    ctx.fillStyle = "rgba(0,0,0,0.35)";
    for (const mark of [-48, -36, -24, -12, -6]) {
      ctx.fillRect(Math.round(toFrac(mark) * w), 0, Math.max(1, Math.round(dpr)), hgt);
    }
    if (hold > FLOOR_DB) {
      const x = Math.min(w - 2 * dpr, Math.round(toFrac(hold) * w));
      ctx.fillStyle = hold > -2 ? "#ff5c5c" : "#f8fafc";
      ctx.fillRect(x, 0, Math.max(2, Math.round(2 * dpr)), hgt);
    }
  }

  function draw(now) {
    rafId = 0;
    if (!visible) return;
    const dt = lastDraw ? Math.min(0.25, (now - lastDraw) / 1000) : 0;
    lastDraw = now;
    let busy = false;
    order.forEach((id, i) => {
      const r = rowEls.get(id);
      if (!r) return;
      // The newest peaks stay true until the next frame (the kernel sends only frames that differ).
      const peakDb = toDb(i < peaks.length ? peaks[i] : 0);
      const fallen = r.level - LEVEL_FALL_DB_PER_S * dt;
      r.level = Math.max(peakDb, fallen > FLOOR_DB ? fallen : -Infinity);
      if (r.silent) {
        r.level = r.hold = -Infinity;
      } else if (r.level >= r.hold) {
        r.hold = r.level;
        r.holdAt = now;
      } else if (now - r.holdAt > HOLD_MS) {
        const held = r.hold - HOLD_FALL_DB_PER_S * dt;
        // below the floor the hold is gone (not a value that falls for ever and keeps the redraws going)
        r.hold = held > r.level && held > FLOOR_DB ? held : r.level;
      }
      if (r.level > peakDb || r.hold > r.level) busy = true;
      paint(r, r.level, now);
    });
    draws += 1;
    root.dataset.draws = String(draws);
    showFps();
    clearTimeout(timerId);
    if (busy) timerId = setTimeout(schedule, REDRAW_MS);
  }

  // Meter frames received in the last second (not redraws), in the live badge's tooltip: the kernel sends only
  // frames that differ, so a steady tone gives few, and no frames at all while paused.
  function showFps() {
    const now = performance.now();
    while (frameTimes.length && now - frameTimes[0] > 1000) frameTimes.shift();
    live.title = model.get("metering") ? `${frameTimes.length} meter frames in the last second (only frames that differ are sent)` : "";
    root.dataset.fps = String(frameTimes.length);
  }

  // --- teaching bar ----------------------------------------------------------------------------------------
  function makeTeachBar() {
    const node = h("div", "al-teach");
    const choices = model.get("choices") || {};
    const role = h("select", "al-input al-teach-role");
    for (const [value, text] of choices.roles || []) role.appendChild(option(value, text));
    const app = h("input", "al-input al-teach-app");
    app.placeholder = "app name";
    app.title = "The app's name (empty: one that fits the role)";
    const hz = h("input", "al-input al-teach-hz");
    hz.type = "number";
    hz.min = "20";
    hz.max = "20000";
    hz.value = "440";
    hz.title = "Frequency (Hz)";
    const beeps = h("label", "al-toggle");
    const beepsBox = h("input");
    beepsBox.type = "checkbox";
    beepsBox.checked = true;
    beeps.append(beepsBox, h("span", "", "beeps"));
    const start = h("button", "al-button al-teach-start", "\u25B6 Start tone");
    start.type = "button";
    start.addEventListener("click", () =>
      send({ kind: "teach", do: "start", role: role.value, app: app.value, hz: Number(hz.value), beeps: beepsBox.checked }));
    const policy = h("select", "al-input al-teach-policy");
    for (const name of choices.policies || []) policy.appendChild(option(name, name));
    policy.title = "The focus policy: switching re-evaluates what plays now";
    const ducking = h("select", "al-input al-teach-ducking");
    for (const [value, text] of [["mute", "Mute all other sounds"], ["reduce_80", "Reduce by 80%"],
      ["reduce_50", "Reduce by 50%"], ["nothing", "Do nothing"]]) ducking.appendChild(option(value, text));
    ducking.title = "Windows: when a communications stream plays (Sound > Communications)";
    const switchPolicy = () => send({ kind: "teach", do: "policy", policy: policy.value, ducking: policy.value === "windows" ? ducking.value : "" });
    policy.addEventListener("change", switchPolicy);
    ducking.addEventListener("change", switchPolicy);
    const reset = h("button", "al-button al-teach-reset", "Reset");
    reset.type = "button";
    reset.title = "Stop the tones started here and go back to the first policy";
    reset.addEventListener("click", () => send({ kind: "teach", do: "reset" }));
    const status = h("span", "al-status");
    const line1 = h("div", "al-teach-line");
    line1.append(h("span", "al-teach-label", "Play"), role, app, hz, beeps, start);
    const line2 = h("div", "al-teach-line");
    line2.append(h("span", "al-teach-label", "Policy"), policy, ducking, reset, status);
    node.append(line1, line2);
    function sync() {
      node.hidden = !model.get("controls");
      const name = model.get("policy");
      if (name) policy.value = name;
      policy.disabled = !name;
      ducking.hidden = name !== "windows";
      if (model.get("ducking")) ducking.value = model.get("ducking");
      status.textContent = model.get("status");
      status.classList.toggle("al-error", !!model.get("status_error"));
    }
    return { node, sync };
  }

  // --- pinning: the view's card moves into a sticky dock at the top of the notebook ---------------------
  const placeholder = h("div", "al-pinned-here");
  const unpinButton = h("button", "al-button", "Unpin");
  unpinButton.type = "button";
  unpinButton.addEventListener("click", () => {
    model.set("pinned", false);
    model.save_changes();
  });
  placeholder.append(h("span", "", "\u2191 The dashboard is pinned at the top of the notebook. "), unpinButton);

  function dockFor(scroller) {
    let dock = scroller.querySelector(":scope > .al-pin-dock");
    if (!dock) {
      dock = h("div", "al-pin-dock");
      scroller.insertBefore(dock, scroller.firstChild);
    }
    return dock;
  }

  function syncPinned() {
    const want = !!model.get("pinned");
    const scroller = want ? notebookScroller(el) : null;
    if (want && scroller) {
      if (root.parentElement?.classList.contains("al-pin-dock")) return;
      dockFor(scroller).appendChild(root);
      el.appendChild(placeholder);
      root.classList.add("al-pinned");
      root.classList.remove("al-sticky");
    } else {
      unpinNow();
      // Elsewhere (no JupyterLab notebook around it): sticky in place, as far as the page allows.
      root.classList.toggle("al-sticky", want);
    }
  }

  function unpinNow() {
    const dock = root.parentElement?.classList.contains("al-pin-dock") ? root.parentElement : null;
    placeholder.remove();
    if (root.parentElement !== el) el.appendChild(root);
    root.classList.remove("al-pinned");
    if (dock && !dock.children.length) dock.remove();
  }

  function syncLook() {
    root.classList.toggle("al-projector", !!model.get("projector"));
    toolbarItems.forEach((item) => item.sync());
    teach.sync();
  }

  // --- visibility --------------------------------------------------------------------------------------------
  function reportVisible() {
    const v = intersecting && !document.hidden;
    if (v !== visible) {
      visible = v;
      root.classList.toggle("al-hidden", !v);
      if (v) schedule();
    }
    let views = registry.get(model);
    if (!views) {
      views = new Map();
      registry.set(model, views);
    }
    views.set(viewKey, v);
    const any = [...views.values()].some(Boolean);
    if (model.get("visible") !== any) {
      model.set("visible", any);
      model.save_changes();
    }
  }

  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) intersecting = entry.isIntersecting;
    reportVisible();
  });
  observer.observe(root);
  document.addEventListener("visibilitychange", reportVisible);

  // --- wiring ----------------------------------------------------------------------------------------------------
  let frames = 0;
  const onPeaks = () => {
    peaks = readPeaks(model.get("peaks"));
    frames += 1;
    frameTimes.push(performance.now());
    root.dataset.frames = String(frames);
    schedule();
  };
  const looks = ["projector", "controls", "policy", "ducking", "status", "status_error", "pinned"];
  const onPinned = () => syncPinned();
  model.on("change:peaks", onPeaks);
  model.on("msg:custom", applyPatch);
  model.on("change:rows", syncAll);
  model.on("change:order", syncRows);
  model.on("change:group_by_app", syncRows);
  model.on("change:metering", syncHeader);
  model.on("change:title", syncHeader);
  for (const name of looks) model.on(`change:${name}`, syncLook);
  model.on("change:pinned", onPinned);
  const fpsTimer = setInterval(showFps, 500); // the counter falls to nothing when frames stop
  syncHeader();
  syncLook();
  syncAll();
  // The view's element is in the page only after render returns: pin then.
  requestAnimationFrame(syncPinned);
  send({ kind: "hello" });

  return () => {
    if (listen) listen.dispose();
    observer.disconnect();
    document.removeEventListener("visibilitychange", reportVisible);
    model.off("change:peaks", onPeaks);
    model.off("msg:custom", applyPatch);
    model.off("change:rows", syncAll);
    model.off("change:order", syncRows);
    model.off("change:group_by_app", syncRows);
    model.off("change:metering", syncHeader);
    model.off("change:title", syncHeader);
    for (const name of looks) model.off(`change:${name}`, syncLook);
    model.off("change:pinned", onPinned);
    clearInterval(fpsTimer);
    unpinNow();
    root.remove();
    cancelAnimationFrame(rafId);
    clearTimeout(timerId);
    const views = registry.get(model);
    if (views) {
      views.delete(viewKey);
      const any = [...views.values()].some(Boolean);
      if (model.get("visible") !== any) {
        model.set("visible", any);
        model.save_changes();
      }
    }
  };
}

export default { render };
