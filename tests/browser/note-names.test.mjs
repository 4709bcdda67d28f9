// The explorer's key and signature-line rules (web/js/note.js) against
// lib/key.c's and lib/note.c's, with plain node (no browser): verifier
// keys of types we do not know (ML-DSA-shaped, up to GL_KEY_TEXT_MAX
// bytes, names by the signed-note rule) are 'keytype'; keys we hold have
// names of at most 256 bytes without DEL or C1; signature lines by
// unknown keys with 300- or 4096-byte names (no cap but the note's), DEL,
// or post-quantum sized signatures parse. Key IDs are computed here
// (SHA-256 of name || "\n" || type || key, first 4 bytes).
// Prints "ok - <case>" or "FAIL - <case>: why"; exits 1 if any failed.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { check, finish } from './check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const m = await import(path.join(root, 'web/js/note.js'));
const b64 = (u) => Buffer.from(u).toString('base64');
// name is a binary string (one char per byte), as note.js reads texts
function vkey(name, type, klen) {
  const raw = new Uint8Array(1 + klen);
  raw[0] = type;
  for (let i = 1; i < raw.length; i++) raw[i] = (i * 31 + 7) & 0xff;
  const h = createHash('sha256').update(Buffer.from(name, 'latin1')).update('\n').update(raw).digest();
  return `${name}+${h.subarray(0, 4).toString('hex')}+${b64(raw)}`;
}
const verdict = async (s) => {
  try { await m.parseVerifier(s); return 'ok'; } catch (e) { return e.code || 'parse'; }
};
const pq = vkey('pq.example/log', 0x06, 1312);
check('ML-DSA-44-shaped vkey (about 1,760 characters): unknown type', [pq.length > 1750, await verdict(pq)],
  [true, 'keytype']);
check('ML-DSA-87-shaped vkey, 1024-byte name', await verdict(vkey('n'.repeat(1024), 0x07, 2592)), 'keytype');
check('ML-DSA-87-shaped vkey, 1025-byte name', await verdict(vkey('n'.repeat(1025), 0x07, 2592)), 'parse');
check('unknown type, DEL in the name', await verdict(vkey('a\x7f', 0x06, 1312)), 'keytype');
check('unknown type, NBSP in the name', await verdict(vkey('a\xc2\xa0', 0x06, 1312)), 'parse');
check('unknown type, U+3000 in the name', await verdict(vkey('a\xe3\x80\x80', 0x06, 1312)), 'parse');
check('unknown type, + in the name', await verdict(vkey('a+b', 0x06, 1312)), 'parse');
check('Ed25519, 256-byte name', await verdict(vkey('n'.repeat(256), 0x01, 32)), 'ok');
check('Ed25519, 257-byte name', await verdict(vkey('n'.repeat(257), 0x01, 32)), 'parse');
check('Ed25519, DEL in the name', await verdict(vkey('a\x7f', 0x01, 32)), 'parse');
check('Ed25519, C1 CSI in the name', await verdict(vkey('a\xc2\x9b', 0x04, 32)), 'parse');
const dash = '\xe2\x80\x94 ';
const line = (name, len) => `${dash}${name} ${b64(new Uint8Array(4 + len).fill(9))}\n`;
const sigs = (name, len) => {
  try {
    const n = m.parseNote(`hello\n\n${line('known', 64)}${line(name, len)}`);
    return [n.sigs.length, n.sigs[1].name.length, n.sigs[1].sig.length];
  } catch { return 'refused'; }
};
check('signature line, 300-byte name', sigs('u'.repeat(300), 64), [2, 300, 64]);
check('signature line, DEL in the name', sigs('a\x7fb', 64), [2, 3, 64]);
check('signature line, 1024-byte name, ML-DSA-44-sized signature', sigs('u'.repeat(1024), 2420), [2, 1024, 0]);
check('signature line, 4096-byte name', sigs('u'.repeat(4096), 64), [2, 4096, 64]);
check('signature line, NBSP in the name', sigs('a\xc2\xa0b', 64), 'refused');
finish();
