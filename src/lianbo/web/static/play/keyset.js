// The keys this screen trusts, as protocol/keyset.py and player/trust.py:
// pinned at enrolment, changed only by a key set signed by a pinned key and
// newer than the pinned one (ADR 0004). A manifest or notice signed by any
// other key is refused; the screen keeps what it plays and reports
// `untrusted_key`, which opens an alarm at the control centre.
//
// The set travels as a JSON string (`key_set`) with `signatures` over its
// exact UTF-8 bytes, so nothing is re-serialised before checking.

import { signatureValid } from './crypto.js';

export const KEY_SET_VERSION = 1;
const KIND = 'key-set';
const MAX_KEYS = 16;

export class KeySetRejected extends Error {
  constructor(reason, detail = '') {
    super(detail ? `${reason}: ${detail}` : reason);
    this.reason = reason; // missing | malformed | untrusted | stale
    this.detail = detail;
  }
}

/** {serial, active, keys: {id: b64}} from the set's text, unchecked. */
export function parseKeySet(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new KeySetRejected('malformed', 'not JSON');
  }
  if (!data || typeof data !== 'object' || data.kind !== KIND) throw new KeySetRejected('malformed', 'not a key set');
  if (data.v !== KEY_SET_VERSION) throw new KeySetRejected('malformed', `unknown key-set version ${data.v}`);
  if (!Number.isInteger(data.serial) || data.serial < 1) throw new KeySetRejected('malformed', 'serial');
  if (!Array.isArray(data.keys) || data.keys.length === 0 || data.keys.length > MAX_KEYS) {
    throw new KeySetRejected('malformed', 'keys');
  }
  const keys = {};
  for (const entry of data.keys) {
    if (!entry || typeof entry.key_id !== 'string' || !entry.key_id || typeof entry.public_key !== 'string') {
      throw new KeySetRejected('malformed', 'a key entry');
    }
    keys[entry.key_id] = entry.public_key;
  }
  if (typeof data.active !== 'string' || !Object.hasOwn(keys, data.active)) {
    throw new KeySetRejected('malformed', 'the active key is not in the set');
  }
  return { serial: data.serial, active: data.active, keys };
}

async function signedBy(text, signatures, trusted) {
  if (!Array.isArray(signatures)) return false;
  for (const entry of signatures.slice(0, MAX_KEYS * 2)) {
    const keyId = entry?.key_id;
    if (typeof keyId !== 'string' || typeof entry.signature !== 'string') continue;
    if (Object.hasOwn(trusted, keyId) && await signatureValid(text, entry.signature, trusted[keyId])) return true;
  }
  return false;
}

function setText(reply) {
  const text = reply && typeof reply === 'object' ? reply.key_set : undefined;
  if (typeof text !== 'string') throw new KeySetRejected('missing', 'the server sent no signed key set');
  return text;
}

/** The set of a /terminal/v1/keys reply when a pinned key signed it and it is newer. */
export async function acceptKeySet(reply, trusted, pinnedSerial) {
  const text = setText(reply);
  const keySet = parseKeySet(text);
  if (!(await signedBy(text, reply.signatures, trusted))) {
    throw new KeySetRejected('untrusted', 'not signed by a key this screen trusts');
  }
  if (keySet.serial <= pinnedSerial) {
    throw new KeySetRejected('stale', `serial ${keySet.serial} is not after ${pinnedSerial}`);
  }
  return keySet;
}

/** The set of an enrolment reply, checked against its own keys (nothing is pinned yet). */
export async function selfSignedKeySet(reply) {
  const text = setText(reply);
  const keySet = parseKeySet(text);
  if (!(await signedBy(text, reply.signatures, keySet.keys))) {
    throw new KeySetRejected('untrusted', 'not signed by its own keys');
  }
  return keySet;
}

/** Pinned keys and their serial; `learn` is the only way a key gets in. */
export class KeyPins {
  constructor({ keys, serial, fetch, now, onChange }) {
    this.keys = { ...keys };
    this.serial = serial || 0;
    this.fetch = fetch; // () => the raw /terminal/v1/keys reply
    this.now = now; // () => RFC 3339 text
    this.onChange = onChange || (() => {});
    this.untrusted = null; // {key_id, reason, at} for the status report
  }

  /** null when `keyId` is trusted now, else why not. Network errors propagate. */
  async learn(keyId) {
    if (Object.hasOwn(this.keys, keyId)) return null;
    const reply = await this.fetch();
    let keySet;
    try {
      keySet = await acceptKeySet(reply, this.keys, this.serial);
    } catch (error) {
      if (!(error instanceof KeySetRejected)) throw error;
      return this.refuse(keyId, error.reason);
    }
    this.keys = { ...keySet.keys };
    this.serial = keySet.serial;
    this.onChange(this.keys, this.serial);
    if (!Object.hasOwn(this.keys, keyId)) return this.refuse(keyId, 'not in the signed key set');
    this.untrusted = null;
    return null;
  }

  /** Something verified with a pinned key: the alarm condition is over. */
  trustedAgain() {
    this.untrusted = null;
  }

  refuse(keyId, reason) {
    const id = String(keyId).slice(0, 64);
    if (this.untrusted && this.untrusted.key_id === id) return reason; // reported already
    console.warn(`key ${id} not trusted (${reason}); keeping the pinned keys`);
    this.untrusted = { key_id: id, reason, at: this.now() };
    return reason;
  }
}
