// Verifying a signed manifest exactly as protocol/manifest.py does, with the
// same rejection reasons (they go into the status report):
// malformed, unsigned, unknown key, bad signature, unsupported protocol,
// version mismatch, expired, not yet valid, audience mismatch.

import { MalformedEnvelope, split, withoutMember } from './envelope.js';
import { sha256Hex, signatureValid } from './crypto.js';
import { parseTime } from './timeparse.js';

export const PROTOCOL_VERSION = 1;
const SKEW_MS = 5 * 60 * 1000;
const SHA256 = /^[0-9a-f]{64}$/;

export class ManifestRejected extends Error {
  constructor(reason, detail = '') {
    super(detail ? `${reason}: ${detail}` : reason);
    this.reason = reason;
    this.detail = detail;
  }
}

/**
 * Check an envelope's text and return the manifest, or throw ManifestRejected.
 * `keys` maps key ids to raw Ed25519 public keys (base64); `audience`, when
 * known, must equal the manifest's own.
 */
export async function verify(envelopeText, keys, { now, audience = null }) {
  let envelope;
  try {
    envelope = split(envelopeText);
  } catch (error) {
    if (error instanceof MalformedEnvelope || error instanceof SyntaxError) {
      throw new ManifestRejected('malformed', `envelope: ${error.message}`);
    }
    throw error;
  }
  if (envelope.manifest === null) throw new ManifestRejected('malformed', 'no manifest in the envelope');
  if (!envelope.signature || !envelope.keyId) throw new ManifestRejected('unsigned');
  if (!Object.hasOwn(keys, envelope.keyId)) throw new ManifestRejected('unknown key', envelope.keyId);
  const valid = await signatureValid(envelope.manifest, envelope.signature, keys[envelope.keyId]);
  if (!valid) throw new ManifestRejected('bad signature');
  const body = JSON.parse(envelope.manifest);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ManifestRejected('malformed', 'the manifest is not an object');
  }
  return checked(envelope, body, now, audience);
}

async function checked(envelope, body, now, audience) {
  if (body.protocol !== PROTOCOL_VERSION) {
    throw new ManifestRejected('unsupported protocol', JSON.stringify(body.protocol ?? null));
  }
  const version = await sha256Hex(withoutMember(envelope.manifest, 'version'));
  if (body.version !== version) {
    throw new ManifestRejected('version mismatch', `${JSON.stringify(body.version ?? null)} != ${version}`);
  }
  const validFrom = time(body.valid_from, 'valid_from');
  const validUntil = time(body.valid_until, 'valid_until');
  if (validUntil <= now) throw new ManifestRejected('expired', `valid until ${body.valid_until}`);
  if (validFrom > now + SKEW_MS) throw new ManifestRejected('not yet valid', `valid from ${body.valid_from}`);
  if (audience && !sameAudience(body.audience, audience)) {
    throw new ManifestRejected('audience mismatch', JSON.stringify(body.audience ?? null));
  }
  let content;
  try {
    content = contentOf(body);
  } catch (error) {
    if (error instanceof ManifestRejected) throw error;
    throw new ManifestRejected('malformed', `${error.name}: ${error.message}`);
  }
  return {
    envelope: envelope.text,
    body,
    version,
    keyId: envelope.keyId,
    validFrom,
    validUntil,
    serverTime: parseTime(envelope.serverTime),
    ...content,
  };
}

export function time(value, field) {
  const parsed = parseTime(value);
  if (parsed === null) throw new ManifestRejected('malformed', `${field} is not a time with an offset`);
  return parsed;
}

function normalAudience(value) {
  if (value === null || typeof value !== 'object') return null;
  return JSON.stringify([
    value.region ?? null,
    value.tier ?? null,
    [...(value.groups || [])].sort(),
    [...(value.tags || [])].sort(),
  ]);
}

function sameAudience(a, b) {
  return normalAudience(a) === normalAudience(b);
}

function positive(value, field, allowZero = false) {
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new ManifestRejected('malformed', `${field} must be a positive integer`);
  }
  return value;
}

function entryOf(data) {
  return {
    start: time(data.start, 'timeline.start'),
    end: time(data.end, 'timeline.end'),
    scheduleId: data.schedule_id ? String(data.schedule_id) : null,
    playlistId: data.playlist_id ? String(data.playlist_id) : null,
    priority: String(data.priority ?? ''),
    sync: Boolean(data.sync),
    origin: time(data.origin, 'timeline.origin'),
    reason: String(data.reason ?? ''),
  };
}

function playlistOf(data) {
  const items = data.items.map((i) => ({
    assetId: String(i.asset_id),
    kind: String(i.kind),
    durationMs: positive(i.duration_ms, 'duration_ms'),
    fit: String(i.fit ?? 'contain'),
    text: i.text ?? null,
    url: i.url ?? null,
  }));
  const length = items.reduce((sum, i) => sum + i.durationMs, 0);
  if (data.length_ms !== undefined && data.length_ms !== length) {
    throw new ManifestRejected('malformed', 'length_ms is not the sum of the items');
  }
  return { items, lengthMs: length };
}

function fileOf(data) {
  if (typeof data.sha256 !== 'string' || !SHA256.test(data.sha256)) {
    throw new ManifestRejected('malformed', `bad sha256 ${JSON.stringify(data.sha256)}`);
  }
  return {
    assetId: String(data.asset_id),
    sha256: data.sha256,
    size: positive(data.size, 'size', true),
    mediaType: String(data.media_type ?? 'application/octet-stream'),
    url: String(data.url ?? ''),
  };
}

function contentOf(body) {
  const timeline = body.timeline.map(entryOf);
  const playlists = {};
  for (const [id, p] of Object.entries(body.playlists)) playlists[id] = playlistOf(p);
  const files = body.files.map(fileOf);
  const missing = timeline.filter((e) => e.playlistId && !(e.playlistId in playlists));
  if (missing.length) {
    throw new ManifestRejected('malformed', `unknown playlists ${missing.map((e) => e.playlistId)}`);
  }
  return { timeline, playlists, files };
}
