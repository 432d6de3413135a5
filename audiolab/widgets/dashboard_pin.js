// audiolab SessionDashboard front end, part 6 of 7: pinning. With `pinned`, the view's card moves into a sticky
// dock at the top of the notebook's scroller (JupyterLab 4), and a note with an Unpin button stays in its cell.

// The scroller of a JupyterLab 4 notebook (or of any other page: none), where a pinned dashboard docks.
function notebookScroller(el) {
  return el.closest(".jp-WindowedPanel-outer") || el.closest(".jp-Notebook") || null;
}

function dockFor(scroller) {
  let dock = scroller.querySelector(":scope > .al-pin-dock");
  if (!dock) {
    dock = h("div", "al-pin-dock");
    scroller.insertBefore(dock, scroller.firstChild);
  }
  return dock;
}

// Returns sync() (follow `pinned`) and unpin() (back into the cell, for disposal).
function pinning(model, el, root) {
  const placeholder = h("div", "al-pinned-here");
  const unpinButton = h("button", "al-button", "Unpin");
  unpinButton.type = "button";
  unpinButton.addEventListener("click", () => {
    model.set("pinned", false);
    model.save_changes();
  });
  placeholder.append(h("span", "", "\u2191 The dashboard is pinned at the top of the notebook. "), unpinButton);

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

  return { sync: syncPinned, unpin: unpinNow };
}
