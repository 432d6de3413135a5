// audiolab SessionDashboard front end, part 5 of 7: the bars above the rows. The toolbar is built from a list of
// items (see `toolbarItems`), so a new toggle is one more entry; the column header carries the dB scales; the
// teaching bar (shown with `controls`) sends its commands to the kernel as {kind: "teach"}.

function toggleItem(model, text, trait, hint) {
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

// The toolbar (title, count, listen toggle, live badge, toggles) and the column header.
function toolbar(model) {
  const top = h("div", "al-top");
  const title = h("span", "al-title");
  const count = h("span", "al-count");
  const live = h("span", "al-live");
  const spacer = h("span", "al-spacer");
  const groupToggle = toggleItem(model, "Group by app", "group_by_app", "One group per app, with a volume for the group");
  const toolbarItems = [
    toggleItem(model, "Large type", "projector", "Large type, for a projector"),
    toggleItem(model, "Pin", "pinned", "Keep the dashboard in view at the top of the notebook"),
    toggleItem(model, "Controls", "controls", "Start tones, switch the policy"),
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
  return { top, title, count, live, groupToggle, toolbarItems, listen, head };
}

function makeTeachBar(model, send) {
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
