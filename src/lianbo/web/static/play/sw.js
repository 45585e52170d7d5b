// Service worker for /play: the page and its scripts from the network when
// it answers, else from the last copy (so a screen starts during an outage).
// Media is not handled here: the player keeps verified files itself.

const SHELL = 'lianbo-play-shell-v3';
const FILES = [
  '/play', '/static/play/play.css', '/static/play/main.js', '/static/play/player.js',
  '/static/play/api.js', '/static/play/alertacks.js', '/static/play/alerts.js',
  '/static/play/clock.js',
  '/static/play/crypto.js', '/static/play/envelope.js', '/static/play/geofence.js',
  '/static/play/heartbeat.js', '/static/play/keyset.js',
  '/static/play/manifest.js', '/static/play/media.js', '/static/play/playlog.js',
  '/static/play/push.js', '/static/play/schedule.js', '/static/play/screen.js',
  '/static/play/signal.js', '/static/play/store.js',
  '/static/play/timeparse.js', '/static/favicon.svg',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  const shell = url.pathname === '/play' || url.pathname.startsWith('/static/play/')
    || url.pathname === '/static/favicon.svg';
  if (!shell) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(SHELL).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.match(url.pathname).then((hit) => hit || Response.error())),
  );
});
