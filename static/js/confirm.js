// Forms and buttons that destroy or mark something ask first: <form data-confirm="..."> or
// <button data-confirm="...">. The question is written (translated) in the page.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var button = event.submitter;
  var question = (button && button.dataset.confirm) || form.dataset.confirm;
  // <form data-confirm-when="status=wrong_party,invalid" data-confirm-text="...">: ask only
  // for those values of that field.
  var when = form.dataset.confirmWhen;
  if (when) {
    var parts = when.split("=");
    var field = form.elements[parts[0]];
    question = field && parts[1].split(",").indexOf(field.value) >= 0 ? form.dataset.confirmText : "";
  }
  if (question && !window.confirm(question)) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);
