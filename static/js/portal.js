// Behaviour shared by every page. Loaded with <script src> (the Content-Security-Policy
// forbids inline script); every page works without it, the server checks everything again.
//  - data-confirm="Question?" on a submit button or a form asks before anything is sent.
//  - A form being sent shows its button busy and ignores a second press (the server also
//    refuses double submits); the button comes back when the page is shown again.
(function () {
  "use strict";
  var BUSY_RESET_MS = 15000; // a download leaves the page in place: give the button back

  function release(button) {
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter || form.querySelector("[type=submit]");
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.getAttribute("data-busy") === "sending") {
      event.preventDefault(); // already on its way
      return;
    }
    var target = (button && button.getAttribute("formtarget")) || form.getAttribute("target");
    if (!button || target === "_blank" || (form.method || "get").toLowerCase() === "get") {
      return; // the page stays: nothing to wait for
    }
    form.setAttribute("data-busy", "sending");
    button.setAttribute("aria-busy", "true");
    // Disabled only after the browser has read the form, so the button's value is sent.
    setTimeout(function () { button.disabled = true; }, 0);
    setTimeout(function () { form.removeAttribute("data-busy"); release(button); }, BUSY_RESET_MS);
  });

  // A form marked data-autosubmit (the kept form after "confirm it is you") goes at once.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  });

  // Back/forward restores the page from memory: nothing is on its way any more.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.removeAttribute("data-busy");
    });
    document.querySelectorAll("[aria-busy=true]").forEach(release);
  });
})();
