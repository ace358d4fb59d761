// The colour theme chosen with the header's toggle, remembered in this browser; without a
// choice the system's (prefers-color-scheme) applies.  Loaded in <head> so the page is
// drawn in the right colours from the start.
(function () {
  try {
    var chosen = window.localStorage.getItem("casework-theme");
    if (chosen === "dark" || chosen === "light") { document.documentElement.dataset.theme = chosen; }
  } catch (e) { /* storage refused: the system's theme */ }
}());
