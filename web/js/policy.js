// policy: C2SP tlog-policy with glasslog's `submitter` (with roles),
// `require` and `mirror` lines (specs/policy.md), ported from
// lib/policy.c: same syntax, limits, uniqueness rules, first-error
// reporting, quorum and quorum time. Roles and requirements are parsed
// and checked for consistency as the C parser does; like `glasslog
// verify`, the explorer verifies one statement at a time, so they decide
// nothing here (they matter for `glasslog lookup --chain`).
import { ParseError, bin, bytes, utf8, parseU64 } from './codec.js';
import { parseVerifier, toCosig, KEY_NOTE, KEY_COSIG } from './note.js';

export const POLICY_MAX_SIZE = 65536;
const ROLES = ['builder', 'rebuilder', 'auditor'];
const MAX = { logs: 256, witnesses: 256, groups: 256, members: 256, submitters: 256, name: 256, url: 1024, key: 1024 };

class PolicyError extends ParseError {
  constructor(line, reason, code = 'parse') { super(line > 0 ? `line ${line}: ${reason}` : reason, code); this.line = line; }
}

const shown = (s) => JSON.stringify(utf8(s.slice(0, 64)) ?? s.slice(0, 64));

function tokenize(line) {
  const t = line.replace(/^[ \t]+/, '');
  if (t.startsWith('#')) return [];
  return t.split(/[ \t]+/).filter((x) => x.length > 0);
}

// Parses policy text: a binary string (the file's bytes; toBin() of
// typed text) or a Uint8Array.
// Throws PolicyError ("line N: reason"). Returns {logs, witnesses, groups,
// quorum, submitters, requireRebuilds, requireAudit, text}; witnesses
// (mirrors among them, flagged mirror) carry 0x04 keys (converted
// flagged); submitters carry role (null, 'builder', 'rebuilder', 'auditor').
export async function parsePolicy(input) {
  const s = typeof input === 'string' ? input : bin(input);
  if (s.length > POLICY_MAX_SIZE) throw new PolicyError(0, `policy larger than ${POLICY_MAX_SIZE} bytes`, 'toobig');
  const p = { logs: [], witnesses: [], groups: [], quorum: null, submitters: [], requireRebuilds: 0, requireAudit: false, text: s };
  const memberOf = new Map(); // name -> group index
  let lineNo = 0, quorumLine = 0, rebuildsLine = 0, auditLine = 0;
  const lines = s.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const lookup = (n) => {
    if (n === 'none') return { kind: 'none' };
    let i = p.witnesses.findIndex((w) => w.name === n);
    if (i >= 0) return { kind: 'witness', index: i };
    i = p.groups.findIndex((g) => g.name === n);
    return i >= 0 ? { kind: 'group', index: i } : null;
  };
  const fail = (reason, code) => { throw new PolicyError(lineNo, reason, code); };
  const key = async (tok, what) => {
    if (tok.length > MAX.key) fail(`${what} key longer than ${MAX.key} bytes`, 'toobig');
    try { return await parseVerifier(tok); } catch (e) {
      fail(e.code === 'keytype' ? `${what} key has an unsupported key type` : `${what} key is not a valid vkey`,
        e.code === 'keytype' ? 'keytype' : 'parse');
    }
  };
  const unique = (v, role) => {
    const all = [...p.logs.map((l) => ['log', l.key, l.line]), ...p.witnesses.map((w) => ['witness', w.key, w.line]),
      ...p.submitters.map((k) => ['submitter', k, k.line])];
    for (const [r, k, line] of all) {
      if (k.pub.every((b, i) => b === v.pub[i])) fail(`public key already used on line ${line} (a key may appear only once)`);
      if (r === role && k.id === v.id && k.name === v.name) fail(`key name and key ID collide with line ${line}`);
    }
  };
  const newName = (n) => {
    if (n.length > MAX.name) fail(`name longer than ${MAX.name} bytes`, 'toobig');
    const r = lookup(n);
    if (!r) return;
    if (r.kind === 'none') fail('the name "none" is predefined');
    fail(`name ${shown(n)} already defined on line ${(r.kind === 'witness' ? p.witnesses : p.groups)[r.index].line}`);
  };
  const url = (t) => {
    if (t === undefined) return null;
    if (t.length > MAX.url) fail(`URL longer than ${MAX.url} bytes`, 'toobig');
    return t;
  };
  for (const line of lines) {
    lineNo++;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 0x0d) fail('carriage return (line endings must be \\n)');
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) fail(`control character 0x${c.toString(16).padStart(2, '0')}`);
    }
    const t = tokenize(line);
    if (t.length === 0) continue;
    switch (t[0]) {
    case 'log': {
      if (t.length !== 2 && t.length !== 3) fail('expected: log <vkey> [<url>]');
      if (p.logs.length === MAX.logs) fail(`more than ${MAX.logs} logs`, 'toobig');
      const v = await key(t[1], 'log');
      if (v.type !== KEY_NOTE) fail('log key must be an Ed25519 note key (type 0x01)', 'keytype');
      unique(v, 'log');
      p.logs.push({ key: v, url: url(t[2]), line: lineNo });
      break;
    }
    // A mirror (C2SP tlog-mirror cosigner) is parsed as a witness and
    // counts in groups and the quorum like one: its cosignature is a
    // tlog-cosignature checked with the same code (specs/policy.md, Mirrors).
    case 'witness': case 'mirror': {
      if (t.length !== 3 && t.length !== 4) fail(`expected: ${t[0]} <name> <vkey> [<url>]`);
      if (p.witnesses.length === MAX.witnesses) fail(`more than ${MAX.witnesses} witnesses`, 'toobig');
      newName(t[1]);
      const v = await key(t[2], 'witness');
      if (v.type !== KEY_NOTE && v.type !== KEY_COSIG) fail('witness key must be a cosignature key (type 0x04)', 'keytype');
      const c = await toCosig(v);
      unique(c, 'witness');
      p.witnesses.push({ name: t[1], key: c, url: url(t[3]), converted: c.converted, mirror: t[0] === 'mirror', line: lineNo });
      break;
    }
    case 'group': {
      if (t.length < 4) fail('expected: group <name> all|any|<k> <member>...');
      const n = t.length - 3;
      if (n > MAX.members) fail(`more than ${MAX.members} group members`, 'toobig');
      if (p.groups.length === MAX.groups) fail(`more than ${MAX.groups} groups`, 'toobig');
      newName(t[1]);
      let k;
      if (t[2] === 'all') k = n;
      else if (t[2] === 'any') k = 1;
      else {
        let v;
        try { v = parseU64(t[2]); } catch { fail('threshold must be all, any or a decimal number without leading zeros'); }
        if (v < 1n || v > BigInt(n)) fail(`threshold ${t[2]} out of range 1..${n}`);
        k = Number(v);
      }
      const gi = p.groups.length, members = [];
      for (const m of t.slice(3)) {
        const r = lookup(m);
        if (!r) fail(`undefined name ${shown(m)} (names must be defined on an earlier line)`);
        if (r.kind === 'none') fail('"none" cannot be a group member');
        const id = r.kind + ':' + r.index;
        if (memberOf.get(id) === gi) fail(`${shown(m)} listed twice in this group`);
        if (memberOf.has(id)) {
          const g = p.groups[memberOf.get(id)];
          fail(`${shown(m)} is already a member of group ${utf8(g.name)} on line ${g.line} (a name may be a member only once)`);
        }
        memberOf.set(id, gi);
        members.push(r);
      }
      p.groups.push({ name: t[1], k, threshold: t[2], members, line: lineNo });
      break;
    }
    case 'quorum':
      if (t.length !== 2) fail('expected: quorum <name>|none');
      if (quorumLine !== 0) fail(`second quorum line (the first is on line ${quorumLine})`);
      p.quorum = lookup(t[1]);
      if (!p.quorum) fail(`undefined name ${shown(t[1])} (names must be defined on an earlier line)`);
      quorumLine = lineNo;
      break;
    case 'submitter': {
      if (t.length !== 2 && t.length !== 3) fail('expected: submitter <vkey> [builder|rebuilder|auditor]');
      if (t.length === 3 && !ROLES.includes(t[2])) fail(`unknown submitter role ${shown(t[2])} (builder, rebuilder or auditor)`);
      if (p.submitters.length === MAX.submitters) fail(`more than ${MAX.submitters} submitters`, 'toobig');
      const v = await key(t[1], 'submitter');
      if (v.type !== KEY_NOTE) fail('submitter key must be an Ed25519 note key (type 0x01)', 'keytype');
      unique(v, 'submitter');
      p.submitters.push({ ...v, role: t[2] ?? null, line: lineNo });
      break;
    }
    case 'require':
      if (t.length === 2 && t[1] === 'audit') {
        if (auditLine !== 0) fail(`second "require audit" line (first on line ${auditLine})`);
        auditLine = lineNo;
        p.requireAudit = true;
        break;
      }
      if (t.length !== 3 || t[1] !== 'rebuilds') fail('expected: require rebuilds <k> | require audit');
      if (rebuildsLine !== 0) fail(`second "require rebuilds" line (first on line ${rebuildsLine})`);
      {
        let k;
        try { k = parseU64(t[2]); } catch { k = 0n; }
        if (k < 1n || k > BigInt(MAX.submitters)) fail(`rebuild count is not a decimal in 1..${MAX.submitters} without leading zeros`);
        p.requireRebuilds = Number(k);
      }
      rebuildsLine = lineNo;
      break;
    default:
      fail(`unknown keyword ${shown(t[0])}`);
    }
  }
  lineNo = 0;
  if (quorumLine === 0) fail('no quorum line (use "quorum none" to require no cosignatures)');
  // The requirements can be met by the roles given (check_requirements).
  const count = (r) => p.submitters.filter((k) => k.role === r).length;
  const first = [rebuildsLine, auditLine].filter((l) => l !== 0);
  if (first.length > 0 && count('builder') === 0)
    throw new PolicyError(Math.min(...first), 'a requirement needs at least one "submitter <vkey> builder"');
  const rebuilders = count('rebuilder');
  if (p.requireRebuilds > rebuilders)
    throw new PolicyError(rebuildsLine, `require rebuilds ${p.requireRebuilds}, but the policy names ${rebuilders} rebuilder${rebuilders === 1 ? '' : 's'}`);
  if (p.requireAudit && count('auditor') === 0) throw new PolicyError(auditLine, 'require audit, but the policy names no auditor');
  return p;
}

// gl_policy_quorum_check: witnessed[i] true for each witness that counts.
export function quorumMet(p, witnessed) {
  const sat = [];
  p.groups.forEach((g, gi) => {
    let n = 0;
    for (const m of g.members) n += (m.kind === 'witness' ? witnessed[m.index] : sat[m.index]) ? 1 : 0;
    sat[gi] = n >= g.k;
  });
  if (p.quorum.kind === 'none') return true;
  return p.quorum.kind === 'witness' ? !!witnessed[p.quorum.index] : sat[p.quorum.index];
}

// gl_policy_quorum_time: {time} (BigInt), or {error: 'quorum'|'none'}.
export function quorumTime(p, times, counted) {
  if (p.quorum.kind === 'none') return { error: 'none' };
  const cand = [...new Set(times.filter((_, i) => counted[i]))].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  const since = (t) => quorumMet(p, times.map((x, i) => counted[i] && x >= t));
  if (cand.length === 0 || !since(cand[cand.length - 1])) return { error: 'quorum' };
  let lo = 0, hi = cand.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (since(cand[mid])) hi = mid; else lo = mid + 1;
  }
  return { time: cand[hi] };
}

const name = (s) => utf8(s) ?? s;

function describeGroup(p, g) {
  const nw = g.members.filter((m) => m.kind === 'witness').length, n = g.members.length;
  const noun = nw === n ? (n === 1 ? 'witness' : 'witnesses') : nw === 0 ? (n === 1 ? 'group' : 'groups') : 'members';
  const head = g.k === n && n > 1 ? `all ${n} ${noun}: ` : g.k === 1 && n > 1 ? `any of ${n} ${noun}: ` : `${g.k} of ${n} ${noun}: `;
  return head + g.members.map((m) => (m.kind === 'witness' ? name(p.witnesses[m.index].name)
    : `${name(p.groups[m.index].name)} (${describeGroup(p, p.groups[m.index])})`)).join(', ');
}

// gl_policy_describe's one line.
export function describePolicy(p) {
  let s = p.logs.length === 0 ? 'no logs' : (p.logs.length === 1 ? 'log ' : 'logs ') + p.logs.map((l) => name(l.key.name)).join(', ');
  s += '; quorum: ' + (p.quorum.kind === 'none' ? 'none (no cosignatures required)'
    : p.quorum.kind === 'witness' ? 'witness ' + name(p.witnesses[p.quorum.index].name) : describeGroup(p, p.groups[p.quorum.index]));
  if (p.submitters.length > 0)
    s += (p.submitters.length === 1 ? '; submitter ' : '; submitters ') +
      p.submitters.map((k) => name(k.name) + (k.role ? ` (${k.role})` : '')).join(', ');
  if (p.requireRebuilds > 0) s += `; requires ${p.requireRebuilds} rebuild${p.requireRebuilds === 1 ? '' : 's'}`;
  if (p.requireAudit) s += '; requires an audit of the source';
  return s;
}

export const policyBytes = (p) => bytes(p.text);
