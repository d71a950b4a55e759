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
