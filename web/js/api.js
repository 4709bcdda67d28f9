// api: GETs to the log that serves this page (same origin), with size
// caps (specs/client.md, section 6; the tiles' are in tiles.js) and
// one-line, readable errors. Nothing here is trusted: every answer is
// checked by trust.js.
// status: the HTTP status (0: no answer); retryAfter: its Retry-After, or
// null.
export class FetchError extends Error {
  constructor(msg, status = 0, retryAfter = null) {
    super(msg);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export const CAPS = {
  checkpoint: 1 << 20, lookup: 32 << 20, json: 1 << 20, policy: 65536, metrics: 8 << 20,
};

async function readCapped(res, cap, what) {
  const len = Number(res.headers.get('Content-Length'));
  if (len > cap) throw new FetchError(`${what}: the answer is larger than ${cap} bytes`);
  const reader = res.body.getReader(), parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > cap) { reader.cancel(); throw new FetchError(`${what}: the answer is larger than ${cap} bytes`, res.status); }
    parts.push(value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

// GET path: the body's bytes (at most cap). 404 gives null when
// allow404; any other non-200 throws a FetchError saying what the log
// answered ("the log answered 503: try again in 2 s (...)").
export async function get(path, cap, { allow404 = false, what = path } = {}) {
  let res;
  try {
    res = await fetch(path, { cache: 'no-cache', credentials: 'omit', redirect: 'error' });
  } catch (e) {
    throw new FetchError(`${what}: the log did not answer (${e.message}); is it running?`);
  }
  if (res.status === 404 && allow404) return null;
  if (res.status !== 200) {
    let reason = '';
    try {
      const body = new TextDecoder().decode(await readCapped(res, 4096, what));
      try { reason = JSON.parse(body).error || body; } catch { reason = body; }
    } catch { /* no reason then */ }
    reason = String(reason).split('\n')[0].slice(0, 200);
    let retry = res.headers.get('Retry-After');
    if (retry !== null && !/^[0-9]{1,6}$/.test(retry)) retry = null; // an HTTP date, or junk: not shown
    const again = res.status === 503 || res.status === 429 ? `: try again${retry ? ` in ${retry} s` : ' later'}` : '';
    throw new FetchError(`${what}: the log answered ${res.status}${again}${reason ? ` (${reason})` : ''}`, res.status, retry);
  }
  return readCapped(res, cap, what);
}

export async function getJSON(path, cap = CAPS.json, opts = {}) {
  const b = await get(path, cap, opts);
  if (b === null) return null;
  try { return JSON.parse(new TextDecoder().decode(b)); } catch {
    throw new FetchError(`${opts.what || path}: the answer is not JSON`);
  }
}

// A query value: only what would break the query is escaped, so plain
// subjects (a/b-c.d) travel as they are.
export function qv(s) {
  return s.replace(/[%&=#+?\s]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
}
