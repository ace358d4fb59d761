// Small progressive enhancements; every page works without them.
// Ask before closing a case, and keep the button from being pressed twice.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.action && /\/close$/.test(form.action) && !window.confirm("Close this case?")) {
    event.preventDefault();
    return;
  }
  var button = form.querySelector("button[type=submit]");
  if (button) { setTimeout(function () { button.disabled = true; }, 0); }
});

// Choosing another case type shows its start form (without script: the form of the first type).
document.querySelectorAll("select[data-reload]").forEach(function (select) {
  select.addEventListener("change", function () {
    var url = new URL(window.location.href);
    url.searchParams.set(select.dataset.reload, select.value);
    window.location.assign(url.toString());
  });
});

// The theme toggle: light or dark, remembered in localStorage (theme.js applies it early).
(function () {
  var toggle = document.getElementById("theme-toggle");
  if (!toggle) { return; }
  function dark() {
    var chosen = document.documentElement.dataset.theme;
    if (chosen) { return chosen === "dark"; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  }
  function show() { toggle.setAttribute("aria-pressed", dark() ? "true" : "false"); }
  toggle.hidden = false;
  show();
  toggle.addEventListener("click", function () {
    var next = dark() ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try { window.localStorage.setItem("casework-theme", next); } catch (e) { /* not remembered */ }
    show();
  });
}());

// Keys on every page: ? shows the shortcuts (Escape hides them); on a case page e goes to
// the current task's form and r to the reply box (also when arriving with #work / #reply).
(function () {
  var help = document.getElementById("shortcuts");
  function typing(target) {
    return target && (/^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(target.tagName) || target.isContentEditable);
  }
  function focusFirst(selector) {
    var field = document.querySelector(selector);
    if (!field) { return false; }
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }
  var work = "form.task-form input:not([type=hidden]), form.task-form select, form.task-form textarea, form.task-form button";
  var reply = "form.reply textarea";
  if (window.location.hash === "#work") { focusFirst(work); }
  if (window.location.hash === "#reply") { focusFirst(reply); }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (event.key === "Escape" && help && !help.hidden) { help.hidden = true; return; }
    if (typing(event.target)) { return; }
    if (event.key === "?" && help) {
      help.hidden = !help.hidden;
      if (!help.hidden) { help.focus(); }
      event.preventDefault();
    } else if (event.key === "e" && focusFirst(work)) {
      event.preventDefault();
    } else if (event.key === "r" && focusFirst(reply)) {
      event.preventDefault();
    }
  });
  if (help) {
    help.querySelector("button").addEventListener("click", function () { help.hidden = true; });
  }
}());
