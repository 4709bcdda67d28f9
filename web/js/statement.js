// statement: glasslog statements, v1 and v2 (specs/statement.md), ported
// from lib/statement.c: the same grammar, caps, link rules and reasons.
// A v2 statement adds the kinds source and rebuild and the link lines of
// the provenance chain between time and meta: one "source" line on a
// build, rule-update or rebuild; 1..16 strictly ascending "audited" lines
// and one "scope" line on an audit-report; none on a source.
import { ParseError, hexDecodeExact, parseU64, nextLine } from './codec.js';
import { parseNote, verifyNote, keyNameValid } from './note.js';

export const STATEMENT_MAX_SIZE = 65535;
const HEADER = { 'glasslog.dev/statement/v1': 1, 'glasslog.dev/statement/v2': 2 };
const KINDS = { 1: ['build', 'rule-update', 'audit-report'],
  2: ['build', 'rule-update', 'audit-report', 'source', 'rebuild'] };
const WHY_KIND = { 1: 'kind is not build, rule-update or audit-report',
  2: 'kind is not build, rule-update, audit-report, source or rebuild' };
const AUDITED_MAX = 16;
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

// 1 if a v2 kind names its source (gl_statement_has_source).
export const hasSource = (f) => f.format === 2 && ['build', 'rule-update', 'rebuild'].includes(f.kind);

// The line "<name> <value>" at the cursor: its value; the cursor moves on.
function field(c, name) {
  const l = nextLine(c.s, c.pos);
  c.line++;
  if (!l) fail(c.pos < c.s.length ? 'text does not end with a newline' : `line ${c.line}: missing ${name} line`);
  if (!l.line.startsWith(name + ' '))
    fail(`line ${c.line}: expected a "${name} <value>" line`);
  c.pos = l.pos;
  return l.line.slice(name.length + 1);
}

// 1 if the next line starts with "<name> " (the cursor does not move).
function nextIs(c, name) {
  const l = nextLine(c.s, c.pos);
  return !!l && l.line.startsWith(name + ' ');
}

// A "<name> <64 lowercase hex>" line: {bytes, hex}.
function digest(c, name) {
  const d = field(c, name);
  let b;
  try { b = hexDecodeExact(d, 32, true); } catch { fail(`line ${c.line}: ${name} is not 64 lowercase hex digits`); }
  return { bytes: b, hex: d };
}

// The v2 link lines between time and meta, as the kind requires.
function parseLinks(c, f) {
  if (hasSource(f)) {
    const d = digest(c, 'source');
    f.source = d.bytes;
    f.sourcehex = d.hex;
    return;
  }
  if (f.format !== 2 || f.kind !== 'audit-report') return;
  do {
    if (f.audited.length === AUDITED_MAX) fail(`line ${c.line + 1}: more than ${AUDITED_MAX} audited lines`);
    const d = digest(c, 'audited');
    // Lowercase hex of equal length orders as the bytes do.
    if (f.audited.length > 0 && !(f.audited[f.audited.length - 1] < d.hex))
      fail(`line ${c.line}: audited digests are not strictly ascending (duplicate or out of order)`);
    f.audited.push(d.hex);
  } while (nextIs(c, 'audited'));
  f.scope = field(c, 'scope');
  if (f.scope.length === 0 || !metaValueValid(f.scope))
    fail(`line ${c.line}: scope is not 1-1024 printable bytes with single inner spaces`);
}

function parseText(s) {
  const c = { s, pos: 0, line: 1 };
  const l = nextLine(s, 0);
  const f = { format: l ? HEADER[l.line] : undefined };
  if (!l || !Object.hasOwn(HEADER, l.line))
    fail('line 1: first line is not glasslog.dev/statement/v1 or glasslog.dev/statement/v2');
  c.pos = l.pos;
  f.kind = field(c, 'kind');
  if (!KINDS[f.format].includes(f.kind)) fail(`line ${c.line}: ${WHY_KIND[f.format]}`);
  f.subject = field(c, 'subject');
  if (!token(f.subject, 256)) fail(`line ${c.line}: subject is not 1-256 printable ASCII bytes without spaces`);
  f.version = field(c, 'version');
  if (!token(f.version, 256)) fail(`line ${c.line}: version is not 1-256 printable ASCII bytes without spaces`);
  const d = digest(c, 'sha256');
  f.sha256 = d.bytes;
  f.sha256hex = d.hex;
  const t = field(c, 'time');
  try { f.time = parseU64(t); } catch { f.time = 0n; }
  if (f.time < 1n || f.time > TIME_MAX) fail(`line ${c.line}: time is not a decimal in 1..2^63-1 without leading zeros`);
  f.source = null;
  f.sourcehex = null;
  f.audited = [];
  f.scope = null;
  parseLinks(c, f);
  f.meta = [];
  while (c.pos < s.length) {
    c.line++;
    if (f.meta.length === 32) fail(`line ${c.line}: more than 32 meta lines`);
    const m = nextLine(s, c.pos);
    if (!m) fail('text does not end with a newline');
    c.pos = m.pos;
    if (!m.line.startsWith('meta '))
      fail(`line ${c.line}: unexpected line after time and the kind's links (only meta lines may follow)`);
    const rest = m.line.slice(5), sp = rest.indexOf(' ');
    const key = sp < 0 ? rest : rest.slice(0, sp), value = sp < 0 ? '' : rest.slice(sp + 1);
    if (!/^[a-z0-9._-]{1,64}$/.test(key)) fail(`line ${c.line}: meta key is not 1-64 bytes of [a-z0-9._-]`);
    if ((sp >= 0 && value.length === 0) || !metaValueValid(value))
      fail(`line ${c.line}: meta value is not 0-1024 printable bytes with single inner spaces`);
    if (f.meta.length > 0 && !(f.meta[f.meta.length - 1].key < key))
      fail(`line ${c.line}: meta keys are not strictly ascending (duplicate or out of order)`);
    f.meta.push({ key, value });
  }
  return f;
}

// Parses a statement (binary string): {text, sig, fields}; fields.format
// is 1 or 2. Throws ParseError whose message is the reason.
export function parseStatement(msg) {
  if (msg.length > STATEMENT_MAX_SIZE) throw new ParseError('statement larger than 65535 bytes', 'toobig');
  let note;
  try { note = parseNote(msg); } catch { fail('not a signed note'); }
  if (note.sigs.length !== 1) fail(`a statement has exactly one signature line, not ${note.sigs.length}`);
  // The signature line's number, as lib/statement.c gives it: after the
  // text and the blank line.
  const at = `line ${note.text.split('\n').length + 1}`;
  if (note.sigs[0].sig.length !== 64) fail(`${at}: the signature is not an Ed25519 note signature (64 bytes)`);
  // One spelling per statement: canonical base64, and a key name a
  // submitter key can have.
  if (!note.sigs[0].canonical || !keyNameValid(note.sigs[0].name))
    fail(`${at}: the signature line is not in canonical form (key name, base64)`);
  return { text: note.text, sig: note.sigs[0], note, fields: parseText(note.text) };
}

// gl_statement_verify: 'ok' with the index of the submitter key, 'nokey'
// or 'bad'.
export async function verifyStatement(st, submitters) {
  const r = await verifyNote(st.note, submitters);
  if (r !== 'ok') return { result: r };
  return { result: 'ok', which: submitters.findIndex((k) => k.id === st.sig.id && k.name === st.sig.name) };
}
