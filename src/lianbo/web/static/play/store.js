// What this screen keeps in the browser: its identity (token, pinned keys and
// their key-set serial: keyset.js),
// the last valid manifest envelope, and play logs not yet delivered.
// localStorage survives reloads and power cuts; it is per origin, so the
// token is readable only by this server's pages.

const IDENTITY = 'lianbo.player.identity';
const ENVELOPE = 'lianbo.player.envelope';
const PLAYLOG = 'lianbo.player.playlog';
export const PLAYLOG_KEPT_MAX = 2000;

function read(key) {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? null : JSON.parse(raw);
  } catch (error) {
    return null;
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch (error) {
    // Storage full or disabled: the player goes on with what it has in memory.
  }
}

/** {terminalId, token, keys: {id: b64}, keySerial, audience|null} or null when not enrolled. */
export function loadIdentity() {
  const data = read(IDENTITY);
  if (!data || typeof data.token !== 'string' || typeof data.terminalId !== 'string') return null;
  if (!data.keys || typeof data.keys !== 'object') return null;
  return { audience: null, keySerial: 0, ...data };
}

export function saveIdentity(identity) {
  write(IDENTITY, identity);
}

export function loadEnvelope() {
  const text = read(ENVELOPE);
  return typeof text === 'string' ? text : null;
}

export function saveEnvelope(text) {
  write(ENVELOPE, text);
}

export function loadPlaylog() {
  const entries = read(PLAYLOG);
  return Array.isArray(entries) ? entries.slice(-PLAYLOG_KEPT_MAX) : [];
}

export function savePlaylog(entries) {
  write(PLAYLOG, entries.slice(-PLAYLOG_KEPT_MAX));
}
