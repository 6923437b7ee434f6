/* Long forms (a session logged after a 60-minute treatment) outlive the 30-minute idle timeout. Before
   sending, fetch a fresh CSRF token; if the login has ended, keep the page and everything typed on it,
   and say how to carry on: log in again in another tab, then press Save again.
   A form with unsaved changes is never left without the browser's "leave this page?" prompt. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-keep-typed]").forEach(function (form) {
    var banner = form.querySelector("[data-logged-out]");
    var dirtyNote = form.querySelector("[data-dirty-note]");
    var leaving = false;

    function markDirty() {
      form.dataset.dirty = "yes";
      if (dirtyNote) { dirtyNote.hidden = false; }
    }
    form.addEventListener("input", markDirty);
    form.addEventListener("change", markDirty);
    form.addEventListener("knotwork:changed", markDirty);
    window.addEventListener("beforeunload", function (event) {
      if (form.dataset.dirty === "yes" && !leaving) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    form.addEventListener("submit", function (event) {
      if (form.dataset.tokenFresh === "yes") { leaving = true; return; }
      event.preventDefault();
      var submitter = event.submitter;
      fetch(form.dataset.tokenUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          if (response.status === 401) { throw new Error("logged out"); }
          return response.json();
        })
        .then(function (body) {
          form.querySelector('input[name="csrf_token"]').value = body.csrf_token;
          banner.hidden = true;
          send(submitter);
        })
        .catch(function (error) {
          if (error.message === "logged out") {
            banner.hidden = false;
            banner.scrollIntoView({ block: "center" });
            banner.focus();
          } else {
            send(submitter);  // the check itself failed: let the server decide
          }
        });
    });

    function send(submitter) {
      form.dataset.tokenFresh = "yes";
      if (submitter && form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
      form.dataset.tokenFresh = "";
    }
  });

  /* After a failed save, start at the summary of what to correct. */
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
})();
