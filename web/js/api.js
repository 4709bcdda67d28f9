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

// How long one answer may take, from its request to its last byte, in
// seconds: a log that never answers, or trickles its answer, would keep
// the page waiting for ever and hold one of the few connections a browser
// opens to a host (6). A setting only so that tests need not wait 30 s.
export const settings = { deadline: 30 };

// GET path: the body's bytes (at most cap). 404 gives null when
// allow404; any other non-200 throws a FetchError saying what the log
// answered ("the log answered 503: try again in 2 s (...)"). An answer
// not complete within settings.deadline throws a FetchError saying so;
// signal (an AbortSignal: a newer action of the same kind started) stops
// the request, and its connection, at once.
export async function get(path, cap, { allow404 = false, what = path, signal = null } = {}) {
  const ctl = new AbortController(), s = settings.deadline;
  const timer = setTimeout(() => ctl.abort(new FetchError(`${what}: the log did not finish answering within ${s} s`)), s * 1000);
  const stop = () => ctl.abort(new FetchError(`${what}: stopped, a newer request replaced it`));
  if (signal?.aborted) stop(); else signal?.addEventListener('abort', stop);
  try {
    return await answer(path, cap, allow404, what, ctl.signal);
  } catch (e) {
    throw ctl.signal.aborted ? ctl.signal.reason : e;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}

async function answer(path, cap, allow404, what, signal) {
  let res;
  try {
    res = await fetch(path, { cache: 'no-cache', credentials: 'omit', redirect: 'error', signal });
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
