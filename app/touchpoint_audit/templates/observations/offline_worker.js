// The log page's service worker (rendered by offline.py; scope {{ scope }}). Network first:
// online, every log page, metric-fields fragment and static file it needs is fetched as usual
// and a copy kept in this version's cache; without a connection the copy answers. Entries
// themselves are never handled here: the page keeps them in IndexedDB (log-offline.js).
"use strict";
const VERSION = {{ version | tojson }};
const CACHE = "log-" + VERSION;
const ASSETS = {{ assets | tojson }};
const SCOPE = {{ scope | tojson }};
const FIELDS = /^\/log\/\d+\/fields$/;

// The cache key of a request this worker answers, or null for one it leaves alone.
function keyFor(url, navigation) {
  if (url.origin !== self.location.origin) return null;
  if (url.pathname === SCOPE && navigation) return url.pathname + url.search;
  // the fields of a metric, whatever product/channel the form sent along
  if (FIELDS.test(url.pathname)) return url.pathname + "?metric_id=" + (url.searchParams.get("metric_id") || "");
  if (ASSETS.includes(url.pathname)) return url.pathname;
  return null;
}

function cacheable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected;
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("log-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (cacheable(response)) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(key, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    // Signing out: the cached pages carry this user's last entries; they go. (Entries not yet
    // sent stay in the page's IndexedDB, shown and sent only for the same user.)
    event.waitUntil(caches.delete(CACHE));
  }
  const key = request.method === "GET" ? keyFor(url, request.mode === "navigate") : null;
  // Everything else passes through this worker's own fetch (not the browser's fallback), so it
  // fails like every request when the connection is gone.
  event.respondWith(key ? networkFirst(request, key) : fetch(request));
});

// The page asks for the copies it will need offline (itself on its first visit, before this
// worker controlled it, and the fields of each metric); already kept ones are not fetched again.
// It hears back when they are in.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "warm") return;
  const port = event.ports && event.ports[0];
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    for (const target of data.urls || []) {
      const url = new URL(target, self.location.origin);
      const key = keyFor(url, true);
      if (!key || await cache.match(key)) continue;
      try {
        const headers = FIELDS.test(url.pathname) ? { "HX-Request": "true" } : {};
        const response = await fetch(url, { headers, credentials: "same-origin", redirect: "manual" });
        if (cacheable(response)) await cache.put(key, response);
      } catch (error) { /* offline meanwhile: the next visit tries again */ }
    }
    if (port) port.postMessage({ type: "warmed", version: VERSION });
  })());
});
