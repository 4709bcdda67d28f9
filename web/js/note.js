// note: C2SP signed notes and note keys, ported from lib/note.c and
// lib/key.c with the same rules and caps. Texts are binary strings.
import { ParseError, bin, bytes, utf8, isSpace, b64decode, b64decodeLax, hexDecodeExact }
  from './codec.js';
import { sha256, ed25519Verify } from './crypto.js';

export const NOTE_MAX_SIZE = 1 << 20;
export const NOTE_MAX_SIGS = 100;
export const KEY_NAME_MAX = 256; // names of keys we hold (GL_KEY_NAME_MAX)
export const KEY_OTHER_NAME_MAX = 1024; // a name in a vkey of a type we do not know
export const KEY_TEXT_MAX = KEY_OTHER_NAME_MAX + 10 + 4096; // fits ML-DSA-87
export const NOTE_SIG_MAX = 128; // signature bytes kept (GL_NOTE_SIG_MAX)
export const KEY_NOTE = 0x01;
export const KEY_COSIG = 0x04;
const DASH = '\xe2\x80\x94 '; // U+2014 EM DASH in UTF-8, then a space

// Valid note text: UTF-8, ends with "\n", no control byte but "\n".
export function textValid(s) {
  if (s.length === 0 || s[s.length - 1] !== '\n') return false;
  const t = utf8(s);
  if (t === null) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return false;
  }
  return true;
}

// The signed-note rule (Go's): non-empty UTF-8, no "+", no white space, no
// C0 control; any length (a vkey caps it at KEY_OTHER_NAME_MAX). Ours (a
// key we hold) also at most KEY_NAME_MAX bytes and no DEL or C1 control (lib/key.c).
function nameOk(s, ours) {
  if (s.length === 0 || (ours && s.length > KEY_NAME_MAX)) return false;
  const t = utf8(s);
  if (t === null) return false;
  for (const ch of t) {
    const c = ch.codePointAt(0);
    if (c === 0x2b || c < 0x20 || (ours && c >= 0x7f && c <= 0x9f) || isSpace(c)) return false;
  }
  return true;
}
export const keyNameValid = (s) => nameOk(s, true);
export const sigNameValid = (s) => nameOk(s, false);

export async function keyId(name, type, pub) {
  const h = await sha256(bytes(name + '\n' + String.fromCharCode(type) + bin(pub)));
  return (h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3]) >>> 0;
}

// A verifier key "name+hexid+base64(type || key)" (one trailing "\n"
// allowed): {name, id, type, pub, text}. Throws ParseError (code 'keytype'
// for an unknown type, whatever its length and Go-valid name, as lib/key.c).
export async function parseVerifier(s) {
  if (s.length > KEY_TEXT_MAX) throw new ParseError('key too long', 'toobig');
  if (s.endsWith('\n')) s = s.slice(0, -1);
  const p1 = s.indexOf('+');
  if (p1 < 0 || p1 > KEY_OTHER_NAME_MAX || !sigNameValid(s.slice(0, p1))) throw new ParseError('not a valid key');
  const p2 = s.indexOf('+', p1 + 1);
  if (p2 < 0 || p2 - p1 - 1 !== 8) throw new ParseError('not a valid key');
  const idb = hexDecodeExact(s.slice(p1 + 1, p2), 4, false);
  const raw = b64decode(s.slice(p2 + 1));
  if (raw.length === 0) throw new ParseError('not a valid key');
  if (raw[0] !== KEY_NOTE && raw[0] !== KEY_COSIG)
    throw new ParseError('unsupported key type', 'keytype');
  if (raw.length !== 33 || !keyNameValid(s.slice(0, p1))) throw new ParseError('not a valid key');
  const k = { name: s.slice(0, p1), id: (idb[0] << 24 | idb[1] << 16 | idb[2] << 8 | idb[3]) >>> 0,
    type: raw[0], pub: raw.slice(1), text: s };
  if (await keyId(k.name, k.type, k.pub) !== k.id) throw new ParseError('key ID does not match the key');
  return k;
}

// The same public key as a cosignature (0x04) key, ID recomputed.
export async function toCosig(k) {
  if (k.type === KEY_COSIG) return { ...k, converted: false };
  return { ...k, type: KEY_COSIG, id: await keyId(k.name, KEY_COSIG, k.pub), converted: true };
}

// One signature line without its "\n": {name, id, sig, canonical, line}.
// Its base64 is read as Go reads it (lib/note.c): the unused bits of the
// last group are ignored, so a known key's signature verifies in either
// form; canonical says whether they were zero (a statement wants them so).
export function parseSig(line) {
  if (!line.startsWith(DASH)) throw new ParseError('signature line does not start with an em dash');
  const rest = line.slice(DASH.length), sp = rest.indexOf(' ');
  if (sp < 0) throw new ParseError('malformed signature line');
  const name = rest.slice(0, sp), b = rest.slice(sp + 1);
  if (!sigNameValid(name) || b.length === 0) throw new ParseError('malformed signature line');
  let blob, canonical;
  try { ({ bytes: blob, canonical } = b64decodeLax(b)); } catch { throw new ParseError('malformed signature line'); }
  if (blob.length < 5) throw new ParseError('malformed signature line');
  // A longer signature (post-quantum: kilobytes) is by a key we do not
  // know: kept empty, it never verifies (every check wants 64 or 72 bytes).
  const sig = blob.length - 4 <= NOTE_SIG_MAX ? blob.slice(4) : new Uint8Array(0);
  return { name, id: (blob[0] << 24 | blob[1] << 16 | blob[2] << 8 | blob[3]) >>> 0,
    sig, canonical, line: line + '\n' };
}

// Parses a signed note (binary string): {text, sigs}.
export function parseNote(msg) {
  if (msg.length > NOTE_MAX_SIZE) throw new ParseError('note larger than 1 MiB', 'toobig');
  const at = msg.lastIndexOf('\n\n');
  if (!textValid(msg) || at < 0) throw new ParseError('not a signed note');
  const note = { text: msg.slice(0, at + 1), sigs: [] };
  for (let pos = at + 2; pos < msg.length;) {
    const nl = msg.indexOf('\n', pos);
    if (note.sigs.length === NOTE_MAX_SIGS) throw new ParseError('more than 100 signatures', 'toobig');
    note.sigs.push(parseSig(msg.slice(pos, nl)));
    pos = nl + 1;
  }
  if (note.sigs.length === 0) throw new ParseError('a note needs a signature');
  return note;
}

const sameKey = (a, b) => a.id === b.id && a.name === b.name;

// gl_note_verify: 'ok' (a known key's signature verified), 'bad' (a known
// key's signature does not), 'nokey' (no signature by a known note key).
export async function verifyNote(note, keys) {
  const ok = [];
  let good = 0;
  for (let i = 0; i < note.sigs.length; i++) {
    const s = note.sigs[i];
    const k = keys.find((key) => key.type === KEY_NOTE && sameKey(key, s));
    if (!k) continue;
    if (ok.some((v, j) => v && sameKey(note.sigs[j], s))) continue;
    if (!await ed25519Verify(k.pub, bytes(note.text), s.sig)) return 'bad';
    ok[i] = true;
    good++;
  }
  return good > 0 ? 'ok' : 'nokey';
}
