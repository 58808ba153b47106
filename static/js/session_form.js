// Session form: add vital-sign rows, and show the dose in mg as weight x mg/kg.
// Without JavaScript the form still works: a fixed number of blank rows, dose computed on save.
(function () {
  "use strict";
  var table = document.getElementById("vitals-table");
  var button = document.getElementById("add-vital-row");
  if (table && button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var body = table.tBodies[0];
      var rows = body.querySelectorAll("tr.vital-row");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var index = rows.length;
      copy.classList.remove("has-error");
      copy.querySelectorAll("p.error").forEach(function (p) { p.remove(); });
      copy.querySelectorAll("input, select").forEach(function (input) {
        input.name = input.name.replace(/^vitals-\d+-/, "vitals-" + index + "-");
        input.id = input.name;
        var label = input.getAttribute("aria-label");
        if (label) { input.setAttribute("aria-label", label.replace(/^Row \d+/, "Row " + (index + 1))); }
        if (input.tagName === "INPUT") { input.value = ""; }
      });
      body.appendChild(copy);
      copy.querySelector("input").focus();
    });
  }
  var out = document.getElementById("dose-mg");
  if (out) {
    var weight = document.getElementById(out.dataset.weight);
    var dose = document.getElementById(out.dataset.dose);
    var show = function () {
      var w = parseFloat(weight.value), d = parseFloat(dose.value);
      if (w > 0 && d > 0) {
        var text = "Dose: " + (Math.round(w * d * 10) / 10) + " mg (" + w + " kg x " + d + " mg/kg).";
        if (d < 0.1 || d > 0.75) { text += " Outside 0.1-0.75 mg/kg: you will be asked to confirm."; }
        out.textContent = text;
      }
    };
    weight.addEventListener("input", show);
    dose.addEventListener("input", show);
    show();
  }
})();
