// Emergency alerts on this screen (protocol/alerts.py): verify each signed
// notice, test our own position against its area, show it over everything
// (takeover or banner by tier), acknowledge each step, end it on cancel or
// expiry, and show each id once. Test (and System) notices are acknowledged
// `received` and never shown to the public.

import { AlertAcks } from './alertacks.js';
import { signatureValid } from './crypto.js';
import { inArea } from './geofence.js';
import { iso, parseTime } from './timeparse.js';

const FALLBACK_LANGUAGE = 'zh-CN';
const SHOWN_STATUSES = new Set(['Actual', 'Exercise']);
const LEVEL_NAMES = { 1: 'Ⅰ', 2: 'Ⅱ', 3: 'Ⅲ', 4: 'Ⅳ' };
const COLOUR_NAMES = { red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色' };

export class NoticeRejected extends Error {
  constructor(reason, id = null) {
    super(reason);
    this.reason = reason;
    this.id = id;
  }
}

function unverifiedId(notice) {
  try {
    const data = JSON.parse(notice);
    return typeof data?.id === 'string' ? data.id : null;
  } catch (error) {
    return null;
  }
}

/** The verified notice object, or NoticeRejected with verify_notice's reasons. */
export async function verifyNotice(body, keys) {
  const { notice, signature, key_id: keyId } = body || {};
  if (typeof notice !== 'string') throw new NoticeRejected('malformed');
  const id = unverifiedId(notice);
  if (!signature || typeof signature !== 'string') throw new NoticeRejected('unsigned', id);
  if (typeof keyId !== 'string' || !Object.hasOwn(keys, keyId)) throw new NoticeRejected('unknown key', id);
  if (!(await signatureValid(notice, signature, keys[keyId]))) throw new NoticeRejected('bad signature', id);
  let data;
  try {
    data = JSON.parse(notice);
  } catch (error) {
    throw new NoticeRejected('malformed', id);
  }
  if (!data || typeof data !== 'object' || !['alert', 'cancel'].includes(data.kind)) {
    throw new NoticeRejected('malformed', id);
  }
  if (typeof data.id !== 'string') throw new NoticeRejected('malformed');
  return data;
}

export function displayFor(notice, tier) {
  const mode = notice.display?.[tier] ?? 'takeover';
  return mode === 'banner' ? 'banner' : 'takeover';
}

export function textFor(notice, language) {
  const texts = notice.texts || {};
  for (const lang of [language, FALLBACK_LANGUAGE]) if (texts[lang]) return [lang, texts[lang]];
  const first = Object.entries(texts)[0];
  return first || [FALLBACK_LANGUAGE, {}];
}

export class AlertDesk {
  constructor({ api, keys, learnKey, clock, texts, language, media, onChange }) {
    this.api = api;
    this.keys = keys; // () => {key_id: b64}, the pinned keys
    this.learnKey = learnKey || null; // (keyId) => null | why not (KeyPins.learn)
    this.clock = clock;
    this.texts = texts;
    this.language = language;
    this.media = media;
    this.onChange = onChange || (() => {});
    this.terminal = null; // {tier, region, latitude, longitude, language?} from the server
    this.active = new Map(); // id -> {notice, mode, timer}
    this.seen = new Set(); // ids acted on once (shown, outside, test, expired)
    this.cancelled = new Set();
    this.acks = []; // [{id, state, reason?, at, via?}] as sent, for the debug state
    this.courier = new AlertAcks(api);
    this.refused = []; // [{id, reason, at}]
    this.takeover = document.getElementById('takeover');
    this.banners = document.getElementById('banners');
  }

  setTerminal(terminal) {
    if (terminal && typeof terminal === 'object') this.terminal = terminal;
  }

  get tier() {
    return this.terminal?.tier || null;
  }

  /** A pushed or fetched notice ({notice, signature, key_id}). */
  async handle(body) {
    let notice;
    try {
      notice = await this.verify(body);
    } catch (error) {
      if (!(error instanceof NoticeRejected)) throw error;
      this.refused.push({ id: error.id, reason: error.reason, at: iso(this.clock.now()) });
      if (error.id) this.ack(error.id, 'failed', error.reason);
      this.onChange();
      return;
    }
    if (notice.kind === 'cancel') this.cancel(notice.id);
    else await this.arrive(notice);
    this.onChange();
  }

  /** A notice signed by a key not pinned is taken only when a signed key set
   * brings that key in (keyset.js); otherwise it is refused as untrusted. */
  async verify(body) {
    try {
      return await verifyNotice(body, this.keys());
    } catch (error) {
      if (!(error instanceof NoticeRejected) || error.reason !== 'unknown key' || !this.learnKey) throw error;
      let refused;
      try {
        refused = await this.learnKey(String(body.key_id));
      } catch (failure) {
        throw error; // the server is down: the refusal stands
      }
      if (refused !== null) throw new NoticeRejected('untrusted key', error.id);
      return verifyNotice(body, this.keys());
    }
  }

  async arrive(notice) {
    const { id } = notice;
    if (this.seen.has(id)) return; // an id is shown once, however often it comes
    this.seen.add(id);
    this.ack(id, 'received');
    if (!SHOWN_STATUSES.has(notice.status)) return; // Test / System: never on screen
    this.ack(id, 'verified');
    if (this.cancelled.has(id)) return;
    const expires = parseTime(notice.expires);
    if (expires !== null && expires <= this.clock.now()) return;
    for (const old of notice.replaces || []) this.end(old);
    if (!inArea(notice.area, this.terminal)) {
      this.ack(id, 'outside-area');
      return;
    }
    const mode = displayFor(notice, this.tier);
    const timer = expires === null ? null
      : setTimeout(() => { this.end(id); this.onChange(); }, Math.min(expires - this.clock.now(), 2 ** 31 - 1));
    this.active.set(id, { notice, mode, timer, since: iso(this.clock.now()) });
    this.render();
    this.ack(id, 'displayed');
    if (mode === 'takeover') await this.sound(notice);
  }

  cancel(id) {
    this.cancelled.add(id);
    this.seen.add(id);
    if (this.active.has(id)) {
      this.end(id);
      this.ack(id, 'cancelled');
    }
  }

  end(id) {
    const shown = this.active.get(id);
    if (!shown) return;
    if (shown.timer) clearTimeout(shown.timer);
    this.active.delete(id);
    this.render();
  }

  ack(id, state, reason) {
    const at = iso(this.clock.now());
    const entry = { id, state, at, ...(reason ? { reason } : {}) };
    this.acks.push(entry);
    this.courier.send(entry);
  }

  /** The most urgent takeover over everything; banners for the rest. */
  render() {
    const shown = [...this.active.values()].sort(
      (a, b) => (a.notice.level ?? 9) - (b.notice.level ?? 9) || (a.since < b.since ? 1 : -1),
    );
    const takeover = shown.find((s) => s.mode === 'takeover');
    this.renderTakeover(takeover ? takeover.notice : null);
    this.banners.replaceChildren(...shown.filter((s) => s.mode === 'banner').map((s) => this.banner(s.notice)));
    document.body.dataset.alert = takeover ? 'takeover' : (this.banners.children.length ? 'banner' : '');
  }

  renderTakeover(notice) {
    const box = this.takeover;
    if (!notice) {
      box.hidden = true;
      box.replaceChildren();
      for (const key of ['alertId', 'level', 'colour', 'exercise', 'lang']) delete box.dataset[key];
      return;
    }
    const [lang, text] = textFor(notice, this.terminal?.language || this.language);
    box.replaceChildren(...this.parts(notice, lang, text, true));
    Object.assign(box.dataset, {
      alertId: notice.id,
      level: String(notice.level ?? ''),
      colour: notice.colour || 'red',
      exercise: notice.status === 'Exercise' ? 'true' : 'false',
      lang,
    });
    box.hidden = false;
  }

  banner(notice) {
    const [lang, text] = textFor(notice, this.terminal?.language || this.language);
    const band = document.createElement('div');
    band.className = 'banner';
    Object.assign(band.dataset, {
      alertId: notice.id, level: String(notice.level ?? ''), colour: notice.colour || 'yellow', lang,
    });
    band.append(...this.parts(notice, lang, text, false));
    return band;
  }

  parts(notice, lang, text, full) {
    const el = (tag, cls, content) => {
      const node = document.createElement(tag);
      node.className = cls;
      node.textContent = content || '';
      return node;
    };
    const roman = LEVEL_NAMES[notice.level] || '';
    const colour = lang.startsWith('zh') ? (COLOUR_NAMES[notice.colour] || '') : (notice.colour || '');
    const level = this.texts['play.alert.level'].replace('{level}', roman).replace('{colour}', colour);
    const nodes = [];
    if (notice.status === 'Exercise') nodes.push(el('div', 'alert-exercise', this.texts['play.exercise']));
    nodes.push(el('div', 'alert-level', `${level} · ${notice.event || ''}`));
    nodes.push(el(full ? 'h1' : 'strong', 'alert-headline', text.headline));
    nodes.push(el('p', 'alert-description', text.description));
    if (full && text.instruction) {
      nodes.push(el('h2', 'alert-instruction-label', this.texts['play.alert.instruction']));
      nodes.push(el('p', 'alert-instruction', text.instruction));
    }
    return nodes;
  }

  /** The notice's verified audio resource, else an attention tone (when the
   * browser lets the page make sound at all). */
  async sound(notice) {
    const audio = (notice.resources || []).find((r) => String(r.mime_type).startsWith('audio/') && r.sha256);
    if (audio && this.media) {
      const file = { sha256: audio.sha256, size: audio.size || 0, mediaType: audio.mime_type };
      if (await this.media.ensure(file, [audio.url, `/media/${audio.sha256}`].filter(Boolean))) {
        const player = new Audio(this.media.urlOf(audio.sha256));
        player.play().catch(() => {});
        return;
      }
    }
    try {
      const context = new AudioContext();
      const tone = context.createOscillator();
      tone.frequency.value = 880;
      tone.connect(context.destination);
      tone.start();
      tone.stop(context.currentTime + 1.2);
    } catch (error) {
      // No audio device, or sound not allowed before a click: the picture carries it.
    }
  }

  state() {
    return {
      showing: [...this.active.entries()].map(([id, s]) => ({ id, mode: s.mode, since: s.since })),
      acks: this.acks.map((entry) => ({ ...entry })),
      refused: [...this.refused],
      terminal: this.terminal,
    };
  }
}
