/* The browsable API's forms: a query form leaves its empty fields out of the URL; an
 * upload form sends its option fields (data-query) as query parameters, as the API takes them.
 * An open dialog (filters, DELETE) is no longer aria-hidden, as Bootstrap 3 leaves it. */
(function () {
  "use strict";
  if (window.jQuery) {
    window.jQuery(document)
      .on("shown.bs.modal", ".modal", function () { this.removeAttribute("aria-hidden"); })
      .on("hidden.bs.modal", ".modal", function () { this.setAttribute("aria-hidden", "true"); });
  }
  document.querySelectorAll("form[data-drop-empty]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("input, select").forEach(function (field) {
        if (!field.value) {
          field.disabled = true;
        }
      });
    });
  });
  document.querySelectorAll("[data-query]").forEach(function (field) {
    var form = field.form;
    if (form.dataset.queryBound) {
      return;
    }
    form.dataset.queryBound = "1";
    form.addEventListener("submit", function () {
      var query = new URLSearchParams();
      form.querySelectorAll("[data-query]").forEach(function (option) {
        if (option.value) {
          query.set(option.name, option.value);
        }
        option.disabled = true;
      });
      var path = form.getAttribute("action").split("?")[0];
      form.setAttribute("action", query.toString() ? path + "?" + query.toString() : path);
    });
  });
})();
