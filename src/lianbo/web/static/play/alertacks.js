// Alert acknowledgements on their way to the control centre (the browser's
// side of player/alert_acks.py). While the push channel is up an ack goes
// over it as an `alert-ack` message (protocol/alerts.py) and waits for the
// server's answer, sent after its commit; with no answer within REPLY_MS,
// or when the channel drops first, it goes over HTTP
// (POST /terminal/v1/alerts/{id}/ack) and the channel is left alone for
// acks for QUIET_MS. Without a channel, HTTP with a few backed-off retries.
// The server never moves a delivery backwards, so an ack that arrives twice
// (answer lost, then HTTP) is harmless.

const REPLY_MS = 5000;
const QUIET_MS = 60000;
const HTTP_TRIES = 6;

function newRef() {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class AlertAcks {
  constructor(api) {
    this.api = api;
    this.channel = null; // a PushChannel, once the player has one
    this.waiting = new Map(); // ref -> {entry, timer}
    this.quietUntil = 0;
  }

  /** Send `entry` ({id, state, at, reason?}); its `via` says how it got there. */
  send(entry) {
    if (!this.overChannel(entry)) this.overHttp(entry, 0);
  }

  overChannel(entry) {
    if (!this.channel || Date.now() < this.quietUntil) return false;
    const ref = newRef();
    const message = { type: 'alert-ack', ref, alert_id: entry.id, state: entry.state };
    if (entry.reason) message.reason = entry.reason;
    if (!this.channel.send(message)) return false;
    const timer = setTimeout(() => this.unanswered(ref), REPLY_MS);
    this.waiting.set(ref, { entry, timer });
    return true;
  }

  overHttp(entry, attempt) {
    this.api.ack(entry.id, entry.state, entry.at, entry.reason).then(() => {
      entry.via = 'http';
    }).catch((error) => {
      if (error.name === 'Refused' || error.status) return; // the server will not take it
      if (attempt + 1 < HTTP_TRIES) setTimeout(() => this.overHttp(entry, attempt + 1), 1000 * 2 ** attempt);
    });
  }

  /** The server's answer to one of our `alert-ack` messages. */
  answer(message) {
    const waiting = this.waiting.get(String(message.ref));
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(String(message.ref));
    if (message.refused === undefined) {
      waiting.entry.via = 'channel';
    } else if (message.retry_after !== undefined) { // busy, not a refusal for good
      setTimeout(() => this.overHttp(waiting.entry, 0), Math.max(0, Number(message.retry_after)) * 1000);
    }
  }

  unanswered(ref) {
    const waiting = this.waiting.get(ref);
    if (!waiting) return;
    this.waiting.delete(ref);
    this.quietUntil = Date.now() + QUIET_MS;
    this.overHttp(waiting.entry, 0);
  }

  /** The channel dropped: what waits for an answer goes over HTTP now. */
  channelLost() {
    const stranded = [...this.waiting.values()];
    this.waiting.clear();
    for (const { entry, timer } of stranded) {
      clearTimeout(timer);
      this.overHttp(entry, 0);
    }
  }
}
