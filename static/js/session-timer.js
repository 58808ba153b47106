// Automatic sign-out warning. The server signs an idle session out by itself; this script
// only tells the user a minute before and offers to stay signed in. Loaded with <script src>
// because the Content-Security-Policy forbids inline script.
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

  function schedule(seconds) {
    clearTimeout(warnTimer); clearTimeout(endTimer); clearInterval(tick);
    deadline = Date.now() + seconds * 1000;
    warnTimer = setTimeout(check, Math.max(seconds - warnBefore, 0) * 1000);
    // A few seconds after the deadline, reload: the server shows the sign-in page.
    endTimer = setTimeout(function () { window.location.reload(); }, (seconds + 3) * 1000);
  }

  function update() {
    var s = Math.max(Math.round((deadline - Date.now()) / 1000), 0);
    countdown.textContent = s + (s === 1 ? " second" : " seconds");
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
