// Automatic sign-out warning. The server signs an idle session out by itself; this script
// only tells the user a minute before and offers to stay signed in. On a page whose form is
// marked data-save-before-signout (the intake), anything changed since the page loaded is
// saved through the form's Save draft button (data-save-draft) a few seconds before the
// deadline, while the session is still good; the server then signs out. Loaded with
// <script src> because the Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  var body = document.body;
  var left = parseInt(body.getAttribute("data-session-seconds"), 10);
  var warnBefore = parseInt(body.getAttribute("data-session-warning"), 10) || 60;
  var statusUrl = body.getAttribute("data-session-url");
  var banner = document.getElementById("session-warning");
  if (isNaN(left) || !banner || !statusUrl) { return; }
  var countdown = banner.querySelector("[data-countdown]");
  var stay = banner.querySelector("button");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var deadline, warnTimer, endTimer, tick;
  var SAVE_AT = 5; // seconds before the deadline
  var saveForm = document.querySelector("form[data-save-before-signout]");
  var loaded = saveForm ? snapshot(saveForm) : null;
  var saving = false;

  // What the form would send: every named field's value, which boxes are ticked, which
  // files are chosen. Rows added or removed in place change it too.
  function snapshot(form) {
    return Array.prototype.map.call(form.elements, function (el) {
      if (!el.name || el.type === "submit" || el.type === "button") { return ""; }
      if (el.type === "checkbox" || el.type === "radio") { return el.name + "=" + el.checked; }
      if (el.type === "file") {
        return el.name + "=" + Array.prototype.map.call(el.files, function (f) { return f.name; });
      }
      return el.name + "=" + el.value;
    }).join("\n");
  }

  function saveBeforeSignOut() {
    if (saving || !saveForm || saveForm.getAttribute("data-busy") === "sending") { return false; }
    var button = saveForm.querySelector("[data-save-draft]");
    if (!button || snapshot(saveForm) === loaded) { return false; }
    saving = true;
    clearTimeout(endTimer);
    var flag = document.createElement("input");
    flag.type = "hidden";
    flag.name = "after_save";
    flag.value = "sign_out"; // the server signs out once the draft is saved
    saveForm.appendChild(flag);
    if (saveForm.requestSubmit) { saveForm.requestSubmit(button); } else { button.click(); }
    return true;
  }

  function schedule(seconds) {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick);
    deadline = Date.now() + seconds * 1000;
    warnTimer = setTimeout(check, Math.max(seconds - warnBefore, 0) * 1000);
    // A few seconds after the deadline, load the page again (a GET, never a re-sent form):
    // the server shows the sign-in page.
    endTimer = setTimeout(function () {
      window.location.replace(window.location.href.split("#")[0]);
    }, (seconds + 3) * 1000);
  }

  function update() {
    var s = Math.max(Math.round((deadline - Date.now()) / 1000), 0);
    countdown.textContent = s + (s === 1 ? " second" : " seconds");
    if (s <= SAVE_AT && Date.now() < deadline && saveBeforeSignOut()) { clearInterval(tick); }
  }

  function show() {
    banner.hidden = false;
    update();
    clearInterval(tick);
    tick = setInterval(update, 500);
  }

  // Another tab may have kept the session alive: ask the server before warning.
  function check() {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { seconds_left: 0 }; })
      .then(function (data) {
        if (data.seconds_left > warnBefore + 5) { schedule(data.seconds_left); return; }
        deadline = Date.now() + data.seconds_left * 1000;
        show();
      })
      .catch(show);
  }

  stay.addEventListener("click", function () {
    fetch(statusUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.content : "", "Accept": "application/json" }
    })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        banner.hidden = true;
        schedule(data.seconds_left);
      })
      .catch(function () { window.location.reload(); });
  });

  schedule(left);
})();
