// coupond console: Copy buttons. A button with data-copy="ID" copies the
// value of the field with that id (or the text of any other element) to
// the clipboard and then reads "Copied". The buttons are hidden in the page, since without this script
// they could do nothing; it shows them, also in content htmx swaps in.
(function () {
  "use strict";

  var selector = "button[data-copy]";

  function reveal(root) {
    if (root.matches && root.matches(selector)) {
      root.hidden = false;
    }
    if (root.querySelectorAll) {
      root.querySelectorAll(selector).forEach(function (b) { b.hidden = false; });
    }
  }

  function copied(button) {
    button.textContent = "Copied";
    button.setAttribute("data-copied", "true");
  }

  // Where the Clipboard API is refused (no secure context, no
  // permission), copy the selection the old way, or at least leave the
  // code selected for the keyboard.
  function fallback(button, field) {
    if (typeof field.select === "function") {
      field.focus();
      field.select();
    } else {
      window.getSelection().selectAllChildren(field);
    }
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    if (ok) {
      copied(button);
    } else {
      button.textContent = "Press Ctrl+C";
    }
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest(selector);
    if (!button) {
      return;
    }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText("value" in field ? field.value : field.textContent).then(
        function () { copied(button); },
        function () { fallback(button, field); }
      );
    } else {
      fallback(button, field);
    }
  });

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  document.addEventListener("htmx:load", function (ev) { reveal(ev.target); });
})();
