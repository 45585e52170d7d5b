// The server's "now": our clock plus an NTP-style offset estimate
// (player/clock.py): the median offset of the samples with the shortest
// round trips, since a sample's error is at most RTT/2.

export class ServerClock {
  constructor(keep = 8, best = 4) {
    this.keep = keep;
    this.best = best;
    this.samples = []; // [rtt, offset] in seconds
  }

  /** One exchange: sent at t0, answered serverTime, received at t1 (epoch s). */
  add(t0, serverTime, t1) {
    const rtt = t1 - t0;
    if (!(rtt >= 0) || !Number.isFinite(serverTime)) return;
    this.samples.push([rtt, serverTime + rtt / 2 - t1]);
    if (this.samples.length > this.keep) this.samples.shift();
  }

  /** Seconds to add to our clock to read the server's. */
  get offset() {
    if (!this.samples.length) return 0;
    const offsets = [...this.samples].sort((a, b) => a[0] - b[0]).slice(0, this.best)
      .map((s) => s[1]).sort((a, b) => a - b);
    const mid = offsets.length >> 1;
    return offsets.length % 2 ? offsets[mid] : (offsets[mid - 1] + offsets[mid]) / 2;
  }

  /** The server's time, epoch ms. */
  now() {
    return Date.now() + this.offset * 1000;
  }
}

/** Full-jitter exponential backoff (player/backoff.py). */
export class Backoff {
  constructor(base = 1, cap = 60) {
    this.base = base;
    this.cap = cap;
    this.attempt = 0;
  }

  nextDelay() {
    const ceiling = Math.min(this.cap, this.base * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.random() * ceiling;
  }

  reset() {
    this.attempt = 0;
  }
}
