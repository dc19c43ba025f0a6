// Conveniences only: every page works without this script.
"use strict";
(function () {
  function copied(btn) {
    var label = btn.textContent;
    btn.textContent = "Copied";
    btn.classList.add("copied");
    setTimeout(function () { btn.textContent = label; btn.classList.remove("copied"); }, 2000);
  }
  function fallbackCopy(el, btn) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    try { document.execCommand("copy"); } catch (e) { /* the text stays selected */ }
    copied(btn);
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button[data-copy]");
    if (!btn) { return; }
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (!el) { return; }
    var text = el.textContent.trim();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { copied(btn); }, function () { fallbackCopy(el, btn); });
    } else {
      fallbackCopy(el, btn);
    }
  });
  // Live refresh of the events log: reload the first page every 30 s
  // while it is visible and unfiltered by a page cursor.
  var events = document.getElementById("events");
  if (events && location.search.indexOf("after=") < 0) {
    setInterval(function () {
      if (document.visibilityState === "visible" && !document.querySelector("input:focus, select:focus")) { location.reload(); }
    }, 30000);
  }
})();
