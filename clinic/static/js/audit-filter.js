/* The audit log's client filter: as the owner types a name, a few matching clients are offered (from
   /admin/audit/clients.json); choosing one filters by that client (its id in the hidden `client` field).
   Typing anything else filters by the typed words, which also works without this script. */
(function () {
  "use strict";
  var input = document.querySelector("[data-client-filter]");
  if (!input) { return; }
  var hidden = document.querySelector("[data-client-id]");
  var list = document.getElementById(input.getAttribute("list"));
  var known = {};
  var timer = null;
  var asked = "";

  function choose() {
    var match = known[input.value];
    hidden.value = match ? String(match) : "";
  }

  function suggest() {
    var text = input.value.trim();
    if (text.length < 2 || text === asked) { return; }
    asked = text;
    fetch(input.dataset.clientFilter + "?q=" + encodeURIComponent(text), {
      headers: { Accept: "application/json" },
      credentials: "same-origin"
    })
      .then(function (response) { return response.ok ? response.json() : { clients: [] }; })
      .then(function (body) {
        if (text !== input.value.trim()) { return; }  // typed on meanwhile
        known = {};
        list.replaceChildren();
        body.clients.forEach(function (client) {
          known[client.name] = client.id;
          var option = document.createElement("option");
          option.value = client.name;
          option.label = "born " + client.born;
          list.appendChild(option);
        });
        choose();
      })
      .catch(function () { /* no suggestions: the typed words still filter */ });
  }

  input.addEventListener("input", function () {
    choose();
    clearTimeout(timer);
    timer = setTimeout(suggest, 200);
  });
  input.addEventListener("change", choose);
})();
