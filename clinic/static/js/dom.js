/* A DOM helper the page scripts share (loaded before them: the session form and the symptom checker). */
(function () {
  "use strict";
  window.Knotwork = window.Knotwork || {};
  /* A new element with an optional class and text (as textContent: never parsed as markup). */
  window.Knotwork.element = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  };
})();
