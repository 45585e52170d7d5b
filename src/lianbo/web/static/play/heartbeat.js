// Heartbeats (player/heartbeat.py): over the push socket while it is up,
// over HTTP otherwise. On the socket a `status` message is the heartbeat; the
// server answers `heartbeat {server_time, heartbeat_seconds}` or, when the
// screen beats too often, `heartbeat {refused, retry_after}` (then it waits).
// An HTTP request per beat from every screen was the server's bottleneck.
//
// HTTP stays for what the socket reply does not carry, the audience, and
// for when the socket cannot be used: the socket is down, or its reply did
// not come within 5 s (then the socket is left alone for heartbeats for
// 5 minutes); at least every 10 minutes (the first beat of a page too); and
// at once when a manifest names another audience than the stored one
// (refreshAudience), so a moved screen learns its audience before refusing.
// Times are performance.now() milliseconds, as in the player's sync loop.

import { parseTime } from './timeparse.js';

const MIN_SECONDS = 1;
const MAX_SECONDS = 3600;

function seconds(value) {
  return typeof value === 'number' && value >= MIN_SECONDS && value <= MAX_SECONDS ? value : null;
}

export class Heartbeats {
  constructor({ api, push, status, clock, onAudience, replyMs = 5000, quietMs = 300000,
    audienceMs = 600000, refreshAfterMs = 10000 }) {
    Object.assign(this, { api, push, status, clock, onAudience });
    this.config = { replyMs, quietMs, audienceMs, refreshAfterMs };
    this.seconds = 30; // until the server says otherwise
    this.accepted = 0; // heartbeats the server took, either way
    this.refused = 0; // socket heartbeats refused as too frequent
    this.sent = { socket: 0, http: 0 };
    this.next = 0;
    this.httpDue = 0; // the first beat asks for the audience
    this.lastHttp = null;
    this.quietUntil = 0;
    this.awaiting = null; // the deadline of an unanswered socket beat
  }

  /** When the sync loop should call beat() next (or a reply's deadline). */
  get due() {
    return this.awaiting === null ? this.next : Math.min(this.next, this.awaiting);
  }

  /** Beat at the next chance (the server is back after an outage). */
  soon() {
    this.next = 0;
    this.awaiting = null;
  }

  /** One heartbeat; throws the api's Unreachable / Refused when HTTP failed. */
  async beat() {
    const now = performance.now();
    if (this.awaiting !== null && now >= this.awaiting) {
      this.awaiting = null;
      if (this.push.connected) {
        console.info('no heartbeat reply on the push channel; using HTTP for a while');
        this.quietUntil = now + this.config.quietMs;
      }
    } else if (this.push.connected && now < this.httpDue && this.report()) {
      if (this.awaiting === null) this.awaiting = now + this.config.replyMs;
      this.next = now + this.seconds * 1000;
      return;
    }
    await this.overHttp();
  }

  /** A (re)connected socket, perhaps to another server: try it again, beat on it now. */
  connected() {
    this.quietUntil = 0;
    this.report();
  }

  /** The status up the socket now (a heartbeat there); false when it cannot take it. */
  report() {
    if (performance.now() < this.quietUntil) return false;
    const sent = this.push.send({ type: 'status', ...this.status() });
    if (sent) this.sent.socket += 1;
    return sent;
  }

  /** A `heartbeat` message from the socket. */
  answer(message) {
    this.awaiting = null;
    const now = performance.now();
    if ('refused' in message) {
      this.refused += 1;
      const wait = seconds(message.retry_after) ?? this.seconds;
      console.info(`heartbeat refused (${message.refused}); next in ${wait} s`);
      this.next = now + wait * 1000;
      return;
    }
    this.accepted += 1;
    this.seconds = seconds(message.heartbeat_seconds) ?? this.seconds;
    this.next = now + this.seconds * 1000;
  }

  /** An HTTP heartbeat; the audience its reply carries, or null. */
  async overHttp() {
    this.sent.http += 1;
    const exchange = await this.api.heartbeat(this.status());
    const now = performance.now();
    this.accepted += 1;
    this.lastHttp = now;
    this.httpDue = now + this.config.audienceMs;
    const reply = exchange.body && typeof exchange.body === 'object' ? exchange.body : {};
    const serverTime = parseTime(reply.server_time);
    if (serverTime !== null) this.clock.add(exchange.t0, serverTime / 1000, exchange.t1);
    this.seconds = seconds(reply.heartbeat_seconds) ?? this.seconds;
    this.next = now + this.seconds * 1000;
    const audience = reply.audience && typeof reply.audience === 'object' ? reply.audience : null;
    if (audience) this.onAudience(audience);
    return audience;
  }

  /** The server's word on our audience now (HTTP, unless it just answered); null
   * when it cannot be asked. The server's terminal cache may lag an operator's
   * edit (30 s): the next heartbeat within the minute goes over HTTP too. */
  async refreshAudience() {
    const now = performance.now();
    let audience = null;
    if (this.lastHttp === null || now - this.lastHttp >= this.config.refreshAfterMs) {
      try {
        audience = await this.overHttp();
      } catch (error) {
        console.warn('audience not refreshed:', error.message);
      }
    }
    this.httpDue = Math.min(this.httpDue, now + 60000);
    return audience;
  }
}
