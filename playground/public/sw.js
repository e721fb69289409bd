// The playground's service worker: keeps the site working offline once it has been opened.
// Hashed assets are served from the cache first; the page itself from the network first.
// It fetches nothing but the site's own files (listed in precache.json at build time).
// Every response it serves carries the cross-origin isolation headers (as coi-serviceworker
// does), so the page has SharedArrayBuffer on any static server; the page reloads once when
// this worker first takes control (main.ts).
const CACHE = "nnc-playground-v2";

/** The response with COOP same-origin and COEP require-corp. */
function isolated(res) {
  if (res.status === 0) return res; // opaque: nothing to add to
  const headers = new Headers(res.headers);
  headers.set("Cross-Origin-Opener-Policy", "same-origin");
  headers.set("Cross-Origin-Embedder-Policy", "require-corp");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const list = await fetch("./precache.json").then((r) => (r.ok ? r.json() : []), () => []);
      await cache.addAll(["./", ...list.map((f) => "./" + f)]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  const hashed = url.pathname.includes("/assets/");
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      if (hashed) {
        const hit = await cache.match(req, { ignoreVary: true });
        if (hit) return isolated(hit);
      }
      try {
        const res = await fetch(req);
        if (res.ok) await cache.put(req, res.clone());
        return isolated(res);
      } catch (e) {
        const hit = await cache.match(req, { ignoreSearch: true, ignoreVary: true });
        if (hit) return isolated(hit);
        throw e;
      }
    })(),
  );
});
