/* The intake link page: a Copy button beside the link (the link can always be selected and copied by hand). */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.dataset.copy);
    var status = document.querySelector("[data-copy-status]");
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        status.textContent = "Copied. Paste it into a text message or email to the client.";
      }, function () {
        source.select();
        status.textContent = "Select the link and copy it.";
      });
    });
  });
})();
