// The flowsheet's entry queue: an entry typed at the chair is kept in this browser until the
// server has it. Each queued form gets a client id once; a failed send (no connection, a
// server error) keeps the entry and retries every few seconds and when the tablet comes back
// online, with the same id, so the server saves it once. A refusal (the server says what is
// wrong) is shown and the entry is not retried. The live part refreshes itself (htmx).
(function () {
  "use strict";
  var KEY = "kapstone-flowsheet-queue";
  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); }
  function status(text) {
    var el = document.getElementById("queue-status");
    if (el) { el.textContent = text; }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function describe(q) {
    return q.length === 0 ? "" : q.length + (q.length === 1 ? " entry" : " entries") +
      " not yet sent — kept on this tablet and retried.";
  }
  var sending = false;
  function flush() {
    if (sending) { return; }
    var q = load();
    status(describe(q));
    if (q.length === 0) { return; }
    sending = true;
    var item = q[0];
    var body = new URLSearchParams(item.fields);
    fetch(item.action, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-Flowsheet-Queue": "1" }
    }).then(function (r) {
      sending = false;
      var rest = load().filter(function (x) { return x.id !== item.id; });
      if (r.ok) {
        save(rest);
        refresh();
        flush();
      } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        save(rest);
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var p = doc.querySelector(".problem");
          var el = document.getElementById("queue-problem");
          if (el) {
            el.hidden = false;
            el.textContent = "Not saved (" + item.label + "): " + (p ? p.textContent.trim() : "refused");
          }
          status(describe(rest));
        });
      } else {
        status(describe(load()) + " The server did not answer; retrying.");
      }
    }).catch(function () {
      sending = false;
      status(describe(load()) + " No connection; retrying.");
    });
  }
  function refresh() {
    var live = document.getElementById("live");
    if (live && window.htmx) { window.htmx.trigger(live, "refresh"); }
  }
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-queue")) { return; }
    ev.preventDefault();
    var id = uuid();
    var fields = [];
    new FormData(form).forEach(function (v, k) {
      if (k !== "client_id") { fields.push([k, String(v)]); }
    });
    fields.push(["client_id", id]);
    var q = load();
    q.push({ id: id, action: form.getAttribute("action"), fields: fields, label: form.getAttribute("data-queue") });
    save(q);
    var problem = document.getElementById("queue-problem");
    if (problem) { problem.hidden = true; }
    form.reset();
    flush();
  });
  window.addEventListener("online", flush);
  setInterval(flush, 5000);
  document.addEventListener("DOMContentLoaded", flush);
})();
