// Keyboard shortcuts. An element with data-key="x" is what the key x does on this page: a
// link or button is clicked, a radio button chosen, a panel (<details>) opened, a field
// focused. Its data-key-help (written, translated, in the page) is its line in the "?" list.
// Letters act only when no field has the cursor; Ctrl+Enter saves the form the cursor is in,
// Esc leaves the field or closes the list.
(function () {
  "use strict";

  function typing(target) {
    return target.closest && target.closest("input, textarea, select, [contenteditable]");
  }

  function firstField(container) {
    return container.querySelector(
      "input:not([type=hidden]):not([type=radio]):not([disabled]), select:not([disabled]), textarea:not([disabled])"
    );
  }

  function activate(element) {
    var details = element.closest("details");
    if (details && details !== element) {
      details.open = true;
    }
    if (element.matches("details")) {
      element.open = true;
      var field = firstField(element);
      if (field) {
        field.focus();
      } else {
        // The panel loads its form when opened (htmx): focus its first field once it is in.
        document.addEventListener("htmx:afterSettle", function once() {
          var loaded = firstField(element);
          if (loaded) {
            document.removeEventListener("htmx:afterSettle", once);
            loaded.focus();
          }
        });
      }
      return;
    }
    if (element.matches("input[type=radio], input[type=checkbox]")) {
      element.checked = true;
      element.dispatchEvent(new Event("change", { bubbles: true }));
      var target = element.dataset.focus && document.querySelector(element.dataset.focus);
      (target || element).focus();
      return;
    }
    if (element.matches("a, button")) {
      element.click();
      return;
    }
    element.focus();
  }

  function helpDialog() {
    return document.getElementById("keys-help");
  }

  function toggleHelp() {
    var dialog = helpDialog();
    if (!dialog) {
      return;
    }
    if (dialog.open) {
      dialog.close();
      return;
    }
    var rows = document.getElementById("keys-help-page");
    rows.textContent = "";
    var seen = {};
    document.querySelectorAll("[data-key][data-key-help]").forEach(function (element) {
      var key = element.dataset.key;
      if (seen[key]) {
        return;
      }
      seen[key] = true;
      var row = rows.insertRow();
      var keyCell = row.insertCell();
      var kbd = document.createElement("kbd");
      kbd.textContent = key;
      keyCell.appendChild(kbd);
      row.insertCell().textContent = element.dataset.keyHelp;
    });
    dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-keys-open]")) {
      toggleHelp();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) {
      return;
    }
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      var form = event.target.form || (event.target.closest && event.target.closest("form"));
      if (form) {
        event.preventDefault();
        // A click, not requestSubmit(): htmx sends the clicked button's name and value.
        var primary = form.querySelector("[data-primary]");
        if (primary) {
          primary.click();
        } else {
          form.requestSubmit();
        }
      }
      return;
    }
    if (event.key === "Escape") {
      if (typing(event.target)) {
        event.target.blur();
      }
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (helpDialog() && helpDialog().open) {
      return;
    }
    var element = document.querySelector('[data-key="' + CSS.escape(event.key) + '"]');
    if (element) {
      event.preventDefault();
      activate(element);
    }
  });
})();
