// The explorer's counting of witness cosignature lines (web/js/checkpoint.js
// verifyCosigs) against lib/cosig.c's rule, with plain node (no browser):
// a witness's first line (its name and key ID) decides and its later
// lines are ignored, as Go's note verifier drops repeated signatures by
// one key. Keys and cosignatures are made here with node:crypto: the key
// ID is SHA-256(name || "\n" || 0x04 || key), first 4 bytes; a
// cosignature is 8 bytes of big-endian time and an Ed25519 signature of
// "cosignature/v1\ntime <t>\n" || the checkpoint text.
// Prints "ok - <case>" or "FAIL - <case>: why"; exits 1 if any failed.
import path from 'node:path';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { check, finish } from './check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { parseNote, parseVerifier } = await import(path.join(root, 'web/js/note.js'));
const { verifyCosigs } = await import(path.join(root, 'web/js/checkpoint.js'));

const text = `c.example/log\n5\n${Buffer.alloc(32, 7).toString('base64')}\n`;
function key(name) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.concat([Buffer.of(4), Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')]);
  const id = createHash('sha256').update(`${name}\n`).update(raw).digest().subarray(0, 4);
  return { name, privateKey, id, vkey: `${name}+${id.toString('hex')}+${raw.toString('base64')}` };
}
// a cosignature line by k at time t; bad: one byte of the signature changed
function line(k, t, bad) {
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(t));
  const sig = sign(null, Buffer.from(`cosignature/v1\ntime ${t}\n${text}`), k.privateKey);
  if (bad) sig[10] ^= 1;
  return `\u2014 ${k.name} ${Buffer.concat([k.id, time, sig]).toString('base64')}\n`;
}
// the note as the explorer reads it (a binary string of UTF-8 bytes)
const note = (...lines) => parseNote(Buffer.from(text + '\n' + lines.join('')).toString('latin1'));
const w = key('w.example'), x = key('x.example');
const ws = [await parseVerifier(w.vkey), await parseVerifier(x.vkey)];
const st = async (...lines) => (await verifyCosigs(note(...lines), ws)).map((s) => `${s.status} ${s.line}`);

check('one good line each', await st(line(w, 100), line(x, 200)), ['cosigned 0', 'cosigned 1']);
check('a bad line alone', await st(line(w, 100, true)), ['invalid -1', 'absent -1']);
check('bad then good: the first line decides', await st(line(w, 100, true), line(w, 101)),
  ['invalid -1', 'absent -1']);
check('good then bad: the later line is ignored', await st(line(w, 100), line(x, 200), line(w, 101, true)),
  ['cosigned 0', 'cosigned 1']);
check('two good lines: the first counts', await st(line(w, 100), line(w, 300)), ['cosigned 0', 'absent -1']);
finish();
