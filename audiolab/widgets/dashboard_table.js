// audiolab SessionDashboard front end, part 3 of 7: the table of rows. It keeps the view's copy of the rows (the
// `rows` trait, patched by `rows_patch` messages), lays them out in `order` (grouped by app, with a volume per
// group, when `group_by_app`) and updates only the rows a patch carries.

// `parts`: the view's body, count, empty note, root and group toggle; `act`: send, queueVolume, schedule.
// Returns syncAll, syncRows, applyPatch, and what the meters read: rowEls and order().
function rowTable(model, parts, act) {
  const { body, count, empty, root, groupToggle } = parts;
  const { send, schedule } = act;
  const rowEls = new Map(); // id -> row record
  const groupEls = new Map(); // app -> group header record
  let rows = {}; // id -> row: the `rows` trait, patched by `rows_patch` messages
  let members = new Map(); // app -> ids of its rows, in order (while grouped)
  let order = [];
  let orderSet = new Set();
  const rowActions = { send, setLocal, queueVolume: act.queueVolume };

  // What this view changed itself is not echoed back by the kernel: keep the view's copy of the row true, so
  // that a relayout (grouping, a new order) draws what the session is, not what it was.
  function setLocal(id, change) {
    if (rows[id]) rows[id] = { ...rows[id], ...change };
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
        r = makeRow(id, rowActions);
        rowEls.set(id, r);
      }
      r.root.classList.toggle("al-in-group", grouped);
      updateRow(r, row, schedule);
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
      updateRow(r, row, schedule);
      apps.add(row.app);
    }
    if (relayout) {
      syncRows();
    } else if (model.get("group_by_app")) {
      apps.forEach(updateGroup);
    }
  }

  return { syncAll, syncRows, applyPatch, rowEls, order: () => order };
}
