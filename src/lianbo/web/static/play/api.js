// The /terminal/v1 calls the web player makes, errors sorted by what to do:
// Unreachable (network down, 5xx: retry later, keep playing) or Refused
// (4xx: the same request will not help). Optional endpoints answer null on
// 404/405, so this page works with servers that do not have them yet.

export class Unreachable extends Error {}

export class Refused extends Error {
  constructor(status, message) {
    super(`${status}: ${message}`);
    this.status = status;
    this.serverMessage = message;
  }
}

async function errorMessage(response) {
  try {
    const data = await response.json();
    return String(data.error.message);
  } catch (error) {
    return response.statusText || String(response.status);
  }
}

// Each call names the screen (?terminal=<id>, never the token) so a load
// balancer in front of several server processes keeps it on one of them.
export function withTerminal(path, terminalId) {
  if (!terminalId) return path;
  const sep = path.includes('?') ? '&' : '?';
  return `${path}${sep}terminal=${encodeURIComponent(terminalId)}`;
}

export class TerminalApi {
  constructor(token = null, terminalId = null) {
    this.token = token;
    this.terminalId = terminalId;
  }

  async send(method, path, { body, headers = {}, ok = [], optional = false } = {}) {
    const all = { ...headers };
    if (this.token) all.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) all['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(withTerminal(path, this.terminalId), {
        method,
        headers: all,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (error) {
      throw new Unreachable(`${error.name}: ${error.message}`);
    }
    if (optional && (response.status === 404 || response.status === 405)) return null;
    if (response.status >= 500) throw new Unreachable(`${response.status}: ${await errorMessage(response)}`);
    if (response.status >= 400) throw new Refused(response.status, await errorMessage(response));
    if (response.status >= 300 && !ok.includes(response.status)) {
      throw new Refused(response.status, `unexpected status ${response.status}`);
    }
    return response;
  }

  async enrol(code) {
    const response = await this.send('POST', '/terminal/v1/enrol', { body: { code } });
    return response.json();
  }

  /** The /terminal/v1/keys reply as sent (keyset.js judges it). */
  async keys() {
    const response = await this.send('GET', '/terminal/v1/keys');
    try {
      return await response.json();
    } catch (error) {
      throw new Refused(response.status, 'the keys reply is not JSON');
    }
  }

  /** {body, t0, t1}: the reply timed for the clock estimate (epoch s). */
  async heartbeat(status) {
    const t0 = Date.now() / 1000;
    const response = await this.send('POST', '/terminal/v1/heartbeat', { body: status });
    const body = await response.json();
    return { body, t0, t1: Date.now() / 1000 };
  }

  /** {status: 200|304, text}: the envelope exactly as received (strict UTF-8). */
  async manifest(etag) {
    const headers = etag ? { 'If-None-Match': etag } : {};
    const response = await this.send('GET', '/terminal/v1/manifest', { headers, ok: [304] });
    if (response.status === 304) return { status: 304, text: null };
    const bytes = await response.arrayBuffer();
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (error) {
      text = null; // not UTF-8: refused as malformed by the caller
    }
    return { status: 200, text };
  }

  /** A published manifest version from the URL its push named (ADR 0024):
   * no token and no ?terminal=, so every screen asks the same and a cache
   * (the edge, this browser's) answers; the envelope text as received. */
  async published(url) {
    if (!/^https?:\/\//.test(url)) throw new Refused(400, 'a pushed manifest URL is http(s)');
    let response;
    try {
      response = await fetch(url, { credentials: 'omit' });
    } catch (error) {
      throw new Unreachable(`${error.name}: ${error.message}`);
    }
    if (response.status >= 500) throw new Unreachable(`${response.status}: ${await errorMessage(response)}`);
    if (response.status !== 200) throw new Refused(response.status, await errorMessage(response));
    return new TextDecoder('utf-8', { fatal: true }).decode(await response.arrayBuffer());
  }

  /** True when taken, null when the server has no play-log endpoint yet. */
  async playlog(entries) {
    const response = await this.send('POST', '/terminal/v1/playlog', {
      body: { entries }, optional: true,
    });
    return response === null ? null : true;
  }

  /** {terminal, alerts} or null when the server has no alerts endpoint yet. */
  async alerts() {
    const response = await this.send('GET', '/terminal/v1/alerts', { optional: true });
    return response === null ? null : response.json();
  }

  async ack(alertId, state, at, reason) {
    const body = { state, at };
    if (reason) body.reason = reason;
    const path = `/terminal/v1/alerts/${encodeURIComponent(alertId)}/ack`;
    return this.send('POST', path, { body, optional: true });
  }
}

export function keysOf(data) {
  const keys = {};
  for (const k of data.keys) keys[String(k.key_id)] = String(k.public_key);
  return keys;
}
