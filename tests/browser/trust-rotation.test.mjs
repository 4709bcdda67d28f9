// The explorer's choice of log key (web/js/trust.js openCheckpoint)
// against client/trust.c's rule, with plain node (no browser): a policy
// listing two keys for one origin (a rotation) accepts a checkpoint
// signed by both, or by either alone, and refuses one carrying a
// signature by either key that does not verify, even beside a good one.
// Keys and signatures are made here with node:crypto; key IDs are
// SHA-256(name || "\n" || 0x01 || key), first 4 bytes.
// Prints "ok - <case>" or "FAIL - <case>: why"; exits 1 if any failed.
import path from 'node:path';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { check, finish } from './check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { parsePolicy } = await import(path.join(root, 'web/js/policy.js'));
const { openCheckpoint } = await import(path.join(root, 'web/js/trust.js'));

const NAME = 'r.example/log';
function key() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.concat([Buffer.of(1), Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')]);
  const id = createHash('sha256').update(`${NAME}\n`).update(raw).digest().subarray(0, 4);
  return { privateKey, id, vkey: `${NAME}+${id.toString('hex')}+${raw.toString('base64')}` };
}
const text = `${NAME}\n5\n${Buffer.alloc(32, 7).toString('base64')}\n`;
// a signature line by k; bad: one byte of the signature changed
function line(k, bad) {
  const sig = sign(null, Buffer.from(text), k.privateKey);
  if (bad) sig[10] ^= 1;
  return Buffer.concat([Buffer.from('\u2014 ' + NAME + ' '), Buffer.from(Buffer.concat([k.id, sig]).toString('base64')), Buffer.from('\n')]);
}
const note = (...lines) => Buffer.concat([Buffer.from(text + '\n'), ...lines]).toString('latin1');
const a = key(), b = key();
const policy = await parsePolicy(`log ${a.vkey}\nlog ${b.vkey}\nquorum none\n`);
const open = async (msg) => {
  const r = await openCheckpoint(policy, msg, 0n);
  return r.ok ? `ok ${policy.logs.indexOf(r.log)}` : r.why;
};
const BAD = `the signature of log ${NAME} does not verify`;
check('signed by both keys', await open(note(line(a), line(b))), 'ok 0');
check('signed by the second key alone', await open(note(line(b))), 'ok 1');
check('good first key, bad second', await open(note(line(a), line(b, true))), BAD);
check('bad first key, good second', await open(note(line(a, true), line(b))), BAD);
check('good second key, bad first, lines in that order', await open(note(line(b), line(a, true))), BAD);
check('signed by a third key of the same name only', await open(note(line(key()))),
  `the checkpoint carries no signature by the policy's key for log ${NAME}`);
finish();
