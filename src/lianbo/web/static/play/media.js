// The media cache: files downloaded ahead of air time, kept only when their
// bytes hash to the signed sha256, stored in Cache Storage for offline play
// and handed to the screen as blob: URLs of the verified copy.
//
// WebCrypto has no streaming digest, so a file is held in memory once while
// it is hashed; fine for images and the short clips of public screens.

import { sha256Hex } from './crypto.js';

const CACHE = 'lianbo-media-v1';
const cacheKey = (sha) => `/media/${sha}`;

export class MediaStore {
  constructor() {
    this.urls = new Map(); // sha256 -> blob: URL of the verified bytes
    this.sizes = new Map(); // sha256 -> bytes held
    this.failures = {}; // sha256 -> reason, for the status report
    this.quota = null;
  }

  async open() {
    this.cache = await caches.open(CACHE);
    for (const request of await this.cache.keys()) {
      const sha = new URL(request.url).pathname.split('/').pop();
      const response = await this.cache.match(request);
      if (response) await this.remember(sha, await response.blob());
    }
    try {
      this.quota = (await navigator.storage.estimate()).quota ?? null;
    } catch (error) {
      this.quota = null;
    }
  }

  has(sha) {
    return this.urls.has(sha);
  }

  urlOf(sha) {
    return this.urls.get(sha) || null;
  }

  async remember(sha, blob) {
    if (!this.urls.has(sha)) this.urls.set(sha, URL.createObjectURL(blob));
    this.sizes.set(sha, blob.size);
  }

  /**
   * Fetch `file` from the first source that gives the signed bytes. A source
   * with other bytes (a hijacked CDN) is refused; the failure stays in
   * `failures` with its reason until a later download succeeds.
   */
  async ensure(file, sources) {
    if (this.has(file.sha256)) return true;
    let reason = 'unreachable';
    for (const source of sources) {
      let bytes;
      let type;
      try {
        const response = await fetch(source, { cache: 'no-store', credentials: 'omit' });
        if (!response.ok) {
          if (reason !== 'sha256 mismatch') reason = `HTTP ${response.status}`;
          continue;
        }
        type = response.headers.get('Content-Type') || file.mediaType;
        bytes = await response.arrayBuffer();
      } catch (error) {
        continue; // network down or blocked by the page's policy: try the next source
      }
      if (bytes.byteLength !== file.size && file.size > 0) {
        reason = 'sha256 mismatch';
        continue;
      }
      if ((await sha256Hex(bytes)) !== file.sha256) {
        reason = 'sha256 mismatch';
        continue;
      }
      const blob = new Blob([bytes], { type: file.mediaType || type });
      try {
        await this.cache.put(cacheKey(file.sha256), new Response(blob, {
          headers: { 'Content-Type': blob.type, 'Content-Length': String(blob.size) },
        }));
      } catch (error) {
        // Storage full: play from memory now, download again after a restart.
      }
      await this.remember(file.sha256, blob);
      delete this.failures[file.sha256];
      return true;
    }
    this.failures[file.sha256] = reason;
    return false;
  }

  /** Drop what no current manifest names (keeps `keep`). */
  async evictUnneeded(keep) {
    for (const sha of [...this.urls.keys()]) {
      if (keep.has(sha)) continue;
      URL.revokeObjectURL(this.urls.get(sha));
      this.urls.delete(sha);
      this.sizes.delete(sha);
      await this.cache.delete(cacheKey(sha));
    }
    for (const sha of Object.keys(this.failures)) if (!keep.has(sha)) delete this.failures[sha];
  }

  stats() {
    let bytes = 0;
    for (const size of this.sizes.values()) bytes += size;
    return { bytes, budget: this.quota, files: this.urls.size, failures: { ...this.failures } };
  }
}
