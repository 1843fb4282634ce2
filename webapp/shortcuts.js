// Annotate keyboard and rating panel. Keys act only while the Annotate tab is on screen and never while
// typing in an input, text area, table cell or dropdown (? lists them):
//   j/k or arrows: current step · 1 / 0 / -: rate it +1 / 0 / -1 · t: its error tags (then 1-8, Esc)
//   g: the rationale's error tags (then 1-8, Esc) · e: edit the step · s: stop at the first error
//   a / r / f: accept / reject / flag · n / p: next / previous rationale
// Ratings and step tags are mirrored into a hidden text field as JSON, which the review buttons send; the
// buttons are clicked exactly as a mouse would, so every server-side check (role, version, input) applies.
(() => {
  const BUTTONS = { a: "annotate-accept", r: "annotate-reject", f: "annotate-flag", n: "annotate-next",
                    p: "annotate-prev" };
  const RATE = { "1": 1, "0": 0, "-": -1 };
  let current = 0;
  let mode = null; // null, "step-tags" or "rationale-tags": digits toggle tags while a mode is on
  let panelSeen = null;

  const $ = (selector) => document.querySelector(selector);
  const rows = () => Array.from(document.querySelectorAll("#annotate-rating .step-row"));
  const shown = (el) => !!el && el.offsetParent !== null;
  const typing = (el) =>
    !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) ||
             !!el.closest("[contenteditable=true], .table-wrap, [role=listbox]"));
  const stopAtError = () => !!$("#annotate-stop-at-error input")?.checked;
  const rating = (row) => (row.dataset.rating === "" ? null : Number(row.dataset.rating));

  function writeLabels() {
    const all = rows();
    const labels = {
      ratings: all.map(rating),
      step_tags: all.map((row) =>
        Array.from(row.querySelectorAll(".step-tag[aria-pressed=true]")).map((chip) => chip.dataset.tag)),
    };
    const field = $("#annotate-labels textarea, #annotate-labels input");
    if (!field) return;
    field.value = JSON.stringify(labels);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function refresh() {
    const all = rows();
    current = Math.max(0, Math.min(current, all.length - 1));
    const firstWrong = all.findIndex((row) => rating(row) === -1);
    all.forEach((row, index) => {
      row.classList.toggle("current", index === current);
      row.classList.toggle("tagging", mode === "step-tags" && index === current);
      row.classList.toggle("has-tags", !!row.querySelector(".step-tag[aria-pressed=true]"));
      row.classList.toggle("after-error", stopAtError() && firstWrong >= 0 && index > firstWrong);
      row.classList.toggle("first-wrong", index === firstWrong);
    });
    $("#annotate-tags")?.classList.toggle("tagging", mode === "rationale-tags");
    const label = $("#annotate-rating .first-wrong-label");
    if (label) label.textContent = firstWrong >= 0 ? `First wrong step: ${firstWrong + 1}` : "No step rated \u22121";
  }

  function moveTo(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(index, all.length - 1));
    mode = mode === "step-tags" ? null : mode;
    refresh();
    all[current].scrollIntoView({ block: "nearest" });
  }

  function rate(index, value) {
    const row = rows()[index];
    if (!row || row.classList.contains("after-error")) return;
    row.dataset.rating = String(value);
    row.querySelectorAll(".rate").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.rating) === value)));
    current = index;
    refresh();
    writeLabels();
    const stop = stopAtError() && value === -1;
    if (!stop && index + 1 < rows().length) moveTo(index + 1); // rated: on to the next step
  }

  function toggleTag(number) {
    if (mode === "step-tags") {
      const chip = rows()[current]?.querySelectorAll(".step-tag")[number - 1];
      if (!chip) return;
      chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
      refresh();
      writeLabels();
    } else if (mode === "rationale-tags") {
      $("#annotate-tags")?.querySelectorAll("input[type=checkbox]")[number - 1]?.click();
    }
  }

  function editCurrent() {
    const accordion = $("#annotate-edit-steps");
    const toggle = accordion?.querySelector("button.label-wrap, button");
    if (toggle && !shown($("#annotate-steps"))) toggle.click();
    setTimeout(() => {
      const cell = $(`#annotate-steps [data-testid=cell-${current}-1]`);
      if (!cell) return;
      cell.scrollIntoView({ block: "center" });
      cell.dispatchEvent(new MouseEvent("dblclick", { bubbles: true }));
    }, 150);
  }

  function toggleHelp() {
    $("#annotate-keys")?.classList.toggle("keys-open");
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !shown($("#annotate-rating"))) return;
    sync();
    const target = event.target;
    if (event.key === "Escape" && target?.closest?.("#annotate-steps")) {
      setTimeout(() => { document.activeElement?.blur?.(); refresh(); }, 0); // back to rating
      return;
    }
    if (typing(target)) return;
    const key = event.key;
    let handled = true;
    if (mode && /^[1-9]$/.test(key)) toggleTag(Number(key));
    else if (mode && (key === "Escape" || key === "Enter" || key === "t" || key === "g")) mode = null;
    else if (key === "j" || key === "ArrowDown") moveTo(current + 1);
    else if (key === "k" || key === "ArrowUp") moveTo(current - 1);
    else if (key in RATE) rate(current, RATE[key]);
    else if (key === "t" && rows().length) mode = "step-tags";
    else if (key === "g") mode = "rationale-tags";
    else if (key === "e") editCurrent();
    else if (key === "s") $("#annotate-stop-at-error input")?.click();
    else if (key === "?") toggleHelp();
    else if (key === "Escape") $("#annotate-keys")?.classList.remove("keys-open");
    else if (BUTTONS[key.toLowerCase()]) {
      const button = document.getElementById(BUTTONS[key.toLowerCase()]);
      if (!shown(button) || button.disabled) return; // busy or hidden
      button.click();
    } else handled = false;
    if (!handled) return;
    event.preventDefault();
    refresh();
  }

  function onClick(event) {
    const row = event.target.closest?.("#annotate-rating .step-row");
    if (!row) return;
    sync();
    const index = rows().indexOf(row);
    const button = event.target.closest(".rate");
    const chip = event.target.closest(".step-tag");
    if (button) return rate(index, Number(button.dataset.rating));
    current = index;
    if (chip) {
      chip.setAttribute("aria-pressed", String(chip.getAttribute("aria-pressed") !== "true"));
      writeLabels();
    }
    refresh();
  }

  // A new rationale arrives as a new panel: start again at its first step. Checked before every key and
  // click (so a key never lands on a stale position) and on every page change (so the marker shows).
  // Gradio patches the panel's HTML in place (elements can survive an update), so a rationale is told
  // apart by the panel's data-key (rationale and version), not by element identity.
  function sync() {
    const panel = $("#annotate-rating .rating-panel");
    if (!panel) return;
    if (panel.dataset.key !== panelSeen) {
      panelSeen = panel.dataset.key;
      current = 0;
      mode = null;
      refresh();
    } else if (rows().length && !$("#annotate-rating .step-row.current")) refresh(); // marks patched away
  }
  new MutationObserver(sync).observe(document.documentElement, { childList: true, subtree: true });
  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  document.addEventListener("change", (event) => {
    if (event.target.closest?.("#annotate-stop-at-error")) refresh();
  });
})();
