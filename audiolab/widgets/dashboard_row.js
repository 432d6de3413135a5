// audiolab SessionDashboard front end, part 2 of 7: one session's row (name, role, state, volume, mute, meter
// canvas, focus), its controls' messages and how a row's data is shown.

const DRAG_QUIET_MS = 700; // ignore kernel volume for a row this long after a local change

const SPEAKER =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 9v6h4l5 4V5L8 9H4z" fill="currentColor"/>' +
  '<path class="al-waves" d="M16 8.5a4.5 4.5 0 0 1 0 7M18.5 6a8 8 0 0 1 0 12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>' +
  '<path class="al-cross" d="M16 9l5 6M21 9l-5 6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>';

// `act`: send(content) to the kernel, setLocal(id, change) in the view's copy of the rows, queueVolume(id, value, now).
function makeRow(id, act) {
  const { send, setLocal, queueVolume } = act;
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

function showVolume(r, volume) {
  const pct = Math.round(volume * 100);
  r.slider.value = String(pct);
  r.pct.textContent = `${pct}%`;
  r.pct.title = dbText(volume);
  r.slider.title = `${pct}% (${dbText(volume)})`;
}

// `schedule` asks the meters for a redraw (a silent row drops its level at once).
function updateRow(r, row, schedule) {
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
