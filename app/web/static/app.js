// Small glue for htmx: show error responses instead of failing silently.
(function () {
  "use strict";
  function toast(text) {
    var box = document.getElementById("toast");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
    window.clearTimeout(box._timer);
    box._timer = window.setTimeout(function () { box.hidden = true; }, 6000);
  }
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
    var p = doc.querySelector(".error-page p");
    toast((p && p.textContent.trim()) || ("HTTP " + xhr.status));
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.documentElement.lang === "de" ? "Keine Verbindung zum Server." : "No connection to the server.");
  });
})();

// A box that scrolls sideways (wide tables, wide charts) must be reachable by keyboard:
// when its content overflows it becomes a focusable, named region; otherwise it stays out
// of the tab order. Checked at load, after every htmx swap and when the window resizes.
(function () {
  "use strict";
  var SELECTOR = ".table-wrap, .chart-wide";
  function nameOf(box) {
    var caption = box.querySelector("caption, [aria-label], h2, h3, title");
    var text = caption && (caption.getAttribute("aria-label") || caption.textContent || "").trim();
    return text || (document.documentElement.lang === "de" ? "Scrollbarer Bereich" : "Scrollable area");
  }
  function mark(root) {
    var boxes = (root && root.querySelectorAll ? root : document).querySelectorAll(SELECTOR);
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1) {
        box.tabIndex = 0;
        box.setAttribute("data-scrollable", "");
        box.setAttribute("role", "region");
        if (!box.hasAttribute("aria-label")) { box.setAttribute("aria-label", nameOf(box)); }
      } else if (box.hasAttribute("data-scrollable")) {
        box.removeAttribute("tabindex");
        box.removeAttribute("data-scrollable");
        box.removeAttribute("role");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    mark(document);
    // after a refused submit, start at the list of what needs fixing
    var summary = document.querySelector(".error-summary[data-autofocus]");
    if (summary) { summary.focus(); }
  });
  document.addEventListener("htmx:afterSettle", function (evt) { mark(document); });
  window.addEventListener("resize", function () { mark(document); });
})();
