// The signed envelope taken apart without re-serialising (protocol/envelope.py).
//
// {"manifest":<canonical JSON>,"signature":"<b64>","key_id":"…","server_time":"…"}:
// `split` returns each member's exact source text, so the bytes checked
// against the signature are the bytes the server signed.

export class MalformedEnvelope extends Error {}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const SCALAR = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/;

function skip(text, index) {
  while (index < text.length && WHITESPACE.has(text[index])) index += 1;
  return index;
}

function endOfString(text, index) {
  for (let i = index + 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i + 1;
  }
  throw new MalformedEnvelope('unterminated string');
}

function endOfNested(text, index) {
  let depth = 0;
  for (let i = index; i < text.length; i += 1) {
    const c = text[i];
    if (c === '"') {
      i = endOfString(text, i) - 1;
    } else if (c === '{' || c === '[') {
      depth += 1;
    } else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  throw new MalformedEnvelope('unterminated object');
}

/** The index just past the JSON value starting at `index` (checked by JSON.parse). */
export function endOfValue(text, index) {
  const c = text[index];
  let end;
  if (c === '"') end = endOfString(text, index);
  else if (c === '{' || c === '[') end = endOfNested(text, index);
  else {
    const match = SCALAR.exec(text.slice(index, index + 64));
    if (!match) throw new MalformedEnvelope(`unexpected ${JSON.stringify(c ?? 'end')}`);
    end = index + match[0].length;
  }
  try {
    JSON.parse(text.slice(index, end));
  } catch (error) {
    throw new MalformedEnvelope(`not JSON: ${error.message}`);
  }
  return end;
}

/** An object's top-level members: [{key, start, valueStart, end}] in source order. */
export function members(text) {
  const found = [];
  const seen = new Set();
  let index = skip(text, 0);
  if (text[index] !== '{') throw new MalformedEnvelope('not an object');
  index = skip(text, index + 1);
  while (text[index] !== '}') {
    if (text[index] !== '"') throw new MalformedEnvelope('expected a key');
    const start = index;
    const keyEnd = endOfString(text, index);
    const key = JSON.parse(text.slice(index, keyEnd));
    index = skip(text, keyEnd);
    if (text[index] !== ':') throw new MalformedEnvelope("expected ':'");
    const valueStart = skip(text, index + 1);
    const end = endOfValue(text, valueStart);
    if (seen.has(key)) throw new MalformedEnvelope(`duplicate member ${JSON.stringify(key)}`);
    seen.add(key);
    found.push({ key, start, valueStart, end });
    index = skip(text, end);
    if (text[index] === ',') index = skip(text, index + 1);
    else if (text[index] !== '}') throw new MalformedEnvelope("expected ',' or '}'");
  }
  if (text.slice(index + 1).trim()) throw new MalformedEnvelope('data after the envelope');
  return found;
}

function stringMember(value) {
  if (value === undefined) return '';
  const parsed = JSON.parse(value);
  if (parsed === null) return '';
  if (typeof parsed !== 'string') {
    throw new MalformedEnvelope('signature, key_id and server_time are strings');
  }
  return parsed;
}

/** {text, manifest (exact source or null), signature, keyId, serverTime}. */
export function split(text) {
  const source = {};
  for (const m of members(text)) source[m.key] = text.slice(m.valueStart, m.end);
  return {
    text,
    manifest: source.manifest ?? null,
    signature: stringMember(source.signature),
    keyId: stringMember(source.key_id),
    serverTime: stringMember(source.server_time) || null,
  };
}

/**
 * The canonical text without its top-level `version` member: since the
 * signed manifest is canonical JSON (sorted keys, no spaces), this is
 * exactly canonical_json(body without version), the bytes its version hashes.
 */
export function withoutMember(text, key) {
  const all = members(text);
  const at = all.findIndex((m) => m.key === key);
  if (at < 0) return text;
  const cut = all[at];
  if (at > 0) return text.slice(0, all[at - 1].end) + text.slice(cut.end);
  const next = all[at + 1];
  return text.slice(0, cut.start) + (next ? text.slice(next.start) : text.slice(cut.end));
}
