// The push channel: a WebSocket to /terminal/v1/ws?token=…&terminal=<id>
// (browsers cannot set headers on a WebSocket; a balancer in front keeps the
// screen on one server process by the id, and must not log the query
// string). `alerts` (the screen's live alerts, right after a hello that
// says `alerts_follow`), `manifest`, `alert`, `alert-cancel`, `command`,
// `heartbeat` (the answer to a `status`) and `alert-ack` (the answer to
// one) go to the handler; `time` answers feed the
// clock estimate. It reconnects with full-jitter backoff so a restarted
// server is not hit by every screen in the same second, and never holds up
// playback.

import { withTerminal } from './api.js';
import { Backoff } from './clock.js';

const SERVER_TYPES = new Set([
  'hello', 'alerts', 'manifest', 'time', 'command', 'alert', 'alert-cancel', 'heartbeat',
  'alert-ack',
]);
const MAX_MESSAGE = 64 * 1024;

export class PushChannel {
  constructor(token, clock, handler, {
    onConnect, onDisconnect, terminalId = null, base = 1, cap = 60,
  } = {}) {
    this.token = token;
    this.terminalId = terminalId;
    this.clock = clock;
    this.handler = handler;
    this.onConnect = onConnect;
    this.onDisconnect = onDisconnect;
    this.backoff = new Backoff(base, cap);
    this.connected = false;
    this.connects = 0;
    this.received = 0;
    this.lastClose = null;
    this.socket = null;
    this.timers = [];
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const path = `/terminal/v1/ws?token=${encodeURIComponent(this.token)}`;
    return `${scheme}://${location.host}${withTerminal(path, this.terminalId)}`;
  }

  start() {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(socket, event);
    socket.onerror = () => {}; // a close follows
  }

  send(message) {
    if (!this.connected || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  closed(socket, event) {
    if (socket !== this.socket) return;
    this.timers.forEach(clearTimeout);
    this.timers = [];
    const was = this.connected;
    this.connected = false;
    this.lastClose = { code: event.code, reason: event.reason };
    if (was && this.onDisconnect) this.onDisconnect(event.code);
    setTimeout(() => this.start(), this.backoff.nextDelay() * 1000);
  }

  receive(raw) {
    let message;
    try {
      if (typeof raw !== 'string' || raw.length > MAX_MESSAGE) throw new Error('not text');
      message = JSON.parse(raw);
      if (!message || typeof message.type !== 'string' || !SERVER_TYPES.has(message.type)) {
        throw new Error('unknown message');
      }
    } catch (error) {
      console.warn('push message dropped:', error.message);
      return;
    }
    this.received += 1;
    if (!this.connected) {
      // A server that talks sense is a working channel: only now is the
      // backoff forgiven (a revoked token is accepted, then closed at once).
      this.connected = true;
      this.connects += 1;
      this.backoff.reset();
      this.sampleTime(0);
      if (this.onConnect) this.onConnect(message.type === 'hello' ? message : {});
    }
    if (message.type === 'time') {
      this.clock.add(Number(message.t0), Number(message.server_time), Date.now() / 1000);
      return;
    }
    if (message.type === 'hello') return;
    Promise.resolve(this.handler(message)).catch((error) => console.error('push message failed', error));
  }

  /** A burst of five time requests on connect, then one every five minutes. */
  sampleTime(sent) {
    if (!this.send({ type: 'time', t0: Date.now() / 1000 })) return;
    const delay = sent < 4 ? 200 : 300000;
    this.timers.push(setTimeout(() => this.sampleTime(sent + 1), delay));
  }
}
