// statement: glasslog statements (specs/statement.md), ported from
// lib/statement.c: the same grammar, caps and reasons.
import { ParseError, hexDecodeExact, parseU64, nextLine } from './codec.js';
import { parseNote, verifyNote } from './note.js';

export const STATEMENT_MAX_SIZE = 65535;
const KINDS = ['build', 'rule-update', 'audit-report'];
const TIME_MAX = (1n << 63n) - 1n;

const fail = (why) => { throw new ParseError(why); };

function token(s, max) {
  return s.length >= 1 && s.length <= max && /^[\x21-\x7e]+$/.test(s);
}

function metaValueValid(v) {
  if (v.length === 0) return true;
  return v.length <= 1024 && v[0] !== ' ' && v[v.length - 1] !== ' ' &&
    /^[\x20-\x7e]+$/.test(v) && !v.includes('  ');
}

function field(c, name, why) {
  const l = nextLine(c.s, c.pos);
  if (!l || !l.line.startsWith(name + ' ') || l.line.length <= name.length) fail(why);
  c.pos = l.pos;
  return l.line.slice(name.length + 1);
}

function parseText(s) {
  const c = { s, pos: 0 };
  const l = nextLine(s, 0);
  if (!l || l.line !== 'glasslog.dev/statement/v1') fail('first line is not glasslog.dev/statement/v1');
  c.pos = l.pos;
  const f = {};
  f.kind = field(c, 'kind', 'line 2 is not a kind line');
  if (!KINDS.includes(f.kind)) fail('kind is not build, rule-update or audit-report');
  f.subject = field(c, 'subject', 'line 3 is not a subject line');
  if (!token(f.subject, 256)) fail('subject is not 1-256 printable ASCII bytes without spaces');
  f.version = field(c, 'version', 'line 4 is not a version line');
  if (!token(f.version, 256)) fail('version is not 1-256 printable ASCII bytes without spaces');
  const d = field(c, 'sha256', 'line 5 is not a sha256 line');
  try { f.sha256 = hexDecodeExact(d, 32, true); } catch { fail('sha256 is not 64 lowercase hex digits'); }
  f.sha256hex = d;
  const t = field(c, 'time', 'line 6 is not a time line');
  try { f.time = parseU64(t); } catch { f.time = 0n; }
  if (f.time < 1n || f.time > TIME_MAX) fail('time is not a decimal in 1..2^63-1 without leading zeros');
  f.meta = [];
  while (c.pos < s.length) {
    if (f.meta.length === 32) fail('more than 32 meta lines');
    const m = nextLine(s, c.pos);
    if (!m) fail('text does not end with a newline');
    c.pos = m.pos;
    if (!m.line.startsWith('meta ')) fail('unexpected line after time (only meta lines may follow)');
    const rest = m.line.slice(5), sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp), value = sp < 0 ? '' : rest.slice(sp + 1);
    if (!/^[a-z0-9._-]{1,64}$/.test(key)) fail('meta key is not 1-64 bytes of [a-z0-9._-]');
    if ((sp >= 0 && value.length === 0) || !metaValueValid(value))
      fail('meta value is not 0-1024 printable bytes with single inner spaces');
    if (f.meta.length > 0 && !(f.meta[f.meta.length - 1].key < key))
      fail('meta keys are not strictly ascending (duplicate or out of order)');
    f.meta.push({ key, value });
  }
  return f;
}

// Parses a statement (binary string): {text, sig, fields}. Throws
// ParseError whose message is the reason.
export function parseStatement(msg) {
  if (msg.length > STATEMENT_MAX_SIZE) throw new ParseError('statement larger than 65535 bytes', 'toobig');
  let note;
  try { note = parseNote(msg); } catch { fail('not a signed note'); }
  if (note.sigs.length !== 1) fail('a statement has exactly one signature line');
  if (note.sigs[0].sig.length !== 64) fail('signature is not an Ed25519 note signature');
  return { text: note.text, sig: note.sigs[0], note, fields: parseText(note.text) };
}

// gl_statement_verify: 'ok' with the index of the submitter key, 'nokey'
// or 'bad'.
export async function verifyStatement(st, submitters) {
  const r = await verifyNote(st.note, submitters);
  if (r !== 'ok') return { result: r };
  return { result: 'ok', which: submitters.findIndex((k) => k.id === st.sig.id && k.name === st.sig.name) };
}
