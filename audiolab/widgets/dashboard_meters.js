// audiolab SessionDashboard front end, part 4 of 7: the peak meters. Every meter is drawn from the one `peaks`
// message per frame (float32 peaks in row order), with a falling level and a peak hold; drawing stops while the
// view is not on screen, and when nothing falls any more.

const HOLD_MS = 1500;
const HOLD_FALL_DB_PER_S = 24;
const LEVEL_FALL_DB_PER_S = 36;
const REDRAW_MS = 33; // while a hold or level is still falling and no new frame came

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

// `tableOf()`: the row table (its rowEls and order()), read when drawing.
function meterLoop(model, root, live, tableOf) {
  let peaks = new Float32Array(0);
  let visible = false;
  let rafId = 0;
  let timerId = 0;
  let draws = 0;
  let lastDraw = 0;
  let frames = 0;
  const frameTimes = []; // arrival times of the meter frames of the last second

  function schedule() {
    if (!rafId && visible) rafId = requestAnimationFrame(draw);
  }

  function draw(now) {
    rafId = 0;
    if (!visible) return;
    const dt = lastDraw ? Math.min(0.25, (now - lastDraw) / 1000) : 0;
    lastDraw = now;
    let busy = false;
    const table = tableOf();
    table.order().forEach((id, i) => {
      const r = table.rowEls.get(id);
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

  // Shown (on screen and the page not hidden) or not: drawing runs only while shown.
  function show(v) {
    if (v !== visible) {
      visible = v;
      root.classList.toggle("al-hidden", !v);
      if (v) schedule();
    }
  }

  function onPeaks() {
    peaks = readPeaks(model.get("peaks"));
    frames += 1;
    frameTimes.push(performance.now());
    root.dataset.frames = String(frames);
    schedule();
  }

  // Metering paused: the meters fall back to silence.
  function clear() {
    peaks = new Float32Array(0);
    schedule();
  }

  function stop() {
    cancelAnimationFrame(rafId);
    clearTimeout(timerId);
  }

  return { schedule, show, onPeaks, clear, showFps, stop };
}
