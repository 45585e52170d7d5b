// Play logs (proof of play), kept until the control centre has them
// (player/reporter.py): in localStorage, so a reload or a power cut loses
// none; sent in batches to POST /terminal/v1/playlog. A server without that
// endpoint yet (404) keeps them for later; a batch the server will never
// take (400, 413, 422) is dropped; when the book is full the oldest go.

import { Refused } from './api.js';
import * as store from './store.js';

const BATCH_MAX = 500;
const UNACCEPTABLE = new Set([400, 413, 422]);

export class PlayLogBook {
  constructor() {
    this.pending = store.loadPlaylog();
    this.sent = 0;
  }

  record(entry) {
    this.pending.push(entry);
    if (this.pending.length > store.PLAYLOG_KEPT_MAX) this.pending.shift();
    store.savePlaylog(this.pending);
  }

  /** Send what is pending; throws Unreachable when the server is down. */
  async flush(api) {
    while (this.pending.length) {
      const batch = this.pending.slice(0, BATCH_MAX);
      try {
        if ((await api.playlog(batch)) === null) return; // not on this server yet: keep
        this.sent += batch.length;
      } catch (error) {
        if (!(error instanceof Refused) || !UNACCEPTABLE.has(error.status)) throw error;
      }
      this.pending.splice(0, batch.length);
      store.savePlaylog(this.pending);
    }
  }
}
