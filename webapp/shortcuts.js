// Keyboard shortcuts for the Annotate tab: a accept, r reject, n next, p previous.
// Keys typed into inputs, text areas, table cells or dropdowns are left alone, and the shortcuts only act
// while the Annotate tab is on screen. They click the same buttons a mouse would, so the server-side
// checks (role, version) apply unchanged.
(() => {
  const KEYS = { a: "annotate-accept", r: "annotate-reject", n: "annotate-next", p: "annotate-prev" };
  const typing = (el) =>
    !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) ||
             !!el.closest("[contenteditable=true], .table-wrap, [role=listbox]"));
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const id = KEYS[event.key.toLowerCase()];
    const button = id && document.getElementById(id);
    if (!button || button.offsetParent === null || button.disabled) return;  // hidden tab or busy
    event.preventDefault();
    button.click();
  });
})();
