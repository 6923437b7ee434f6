/* Physician summary: the print button, and one audit entry when the page is printed or saved as PDF. */
(function () {
  "use strict";
  var body = document.body;
  var recorded = false;
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  window.addEventListener("afterprint", function () { recorded = false; });
  window.addEventListener("beforeprint", function () {
    if (recorded) { return; }  // Chrome can fire it twice for one print
    recorded = true;
    fetch(body.dataset.printedUrl, { method: "POST", headers: { "X-CSRFToken": body.dataset.csrf }, credentials: "same-origin" });
  });
})();
