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
