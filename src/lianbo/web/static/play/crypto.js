// WebCrypto helpers: Ed25519 signatures and SHA-256, nothing hand-rolled.
//
// crypto.subtle exists only in a secure context (HTTPS, or localhost): a
// screen on plain HTTP cannot check signatures and therefore plays nothing.

const encoder = new TextEncoder();
const keyCache = new Map();

export function base64Bytes(text) {
  const raw = atob(text); // throws on bad base64
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

export function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function sha256Hex(data) {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

async function publicKey(publicKeyB64) {
  if (!keyCache.has(publicKeyB64)) {
    const raw = base64Bytes(publicKeyB64);
    const key = crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
    keyCache.set(publicKeyB64, key);
  }
  return keyCache.get(publicKeyB64);
}

/** Whether `signatureB64` is an Ed25519 signature of the UTF-8 of `text`. */
export async function signatureValid(text, signatureB64, publicKeyB64) {
  try {
    const key = await publicKey(publicKeyB64);
    const signature = base64Bytes(signatureB64);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, encoder.encode(text));
  } catch (error) {
    keyCache.delete(publicKeyB64);
    return false; // bad base64, a key of the wrong length: not a valid signature
  }
}

/** What this browser lacks to play safely, or null when it has it all. */
export async function missingCapability() {
  if (!window.isSecureContext || !window.crypto || !crypto.subtle) return 'secure context';
  if (!('caches' in window)) return 'cache storage';
  try {
    const probe = new Uint8Array(32);
    probe[0] = 1;
    await crypto.subtle.importKey('raw', probe, { name: 'Ed25519' }, false, ['verify']);
  } catch (error) {
    return 'Ed25519';
  }
  return null;
}
