// audiolab SessionDashboard front end, part 1 of 7: shared helpers (element maker, dB scales, peak decoding).
// dashboard.py concatenates the parts in order into the one ES module anywidget receives (see dashboard.js).

const FLOOR_DB = -60;

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
