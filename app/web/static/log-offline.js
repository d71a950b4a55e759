// Offline logging on the log page. The service worker (/log/sw.js) keeps the page and its files;
// this script keeps entries made without a connection in IndexedDB, each with an id made here
// (a UUID), shows them as waiting with a count, and sends them one by one to
// /log/<audit>/sync once the connection is back (the online event, a retry every 30 s, or
// "Send now"). The server stores each id once. An entry it refuses stays here with its reason
// until the user corrects it (in the form) or drops it. Every entry saved online carries its
// id too, so one whose answer was lost is not stored twice when it is sent again.
(function () {
  "use strict";
  var root = document.getElementById("offline-log");
  if (!root) { return; }
  var T = JSON.parse(root.getAttribute("data-texts"));
  var AUDIT = root.getAttribute("data-audit");
  var USER = root.getAttribute("data-user");
  var FIELDS = ["metric_id", "value", "customer_q", "customer_id", "customer_status", "product_key", "channel",
                "observed_on", "note"];
  var RETRY_MS = 30000;
  var DB_NAME = "loyalty-audit-log";
  var STORE = "entries";
  var statusBox = document.getElementById("offline-status");
  var queueBox = document.getElementById("offline-queue");
  var list = document.getElementById("offline-entries");
  var sentCount = 0;
  var note = "";          // a passing remark (kept, sign in again, try again)
  var correcting = null;  // the refused entry being corrected in the form
  var syncing = false;
  var retryDelay = 2000;
  var retryTimer = null;
  var lang = document.documentElement.lang || "en";

  // ------------------------------------------------------------------ ids and texts
  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function counted(key, n) {
    return (n === 1 ? T[key + "_one"] : T[key + "_other"]).replace("{n}", n.toLocaleString(lang));
  }
  function localIso(d) {
    function two(x) { return (x < 10 ? "0" : "") + x; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + "T" + two(d.getHours()) + ":" +
      two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  // ------------------------------------------------------------------ IndexedDB
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var request = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(request && request.result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function entries() {
    return withStore("readonly", function (s) { return s.getAll(); }).then(function (all) {
      return (all || []).filter(function (e) { return e.user_id === USER; })
        .sort(function (a, b) { return a.created < b.created ? -1 : 1; });
    });
  }
  function keep(entry) { return withStore("readwrite", function (s) { return s.put(entry); }); }
  function forget(id) { return withStore("readwrite", function (s) { return s.delete(id); }); }

  // ------------------------------------------------------------------ the list and the status line
  function render() {
    return entries().then(function (all) {
      var pending = all.filter(function (e) { return e.state !== "refused"; });
      var refused = all.filter(function (e) { return e.state === "refused"; });
      var parts = [];
      if (!navigator.onLine) { parts.push(T.offline); }
      if (note) { parts.push(note); }
      if (pending.length) { parts.push(counted("pending", pending.length)); }
      if (refused.length) { parts.push(counted("refused", refused.length)); }
      if (sentCount) { parts.push(counted("sent", sentCount)); }
      var text = parts.join(" ");
      if (statusBox.textContent !== text) { statusBox.textContent = text; }
      root.setAttribute("data-pending", pending.length);
      root.setAttribute("data-refused", refused.length);
      root.setAttribute("data-sent", sentCount);
      list.textContent = "";
      all.forEach(function (entry) { list.appendChild(item(entry)); });
      queueBox.hidden = all.length === 0;
    }).catch(function () { statusBox.textContent = T.no_storage; });
  }

  function button(text, action, entry) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "link-button";
    b.textContent = text;
    b.setAttribute("data-action", action);
    b.setAttribute("aria-label", text + ": " + entry.label + " " + entry.fields.value);
    return b;
  }

  function item(entry) {
    var li = document.createElement("li");
    li.className = "offline-entry " + entry.state;
    li.setAttribute("data-client-id", entry.client_id);
    var what = document.createElement("span");
    what.className = "what";
    what.textContent = entry.label + " = " + entry.fields.value +
      (entry.fields.customer_q ? " · " + entry.fields.customer_q : "") +
      (entry.audit_id !== AUDIT ? " · " + T.other_audit.replace("{title}", entry.audit_title) : "");
    var state = document.createElement("span");
    state.className = "state badge " + (entry.state === "refused" ? "bad" : "warn");
    state.textContent = entry.state === "refused" ? T.state_refused : T.state_pending;
    li.appendChild(state);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(what);
    if (entry.state === "refused") {
      var reason = document.createElement("span");
      reason.className = "reason error";
      reason.textContent = entry.reason;
      li.appendChild(reason);
    }
    var actions = document.createElement("span");
    actions.className = "row-actions";
    if (entry.state === "refused" && entry.audit_id === AUDIT && document.getElementById("log-form")) {
      actions.appendChild(button(T.correct, "correct", entry));
    }
    actions.appendChild(button(T.drop, "drop", entry));
    li.appendChild(actions);
    if (correcting === entry.client_id) {
      var hint = document.createElement("span");
      hint.className = "help";
      hint.textContent = T.correcting;
      li.appendChild(hint);
    }
    return li;
  }

  list.addEventListener("click", function (evt) {
    var target = evt.target.closest("button[data-action]");
    if (!target) { return; }
    var id = target.closest("li").getAttribute("data-client-id");
    entries().then(function (all) {
      var entry = all.find(function (e) { return e.client_id === id; });
      if (!entry) { return; }
      if (target.getAttribute("data-action") === "drop") {
        if (window.confirm(T.drop_confirm)) {
          if (correcting === id) { correcting = null; }
          forget(id).then(render);
        }
      } else {
        correct(entry);
      }
    });
  });

  // ------------------------------------------------------------------ the form
  function form() { return document.getElementById("log-form"); }
  function field(name) { var f = form(); return f && f.querySelector("[name=" + name + "]"); }

  function freshId() {
    var input = field("client_id");
    if (input) { input.value = newId(); }
  }

  function formFields(f) {
    var data = new FormData(f);
    var out = {};
    FIELDS.forEach(function (name) { var v = data.get(name); out[name] = v === null ? "" : String(v); });
    return out;
  }

  function metricLabel(f) {
    var select = f.querySelector("#metric_id");
    var option = select && select.options[select.selectedIndex];
    return option ? option.textContent.trim() : "";
  }

  // After an entry is kept: the next one starts with the same metric, product, channel and date.
  function clearForNext(f) {
    ["value", "customer_q", "customer_id", "customer_status", "note"].forEach(function (name) {
      var input = f.querySelector("[name=" + name + "]");
      if (input) { input.value = ""; }
    });
    ["customer-chosen", "customer-care", "saved-msg"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) { el.remove(); }
    });
    freshId();
    var value = f.querySelector("#value");
    if (value) { value.focus(); }
  }

  function keepForm(f, id) {
    var fields = formFields(f);
    if (!fields.value.trim()) {
      note = T.need_value;
      render();
      var value = f.querySelector("#value");
      if (value) { value.focus(); }
      return Promise.resolve();
    }
    var entry = {
      client_id: id || newId(), user_id: USER, audit_id: AUDIT, audit_title: root.getAttribute("data-audit-title"),
      fields: fields, label: metricLabel(f), logged_at: localIso(new Date()), created: Date.now(),
      state: "pending", reason: ""
    };
    return keep(entry).then(function () {
      var done = correcting && correcting !== entry.client_id ? forget(correcting) : Promise.resolve();
      correcting = null;
      return done;
    }).then(function () {
      note = T.kept.replace("{what}", entry.label + " = " + fields.value);
      clearForNext(f);
      return render();
    }).catch(function () {
      note = T.no_storage;
      render();
    });
  }

  // Without a connection the form is not sent: the entry is kept here. Capture phase, so htmx
  // (listening on the form) never sees this submit.
  document.addEventListener("submit", function (evt) {
    var f = evt.target;
    if (f.id !== "log-form" || navigator.onLine) { return; }
    evt.preventDefault();
    evt.stopImmediatePropagation();
    keepForm(f, null);
  }, true);

  // The browser believed it was online, but the request failed: keep the entry under the id the
  // request carried (if the server did store it, sending it again answers "stored" once).
  document.addEventListener("htmx:sendError", function (evt) {
    var f = evt.detail && evt.detail.elt;
    if (f && f.id === "log-form") {
      keepForm(f, (f.querySelector("[name=client_id]") || {}).value || null);
    }
  });

  // Without a connection, the inline value check and the customer search cannot answer: not asked.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var config = evt.detail && evt.detail.requestConfig;
    var path = (config && config.path) || "";
    if (!navigator.onLine && (/\/validate$/.test(path) || /\/customers/.test(path.split("?")[0]))) {
      evt.preventDefault();
    }
  });

  // (By the path: htmx announces the end of a request on the form only while it is in the page,
  // and the answer has just replaced it.)
  document.addEventListener("htmx:afterRequest", function (evt) {
    var config = evt.detail && evt.detail.requestConfig;
    if (!config || config.verb !== "post" || !/\/log\/\d+$/.test(config.path.split("?")[0])) { return; }
    if (evt.detail.xhr && evt.detail.xhr.status === 200 && correcting) {  // the corrected entry was stored online
      var id = correcting;
      correcting = null;
      forget(id).then(render);
    }
  });

  // Every form the server renders gets a fresh id (after a save the panel is new).
  document.addEventListener("htmx:afterSettle", function () {
    var input = field("client_id");
    if (input && !input.value) { freshId(); }
  });

  // ------------------------------------------------------------------ correcting a refused entry
  function fill(entry) {
    var f = form();
    if (!f) { return; }
    FIELDS.forEach(function (name) {
      if (name === "metric_id") { return; }
      var input = f.querySelector("[name=" + name + "]");
      if (input) { input.value = entry.fields[name] || ""; }
    });
    var more = f.querySelector("details.more");
    if (more && (entry.fields.observed_on || entry.fields.note)) { more.open = true; }
    freshId();
    var value = f.querySelector("#value");
    if (value) { value.focus(); value.select(); }
  }

  function correct(entry) {
    var f = form();
    if (!f) { return; }
    correcting = entry.client_id;
    note = "";
    var select = f.querySelector("#metric_id");
    if (select && select.value !== entry.fields.metric_id &&
        select.querySelector("option[value='" + CSS.escape(entry.fields.metric_id) + "']")) {
      // the metric's own fields come first (htmx, or the worker's copy offline), then the values
      var done = function (evt) {
        var elt = evt.detail && (evt.detail.elt || evt.detail.target);
        if (evt.type === "htmx:afterSettle" && !(evt.detail.target && evt.detail.target.id === "metric-fields")) { return; }
        if (evt.type === "htmx:sendError" && elt !== select) { return; }
        document.removeEventListener("htmx:afterSettle", done);
        document.removeEventListener("htmx:sendError", done);
        fill(entry);
      };
      document.addEventListener("htmx:afterSettle", done);
      document.addEventListener("htmx:sendError", done);
      select.value = entry.fields.metric_id;
      select.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      fill(entry);
    }
    render();
  }

  // ------------------------------------------------------------------ sending
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  // A page kept offline for long may carry an expired token: take the one of a fresh page.
  function renewToken() {
    return fetch(location.pathname + location.search, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : ""; })
      .then(function (html) {
        var match = /name="csrf_token" value="([^"]+)"/.exec(html);
        if (!match) { return false; }
        document.body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": match[1] }));
        document.querySelectorAll("input[name=csrf_token]").forEach(function (i) { i.value = match[1]; });
        return true;
      }).catch(function () { return false; });
  }

  function syncUrl(auditId) {
    return root.getAttribute("data-sync").replace(/\/0\/sync$/, "/" + encodeURIComponent(auditId) + "/sync");
  }

  // "sent", "refused" (kept with the server's reason) or "later" (no answer, session ended, server trouble)
  function send(entry, retried) {
    return fetch(syncUrl(entry.audit_id), {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ client_id: entry.client_id, fields: entry.fields, logged_at: entry.logged_at })
    }).then(function (response) {
      if (response.type === "opaqueredirect" || response.status === 401) {
        note = T.signin;
        return "stop";
      }
      var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
      if (!json && response.status === 400 && !retried) {  // the CSRF token expired
        return renewToken().then(function (ok) { return ok ? send(entry, true) : "later"; });
      }
      if (!json) { return "later"; }
      return response.json().then(function (answer) {
        if (response.ok) { return "sent"; }
        if ([400, 403, 404, 409, 413, 422].indexOf(response.status) >= 0) {
          entry.state = "refused";
          entry.reason = answer.reason || ("HTTP " + response.status);
          entry.errors = answer.errors || {};
          return keep(entry).then(function () { return "refused"; });
        }
        return "later";
      });
    }).catch(function () { return "later"; });
  }

  function refreshRecent() {
    if (window.htmx && document.getElementById("recent")) {
      window.htmx.ajax("GET", location.pathname + location.search, { target: "#recent", select: "#recent", swap: "outerHTML" });
    }
  }

  function syncAll() {
    if (syncing || !navigator.onLine) { return Promise.resolve(); }
    syncing = true;
    var sentHere = 0;
    return entries().then(function (all) {
      var waiting = all.filter(function (e) { return e.state !== "refused" && e.client_id !== correcting; });
      if (waiting.length) { note = ""; }
      var chain = Promise.resolve("sent");
      waiting.forEach(function (entry) {
        chain = chain.then(function (last) {
          if (last === "later" || last === "stop") { return last; }
          return send(entry, false).then(function (outcome) {
            if (outcome !== "sent") { return outcome; }
            sentCount += 1;
            if (entry.audit_id === AUDIT) { sentHere += 1; }
            return forget(entry.client_id).then(function () { return "sent"; });
          });
        });
      });
      return chain;
    }).then(function (last) {
      // No answer (the connection is not quite back yet, or the server is busy): again soon,
      // then less often, up to the regular retry.
      if (last === "later") {
        note = T.later;
        window.clearTimeout(retryTimer);
        retryTimer = window.setTimeout(syncAll, retryDelay);
        retryDelay = Math.min(retryDelay * 2, RETRY_MS);
      } else {
        retryDelay = 2000;
      }
    }).catch(function () { /* storage trouble: shown by render */ }).then(function () {
      syncing = false;
      if (sentHere) { refreshRecent(); }
      return render();
    });
  }

  document.getElementById("offline-send").addEventListener("click", function () { syncAll(); });
  window.addEventListener("online", function () { render(); syncAll(); });
  window.addEventListener("offline", function () { note = ""; render(); });
  window.setInterval(function () { if (root.getAttribute("data-pending") !== "0") { syncAll(); } }, RETRY_MS);

  // ------------------------------------------------------------------ the service worker
  function warm() {
    var urls = [location.pathname + location.search];
    var select = document.getElementById("metric_id");
    var fieldsUrl = select && select.getAttribute("hx-get");
    if (fieldsUrl) {
      Array.prototype.forEach.call(select.options, function (o) {
        urls.push(fieldsUrl + "?metric_id=" + encodeURIComponent(o.value));
      });
    }
    return navigator.serviceWorker.ready.then(function (registration) {
      return new Promise(function (resolve) {
        var channel = new MessageChannel();
        channel.port1.onmessage = function () { resolve(); };
        registration.active.postMessage({ type: "warm", urls: urls }, [channel.port2]);
      });
    });
  }

  // Ready for offline once the worker controls this page (right after its first install, too).
  function controlled() {
    if (navigator.serviceWorker.controller) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      navigator.serviceWorker.addEventListener("controllerchange", function () { resolve(); }, { once: true });
    });
  }
  function ready() { root.setAttribute("data-ready", "1"); }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.getAttribute("data-worker"), { scope: root.getAttribute("data-scope") })
      .then(function () { return navigator.onLine ? warm() : null; })
      .then(controlled)
      .then(ready, ready);
  } else {
    ready();
  }
  if (navigator.storage && navigator.storage.persist) { navigator.storage.persist().catch(function () {}); }

  freshId();
  render().then(syncAll);
})();
