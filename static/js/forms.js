// Forms that act as soon as a choice changes (the language menu): data-submit-on-change on the
// field. Kept out of the page itself: the Content-Security-Policy allows no inline script.
document.addEventListener("change", function (event) {
  var field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) {
    field.form.submit();
  }
});
