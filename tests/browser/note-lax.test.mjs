// The explorer's reading of signature-line base64 (web/js/note.js,
// web/js/statement.js) against lib/note.c's and lib/statement.c's, with
// plain node (no browser): a signature line whose last base64 character
// has non-zero unused bits (as Go reads it, gl_base64_decode_lax) is the
// same signature, so a checkpoint signed so verifies; a statement must be
// spelled canonically (canonical base64, a signer name a key we hold can
// have: at most 256 bytes, no DEL or C1), or it is refused as
// lib/statement.c refuses it. Keys and signatures are made here with
// node:crypto (key ID: SHA-256(name || "\n" || type || key), first 4
// bytes); the non-canonical base64 is a correct line's with the unused low
// bits of its last character set, which node's own decoder ignores.
// Texts are binary strings (one char per byte), as the explorer reads them.
// Prints "ok - <case>" or "FAIL - <case>: why"; exits 1 if any failed.
import path from 'node:path';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { check, finish } from './check.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { parseNote, parseVerifier, verifyNote } = await import(path.join(root, 'web/js/note.js'));
const { parseStatement, verifyStatement } = await import(path.join(root, 'web/js/statement.js'));
const { parsePolicy } = await import(path.join(root, 'web/js/policy.js'));
const { openCheckpoint } = await import(path.join(root, 'web/js/trust.js'));
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
// name: a binary string (one char per byte)
function key(name, type) {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.concat([Buffer.of(type), Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url')]);
  const id = createHash('sha256').update(Buffer.from(name, 'latin1')).update('\n').update(raw).digest().subarray(0, 4);
  return { name, privateKey, id, vkey: `${name}+${id.toString('hex')}+${raw.toString('base64')}` };
}
// base64 of blob with every unused bit of its last character set (blob's
// length is not a multiple of 3, so there are some)
function lax(blob) {
  const b = blob.toString('base64'), pad = b.endsWith('==') ? 2 : 1, at = b.length - 1 - pad;
  const out = b.slice(0, at) + B64[B64.indexOf(b[at]) | (pad === 2 ? 15 : 3)] + b.slice(at + 1);
  if (out === b || !Buffer.from(out, 'base64').equals(blob)) throw new Error(`no non-canonical spelling of ${b}`);
  return out;
}
// a signature line by k over msg (ASCII), as binary strings: [canonical,
// non-canonical]; prefix: bytes before the signature
function lines(k, msg, prefix = Buffer.alloc(0)) {
  const blob = Buffer.concat([k.id, prefix, sign(null, Buffer.from(msg), k.privateKey)]);
  return [blob.toString('base64'), lax(blob)].map((b) => `\xe2\x80\x94 ${k.name} ${b}\n`);
}
const why = async (f) => { try { await f(); return 'ok'; } catch (e) { return e.message; } };
// f's value, or what it threw (a case that throws fails, the others run)
const got = async (f) => { try { return await f(); } catch (e) { return `threw: ${e.message}`; } };

// A checkpoint: the log's signature (68 bytes, one "=") and a witness's
// cosignature (76 bytes, "=="), each in both spellings.
const log = key('log.example', 1), w = key('w.example', 4);
const text = `log.example\n5\n${Buffer.alloc(32, 7).toString('base64')}\n`, t = 1700000000;
const tb = Buffer.alloc(8);
tb.writeBigUInt64BE(BigInt(t));
const [logC, logL] = lines(log, text), [wC, wL] = lines(w, `cosignature/v1\ntime ${t}\n${text}`, tb);
check('the non-canonical lines differ from the canonical ones', [logC !== logL, wC !== wL], [true, true]);
const lk = await parseVerifier(log.vkey);
const noteOf = (...ls) => parseNote(text + '\n' + ls.join(''));
check('canonical log signature: the note verifies', await got(() => verifyNote(noteOf(logC), [lk])), 'ok');
check('non-canonical log signature: the note parses, the same signature', await got(() => {
  const a = noteOf(logC).sigs[0], b = noteOf(logL).sigs[0];
  return [a.canonical, b.canonical, b.id === a.id, Buffer.from(b.sig).equals(Buffer.from(a.sig))];
}), [true, false, true, true]);
check('non-canonical log signature: the note verifies (as gl_note_verify)', await got(() => verifyNote(noteOf(logL), [lk])), 'ok');
check('non-canonical log signature, one bit changed: it does not verify', await got(() => {
  const bad = noteOf(logL);
  bad.sigs[0].sig[0] ^= 1;
  return verifyNote(bad, [lk]);
}), 'bad');
const p = await parsePolicy(`log ${log.vkey}\nwitness w.example ${w.vkey}\nquorum w.example\n`);
for (const [what, ls] of [['both canonical', [logC, wC]], ['both non-canonical', [logL, wL]]]) {
  const c = await openCheckpoint(p, text + '\n' + ls.join(''), BigInt(t + 10));
  check(`a checkpoint, ${what}: its log signature and quorum verify`, [c.ok, c.quorum, c.why ?? null], [true, true, null]);
}

// Statements: the submitter's signature must be spelled canonically.
const stext = `glasslog.dev/statement/v1\nkind build\nsubject acme/tool\nversion 1.0\nsha256 ${'ab'.repeat(32)}\ntime ${t}\n`;
// (lib/statement.c's reasons; the signature is on line 8: 6 lines of text, the blank line)
const NONCANON = 'line 8: the signature line is not in canonical form (key name, base64)';
const sub = key('vendor.example', 1), sk = await parseVerifier(sub.vkey);
const [sC, sL] = lines(sub, stext);
check('a statement, canonical: parses and its signature verifies', await got(async () => {
  const st = parseStatement(stext + '\n' + sC);
  return [st.fields.subject, (await verifyStatement(st, [sk])).result];
}), ['acme/tool', 'ok']);
check('a statement, non-canonical base64: refused', await why(() => parseStatement(stext + '\n' + sL)), NONCANON);
check('a statement, a 72-byte signature: refused', await why(() => parseStatement(stext + '\n' + lines(sub, stext, tb)[0])),
  'line 8: the signature is not an Ed25519 note signature (64 bytes)');
// Signer names the signed-note rule allows but a key we hold cannot have.
for (const [what, name, want] of [['256-byte name', 'n'.repeat(256), 'ok'], ['257-byte name', 'n'.repeat(257), NONCANON],
  ['DEL in the name', 'a\x7fb', NONCANON], ['C1 CSI in the name', 'a\xc2\x9bb', NONCANON]]) {
  const [l] = lines(key(name, 1), stext), msg = stext + '\n' + l;
  check(`a statement, signer ${what}: ${want === 'ok' ? 'parses' : 'refused'}`, await why(() => parseStatement(msg)), want);
  check(`a note, signer ${what}: parses (the signed-note rule)`, await why(() => parseNote(msg)), 'ok');
}
finish();
