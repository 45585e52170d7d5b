// A wake-up signal for the player's loops.

/** "Something changed": loops sleep on it and wake early when it fires.
 * Only the consumer clears it, so a wake-up is never lost. */
export class Signal {
  constructor() {
    this.set = false;
    this.waiters = [];
  }

  fire() {
    this.set = true;
    this.waiters.splice(0).forEach((wake) => wake());
  }

  clear() {
    this.set = false;
  }

  /** Resolve after `ms`, or at once when fired (now or already). */
  wait(ms) {
    if (this.set) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.waiters.push(() => { clearTimeout(timer); resolve(); });
    });
  }
}
