// Inbox keys: j / k move the selection through the work list, Enter opens the selected case.
// Loaded as a file (no inline script, so the Content-Security-Policy holds); the page works without it.
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#worklist tbody tr[data-href]"));
  if (!rows.length) { return; }
  var index = -1;
  function select(next) {
    if (index >= 0) { rows[index].classList.remove("selected"); rows[index].removeAttribute("aria-selected"); }
    index = Math.max(0, Math.min(rows.length - 1, next));
    rows[index].classList.add("selected");
    rows[index].setAttribute("aria-selected", "true");
    rows[index].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    if (event.key === "j") { select(index + 1); event.preventDefault(); }
    else if (event.key === "k") { select(index < 0 ? 0 : index - 1); event.preventDefault(); }
    else if (event.key === "Enter" && index >= 0 && target === document.body) {
      window.location.assign(rows[index].dataset.href);
      event.preventDefault();
    }
  });
}());
