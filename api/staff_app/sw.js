// The staff app's service worker: keeps the shell so the app opens with no network. Data (my work,
// a case) is kept by the page itself as last seen; actions wait in the page's outbox.

const CACHE = "steward-app-v4";
const SHELL = [
  "/app/", "/app/manifest.webmanifest", "/app/assets/app.css", "/app/assets/app.js", "/app/assets/client.js",
  "/app/assets/dom.js", "/app/assets/i18n.js", "/app/assets/languages.js", "/app/assets/text.json",
  "/app/assets/outbox.js", "/app/assets/resident.js", "/app/assets/view.js", "/app/assets/categories.json",
  "/app/assets/icon.svg", "/app/assets/icon-192.png", "/app/assets/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

// The shell: from the network when it answers (so an update shows at once), else from the cache.
self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const shell = event.request.method === "GET" && url.origin === self.location.origin
    && url.pathname.startsWith("/app/") && !url.pathname.startsWith("/app/api/");
  if (!shell) return;
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  }).catch(() => caches.match(url.pathname, { ignoreSearch: true })));
});
