// codec: bytes, strict base64 (lax only for signature lines), hex and
// decimal, ported from lib/codec.c and lib/utf8.c. Everything byte-exact
// is held as a "binary string" (one char per byte, 0-255), so comparisons
// are memcmp and lengths are byte counts; bin() and bytes() convert.
// Decoders reject, never repair.

export class ParseError extends Error {
  constructor(msg, code = 'parse') { super(msg); this.code = code; }
}

export function bin(u8) {
  let s = '';
  for (let i = 0; i < u8.length; i += 8192)
    s += String.fromCharCode.apply(null, u8.subarray(i, i + 8192));
  return s;
}

export function bytes(s) {
  const u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i) & 0xff;
  return u;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// The text of a binary string holding UTF-8, or null if it is not valid
// UTF-8 (overlong, surrogate, > U+10FFFF, truncated).
export function utf8(s) {
  try { return strictUtf8.decode(bytes(s)); } catch { return null; }
}

export function toBin(text) { return bin(new TextEncoder().encode(text)); }

// Unicode White_Space (Go's unicode.IsSpace), as lib/utf8.c.
export function isSpace(c) {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0 ||
    c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 ||
    c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64V = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64V[B64.charCodeAt(i)] = i;

export function b64encode(u8) {
  let o = '', i = 0;
  for (; i + 2 < u8.length; i += 3) {
    const v = u8[i] << 16 | u8[i + 1] << 8 | u8[i + 2];
    o += B64[v >> 18 & 63] + B64[v >> 12 & 63] + B64[v >> 6 & 63] + B64[v & 63];
  }
  if (i < u8.length) {
    const v = u8[i] << 16 | (i + 1 < u8.length ? u8[i + 1] << 8 : 0);
    o += B64[v >> 18 & 63] + B64[v >> 12 & 63] + (i + 1 < u8.length ? B64[v >> 6 & 63] : '=') + '=';
  }
  return o;
}

// Padded base64 (b64_decode in lib/codec.c): at most max bytes. Lax, the
// unused bits of the last group are ignored and canonical says whether
// they were zero; strict, non-zero ones are refused.
function b64decodeAny(s, max, lax) {
  const n = s.length;
  if (n % 4 !== 0) throw new ParseError('base64 length is not a multiple of 4');
  const pad = (n >= 1 && s[n - 1] === '=' ? 1 : 0) + (n >= 2 && s[n - 2] === '=' ? 1 : 0);
  const need = n / 4 * 3 - pad;
  if (need > max) throw new ParseError('base64 data too large', 'toobig');
  const out = new Uint8Array(need);
  let o = 0, canonical = true;
  for (let i = 0; i < n; i += 4) {
    const last = i + 4 === n, v = [0, 0, 0, 0];
    for (let k = 0; k < 4; k++) {
      const c = s.charCodeAt(i + k);
      const x = c < 256 ? B64V[c] : -1;
      if (x < 0 && !(last && s[i + k] === '=' && k >= 4 - pad))
        throw new ParseError('invalid base64');
      v[k] = x < 0 ? 0 : x;
    }
    const w = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
    if (last && ((pad === 2 && (w & 0xffff) !== 0) || (pad === 1 && (w & 0xff) !== 0))) {
      if (!lax) throw new ParseError('non-canonical base64');
      canonical = false;
    }
    out[o++] = w >> 16 & 0xff;
    if (!(last && pad === 2)) out[o++] = w >> 8 & 0xff;
    if (!(last && pad >= 1)) out[o++] = w & 0xff;
  }
  return { bytes: out, canonical };
}

// Strict, canonical, padded base64 (gl_base64_decode): at most max bytes.
export const b64decode = (s, max = Infinity) => b64decodeAny(s, max, false).bytes;

// Base64 as Go's signed notes read it (gl_base64_decode_lax): {bytes,
// canonical}; only signature lines are read so.
export const b64decodeLax = (s, max = Infinity) => b64decodeAny(s, max, true);

export function b64decodeExact(s, want) {
  if (s.length !== Math.ceil(want / 3) * 4) throw new ParseError('base64 of the wrong length');
  const u = b64decode(s, want);
  if (u.length !== want) throw new ParseError('base64 of the wrong length');
  return u;
}

export function hex(u8) {
  let s = '';
  for (const b of u8) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

// Exactly 2*want hex digits; strict = lowercase only.
export function hexDecodeExact(s, want, strict = true) {
  if (s.length !== 2 * want) throw new ParseError('hex of the wrong length');
  const re = strict ? /^[0-9a-f]*$/ : /^[0-9a-fA-F]*$/;
  if (!re.test(s)) throw new ParseError('not hex');
  const u = new Uint8Array(want);
  for (let i = 0; i < want; i++) u[i] = parseInt(s.substr(2 * i, 2), 16);
  return u;
}

const U64_MAX = (1n << 64n) - 1n;

// Canonical decimal (gl_parse_u64): 1-20 digits, no leading zero, <= 2^64-1.
export function parseU64(s) {
  if (s.length === 0 || s.length > 20 || (s.length > 1 && s[0] === '0') || !/^[0-9]+$/.test(s))
    throw new ParseError('not a canonical decimal number');
  const v = BigInt(s);
  if (v > U64_MAX) throw new ParseError('number too large');
  return v;
}

export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const u = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { u.set(p, o); o += p.length; }
  return u;
}

// One line of text at pos in s (gl_text_next_line): {line, pos} or null
// when no "\n" ends it.
export function nextLine(s, pos) {
  if (pos >= s.length) return null;
  const nl = s.indexOf('\n', pos);
  if (nl < 0) return null;
  return { line: s.slice(pos, nl), pos: nl + 1 };
}
