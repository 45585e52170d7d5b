// lianbo console: the playlist editor.
//
// Items are <li data-item> rows holding their own hidden inputs, so the
// order on screen is the order the form posts. This script lets people
// reorder them by dragging (HTML5 drag and drop) or with the up/down
// buttons (keyboard users), remove them, add approved assets from the
// picker, and keeps the running total and numbering current.
(function () {
  "use strict";

  var form = document.querySelector("[data-playlist-editor]");
  if (!form) { return; }
  var list = form.querySelector("[data-playlist-items]");
  var empty = form.querySelector("[data-playlist-empty]");
  var total = form.querySelector("[data-total-length]");
  var count = form.querySelector("[data-total-count]");
  var dragging = null;

  function items() { return Array.prototype.slice.call(list.querySelectorAll("[data-item]")); }

  function clock(ms) {
    var s = Math.round(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + two(m) + ":" + two(sec) : m + ":" + two(sec);
  }

  // What one row plays: the typed seconds, else its own length (videos,
  // audio) or the 10 s still default; a video is never stretched longer.
  function lengthOf(row) {
    var natural = parseInt(row.getAttribute("data-natural-ms"), 10) || 10000;
    var own = row.getAttribute("data-own-length") === "true";
    var typed = parseFloat(row.querySelector("[data-duration]").value);
    if (!(typed > 0)) { return natural; }
    var ms = Math.round(typed * 1000);
    return own ? Math.min(ms, natural) : ms;
  }

  function refresh() {
    var rows = items();
    var sum = 0;
    rows.forEach(function (row, i) {
      row.querySelector("[data-index]").textContent = String(i + 1);
      sum += lengthOf(row);
    });
    total.textContent = clock(sum);
    if (count) { count.textContent = count.getAttribute("data-template").replace("{count}", rows.length); }
    empty.hidden = rows.length > 0;
  }

  function move(row, direction) {
    if (direction === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (direction === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    refresh();
    var button = row.querySelector('[data-move="' + direction + '"]');
    if (button) { button.focus(); }
    row.classList.add("moved");
    setTimeout(function () { row.classList.remove("moved"); }, 400);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !list.contains(button)) { return; }
    var row = button.closest("[data-item]");
    if (button.hasAttribute("data-move")) {
      move(row, button.getAttribute("data-move"));
    } else if (button.hasAttribute("data-remove")) {
      row.remove();
      refresh();
    }
  });

  form.addEventListener("input", function (event) {
    if (event.target.hasAttribute("data-duration")) { refresh(); }
  });

  // Adding from the picker (outside the form, refreshed by HTMX searches).
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-add]") : null;
    if (!button) { return; }
    var template = button.parentElement.querySelector("template");
    var row = template.content.firstElementChild.cloneNode(true);
    list.appendChild(row);
    row.classList.add("moved");
    setTimeout(function () { row.classList.remove("moved"); }, 400);
    refresh();
    row.scrollIntoView({ block: "nearest" });
  });

  // ---- drag and drop ----
  list.addEventListener("dragstart", function (event) {
    var row = event.target.closest ? event.target.closest("[data-item]") : null;
    if (!row) { return; }
    dragging = row;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.getAttribute("data-asset-id"));
  });

  function rowAfter(y) {
    var after = null;
    var best = Number.NEGATIVE_INFINITY;
    items().forEach(function (row) {
      if (row === dragging) { return; }
      var box = row.getBoundingClientRect();
      var offset = y - box.top - box.height / 2;
      if (offset < 0 && offset > best) { best = offset; after = row; }
    });
    return after;
  }

  list.addEventListener("dragover", function (event) {
    if (!dragging) { return; }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var after = rowAfter(event.clientY);
    if (after === null) { list.appendChild(dragging); } else if (after !== dragging.nextElementSibling) {
      list.insertBefore(dragging, after);
    }
  });

  list.addEventListener("drop", function (event) {
    if (dragging) { event.preventDefault(); }
  });

  list.addEventListener("dragend", function () {
    if (dragging) { dragging.classList.remove("dragging"); }
    dragging = null;
    refresh();
  });

  refresh();
})();
