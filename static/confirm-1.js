// coupond console: confirmations. A form with data-confirm is a GET to
// the confirmation page of an action that cannot be undone, which is how
// it works without this script. With it, the question opens in a dialog
// instead; confirming posts the action to the same address (in place
// with htmx when the form names a data-target, else as a plain form),
// and "Keep it" closes the dialog with nothing done.
(function () {
  "use strict";

  var dialog, pending;

  function csrf() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      for (var k in headers) {
        return { header: k, token: headers[k] };
      }
    } catch (e) {}
    return null;
  }

  function build() {
    dialog = document.createElement("dialog");
    dialog.setAttribute("data-testid", "confirm-dialog");
    dialog.setAttribute("aria-labelledby", "confirm-question");
    dialog.innerHTML =
      '<article><h2 id="confirm-question"></h2><p id="confirm-detail"></p>' +
      '<footer><button type="button" class="secondary" data-testid="confirm-keep">Keep it</button> ' +
      '<button type="button" data-testid="confirm-do"></button></footer></article>';
    document.body.appendChild(dialog);
    dialog.querySelector("[data-testid=confirm-keep]").addEventListener("click", function () {
      pending = null;
      dialog.close();
    });
    dialog.addEventListener("cancel", function () { pending = null; });
    dialog.querySelector("[data-testid=confirm-do]").addEventListener("click", function () {
      var form = pending;
      pending = null;
      dialog.close();
      if (form) {
        act(form);
      }
    });
  }

  function act(form) {
    var action = form.getAttribute("action");
    var target = form.getAttribute("data-target");
    var token = csrf();
    if (target && window.htmx) {
      window.htmx.ajax("POST", action, { source: form, target: target, swap: "outerHTML" });
      return;
    }
    var post = document.createElement("form");
    post.method = "post";
    post.action = action;
    if (token) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "_csrf";
      input.value = token.token;
      post.appendChild(input);
    }
    document.body.appendChild(post);
    post.submit();
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-confirm]") || typeof HTMLDialogElement === "undefined") {
      return;
    }
    e.preventDefault();
    if (!dialog) {
      build();
    }
    pending = form;
    dialog.querySelector("#confirm-question").textContent = form.getAttribute("data-confirm");
    dialog.querySelector("#confirm-detail").textContent = form.getAttribute("data-confirm-detail") || "";
    dialog.querySelector("[data-testid=confirm-do]").textContent = form.getAttribute("data-confirm-verb") || "Confirm";
    dialog.showModal();
    dialog.querySelector("[data-testid=confirm-keep]").focus();
  });
})();
