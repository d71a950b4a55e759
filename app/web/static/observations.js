// Keyboard use of the customer search on the logging form: arrow keys move between the
// input and the matching customers, Escape returns to the input. Works after htmx swaps
// because the listener sits on the document.
(function () {
  "use strict";
  function results() {
    return Array.prototype.slice.call(document.querySelectorAll("#customer-results button.result"));
  }
  // After an undo the list of last entries is swapped; the "Saved" banner above the form
  // spoke of an entry that may be gone now.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var saved = document.getElementById("saved-msg");
    if (saved && document.querySelector("#recent .undone")) {
      saved.remove();
    }
  });
  document.addEventListener("keydown", function (evt) {
    var target = evt.target;
    var items = results();
    if (target.id === "customer_q" && evt.key === "ArrowDown" && items.length) {
      evt.preventDefault();
      items[0].focus();
      return;
    }
    var index = items.indexOf(target);
    if (index < 0) { return; }
    if (evt.key === "ArrowDown" && index < items.length - 1) {
      evt.preventDefault();
      items[index + 1].focus();
    } else if (evt.key === "ArrowUp") {
      evt.preventDefault();
      (index === 0 ? document.getElementById("customer_q") : items[index - 1]).focus();
    } else if (evt.key === "Escape") {
      evt.preventDefault();
      document.getElementById("customer_q").focus();
    }
  });
})();
