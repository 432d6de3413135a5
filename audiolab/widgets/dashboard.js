// audiolab SessionDashboard front end (anywidget ES module), part 7 of 7: render, which wires the parts together.
// dashboard.py concatenates, in this order, dashboard_dom.js (helpers), dashboard_row.js (one row),
// dashboard_table.js (the rows), dashboard_meters.js (the meters), dashboard_toolbar.js (the bars),
// dashboard_pin.js (pinning) and this file, after listen.js: one module, and only this part exports.
// Rows come from the `order` trait and the `rows` trait (every row: synced when a view opens), kept up to date
// by `rows_patch` custom messages that carry only the rows that changed ({kind, rows: {id: row}, removed}).
// Every meter is drawn from the one `peaks` message per frame
// (float32 peaks in row order). Drawing and sending stop while no view is on screen: each view reports
// IntersectionObserver + document.hidden, and the model's `visible` is true while any view is visible.
// For a classroom: `pinned` moves the view into a sticky dock at the top of the notebook's scroller (JupyterLab 4),
// `projector` is large type, `controls` shows the teaching bar (its commands go to the kernel as {kind: "teach"}).

const SEND_MS = 33;

const registry = new WeakMap(); // model -> Map(view key -> visible)

function render({ model, el }) {
  const root = h("div", "al-dash");
  el.appendChild(root);

  // --- toolbar and header ----------------------------------------------------------------------------
  const bar = toolbar(model);
  const { title, count, live, groupToggle, toolbarItems, listen } = bar;
  const body = h("div", "al-body");
  const empty = h("div", "al-empty", "No audio sessions yet.");
  const teach = makeTeachBar(model, send);
  root.append(bar.top, teach.node, bar.head, body, empty);

  // --- state ---------------------------------------------------------------------------------------------
  let intersecting = false;
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

  const meters = meterLoop(model, root, live, () => table);
  const table = rowTable(model, { body, count, empty, root, groupToggle },
    { send, queueVolume, schedule: meters.schedule });
  const { syncAll, syncRows, applyPatch } = table;

  function syncHeader() {
    title.textContent = model.get("title");
    const on = model.get("metering");
    live.textContent = on ? "\u25CF live" : "\u25CB meters paused";
    live.classList.toggle("al-on", on);
    if (!on) meters.clear();
  }

  const pin = pinning(model, el, root);

  function syncLook() {
    root.classList.toggle("al-projector", !!model.get("projector"));
    toolbarItems.forEach((item) => item.sync());
    teach.sync();
  }

  // --- visibility --------------------------------------------------------------------------------------------
  function reportVisible() {
    const v = intersecting && !document.hidden;
    meters.show(v);
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
  const onPeaks = meters.onPeaks;
  const looks = ["projector", "controls", "policy", "ducking", "status", "status_error", "pinned"];
  const onPinned = () => pin.sync();
  model.on("change:peaks", onPeaks);
  model.on("msg:custom", applyPatch);
  model.on("change:rows", syncAll);
  model.on("change:order", syncRows);
  model.on("change:group_by_app", syncRows);
  model.on("change:metering", syncHeader);
  model.on("change:title", syncHeader);
  for (const name of looks) model.on(`change:${name}`, syncLook);
  model.on("change:pinned", onPinned);
  const fpsTimer = setInterval(meters.showFps, 500); // the counter falls to nothing when frames stop
  syncHeader();
  syncLook();
  syncAll();
  // The view's element is in the page only after render returns: pin then.
  requestAnimationFrame(pin.sync);
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
    pin.unpin();
    root.remove();
    meters.stop();
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
