// lianbo console: drawing an alert's area on the map (polygons and circles).
// Click to add vertices, "finish" (or a double click) closes the polygon;
// in circle mode press at the centre and drag out the radius. What is drawn
// goes into the hidden fields `polygons` and `circles` as JSON ([lat, lon]
// pairs, radius in km), and an `area-changed` event asks for a new preview.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var EARTH_KM = 6371.0088;

  function number(el, name) { return parseFloat(el.getAttribute("data-" + name)); }

  function projectionOf(box) {
    var p = {};
    ["west", "north", "scale", "kx", "x0", "y0"].forEach(function (k) { p[k] = number(box, k); });
    return {
      toLatLon: function (x, y) {
        return [round(p.north - (y - p.y0) / p.scale), round(p.west + (x - p.x0) / (p.kx * p.scale))];
      },
      toXY: function (lat, lon) {
        return [p.x0 + (lon - p.west) * p.kx * p.scale, p.y0 + (p.north - lat) * p.scale];
      },
      kmPerUnit: function () { return Math.PI * EARTH_KM / 180 / p.scale; }
    };
  }

  function round(v) { return Math.round(v * 1e5) / 1e5; }

  // Great-circle distance: enough to show the radius while dragging; the
  // server measures the circle geodesically on the ellipsoid.
  function distanceKm(a, b) {
    var r = Math.PI / 180;
    var h = Math.pow(Math.sin((b[0] - a[0]) * r / 2), 2) +
      Math.cos(a[0] * r) * Math.cos(b[0] * r) * Math.pow(Math.sin((b[1] - a[1]) * r / 2), 2);
    return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function parse(input) {
    try { var v = JSON.parse(input.value || "[]"); return Array.isArray(v) ? v : []; }
    catch (e) { return []; }
  }

  function el(name, attrs) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function setup(box) {
    var form = box.closest("form");
    var layer = box.querySelector("svg.map-draw");
    var polygonsInput = form.querySelector("input[name=polygons]");
    var circlesInput = form.querySelector("input[name=circles]");
    var status = document.querySelector("[data-draw-status]");
    var proj = projectionOf(box);
    var state = { mode: "", vertices: [], circle: null, dragging: false };
    var polygons = parse(polygonsInput);
    var circles = parse(circlesInput);

    function point(event) {
      var pt = layer.createSVGPoint();
      pt.x = event.clientX; pt.y = event.clientY;
      var local = pt.matrixTransform(layer.getScreenCTM().inverse());
      return [local.x, local.y];
    }

    function pathOf(ring, close) {
      return ring.map(function (ll, i) {
        var xy = proj.toXY(ll[0], ll[1]);
        return (i ? "L" : "M") + xy[0].toFixed(1) + " " + xy[1].toFixed(1);
      }).join(" ") + (close ? " Z" : "");
    }

    function radiusUnits(c) { return c.radius_km / proj.kmPerUnit(); }

    function redraw() {
      while (layer.firstChild) { layer.removeChild(layer.firstChild); }
      polygons.forEach(function (ring) {
        layer.appendChild(el("path", { "class": "drawn", d: pathOf(ring, true) }));
      });
      circles.forEach(function (c) {
        var xy = proj.toXY(c.lat, c.lon);
        layer.appendChild(el("circle", { "class": "drawn", cx: xy[0], cy: xy[1], r: radiusUnits(c) }));
      });
      if (state.vertices.length) {
        layer.appendChild(el("path", { "class": "drawing", d: pathOf(state.vertices, false) }));
        state.vertices.forEach(function (ll) {
          var xy = proj.toXY(ll[0], ll[1]);
          layer.appendChild(el("circle", { "class": "vertex", cx: xy[0], cy: xy[1], r: 4 }));
        });
      }
      if (state.circle) {
        var c = proj.toXY(state.circle.lat, state.circle.lon);
        layer.appendChild(el("circle", { "class": "drawing", cx: c[0], cy: c[1], r: radiusUnits(state.circle) }));
      }
      var shapes = polygons.length + circles.length;
      if (status) { status.setAttribute("data-shapes", String(shapes)); status.textContent = status.getAttribute("data-template").replace("{count}", shapes); }
    }

    function changed() {
      polygonsInput.value = polygons.length ? JSON.stringify(polygons) : "";
      circlesInput.value = circles.length ? JSON.stringify(circles) : "";
      redraw();
      form.dispatchEvent(new CustomEvent("area-changed", { bubbles: true }));
    }

    function finishPolygon() {
      if (state.vertices.length >= 3) { polygons.push(state.vertices); }
      state.vertices = [];
      changed();
    }

    function choose(mode) {
      if (state.mode === "polygon" && mode !== "polygon") { finishPolygon(); }
      state.mode = mode;
      box.setAttribute("data-mode", mode);
      form.querySelectorAll("[data-draw]").forEach(function (b) {
        b.classList.toggle("active", b.getAttribute("data-draw") === mode);
      });
    }

    form.querySelectorAll("[data-draw]").forEach(function (button) {
      button.addEventListener("click", function () {
        var what = button.getAttribute("data-draw");
        if (what === "finish") { finishPolygon(); choose(""); }
        else if (what === "clear") { polygons = []; circles = []; state.vertices = []; state.circle = null; changed(); choose(""); }
        else if (what === "undo") {
          if (state.vertices.length) { state.vertices.pop(); redraw(); }
          else if (circles.length || polygons.length) {
            if (state.lastKind === "circle" && circles.length) { circles.pop(); } else if (polygons.length) { polygons.pop(); } else { circles.pop(); }
            changed();
          }
        }
        else { choose(state.mode === what ? "" : what); }
      });
    });

    layer.addEventListener("click", function (event) {
      if (state.mode !== "polygon") { return; }
      var xy = point(event);
      state.vertices.push(proj.toLatLon(xy[0], xy[1]));
      state.lastKind = "polygon";
      redraw();
    });
    layer.addEventListener("dblclick", function (event) {
      if (state.mode === "polygon") { event.preventDefault(); finishPolygon(); }
    });
    layer.addEventListener("pointerdown", function (event) {
      if (state.mode !== "circle") { return; }
      var xy = point(event);
      var ll = proj.toLatLon(xy[0], xy[1]);
      state.circle = { lat: ll[0], lon: ll[1], radius_km: 0 };
      state.dragging = true;
      layer.setPointerCapture(event.pointerId);
    });
    layer.addEventListener("pointermove", function (event) {
      if (!state.dragging) { return; }
      var xy = point(event);
      state.circle.radius_km = Math.round(distanceKm([state.circle.lat, state.circle.lon], proj.toLatLon(xy[0], xy[1])) * 1000) / 1000;
      redraw();
    });
    layer.addEventListener("pointerup", function () {
      if (!state.dragging) { return; }
      state.dragging = false;
      if (state.circle.radius_km > 0) { circles.push(state.circle); state.lastKind = "circle"; }
      state.circle = null;
      changed();
    });
    redraw();
  }

  function init() { document.querySelectorAll("[data-alert-map]").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
