// Intake form: add and remove trial / medication rows in place, and catch oversize files
// before they are sent. Without this script the same buttons work through the server.
(function () {
  "use strict";

  function rowsOf(name) {
    return document.querySelector('table[data-rows="' + name + '"] tbody');
  }

  function nextIndex(tbody, name) {
    var max = -1;
    var pattern = new RegExp("^" + name + "-(\\d+)-");
    tbody.querySelectorAll("input, select").forEach(function (el) {
      var m = pattern.exec(el.name);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    });
    return max + 1;
  }

  function renumber(row, name, index) {
    var pattern = new RegExp(name + "-\\d+-");
    var replacement = name + "-" + index + "-";
    row.querySelectorAll("input, select, label, button").forEach(function (el) {
      ["name", "id", "for"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) { el.setAttribute(attr, value.replace(pattern, replacement)); }
      });
      if (el.tagName === "BUTTON") { el.value = "remove_" + name + "-" + index; }
      if (el.tagName === "INPUT") { el.value = ""; }
      if (el.tagName === "SELECT") { el.selectedIndex = 0; }
    });
    row.querySelectorAll(".visually-hidden").forEach(function (label) {
      label.textContent = label.textContent.replace(/\d+/, String(index + 1));
    });
  }

  document.querySelectorAll("button.add-row").forEach(function (button) {
    button.addEventListener("click", function (event) {
      var name = button.dataset.rows;
      var tbody = rowsOf(name);
      var rows = tbody.querySelectorAll("tr.row-entry");
      if (!rows.length) { return; } // let the server add the first row
      if (rows.length >= parseInt(button.dataset.max || "20", 10)) {
        event.preventDefault();
        button.disabled = true;
        button.textContent = "Limit of " + rows.length + " rows reached";
        return;
      }
      event.preventDefault();
      var row = rows[rows.length - 1].cloneNode(true);
      renumber(row, name, nextIndex(tbody, name));
      tbody.appendChild(row);
      row.querySelector("input, select").focus();
    });
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.remove-row");
    if (!button) { return; }
    var row = button.closest("tr");
    var tbody = row.parentNode;
    if (tbody.querySelectorAll("tr.row-entry").length <= 1) {
      event.preventDefault();
      renumber(row, tbody.parentNode.dataset.rows, nextIndex(tbody, tbody.parentNode.dataset.rows));
      return;
    }
    event.preventDefault();
    var next = row.nextElementSibling;
    if (next && next.classList.contains("row-errors")) { next.remove(); }
    row.remove();
    var focusTarget = tbody.parentNode.nextElementSibling;
    if (focusTarget) { focusTarget.focus(); }
  });

  var input = document.getElementById("attachments-input");
  if (input) {
    input.addEventListener("change", function () {
      var max = parseInt(input.dataset.maxBytes, 10);
      var most = parseInt(input.dataset.maxFiles, 10);
      var error = document.getElementById("attachments-size-error");
      var tooBig = Array.prototype.filter.call(input.files, function (f) { return f.size > max; });
      if (input.files.length > most) {
        error.textContent = "At most " + most + " files at a time: choose fewer, and add the rest after saving.";
        error.hidden = false;
        input.value = "";
      } else if (tooBig.length) {
        error.textContent = tooBig.map(function (f) { return f.name; }).join(", ") +
          ": larger than " + Math.round(max / 1048576) + " MB. Choose a smaller file; nothing else was lost.";
        error.hidden = false;
        input.value = "";
      } else {
        error.hidden = true;
      }
    });
  }

  // Screening: "None of these" answers every question No; a Yes unticks it. The server
  // checks the same (a Yes with "None of these" ticked is refused), so this only saves clicks.
  var none = document.getElementById("screening_none");
  var table = document.querySelector("table.screening");
  if (none && table) {
    none.addEventListener("change", function () {
      if (!none.checked) { return; }
      table.querySelectorAll("tr:not([hidden]) input[type=radio][value=no]").forEach(function (radio) {
        radio.checked = true;
      });
    });
    table.addEventListener("change", function (event) {
      if (event.target.type === "radio" && event.target.value === "yes" && event.target.checked) {
        none.checked = false;
      }
    });
  }

  // The pregnancy question follows the sex chosen above it, as the server does: not asked
  // for a patient recorded as male, unless it was already answered Yes.
  var sex = document.getElementById("sex");
  var pregnancy = document.querySelector("tr[data-not-asked-for]");
  if (sex && pregnancy) {
    sex.addEventListener("change", function () {
      var yes = pregnancy.querySelector("input[type=radio][value=yes]");
      pregnancy.hidden = sex.value === pregnancy.dataset.notAskedFor && !(yes && yes.checked);
    });
  }
})();
