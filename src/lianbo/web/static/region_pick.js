// lianbo console: picking regions on the composer's map (ADR 0026). A click
// (or Enter) on a county's outline ticks its box in the region list, or adds
// its code to the typed codes when it has no box; a second click removes it.
// Outlines of picked regions are highlighted; the preview is asked again.
(function () {
  "use strict";

  function codesOf(input) {
    return (input.value || "").split(/[\s,;，；]+/).filter(function (c) { return c; });
  }

  function setup(svg) {
    var form = svg.closest("form");
    var typed = form.querySelector("input[name=region_codes]");

    function box(code) { return form.querySelector("input[name=region][value='" + code + "']"); }

    function picked(code) {
      var tick = box(code);
      return tick ? tick.checked : codesOf(typed).indexOf(code) >= 0;
    }

    function mark() {
      svg.querySelectorAll("[data-pick]").forEach(function (path) {
        path.classList.toggle("picked", picked(path.getAttribute("data-pick")));
      });
    }

    function toggle(code) {
      var tick = box(code);
      if (tick) {
        tick.checked = !tick.checked;
      } else {
        var codes = codesOf(typed);
        var at = codes.indexOf(code);
        if (at >= 0) { codes.splice(at, 1); } else { codes.push(code); }
        typed.value = codes.join(", ");
      }
      mark();
      form.dispatchEvent(new CustomEvent("area-changed", { bubbles: true }));
    }

    // The outline under the pointer, also through a screen's dot drawn on top.
    function under(event) {
      var hit = event.target.closest ? event.target.closest("[data-pick]") : null;
      if (hit) { return hit; }
      var stack = document.elementsFromPoint(event.clientX, event.clientY);
      for (var i = 0; i < stack.length; i++) {
        if (stack[i].hasAttribute && stack[i].hasAttribute("data-pick") && svg.contains(stack[i])) { return stack[i]; }
      }
      return null;
    }

    svg.addEventListener("click", function (event) {
      var path = under(event);
      if (path) { toggle(path.getAttribute("data-pick")); }
    });
    svg.addEventListener("keydown", function (event) {
      var path = event.target.closest ? event.target.closest("[data-pick]") : null;
      if (path && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); toggle(path.getAttribute("data-pick")); }
    });
    form.addEventListener("change", mark);
    mark();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("svg.map-base").forEach(function (svg) {
      if (svg.querySelector(".outlines-pick")) { setup(svg); }
    });
  });
})();
