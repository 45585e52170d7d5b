// lianbo console: resumable uploads into the media library (tus 1.0).
//
// Each chosen file is created with POST, then sent in chunks with PATCH at
// the offset the server confirmed. A chunk that fails (dropped connection,
// server restart, 409 offset mismatch) is retried after asking the server
// with HEAD how many bytes it really holds, so nothing is sent twice and a
// 4 GB master survives a flaky link. Files go one after another: the
// uplink is the bottleneck, not the number of connections.
(function () {
  "use strict";

  var panel = document.querySelector("[data-uploader]");
  if (!panel) { return; }
  var endpoint = panel.getAttribute("data-endpoint");
  var chunkSize = parseInt(panel.getAttribute("data-chunk"), 10) || 8 * 1024 * 1024;
  var list = panel.querySelector("[data-upload-list]");
  var template = panel.querySelector("[data-upload-template]");
  var input = panel.querySelector("[data-upload-input]");
  var dropText = panel.querySelector("[data-drop-text]");
  var dropLabel = dropText ? dropText.textContent : "";
  var MAX_RETRIES = 6;
  var queue = [];
  var busy = false;

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function say(name) { return panel.getAttribute("data-msg-" + name) || name; }

  function base64(text) {
    var bytes = new TextEncoder().encode(text);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary);
  }

  function humanSize(n) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : String(n)) + " " + units[i];
  }

  function sleep(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }

  // One HTTP exchange; resolves with the XHR whatever its status, rejects
  // only when the request never completed (network error, abort).
  function send(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      headers["Tus-Resumable"] = "1.0.0";
      headers["X-CSRF-Token"] = csrf();
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (e) { if (e.lengthComputable) { onProgress(e.loaded); } };
      }
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.onabort = function () { reject(new Error("aborted")); };
      xhr.send(body === undefined ? null : body);
    });
  }

  function failure(xhr) {
    var message = say("failed") + " (" + xhr.status + ")";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error) { message = say("failed") + "：" + body.error; }
    } catch (ignored) { /* an HTML error page: keep the status */ }
    var error = new Error(message);
    error.fatal = true;
    return error;
  }

  function Row(file) {
    var node = template.content.firstElementChild.cloneNode(true);
    node.querySelector(".upload-name").textContent = file.name;
    node.querySelector(".upload-name").title = file.name;
    node.querySelector(".upload-size").textContent = humanSize(file.size);
    this.node = node;
    this.bar = node.querySelector(".progress");
    this.status = node.querySelector(".upload-status");
    this.link = node.querySelector(".upload-link");
    this.size = file.size;
    list.insertBefore(node, list.firstChild);
    this.state("waiting", say("waiting"));
  }
  Row.prototype.state = function (name, text) {
    this.node.setAttribute("data-state", name);
    this.node.classList.toggle("is-done", name === "done");
    this.node.classList.toggle("is-failed", name === "failed");
    this.bar.classList.toggle("done", name === "done");
    this.bar.classList.toggle("failed", name === "failed");
    this.status.textContent = text;
  };
  Row.prototype.progress = function (sent) {
    var pct = this.size ? Math.min(100, (100 * sent) / this.size) : 100;
    this.bar.firstElementChild.style.width = pct.toFixed(1) + "%";
    this.bar.setAttribute("aria-valuenow", Math.round(pct));
    if (this.node.getAttribute("data-state") === "uploading") {
      this.status.textContent = say("uploading") + " " + Math.floor(pct) + "%";
    }
  };

  async function create(file) {
    var meta = "name " + base64(file.name) + ",filename " + base64(file.name);
    var xhr = await send("POST", endpoint, { "Upload-Length": String(file.size), "Upload-Metadata": meta });
    if (xhr.status !== 201) { throw failure(xhr); }
    return xhr.getResponseHeader("Location");
  }

  async function serverOffset(url) {
    var xhr = await send("HEAD", url, {});
    if (xhr.status !== 200) { throw failure(xhr); }
    return { offset: parseInt(xhr.getResponseHeader("Upload-Offset"), 10) || 0,
             asset: xhr.getResponseHeader("Lianbo-Asset-Id") };
  }

  async function upload(file, row) {
    var url = await create(file);
    var offset = 0;
    var failures = 0;
    row.state("uploading", say("uploading"));
    for (;;) {
      var end = Math.min(offset + chunkSize, file.size);
      var last = end >= file.size;
      try {
        var start = offset;
        var xhr = await send("PATCH", url, {
          "Upload-Offset": String(offset),
          "Content-Type": "application/offset+octet-stream"
        }, file.slice(offset, end), function (loaded) {
          row.progress(start + loaded);
          if (last && start + loaded >= file.size) { row.state("checking", say("checking")); }
        });
        if (xhr.status === 204) {
          offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10) || end;
          failures = 0;
          row.progress(offset);
          var asset = xhr.getResponseHeader("Lianbo-Asset-Id");
          if (asset) { return asset; }
          continue;
        }
        if (xhr.status !== 409 && xhr.status < 500) { throw failure(xhr); }
        throw new Error("retry " + xhr.status);
      } catch (error) {
        if (error.fatal || ++failures > MAX_RETRIES) { throw error; }
        row.state("retrying", say("retrying"));
        await sleep(Math.min(500 * Math.pow(2, failures), 15000));
        try {
          var held = await serverOffset(url);
          if (held.asset) { return held.asset; }
          offset = held.offset;
          row.state("uploading", say("uploading"));
          row.progress(offset);
        } catch (lost) {
          if (lost.fatal) { throw lost; }
        }
      }
    }
  }

  function refreshGrid() {
    var grid = document.getElementById("asset-grid");
    if (grid && window.htmx) {
      window.htmx.ajax("GET", grid.getAttribute("data-grid-url"), { target: grid, swap: "outerHTML" });
    }
  }

  async function drain() {
    if (busy) { return; }
    busy = true;
    while (queue.length) {
      var job = queue.shift();
      try {
        var asset = await upload(job.file, job.row);
        job.row.progress(job.file.size);
        job.row.state("done", say("done"));
        job.row.link.href = "/assets/" + asset;
        job.row.link.textContent = say("open");
        job.row.link.setAttribute("data-asset-id", asset);
        job.row.link.hidden = false;
        refreshGrid();
      } catch (error) {
        job.row.state("failed", error.fatal ? error.message : say("failed"));
      }
    }
    busy = false;
  }

  input.addEventListener("change", function () {
    Array.prototype.forEach.call(input.files || [], function (file) {
      queue.push({ file: file, row: new Row(file) });
    });
    // Let console.js show the name first, then make the zone ready again.
    setTimeout(function () {
      input.value = "";
      if (dropText) { dropText.textContent = dropLabel; }
      var zone = input.closest(".drop");
      if (zone) { zone.classList.remove("chosen"); }
    }, 0);
    drain();
  });
})();
