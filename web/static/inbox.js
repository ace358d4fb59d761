// Inbox: j / k move the selection through the work list, Enter opens the selected case,
// e opens it at its current task, r at its reply box; "select all on this page"; and the
// live refresh: the server's events say how many cases changed since the page was drawn.
// Loaded as a file (no inline script, so the Content-Security-Policy holds); the page works without it.
(function () {
  var rows = Array.prototype.slice.call(document.querySelectorAll("#worklist tbody tr[data-href]"));
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
    if (!rows.length || event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (target && /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName)) { return; }
    if (event.key === "j") { select(index + 1); event.preventDefault(); }
    else if (event.key === "k") { select(index < 0 ? 0 : index - 1); event.preventDefault(); }
    else if (index >= 0 && (event.key === "e" || event.key === "r")) {
      window.location.assign(rows[index].dataset.href + (event.key === "e" ? "#work" : "#reply"));
      event.preventDefault();
    }
    else if (event.key === "Enter" && index >= 0 && target === document.body) {
      window.location.assign(rows[index].dataset.href);
      event.preventDefault();
    }
  });

  var all = document.getElementById("select-all");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("#worklist input[name=case]"));
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        var on = boxes.filter(function (b) { return b.checked; }).length;
        all.checked = on === boxes.length;
        all.indeterminate = on > 0 && on < boxes.length;
      });
    });
  }

  var list = document.getElementById("worklist");
  var banner = document.getElementById("live");
  if (!list || !banner || !window.EventSource) { return; }
  var source = new EventSource("/inbox/events?since=" + encodeURIComponent(list.dataset.since));
  source.addEventListener("inbox", function (event) {
    var count = JSON.parse(event.data).count;
    if (!count) { return; }
    banner.querySelector(".live-text").textContent =
      count + (count === 1 ? " case" : " cases") + " new or updated since this page was loaded.";
    banner.hidden = false;
  });
  banner.querySelector(".live-refresh").addEventListener("click", function (event) {
    event.preventDefault();
    window.location.reload();
  });
}());
