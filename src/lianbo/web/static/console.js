// lianbo console: the little behaviour that HTML alone cannot give.
// Loaded from our own origin only (the CSP forbids inline scripts).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Every HTMX request carries the session's CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrfToken();
  });

  // <button data-confirm="..."> asks before its form is sent.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  // Show the chosen file's name in the upload drop zone.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type === "file" && input.files && input.files.length) {
      var label = input.closest(".drop");
      var text = label ? label.querySelector("span") : null;
      if (text) { text.textContent = input.files[0].name; label.classList.add("chosen"); }
    }
  });
})();
