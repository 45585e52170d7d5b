// One screen in a browser: the same loop as the Python agent (player/agent.py)
// — fetch and verify the manifest, download and hash its files, play the
// timeline on deadlines, heartbeat with the status object (over the push
// socket while it is up: heartbeat.js), send play logs, listen on the push
// channel, and show emergency alerts over everything.

import { Refused, TerminalApi, Unreachable } from './api.js';
import { AlertDesk } from './alerts.js';
import { Backoff, ServerClock } from './clock.js';
import { Heartbeats } from './heartbeat.js';
import { KeyPins } from './keyset.js';
import { ManifestRejected, verify } from './manifest.js';
import { MediaStore } from './media.js';
import { PlayLogBook } from './playlog.js';
import { PushChannel } from './push.js';
import { filesByAirTime, slotAt } from './schedule.js';
import { Screen } from './screen.js';
import { Signal } from './signal.js';
import * as store from './store.js';
import { iso } from './timeparse.js';

const MAX_SLEEP_MS = 10000;
const FILE_KINDS = new Set(['video', 'image', 'audio']);

export class Player {
  constructor(identity, { texts, language, pollSeconds = 30, pushPollSeconds = 300, playlogSeconds = 60 }) {
    this.identity = identity;
    this.config = { pollSeconds, pushPollSeconds, playlogSeconds };
    this.texts = texts;
    this.tokenRefusedNow = false;
    this.api = new TerminalApi(identity.token, identity.terminalId);
    this.clock = new ServerClock();
    this.media = new MediaStore();
    this.screen = new Screen(document.getElementById('stage'), texts);
    this.manifest = null;
    this.rejection = null;
    this.httpUp = null;
    this.fetches = 0;
    this.publishedFetches = 0; // manifests taken from a pushed URL (ADR 0024)
    this.pushed = null; // {url, version} of the latest manifest push, until fetched
    this.alertLists = 0; // alert lists taken (HTTP or the socket), for tests
    this.applied = []; // [{version, at}] when each manifest was accepted (epoch ms)
    this.pushLog = []; // the last push messages: [{type, version, at}]
    this.playlog = new PlayLogBook();
    this.onScreen = null; // {cue, since}
    this.blankReason = 'starting';
    this.slotKey = null;
    this.refetch = new Signal();
    this.retryRefused = new Backoff(2, 60);
    this.forceFetch = false;
    this.changed = new Signal();
    this.filesChanged = new Signal();
    this.pins = new KeyPins({
      keys: identity.keys,
      serial: identity.keySerial,
      fetch: () => this.api.keys(),
      now: () => iso(this.clock.now()),
      onChange: (keys, keySerial) => {
        this.identity = { ...this.identity, keys, keySerial };
        store.saveIdentity(this.identity);
      },
    });
    this.desk = new AlertDesk({
      api: this.api,
      keys: () => this.pins.keys,
      learnKey: (keyId) => this.pins.learn(keyId),
      clock: this.clock,
      texts,
      language,
      media: this.media,
      onChange: () => this.reportSoon(),
    });
    this.push = new PushChannel(identity.token, this.clock, (m) => this.onPush(m), {
      terminalId: identity.terminalId,
      onConnect: (hello) => this.onPushConnect(hello),
      // 1008: the server refused our token (retired, revoked): the socket
      // carried the heartbeats, so ask over HTTP now to learn it and say so.
      onDisconnect: (code) => {
        this.desk.courier.channelLost();
        if (code === 1008) { this.beats.soon(); this.refetch.fire(); }
      },
    });
    this.desk.courier.channel = this.push; // acks over the socket while it is up
    this.beats = new Heartbeats({
      api: this.api,
      push: this.push,
      status: () => this.status(),
      clock: this.clock,
      onAudience: (audience) => this.newAudience(audience),
    });
  }

  async start() {
    await this.media.open();
    await this.loadSaved();
    this.playLoop();
    this.downloadLoop();
    this.syncLoop();
    this.alertsFetch();
    this.push.start();
  }

  // -- the manifest ------------------------------------------------------

  async loadSaved() {
    const text = store.loadEnvelope();
    if (!text) return;
    try {
      this.accept(await this.verify(text));
    } catch (error) {
      if (!(error instanceof ManifestRejected)) throw error;
      console.warn('stored manifest not used:', error.message);
    }
  }

  verify(text) {
    return verify(text, this.pins.keys, { now: this.clock.now(), audience: this.identity.audience });
  }

  async fetchManifest() {
    const force = this.forceFetch;
    const pushed = this.pushed;
    this.forceFetch = false;
    this.pushed = null;
    if (pushed && !force && await this.fetchPublished(pushed)) return;
    const etag = this.manifest && !force ? `"${this.manifest.version}"` : null;
    const reply = await this.api.manifest(etag);
    this.fetches += 1;
    if (reply.status === 304) return;
    let manifest;
    try {
      if (reply.text === null) throw new ManifestRejected('malformed', 'the envelope is not UTF-8');
      manifest = await this.verifyRotating(reply.text);
    } catch (error) {
      if (!(error instanceof ManifestRejected)) throw error;
      this.refuse(error);
      // Someone else's manifest, or were we moved? Ask (over HTTP: the
      // socket's replies carry no audience) before settling on the refusal;
      // a new audience fetches again (newAudience).
      if (error.reason === 'audience mismatch') await this.beats.refreshAudience();
      return;
    }
    const wasRejected = this.rejection !== null || this.pins.untrusted !== null;
    this.rejection = null;
    this.pins.trustedAgain();
    if (this.manifest && manifest.version === this.manifest.version) {
      if (wasRejected) this.reportSoon();
      return;
    }
    this.accept(manifest);
    store.saveEnvelope(manifest.envelope);
    this.reportSoon();
  }

  /** The pushed version from the URL the push named, verified exactly as a
   * fetched one and required to be that version (a cache replaying an older
   * signed one is not taken). True when taken; false on any failure, and
   * the caller asks /terminal/v1/manifest as before. */
  async fetchPublished({ url, version }) {
    if (this.manifest && this.manifest.version === version) return true; // a poll brought it
    let manifest;
    try {
      manifest = await this.verifyRotating(await this.api.published(url));
    } catch (error) {
      console.warn(`pushed manifest not taken from ${url}:`, error.message);
      return false;
    }
    if (manifest.version !== version) {
      console.warn(`pushed manifest: ${url} served another version`);
      return false;
    }
    this.publishedFetches += 1;
    this.rejection = null;
    this.pins.trustedAgain();
    if (!this.manifest || manifest.version !== this.manifest.version) {
      this.accept(manifest);
      store.saveEnvelope(manifest.envelope);
    }
    this.reportSoon();
    return true;
  }

  /** A key the screen has not pinned: a rotation, or someone re-signing
   * manifests. Only a key set signed by a pinned key brings it in. */
  async verifyRotating(text) {
    let keyId;
    try {
      return await this.verify(text);
    } catch (error) {
      if (!(error instanceof ManifestRejected) || error.reason !== 'unknown key') throw error;
      keyId = error.detail;
    }
    const refused = await this.pins.learn(keyId);
    if (refused !== null) throw new ManifestRejected('untrusted key', `${String(keyId).slice(0, 64)}: ${refused}`);
    return this.verify(text);
  }

  accept(manifest) {
    this.manifest = manifest;
    this.applied.push({ version: manifest.version, at: Date.now() });
    this.changed.fire();
    this.filesChanged.fire();
  }

  refuse(error) {
    const previous = this.rejection;
    this.rejection = { reason: error.reason, detail: error.detail, at: iso(this.clock.now()) };
    if (!previous || previous.reason !== error.reason || previous.detail !== error.detail) {
      console.warn('manifest refused, keeping the previous one:', error.message);
      this.reportSoon();
    }
  }

  // -- playing -----------------------------------------------------------

  async playLoop() {
    for (;;) {
      let until = null;
      try {
        until = await this.step();
      } catch (error) {
        console.error('play step failed', error);
      }
      const delay = until === null ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, until - this.clock.now());
      await this.changed.wait(delay);
    }
  }

  async step() {
    this.changed.clear();
    const now = this.clock.now();
    const slot = slotAt(this.manifest, now);
    const cue = slot.item ? this.cueOf(slot) : null;
    const key = slot.item && !cue ? `not cached ${slot.key}` : (slot.key || slot.reason);
    if (key === this.slotKey) return slot.until;
    this.endShowing(now);
    this.slotKey = key;
    if (!cue) {
      this.blankReason = slot.item ? 'not cached' : slot.reason;
      this.screen.blank(this.blankReason);
      return slot.until;
    }
    this.onScreen = { cue, since: now };
    this.blankReason = null;
    await this.screen.show(cue);
    return slot.until;
  }

  cueOf(slot) {
    const { item, entry, file } = slot;
    let src = null;
    if (FILE_KINDS.has(item.kind)) {
      src = file ? this.media.urlOf(file.sha256) : null;
      if (!src) return null; // not verified yet: blank rather than unsigned bytes
    }
    return {
      assetId: item.assetId,
      kind: item.kind,
      fit: item.fit,
      seekMs: slot.offsetMs,
      durationMs: item.durationMs,
      until: slot.until,
      scheduleId: entry.scheduleId,
      sha256: file ? file.sha256 : null,
      src,
      text: item.text,
      url: item.url,
    };
  }

  endShowing(now) {
    const shown = this.onScreen;
    this.onScreen = null;
    if (shown && shown.cue.sha256 && now > shown.since) {
      this.playlog.record({
        sha256: shown.cue.sha256,
        schedule_id: shown.cue.scheduleId,
        started_at: iso(shown.since),
        ended_at: iso(now),
      });
    }
  }

  showing() {
    const shown = this.onScreen;
    if (!shown) return this.blankReason ? { blank: this.blankReason } : null;
    return {
      asset_id: shown.cue.assetId,
      sha256: shown.cue.sha256,
      schedule_id: shown.cue.scheduleId,
      since: iso(shown.since),
    };
  }

  // -- downloads ---------------------------------------------------------

  async downloadLoop() {
    const backoff = new Backoff(1, 60);
    for (;;) {
      await this.filesChanged.wait(MAX_SLEEP_MS * 6);
      this.filesChanged.clear();
      const failed = await this.downloadPass();
      if (failed && !this.filesChanged.set) {
        await this.filesChanged.wait(backoff.nextDelay() * 1000);
        this.filesChanged.fire();
      } else if (!failed) {
        backoff.reset();
      }
    }
  }

  async downloadPass() {
    const manifest = this.manifest;
    if (!manifest) return false;
    await this.media.evictUnneeded(new Set(manifest.files.map((f) => f.sha256)));
    let failed = false;
    for (const file of filesByAirTime(manifest, this.clock.now())) {
      if (this.filesChanged.set) break; // a newer manifest: start over in its order
      if (this.media.has(file.sha256)) continue;
      const sources = [file.url, `/media/${file.sha256}`].filter(Boolean);
      if (await this.media.ensure(file, [...new Set(sources)])) this.changed.fire();
      else failed = true;
    }
    if (failed) this.reportSoon();
    return failed;
  }

  // -- the control centre over HTTP --------------------------------------

  async syncLoop() {
    let pollDue = 0;
    let playlogDue = performance.now() + this.config.playlogSeconds * 1000;
    const backoff = new Backoff(1, 60);
    for (;;) {
      try {
        if (performance.now() >= this.beats.due) await this.beats.beat();
        if (this.refetch.set || performance.now() >= pollDue) {
          this.refetch.clear();
          await this.fetchManifest();
          pollDue = performance.now() + this.pollInterval() * 1000;
        }
        if (performance.now() >= playlogDue) {
          await this.playlog.flush(this.api);
          playlogDue = performance.now() + this.config.playlogSeconds * 1000;
        }
      } catch (error) {
        if (!(error instanceof Unreachable || error instanceof Refused)) console.error(error);
        this.tokenRefused(error instanceof Refused && error.status === 401);
        this.httpUp = false;
        this.beats.soon();
        pollDue = 0; // when it answers again: both at once
        this.refetch.clear(); // (the retry fetches anyway; a push may still wake it)
        await this.refetch.wait(backoff.nextDelay() * 1000);
        continue;
      }
      backoff.reset();
      this.tokenRefused(false);
      this.httpUp = true;
      await this.refetch.wait(Math.min(this.beats.due, pollDue, playlogDue) - performance.now());
    }
  }

  /** Say on screen when the server refuses our token (a revoked screen keeps
   * playing its signed cache until valid_until, like the agent). */
  tokenRefused(refused) {
    if (refused === this.tokenRefusedNow) return;
    this.tokenRefusedNow = refused;
    const notice = document.getElementById('notice');
    notice.textContent = refused ? this.texts['play.token_refused'] : '';
    notice.hidden = !refused;
    document.body.dataset.token = refused ? 'refused' : 'ok';
  }

  pollInterval() {
    // A refused manifest may be a passing attack on the network: ask again
    // soon (backing off) rather than at the next routine poll.
    if (this.rejection) return Math.max(1, this.retryRefused.nextDelay());
    this.retryRefused.reset();
    return this.push.connected ? this.config.pushPollSeconds : this.config.pollSeconds;
  }

  /** The audience a heartbeat reply names: keep it; retry a manifest refused
   * as someone else's, which may be ours now. */
  newAudience(audience) {
    if (JSON.stringify(audience) === JSON.stringify(this.identity.audience)) return;
    this.identity = { ...this.identity, audience };
    store.saveIdentity(this.identity);
    if (this.rejection && this.rejection.reason === 'audience mismatch') this.refetch.fire();
  }

  /** Tell the control centre about a change now (a heartbeat: on the socket
   * when it is up, else at once over HTTP). */
  reportSoon() {
    clearTimeout(this.reportTimer);
    this.reportTimer = setTimeout(() => {
      if (!this.beats.report()) this.beats.overHttp().catch(() => {});
    }, 50);
  }

  get heartbeats() {
    return this.beats.accepted;
  }

  status() {
    const manifest = this.manifest;
    return {
      terminal_id: this.identity.terminalId,
      manifest_version: manifest ? manifest.version : null,
      manifest_valid_until: manifest ? iso(manifest.validUntil) : null,
      rejected: this.rejection,
      showing: this.showing(),
      cache: this.media.stats(),
      clock_offset_ms: Math.round(this.clock.offset * 10000) / 10,
      push: this.push.connected ? 'connected' : 'polling',
      backend: 'web',
      playlog_pending: this.playlog.pending.length,
      alerts: this.desk.state().showing.map((a) => a.id),
      untrusted_key: this.pins.untrusted,
      key_serial: this.pins.serial,
      user_agent: navigator.userAgent.slice(0, 200),
    };
  }

  // -- push and alerts ---------------------------------------------------

  onPushConnect(hello) {
    // Messages sent while we were away are lost: look for ourselves. The
    // live alerts come on the socket right after the hello when the server
    // says so (`alerts_follow`); otherwise ask for them over HTTP.
    this.refetch.fire();
    if (!hello.alerts_follow) this.alertsFetch();
    this.beats.connected();
  }

  async onPush(message) {
    if (message.type === 'heartbeat') {
      this.beats.answer(message);
      return;
    }
    if (message.type === 'alert-ack') {
      this.desk.courier.answer(message);
      return;
    }
    if (message.type === 'alerts') {
      await this.takeAlerts(message);
      return;
    }
    this.pushLog.push({ type: message.type, version: message.version ?? null, at: Date.now() });
    if (this.pushLog.length > 20) this.pushLog.shift();
    if (message.type === 'manifest') {
      if (!this.manifest || message.version !== this.manifest.version) {
        // From the URL it names, at once, without a token (ADR 0024).
        const { url, version } = message;
        if (typeof url === 'string' && typeof version === 'string') this.pushed = { url, version };
        this.refetch.fire();
      }
    } else if (message.type === 'alert' || message.type === 'alert-cancel') {
      await this.desk.handle(message);
    } else if (message.type === 'command') {
      this.command(String(message.id ?? ''), message.command);
    }
  }

  command(id, name) {
    if (name === 'reload') {
      this.forceFetch = true;
      this.refetch.fire();
      this.filesChanged.fire();
    } else if (name === 'restart') {
      setTimeout(() => location.reload(), 200);
    } else if (name !== 'screenshot') { // a page cannot read its own pixels
      console.warn('unknown command ignored:', name);
      return;
    }
    this.push.send({ type: 'ack', id });
  }

  /** The active notices for this screen (on load and on every reconnect). */
  async alertsFetch() {
    try {
      const answer = await this.api.alerts();
      if (!answer) return; // a server without the alerts endpoint yet
      await this.takeAlerts(answer);
    } catch (error) {
      console.warn('active alerts not fetched:', error.message);
    }
  }

  /** `{terminal?, alerts?}`, from GET /terminal/v1/alerts or the socket. */
  async takeAlerts(answer) {
    this.alertLists += 1;
    this.desk.setTerminal(answer.terminal);
    for (const body of answer.alerts || []) await this.desk.handle(body);
  }

  /** Read-only state for people debugging a screen, and for tests. */
  state() {
    return {
      terminalId: this.identity.terminalId,
      status: this.status(),
      manifest: this.manifest ? {
        version: this.manifest.version, validUntil: iso(this.manifest.validUntil),
        files: this.manifest.files.map((f) => ({ assetId: f.assetId, sha256: f.sha256 })),
      } : null,
      applied: [...this.applied],
      pushLog: [...this.pushLog],
      fetches: this.fetches,
      publishedFetches: this.publishedFetches,
      alertLists: this.alertLists,
      heartbeats: this.heartbeats,
      beats: { ...this.beats.sent, refused: this.beats.refused, seconds: this.beats.seconds },
      httpUp: this.httpUp,
      push: { connected: this.push.connected, connects: this.push.connects, lastClose: this.push.lastClose },
      alerts: this.desk.state(),
    };
  }
}

