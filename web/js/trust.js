// trust: the offline verification of a statement and its tlog-proof
// under the visitor's policy, step by step as client/trust.c (the same
// row names, order and rules as `glasslog verify`, specs/client.md):
// statement, submitter signature, artifact, log signature, witness
// quorum, checkpoint age, inclusion proof. Every step that can run does;
// a step whose input was not authenticated is skipped.
import { bytes, hex, utf8, equalBytes } from './codec.js';
import { parseNote } from './note.js';
import { parseCheckpoint, verifyCosigs } from './checkpoint.js';
import { parseStatement, verifyStatement } from './statement.js';
import { quorumMet, quorumTime } from './policy.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { verifyNote } from './note.js';

export const STEPS = ['statement', 'submitter signature', 'artifact', 'log signature',
  'witness quorum', 'checkpoint age', 'inclusion proof'];
export const FUTURE_SLACK = 300n;

export const text = (s) => utf8(s) ?? s;
export function utc(t) {
  const d = new Date(Number(t) * 1000);
  return isNaN(d) ? `${t} (Unix time)` : d.toISOString().replace('.000Z', 'Z');
}

// Opens a signed checkpoint under policy p at time now (BigInt seconds):
// {ok, why, cp, log, wst: [{status, time, future}], nvalid, quorum}.
export async function openCheckpoint(p, msg, now) {
  let note, cp;
  try {
    note = parseNote(msg);
    cp = parseCheckpoint(note.text);
  } catch (e) {
    return { ok: false, why: `malformed checkpoint (${e.message})` };
  }
  const logs = p.logs.filter((l) => l.key.name === cp.origin);
  if (logs.length === 0) return { ok: false, why: `no log in the policy has origin "${text(cp.origin)}"` };
  // All the origin's keys at once: a bad signature by any of them fails
  // the note even beside a good one (as client/trust.c); the signer is the
  // first, in policy order, whose signature is there (and so verified).
  const r = await verifyNote(note, logs.map((l) => l.key));
  const log = logs.find((l) => note.sigs.some((s) => s.id === l.key.id && s.name === l.key.name));
  if (r !== 'ok')
    return { ok: false, why: r === 'nokey' ? `the checkpoint carries no signature by the policy's key for log ${text(cp.origin)}`
      : `the signature of log ${text(cp.origin)} does not verify` };
  const wst = await verifyCosigs(note, p.witnesses.map((w) => w.key));
  let nfuture = 0;
  for (const w of wst) {
    w.future = w.status === 'cosigned' && now !== 0n && w.time > now + FUTURE_SLACK;
    nfuture += w.future ? 1 : 0;
  }
  const counted = wst.map((w) => w.status === 'cosigned' && !w.future);
  const c = { ok: true, note, cp, log, wst, nfuture, counted, nvalid: wst.filter((w) => w.status === 'cosigned').length };
  c.quorum = quorumMet(p, counted);
  if (!c.quorum)
    c.why = `the cosignatures do not satisfy the policy's quorum (${c.nvalid} of ${wst.length} witnesses cosigned` +
      `${nfuture ? ', some dated more than 5 minutes in the future, not counted' : ''}): cosigned by ${describeCosigners(p, c)}`;
  return c;
}

export function describeCosigners(p, c) {
  const list = (st) => p.witnesses.map((w, i) => [w, c.wst[i]]).filter(([, s]) => s.status === st);
  const ok = list('cosigned');
  let s = ok.length === 0 ? (p.witnesses.length === 0 ? 'no witnesses in the policy' : 'no witness')
    : ok.map(([w, st]) => `${text(w.name)} at ${utc(st.time)}${st.future ? ' (dated in the future: not counted)' : ''}`).join(', ');
  const absent = list('absent'), bad = list('invalid');
  if (absent.length) s += '; not cosigned by ' + absent.map(([w]) => text(w.name)).join(', ');
  if (bad.length) s += '; INVALID cosignature by ' + bad.map(([w]) => text(w.name)).join(', ');
  return s;
}

export function describeFuture(p, c, now) {
  return p.witnesses.map((w, i) => [w, c.wst[i]]).filter(([, s]) => s.future)
    .map(([w, s]) => `${text(w.name)} at ${utc(s.time)} (${s.time - now} s ahead)`).join(', ');
}

// in: {statement (binary string), proof (parseTlogProof), artifact
// (Uint8Array(32) or null), artifactName, expect ({sha256hex, subject,
// version}: what was searched for, or null), maxAge (seconds, a BigInt or
// a safe integer; 0 = none), now (BigInt seconds)}. Returns {rows: [{step,
// state, detail}], verified, failed, st, ck, leaf}.
export async function verify(p, input) {
  const rows = STEPS.map((step) => ({ step, state: 'not_checked', detail: '' }));
  const r = { rows, leaf: await leafHash(bytes(input.statement)) };
  const pass = (i, d) => { rows[i].state = 'passed'; rows[i].detail = d; };
  const fail = (i, d) => { rows[i].state = 'failed'; rows[i].detail = d; };
  const skip = (i) => { rows[i].state = 'skipped'; rows[i].detail = '(needs an earlier check that failed)'; };
  // statement, submitter signature
  if (input.statement.length === 0) {
    fail(0, 'empty statement (0 bytes)');
    skip(1);
    if (input.artifact) skip(2);
  } else {
    try { r.st = parseStatement(input.statement); } catch (e) {
      fail(0, `malformed statement: ${e.message}`);
      skip(1);
      if (input.artifact) skip(2);
    }
  }
  if (r.st) {
    const f = r.st.fields, x = input.expect;
    const d = `${f.kind} ${f.subject} ${f.version}, sha256 ${f.sha256hex}, signed ${utc(f.time)}` +
      (f.sourcehex ? `, from source ${f.sourcehex}` : '') +
      (f.audited.length ? `, audited ${f.audited.length} source${f.audited.length === 1 ? '' : 's'}` : '');
    if (x && ((x.subject && x.subject !== f.subject) || (x.version && x.version !== f.version)))
      fail(0, `the log answered with a statement about ${f.subject} ${f.version}, not the ${x.subject}${x.version ? ' ' + x.version : ''} searched for`);
    else pass(0, d);
    const v = await verifyStatement(r.st, p.submitters);
    const who = text(r.st.sig.name);
    if (v.result === 'ok') { r.submitter = p.submitters[v.which]; pass(1, r.submitter.text); } else if (v.result === 'nokey')
      fail(1, `signed by ${who} (key ID ${r.st.sig.id.toString(16).padStart(8, '0')}), which is not a submitter of the policy` +
        (p.submitters.length === 0 ? ' (the policy lists none)' : ''));
    else fail(1, `the signature of submitter ${who} does not verify`);
    // artifact
    if (input.artifact) {
      if (equalBytes(input.artifact, f.sha256)) pass(2, `${input.artifactName} has the statement's SHA-256`);
      else fail(2, `the SHA-256 of ${input.artifactName} is ${hex(input.artifact)}, the statement says ${f.sha256hex}`);
    }
  }
  if (rows[2].state === 'not_checked') rows[2].detail = 'not checked (no file given: the file itself was not compared)';
  // log signature, witness quorum
  const c = await openCheckpoint(p, input.proof.checkpoint, input.now);
  if (!c.ok) {
    fail(3, c.why);
    skip(4); skip(6);
    if (input.maxAge) skip(5); else rows[5].detail = 'not checked (no maximum age set)';
  } else {
    r.ck = c;
    pass(3, `${text(c.cp.origin)}, tree size ${c.cp.size}`);
    const none = p.quorum.kind === 'none';
    if (c.quorum) pass(4, `${none ? 'no cosignature required (quorum none); ' : ''}cosigned by ${describeCosigners(p, c)}`);
    else fail(4, c.why);
    ageRow(p, c, input, rows[5]);
    const res = await verifyInclusion(input.proof.index, c.cp.size, r.leaf, input.proof.hashes, c.cp.root);
    if (res === 'ok') pass(6, `entry ${input.proof.index} of ${c.cp.size}`);
    else if (res === 'range') fail(6, `index ${input.proof.index} is outside the checkpoint's tree of size ${c.cp.size}`);
    else fail(6, `the proof does not lead from the statement (index ${input.proof.index}) to the root of the checkpoint's tree of size ${c.cp.size}`);
  }
  r.failed = rows.find((row) => row.state === 'failed');
  r.verified = !r.failed;
  return r;
}

function ageRow(p, c, input, row) {
  const now = input.now, a = quorumTime(p, c.wst.map((w) => w.time), c.counted);
  const fut = c.nfuture ? `; dated more than 300 s in the future, not counted: ${describeFuture(p, c, now)}` : '';
  if (!input.maxAge) { row.detail = `not checked (no maximum age set)${fut}`; return; }
  if (a.error === 'none') {
    row.state = 'failed';
    row.detail = 'the policy\'s quorum is none: no witness vouches for the checkpoint\'s time, so its age is unknown';
  } else if (a.error) {
    row.state = 'failed';
    row.detail = `the valid cosignatures (not dated in the future) do not satisfy the policy's quorum, so the checkpoint's age is unknown${fut}`;
  } else {
    const age = now > a.time ? now - a.time : 0n;
    row.state = age <= BigInt(input.maxAge) ? 'passed' : 'failed';
    row.detail = row.state === 'passed'
      ? `the freshest quorum of cosignatures dates from ${utc(a.time)} (${age} s ago), within ${input.maxAge} s${fut}`
      : `the freshest quorum of cosignatures dates from ${utc(a.time)}, ${age} s ago, older than the limit of ${input.maxAge} s${fut}`;
  }
}
