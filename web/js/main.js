// main: the explorer's pages (Find, Verify a bundle, Overview, Entry,
// Your policy) and the router (#/page). Every verdict comes from
// trust.verify under the visitor's policy; the log is only asked for data.
import { ParseError, bin, bytes, toBin, hex, hexDecodeExact, utf8, equalBytes } from './codec.js';
import { unavailable } from './crypto.js';
import { parsePolicy, describePolicy } from './policy.js';
import { parseTlogProof, formatTlogProof } from './tlogproof.js';
import { parseStatement, verifyStatement } from './statement.js';
import { parseNote } from './note.js';
import { parseCheckpoint, verifyCosig } from './checkpoint.js';
import { verify, openCheckpoint, text, utc } from './trust.js';
import { quorumTime } from './policy.js';
import { hashFile } from './hash.js';
import { FetchError, get, getJSON, qv, CAPS } from './api.js';
import { bundleWidth, decodeBundle, getTile, tilePath, tileWidth, decodeHashTile, tileSubtrees } from './tiles.js';
import { leafHash, proveInclusion, verifyInclusion } from './merkle.js';
import { $, el, clear, errorBox, warnBox, statementFacts, reportView } from './ui.js';

const KEY_POLICY = 'glasslog.policy', KEY_SOURCE = 'glasslog.policy.source', KEY_MAXAGE = 'glasslog.maxAge';
const SUGGESTED_NOTE = 'You are using the policy this log suggests (served at /policy). A result verified ' +
  'under it only proves consistency with what the log itself claims: for real assurance, use a policy from ' +
  'a source you trust (the vendor\'s own site, a copy you keep).';
const state = { policy: null, source: null, cantVerify: null };
const now = () => BigInt(Math.floor(Date.now() / 1000));

// The requests of the latest action of each kind (lookup, entry,
// overview): a newer action of the kind aborts the older one's, so an
// answer it no longer waits for holds none of the few connections a
// browser opens to the log. Returns the newer action's signal.
const aborts = {};
function supersede(kind) {
  aborts[kind]?.abort();
  aborts[kind] = new AbortController();
  return aborts[kind].signal;
}

// --- policy ---------------------------------------------------------------

async function loadPolicy() {
  const t = localStorage.getItem(KEY_POLICY);
  state.policy = null;
  state.source = localStorage.getItem(KEY_SOURCE);
  state.policyError = null;
  if (t) {
    try { state.policy = await parsePolicy(t); } catch (e) {
      state.policyError = `The saved policy is not valid (${e.message}).`;
    }
  }
  showPolicyStatus();
}

function showPolicyStatus() {
  const s = $('policy-status');
  if (!state.policy) {
    clear(s, state.policyError ? `${state.policyError} ` : 'No policy yet: ',
      'nothing can be verified until you ', el('a', { href: '#/policy' }, 'set your policy'), '.');
    return;
  }
  clear(s, `Policy (${state.source === 'log' ? 'suggested by this log' : 'yours'}): ${describePolicy(state.policy)}`);
}

const policyNote = () => (state.source === 'log' ? SUGGESTED_NOTE : null);
// The maximum age in seconds as a BigInt (0n: none). The form saves at
// most MAX_AGE, as `glasslog verify --max-age` takes at most 2^64 - 1 s;
// whatever string is stored, any count of digits is read exactly.
const MAX_AGE = (1n << 64n) - 1n;
const maxAge = () => { const s = localStorage.getItem(KEY_MAXAGE) || ''; return /^[0-9]+$/.test(s) ? BigInt(s) : 0n; };

// A new or forgotten policy: the results verified under the old one go
// (the overview's too), and a search, bundle check, entry or overview
// still running stops (its cards would mix two policies).
function policyChanged() {
  nextLookup();
  bundleGen++;
  entryGen++;
  supersede('entry');
  ov.call++;
  supersede('overview');
  const note = 'The policy changed: results verified under the old one were removed. Check again.';
  for (const id of ['find-results', 'bundle-results', 'entry-results']) if ($(id).childNodes.length) clear($(id), el('p', {}, note));
  overviewReset('the policy changed, so the checkpoint is read and checked again');
  clear($('overview-status'), el('p', {}, note));
}

// Each save, forget or use of the suggested policy counts here: one that
// a newer one replaced meanwhile (while its policy was fetched or parsed)
// saves nothing.
let policyGen = 0;

// Saves the policy (throws "line N: reason"); null when a newer save,
// forget or suggested policy replaced this one while it was parsed.
async function savePolicy(textValue, source) {
  const gen = ++policyGen, b = toBin(textValue);
  const p = await parsePolicy(b).catch((e) => { if (gen === policyGen) throw e; return null; });
  if (gen !== policyGen) return null;
  localStorage.setItem(KEY_POLICY, b);
  localStorage.setItem(KEY_SOURCE, source);
  state.policy = p;
  state.source = source;
  policyChanged();
  showPolicyStatus();
  return p;
}

function initPolicyPage() {
  const t = localStorage.getItem(KEY_POLICY);
  if (t) $('policy-text').value = utf8(t) ?? '';
  $('max-age').value = localStorage.getItem(KEY_MAXAGE) || '';
  const msg = $('policy-msg');
  const saved = (p, source) => clear(msg, el('p', { class: 'ok-msg' }, `Saved: ${describePolicy(p)}.`),
    source === 'log' ? warnBox(SUGGESTED_NOTE) : null,
    ...p.witnesses.filter((w) => w.converted).map((w) => warnBox(`Witness ${text(w.name)} (line ${w.line}) has a note key ` +
      '(type 0x01); it was converted to the cosignature key (0x04) with the same public key. Ask the witness for its 0x04 key.')));
  $('policy-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const age = $('max-age').value.trim().replace(/^0+(?=[0-9])/, '');
    if (age !== '' && (!/^[0-9]{1,20}$/.test(age) || BigInt(age) > MAX_AGE)) {
      clear(msg, errorBox(`The maximum age must be a whole number of seconds, at most ${MAX_AGE}.`));
      return;
    }
    let p;
    try { p = await savePolicy($('policy-text').value, 'own'); } catch (err) {
      clear(msg, errorBox(`Not saved: the policy is not valid: ${err.message}`));
      return;
    }
    if (!p) return; // a newer save or forget replaced it
    localStorage.setItem(KEY_MAXAGE, age); // with the policy only: a refused policy changes nothing
    saved(p, 'own');
  });
  $('policy-file').addEventListener('change', async () => {
    const f = $('policy-file').files[0];
    if (!f) return;
    if (f.size > 65536) { clear(msg, errorBox(`${f.name} is larger than 65536 bytes: not a policy.`)); return; }
    $('policy-text').value = new TextDecoder().decode(await f.arrayBuffer());
    clear(msg, el('p', {}, `Loaded ${f.name}: check it, then save it.`));
  });
  // The log's answer is dropped if the visitor saved, forgot or asked
  // again meanwhile (policyGen moved): it never replaces a newer choice.
  $('policy-suggested').addEventListener('click', async () => {
    const gen = ++policyGen, refused = (err) => clear(msg, errorBox(`The log's suggested policy cannot be used: ${err.message}`));
    let b, p;
    try { b = await get('/policy', CAPS.policy, { allow404: true, what: 'the suggested policy' }); } catch (err) {
      if (gen === policyGen) refused(err);
      return;
    }
    if (gen !== policyGen) return;
    if (b === null) { clear(msg, errorBox('This log publishes no suggested policy: paste one you trust.')); return; }
    $('policy-text').value = new TextDecoder().decode(b);
    try { p = await savePolicy($('policy-text').value, 'log'); } catch (err) { refused(err); return; }
    if (p) saved(p, 'log');
  });
  $('policy-forget').addEventListener('click', () => {
    policyGen++;
    localStorage.removeItem(KEY_POLICY);
    localStorage.removeItem(KEY_SOURCE);
    state.policy = null;
    policyChanged();
    $('policy-text').value = '';
    showPolicyStatus();
    clear(msg, el('p', {}, 'The policy is forgotten.'));
  });
}

// A reason this page cannot verify now, or null.
function cannotVerify() {
  if (state.cantVerify) return state.cantVerify;
  if (!state.policy) return 'No policy is set, so nothing can be verified: set your policy first (Your policy page).';
  return null;
}

// --- verifying one statement ----------------------------------------------

// A card for one statement with its proof: facts, checks, verdict;
// ctx.bundleName names the bundle file it came from, if any.
// item.index is a number, a decimal string or a BigInt (a bundle's index
// may exceed 2^53): it is only shown and compared as a BigInt, never
// converted to a number.
async function statementCard(item, ctx) {
  const card = el('article', { class: 'card', 'data-index': item.index });
  let st = null;
  try { st = parseStatement(item.statement); } catch { /* the statement row says why */ }
  const f = st ? st.fields : null;
  card.append(el('h3', {}, f ? `Entry ${item.index}: ${f.kind} ${f.subject} ${f.version}` : `Entry ${item.index}`));
  if (ctx.bundleName) card.append(el('p', { class: 'bundle-name' }, `From the bundle ${ctx.bundleName}`));
  if (st) card.append(statementFacts(st, item.index));
  const why = cannotVerify();
  if (why) { card.append(errorBox(why)); return card; }
  let proof;
  try { proof = typeof item.proof === 'string' ? parseTlogProof(item.proof) : item.proof; } catch (e) {
    card.append(errorBox(`NOT VERIFIED: the proof is not a valid tlog-proof (${e.message}).`));
    return card;
  }
  if (item.index !== undefined && proof.index !== BigInt(item.index)) {
    card.append(errorBox(`NOT VERIFIED: the log's answer is malformed (index ${item.index}, but its proof is for ${proof.index}).`));
    return card;
  }
  const report = await verify(state.policy, { statement: item.statement, proof, artifact: ctx.artifact || null,
    artifactName: ctx.artifactName, expect: ctx.expect || null, maxAge: maxAge(), now: now() });
  const extra = answerFailure(item, ctx, report);
  card.append(reportView(report, { policyNote: policyNote(), extraFailure: extra }));
  const links = el('p', { class: 'row' });
  if (item.index !== undefined) links.append(el('a', { href: `#/entry/${item.index}` }, `Details of entry ${item.index}`));
  if (report.verified && !extra) {
    // The bundle's object URL is made on each click and revoked soon
    // after, so a card leaves no blob behind.
    const a = el('a', { href: '#', download: `${proof.index}.tlog-proof` }, 'Download the offline bundle');
    a.addEventListener('click', () => {
      const url = URL.createObjectURL(new Blob([bytes(formatTlogProof({ ...proof, extra: item.statement }))], { type: 'text/plain' }));
      a.href = url;
      setTimeout(() => { URL.revokeObjectURL(url); if (a.href === url) a.href = '#'; }, 1000);
    });
    links.append(a);
  }
  if (!ctx.artifact) links.append(compareButton(item, ctx, card));
  card.append(links);
  return card;
}

// Why an item of a lookup answer fails beside its own checks, or null:
// its leaf_hash is not its statement's hash; its proof leads to a
// checkpoint of another size than the answer's tree_size (the log
// answered as of that checkpoint); or another item of the same search
// proved a different tree of that size (ctx.roots: size -> root hex, of
// checkpoints the log signed), a split view the CLI alarms on.
function answerFailure(item, ctx, report) {
  if (item.leafHash !== undefined && item.leafHash !== hex(report.leaf))
    return 'the log\'s leaf_hash is not the hash of its statement';
  const c = report.ck;
  if (!c) return null;
  if (ctx.treeSize != null && c.cp.size !== BigInt(ctx.treeSize))
    return `the log's answer is as of tree size ${ctx.treeSize} but this proof leads to a checkpoint of size ${c.cp.size}`;
  if (!ctx.roots) return null;
  const size = String(c.cp.size), root = hex(c.cp.root), seen = ctx.roots.get(size);
  if (seen === undefined) ctx.roots.set(size, root);
  else if (seen !== root)
    return `another statement of this answer is proven in a different tree of size ${size}: the log signed two trees of one size (a split view)`;
  return null;
}

// "Compare with a file": verifies the same statement again with a file.
// The last file picked wins: a file picked meanwhile stops an older one.
function compareButton(item, ctx, card) {
  const id = `cmp-${item.index}-${Math.random().toString(36).slice(2)}`;
  const input = el('input', { type: 'file', id, class: 'compare' });
  let picks = 0;
  input.addEventListener('change', async () => {
    const file = input.files[0], pick = ++picks, stale = () => pick !== picks;
    card.querySelector('.compare-error')?.remove();
    if (!file) return;
    let digest;
    try { digest = await hashFile(file, undefined, stale); } catch (e) {
      if (stale()) return;
      const box = errorBox(`Cannot hash ${file.name}: ${e.message}`);
      box.classList.add('compare-error');
      card.append(box);
      return;
    }
    if (stale()) return;
    const next = await statementCard(item, { ...ctx, artifact: digest, artifactName: file.name });
    if (!stale()) card.replaceWith(next);
  });
  return el('span', {}, el('label', { for: id }, 'Compare with a file: '), input);
}

// --- Find -----------------------------------------------------------------

// The log answers a lookup a page at a time (at most LOOKUP_PAGE_MAX
// statements, oldest first, from=<index> on), with "next" while more are
// listed. The pages are followed up to LOOKUP_PAGES pages or LOOKUP_SHOWN
// statements at a time; then a button asks for the next ones. Every
// statement is verified alike, whatever its page.
const LOOKUP_PAGES = 10, LOOKUP_SHOWN = 1000, LOOKUP_PAGE_MAX = 100;
let lookupGen = 0; // a newer search stops the older one
// A newer search (or a refused one, or a new policy): the older one stops
// at its next step, and its requests at once.
function nextLookup() {
  supersede('lookup');
  return ++lookupGen;
}

// One page of the lookup from index `from`: { items, next (null after the
// last page), treeSize (the log's tree_size, or null) }; throws a
// FetchError, or an Error naming what is malformed. A page lists at most
// LOOKUP_PAGE_MAX statements, at strictly ascending indices from `from`
// on and below its "next": so no page can keep the tab busy verifying,
// and no statement is listed twice, on one page or on two.
async function lookupPage(query, from, signal) {
  const a = await getJSON(`/api/v1/lookup?${query}&from=${from}`, CAPS.lookup, { what: 'the lookup', signal });
  const items = a && Array.isArray(a.statements) ? a.statements : null;
  if (!items) throw new Error('The log\'s lookup answer is not {"statements": [...]}.');
  if (items.length > LOOKUP_PAGE_MAX)
    throw new Error(`The log's lookup answer is malformed: it lists ${items.length} statements, more than the ` +
      `${LOOKUP_PAGE_MAX} one answer holds.`);
  const idx = items.map((it) => (it && Number.isSafeInteger(it.index) ? it.index : -1));
  let next = null;
  if (a.next !== undefined) {
    // Each page must move forward, past the statements it lists.
    if (!Number.isSafeInteger(a.next) || a.next <= from || items.length === 0 || idx.some((i) => i >= a.next))
      throw new Error(`The log's lookup answer is malformed: "next" is not an index past the ${items.length} ` +
        `statements listed from index ${from}.`);
    next = a.next;
  }
  let prev = from - 1;
  for (const i of idx) {
    if (i < 0) throw new Error('The log\'s lookup answer is malformed: a statement listed has no valid index.');
    if (i <= prev)
      throw new Error(`The log's lookup answer is malformed: index ${i} is ${i < from ? `before the page's start ${from}`
        : 'listed twice or out of order'} (a page lists each statement once, ascending, from index ${from} on).`);
    prev = i;
  }
  let treeSize = null;
  if (a.tree_size !== undefined) {
    if (!Number.isSafeInteger(a.tree_size) || a.tree_size < 0)
      throw new Error('The log\'s lookup answer is malformed: "tree_size" is not a tree size.');
    treeSize = a.tree_size;
  }
  return { items, next, treeSize };
}

// A lookup failure as one line: a 503 means the log has no checkpoint to
// serve yet (it answers lookups only up to a served checkpoint).
function lookupError(e) {
  if (e instanceof FetchError && e.status === 503)
    return `The log has no checkpoint to serve yet, so it cannot answer lookups: try again${e.retryAfter
      ? ` in ${e.retryAfter} s` : ' later'}. (${e.message})`;
  return e.message;
}

async function lookup(query, ctx) {
  const out = $('find-results');
  clear(out, el('p', {}, 'Searching the log…'));
  const head = el('p', { class: 'lookup-count' }), list = el('div', { class: 'lookup-cards' }), tail = el('div');
  const gen = nextLookup(), stale = () => gen !== lookupGen, signal = aborts.lookup.signal;
  const roots = new Map(); // size -> root of every checkpoint this search's proofs led to
  let shown = 0, from = 0;
  // Reads and verifies the pages from `from` on, appending cards to list.
  const more = async () => {
    clear(tail);
    let pages = 0, stop = 0;
    head.textContent = shown ? `${shown} statements shown; reading more from the log…` : 'Searching the log…';
    while (from !== null && pages < LOOKUP_PAGES && stop < LOOKUP_SHOWN) {
      let page;
      try { page = await lookupPage(query, from, signal); } catch (e) {
        if (stale()) return;
        if (!shown) { clear(out, errorBox(lookupError(e))); return; }
        clear(tail, errorBox(`Stopped after ${shown} statements: ${lookupError(e)}`), moreButton('Try again'));
        head.textContent = `${shown} statements shown; the log may list more (it did not answer).`;
        return;
      }
      if (stale()) return;
      pages++;
      if (!shown && page.items.length === 0) {
        clear(out, el('p', { class: 'error', role: 'alert' }, ctx.none(page.treeSize)));
        return;
      }
      if (!shown) clear(out, head, list, tail);
      // Once a page: the results are a live region.
      head.textContent = `Verifying statement${page.items.length === 1 ? ` ${shown + 1}` : `s ${shown + 1} to ${shown + page.items.length}`}…`;
      for (const it of page.items) {
        const card = await itemCard(it, { ...ctx, treeSize: page.treeSize, roots });
        if (stale()) return;
        list.append(card);
        shown++;
        stop++;
      }
      from = page.next;
    }
    if (from === null) {
      head.textContent = `${shown} statement${shown === 1 ? '' : 's'} found.`;
      return;
    }
    head.textContent = `Showing the first ${shown} statements found, oldest first: the log lists more.`;
    clear(tail, warnBox(`More statements exist (from index ${from} on); only the first ${shown} are shown and verified.`),
      moreButton('Show more statements'));
  };
  const moreButton = (label) => {
    const b = el('button', { type: 'button', class: 'lookup-more' }, label);
    b.addEventListener('click', () => { b.disabled = true; more(); });
    return b;
  };
  await more();
}

// The card of one item of a lookup answer (verified, or why not).
async function itemCard(it, ctx) {
  if (!it || typeof it.statement !== 'string' || typeof it.proof !== 'string' || !Number.isSafeInteger(it.index) ||
      typeof it.leaf_hash !== 'string' || !/^[0-9a-f]{64}$/.test(it.leaf_hash))
    return errorBox('NOT VERIFIED: the log\'s answer is malformed (an item lacks a valid index, leaf_hash, statement or proof).');
  return statementCard({ index: it.index, statement: toBin(it.statement), proof: toBin(it.proof),
    leafHash: it.leaf_hash }, ctx);
}

// The wording of an empty lookup answer, with the tree size the log says
// it searched (tree_size), if it says one. An absence is the log's word:
// no proof of it exists.
const asOf = (n) => (n === null ? '' : ` as of tree size ${n} (as the log says: it cannot prove an absence)`);
const notIn = (n) => (n === null ? '' : `: not in the log${asOf(n)}`);

function progress(done, total) {
  const wrap = $('hash-progress-wrap'), bar = $('hash-progress');
  wrap.hidden = false;
  bar.max = total || 1;
  bar.value = done;
  $('hash-progress-text').textContent = total ? `${Math.floor(done * 100 / total)} % of ${total} bytes` : '';
}

// A search by file starts when its hashing starts: a search started
// meanwhile (by file, hash or subject) stops it.
async function findFile(file) {
  const out = $('find-results');
  const gen = nextLookup(), stale = () => gen !== lookupGen;
  clear(out, el('p', {}, `Hashing ${file.name} on this device…`));
  let digest;
  try { digest = await hashFile(file, progress, stale); } catch (e) {
    if (!stale()) clear(out, errorBox(`Cannot hash ${file.name}: ${e.message}`));
    return;
  }
  if (stale()) return;
  const h = hex(digest);
  await lookup(`sha256=${h}`, { artifact: digest, artifactName: file.name,
    none: (n) => `No statement for this file: ${file.name} (SHA-256 ${h}) is not in the log${asOf(n)}.` });
}

function initFind() {
  const input = $('file-input'), drop = $('drop');
  input.addEventListener('change', () => input.files[0] && findFile(input.files[0]));
  dropZone(drop, (files) => files[0] && findFile(files[0]));
  $('find-hash').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('hash-input').value.trim().toLowerCase();
    let d;
    try { d = hexDecodeExact(v, 32, true); } catch {
      nextLookup(); // a refused search stops the one running
      clear($('find-results'), errorBox('A SHA-256 is 64 hexadecimal digits (0-9, a-f).'));
      return;
    }
    lookup(`sha256=${v}`, { artifact: d, artifactName: 'the searched SHA-256',
      none: (n) => `No statement for SHA-256 ${v}${notIn(n)}.` });
  });
  $('find-subject').addEventListener('submit', (e) => {
    e.preventDefault();
    const s = $('subject-input').value.trim(), v = $('version-input').value.trim();
    const tok = /^[\x21-\x7e]{1,256}$/;
    if (!tok.test(s) || (v && !tok.test(v))) {
      nextLookup(); // a refused search stops the one running
      clear($('find-results'), errorBox('A subject and a version are 1 to 256 printable ASCII characters without spaces.'));
      return;
    }
    lookup(`subject=${qv(s)}${v ? `&version=${qv(v)}` : ''}`, { expect: { subject: s, version: v },
      none: (n) => `No statement for subject ${s}${v ? ` version ${v}` : ''}${notIn(n)}.` });
  });
}

function dropZone(zone, onFiles) {
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    onFiles([...e.dataTransfer.files]);
  });
}

// --- Verify a bundle --------------------------------------------------------

let bundleGen = 0; // a newer check stops the older one

// Each check of a bundle supersedes the ones before it: a check that
// finds a newer one started meanwhile stops at its next step (and its
// file's hashing with it), so the result shown is always the newest's.
async function verifyBundle(bundleFile, artifactFile) {
  const out = $('bundle-results'), gen = ++bundleGen, stale = () => gen !== bundleGen;
  if (!bundleFile) { clear(out, errorBox('Pick a .tlog-proof bundle first.')); return; }
  clear(out, el('p', {}, `Verifying ${bundleFile.name}…`));
  if (bundleFile.size > 256 * 1024) { clear(out, errorBox(`${bundleFile.name} is larger than 256 KiB: not a bundle.`)); return; }
  let proof;
  try { proof = parseTlogProof(bin(new Uint8Array(await bundleFile.arrayBuffer()))); } catch (e) {
    if (!stale()) clear(out, errorBox(`NOT VERIFIED: ${bundleFile.name} is not a valid tlog-proof (${e.message}).`));
    return;
  }
  if (stale()) return;
  if (!proof.extra) { clear(out, errorBox(`${bundleFile.name} carries no statement (no extra line): not a glasslog bundle.`)); return; }
  let artifact = null;
  if (artifactFile) {
    try { artifact = await hashFile(artifactFile, progress, stale); } catch (e) {
      if (!stale()) clear(out, errorBox(`Cannot hash ${artifactFile.name}: ${e.message}`));
      return;
    }
    if (stale()) return;
  }
  const card = await statementCard({ index: proof.index, statement: proof.extra, proof },
    { artifact, artifactName: artifactFile ? artifactFile.name : null, bundleName: bundleFile.name });
  if (!stale()) clear(out, card);
}

function initBundle() {
  $('bundle-form').addEventListener('submit', (e) => {
    e.preventDefault();
    verifyBundle($('bundle-input').files[0], $('bundle-artifact').files[0]);
  });
  dropZone($('bundle-drop'), async (files) => {
    const isProof = async (f) => f.size <= 256 * 1024 &&
      new TextDecoder().decode(await f.slice(0, 23).arrayBuffer()) === 'c2sp.org/tlog-proof@v1\n';
    const gen = ++bundleGen; // a drop is a check from here on
    let b = null, a = null;
    for (const f of files) if (!b && await isProof(f)) b = f; else a = a || f;
    if (gen === bundleGen) verifyBundle(b, a);
  });
}

// --- Entry ------------------------------------------------------------------

let entryGen = 0; // a newer entry page stops the older one

// Each entry shown supersedes the ones before it: a page that finds a
// newer one started meanwhile stops at its next step, so only the entry
// named in the heading is ever shown under it.
async function showEntry(index) {
  const out = $('entry-results'), gen = ++entryGen, stale = () => gen !== entryGen, signal = supersede('entry');
  $('entry-h').textContent = `Entry ${index}`;
  clear(out, el('p', {}, 'Fetching the entry and its proof…'));
  try {
    const cpb = await get('/checkpoint', CAPS.checkpoint, { what: 'the checkpoint', signal });
    if (stale()) return;
    const cpText = bin(cpb);
    const cp = parseCheckpoint(parseNote(cpText).text);
    const e = await getJSON(`/api/v1/entries/${index}`, CAPS.json, { what: `entry ${index}`, allow404: true, signal });
    if (stale()) return;
    if (e === null) { clear(out, errorBox(`There is no entry ${index} in this log.`)); return; }
    if (typeof e.statement !== 'string') throw new Error('the log\'s entry answer has no statement');
    if (BigInt(index) >= cp.size) {
      clear(out, warnBox(`Entry ${index} is logged but not yet in the checkpoint the log serves (tree size ${cp.size}); ` +
        'try again when the witnesses have cosigned a newer one.'));
      return;
    }
    const pr = await getJSON(`/api/v1/proof/inclusion?index=${index}&tree_size=${cp.size}`, CAPS.json, { what: 'the inclusion proof', signal });
    if (stale()) return;
    if (!pr || !Array.isArray(pr.hashes) || pr.hashes.length > 63) throw new Error('the log\'s inclusion proof answer is malformed');
    const proof = { index: BigInt(index), hashes: pr.hashes.map((h) => hexDecodeExact(String(h), 32, true)), extra: null, checkpoint: cpText };
    const card = await statementCard({ index, statement: toBin(e.statement), proof, leafHash: e.leaf_hash }, {});
    if (!stale()) clear(out, card);
  } catch (err) {
    if (!stale()) clear(out, errorBox(err.message));
  }
}

// --- Overview ---------------------------------------------------------------

// The entries table is verified against the checkpoint shown above it when
// that checkpoint verifies under the visitor's policy (log signature and
// witness quorum): each listed entry's leaf hash, computed here from its
// entry bundle's bytes, must be its level-0 hash tile's hash, and an
// inclusion proof built from the log's hash tiles (merkle.proveInclusion
// over tiles.tileSubtrees) must lead from that leaf hash to the
// checkpoint's root (merkle.verifyInclusion). An entry that fails either
// is listed as FAILED, never left out. A page lists at most PAGE entries,
// so at most two bundles, and its proofs need at most three hash tiles
// per level (the two bundles' ancestors and the tree's right edge);
// MAX_TILES bounds the hash tiles one page may fetch. Each statement's
// signature is checked against the policy's submitter keys. Without a
// verified checkpoint the table says it is not verified; the charts are
// never verified and say so.
// ov.view is the checkpoint shown: {size, cp (verified, or null), why (it
// is not), bundles, tiles (its caches), signal (aborts its requests when
// a newer overview starts)}. overview() replaces it whole, and
// each run reads the view it started with, so a run never mixes one
// checkpoint's size, root or caches with another's. ov.gen counts the
// entries tables asked for (a newer page or checkpoint stops an older
// table), ov.call the overview() calls.
const ov = { view: { size: 0n, cp: null, why: '', bundles: new Map(), tiles: new Map(), signal: null }, page: 0, gen: 0, call: 0,
  charts: [] };
const PAGE = 20, MAX_TILES = 32;

// api.js's get for the requests of view v.
const viewGet = (v) => (path, cap, opts) => get(path, cap, { ...opts, signal: v.signal });

// Entry bundle n of view v as [binary string]; throws (cached) the
// FetchError of a bundle the log did not serve or the ParseError of a
// malformed one.
async function bundle(v, n) {
  if (!v.bundles.has(n)) {
    let b;
    try {
      const data = await getTile(viewGet(v), 'entries', n, v.size, `entry bundle ${n}`);
      b = decodeBundle(data, bundleWidth(n, v.size)).map((x) => bin(x));
    } catch (e) { b = e; }
    v.bundles.set(n, b);
  }
  const b = v.bundles.get(n);
  if (b instanceof Error) throw b;
  return b;
}

// Entries [from, to) of view v as [{index, entry (binary string or
// null), st (or null), error (why the bundle could not be read, or null)}].
async function entries(v, from, to) {
  const out = [];
  for (let i = from; i < to; i++) {
    let entry = null, st = null, error = null;
    try { entry = (await bundle(v, i / 256n))[Number(i % 256n)]; } catch (e) { error = e; }
    if (entry !== null) try { st = parseStatement(entry); } catch { /* shown as not a valid statement */ }
    out.push({ index: i, entry, st, error });
  }
  return out;
}

// Hash tile n at level of view v's tree (a promise of its hashes,
// cached); a tile not cached yet takes one of budget.left.
function hashTile(v, level, n, width, budget) {
  const path = tilePath(level, n, v.size);
  if (!v.tiles.has(path)) {
    if (budget.left <= 0) throw new RangeError(`this page would need more than ${MAX_TILES} hash tiles`);
    budget.left--;
    v.tiles.set(path, getTile(viewGet(v), level, n, v.size, `hash tile ${level}/${n}`).then((d) => decodeHashTile(d, width)));
  }
  return v.tiles.get(path);
}

// Entry e against view v's verified checkpoint v.cp: {state: 'ok',
// 'failed' or 'unverified', text}.
async function checkInTree(v, e, subtree, budget) {
  const size = v.cp.size, failed = (why) => ({ state: 'failed', text: `FAILED: ${why}` });
  if (e.error) return e.error instanceof ParseError ? failed(`its entry bundle is malformed (${e.error.message})`)
    : { state: 'unverified', text: `not verified: ${e.error.message}` };
  try {
    const leaf = await leafHash(bytes(e.entry)), n = e.index / 256n;
    const tile = await hashTile(v, 0, n, tileWidth(0, n, size), budget);
    if (!equalBytes(leaf, tile[Number(e.index % 256n)]))
      return failed('its entry bundle does not match the level-0 hash tile (the entry\'s hash differs)');
    const proof = await proveInclusion(e.index, size, subtree);
    if (await verifyInclusion(e.index, size, leaf, proof, v.cp.root) !== 'ok')
      return failed(`the log's hash tiles do not lead to the root of the checkpoint of size ${size}: not in its tree`);
    return { state: 'ok', text: `verified: in the checkpoint's tree of size ${size}` };
  } catch (err) {
    return err instanceof ParseError ? failed(`the log's hash tile is malformed (${err.message})`)
      : { state: 'unverified', text: `not verified: ${err.message}` };
  }
}

// The statement's signer under the policy: {state, text}.
async function checkSigner(e) {
  if (e.entry === null) return { state: 'unverified', text: 'not checked (no entry read)' };
  if (!e.st) return { state: 'failed', text: 'FAILED: not a valid statement' };
  const who = text(e.st.sig.name);
  if (state.cantVerify) return { state: 'unverified', text: `unchecked (this browser cannot verify): signed as ${who}` };
  if (!state.policy) return { state: 'unverified', text: `unchecked (no policy): signed as ${who}` };
  const v = await verifyStatement(e.st, state.policy.submitters);
  if (v.result === 'ok') return { state: 'ok', text: `verified (${text(state.policy.submitters[v.which].name)})` };
  if (v.result === 'nokey') return { state: 'unverified', text: `not a submitter of your policy: signed as ${who}` };
  return { state: 'failed', text: `FAILED: the signature of ${who} does not verify` };
}

// Each call of overview() supersedes the ones before it: a call that
// finds a newer one started meanwhile stops at its next step (and its
// requests at once), so the page never mixes one checkpoint's size with
// another's verdicts. What the page showed before (a checkpoint verified
// under the policy of then) goes at once, and stays gone if the log does
// not answer.
async function overview() {
  const status = $('overview-status'), call = ++ov.call, stale = () => call !== ov.call, signal = supersede('overview');
  overviewReset('the checkpoint is being read');
  clear(status, el('p', {}, 'Reading the log…'));
  try {
    const cpText = bin(await get('/checkpoint', CAPS.checkpoint, { what: 'the checkpoint', signal }));
    const note = parseNote(cpText), cp = parseCheckpoint(note.text);
    let opened = null;
    if (state.policy && !state.cantVerify) opened = await openCheckpoint(state.policy, cpText, now());
    if (stale()) return;
    ov.gen++; // an entries table of the view replaced here is not drawn
    ov.view = { size: cp.size, cp: opened && opened.ok && opened.quorum ? opened.cp : null, bundles: new Map(), tiles: new Map(), signal,
      why: state.cantVerify ? 'this browser cannot verify' : !opened ? 'no policy is set, so the checkpoint is not checked'
        : !opened.ok ? 'the checkpoint does not verify under your policy' : 'the checkpoint does not meet your policy\'s witness quorum' };
    overviewEntriesPending();
    $('ov-origin').textContent = text(cp.origin);
    $('ov-size').textContent = cp.size.toString();
    $('ov-size').dataset.size = cp.size.toString();
    clear(status, opened ? (opened.ok ? el('p', {}, 'The checkpoint\'s log signature verifies under your policy' +
      (opened.quorum ? ', and its witness quorum is met. The entries listed below are checked against it; the charts are not.'
        : `, but: ${opened.why}. The entries listed below are therefore not verified.`))
      : errorBox(`The checkpoint does not verify under your policy: ${opened.why}.`))
      : warnBox('Without a policy the overview shows what the log says, unverified.'),
    opened && policyNote() ? warnBox(policyNote()) : null);
    await overviewAge(opened, stale, signal);
    if (stale()) return;
    await overviewWitnesses(note, opened, stale);
    if (stale()) return;
    ov.page = 0;
    await overviewEntries();
    if (!stale()) await overviewCharts(ov.view, stale);
  } catch (err) {
    if (stale()) return;
    overviewReset('the checkpoint could not be read or checked (see above)');
    clear(status, errorBox(err.message));
  }
}

// Empties the checkpoint's facts, its witness table and the entries
// table (heading, caption and note say not verified: why) and stops a
// table being drawn: what an earlier checkpoint showed, verified under
// the policy of then, no longer stands. The pager waits for a new view.
function overviewReset(why) {
  ov.gen++;
  ov.view = { size: 0n, cp: null, why, bundles: new Map(), tiles: new Map(), signal: null };
  for (const id of ['ov-origin', 'ov-size', 'ov-age']) $(id).textContent = '…';
  delete $('ov-size').dataset.size;
  $('ov-witnesses').querySelector('tbody').replaceChildren();
  $('ov-entries').querySelector('tbody').replaceChildren();
  $('ov-entries-h').textContent = 'Latest entries (not verified)';
  $('ov-entries-caption').textContent = 'Latest entries, not verified';
  const note = $('ov-entries-note');
  note.className = 'warning';
  note.textContent = `Not verified: ${why}.`;
  $('ov-page').textContent = '';
  $('ov-newer').disabled = true;
  $('ov-older').disabled = true;
}

// stale (here and below): whether a newer overview() started (then
// nothing more is written).
async function overviewAge(opened, stale, signal) {
  const age = $('ov-age');
  if (opened && opened.ok && state.policy.quorum.kind !== 'none') {
    const t = quorumTime(state.policy, opened.wst.map((w) => w.time), opened.counted);
    if (t.time !== undefined) {
      age.textContent = `${now() > t.time ? now() - t.time : 0n} s (a quorum of your witnesses cosigned at ${utc(t.time)})`;
      return;
    }
  }
  try {
    const m = new TextDecoder().decode(await get('/metrics', CAPS.metrics, { what: 'the metrics', signal }));
    if (stale()) return;
    const line = m.split('\n').find((l) => l.startsWith('glasslog_checkpoint_age_seconds '));
    age.textContent = line ? `${Math.round(Number(line.split(' ')[1]))} s, as the log reports it (a checkpoint carries no ` +
      'time of its own; only witness cosignatures date it)' : 'unknown';
  } catch {
    if (!stale()) age.textContent = 'unknown (the checkpoint carries no time and no witness of your policy dates it)';
  }
}

// One row per cosignature line of the checkpoint. A line of a policy
// witness is labelled valid only if that line itself verifies: the line
// openCheckpoint counted for the witness, or a later valid line of the
// same witness (not counted: its first line decides, as lib/cosig.c's
// rule); any other line of it is INVALID.
async function overviewWitnesses(note, opened, stale) {
  const tb = $('ov-witnesses').querySelector('tbody');
  const t = now(), rows = [];
  for (let n = 0; n < note.sigs.length; n++) {
    const s = note.sigs[n];
    if (s.sig.length !== 72) continue; // the log's own signature, or not a cosignature
    let ts = 0n;
    for (let i = 0; i < 8; i++) ts = ts << 8n | BigInt(s.sig[i]);
    let checked = 'not in your policy: unverified';
    if (opened && opened.ok) {
      const i = state.policy.witnesses.findIndex((w) => w.key.name === s.name && w.key.id === s.id);
      if (i >= 0) {
        const w = opened.wst[i], pw = state.policy.witnesses[i];
        const who = `${pw.mirror ? 'mirror' : 'witness'} ${text(pw.name)} of your policy`;
        if (w.status === 'cosigned' && w.line === n)
          checked = w.future ? 'valid, but dated in the future: not counted' : `valid (${who})`;
        else if (typeof await verifyCosig(pw.key, note.text, s) === 'object')
          checked = `valid, but not counted (only the first line of the ${who} counts)`;
        else checked = 'INVALID';
      }
    }
    rows.push(el('tr', {}, el('td', {}, text(s.name)), el('td', {}, utc(ts)),
      el('td', {}, t >= ts ? `${t - ts} s` : `${ts - t} s in the future`), el('td', {}, checked)));
  }
  if (stale()) return;
  if (!rows.length) rows.push(el('tr', {}, el('td', { colspan: 4 }, 'No witness cosigned the current checkpoint.')));
  tb.replaceChildren(...rows);
}

// The entries table of page ov.page of the view shown; a newer page or
// view asked for meanwhile (ov.gen) stops it before it writes its rows.
async function overviewEntries() {
  const gen = ++ov.gen, tb = $('ov-entries').querySelector('tbody'), v = ov.view, size = v.size;
  const pages = size === 0n ? 1n : (size + BigInt(PAGE) - 1n) / BigInt(PAGE);
  const hi = size - BigInt(ov.page * PAGE), lo = hi > BigInt(PAGE) ? hi - BigInt(PAGE) : 0n;
  $('ov-page').textContent = `Page ${ov.page + 1} of ${pages}`;
  $('ov-newer').disabled = ov.page === 0;
  $('ov-older').disabled = BigInt(ov.page + 1) >= pages;
  const list = size === 0n ? [] : (await entries(v, lo, hi)).reverse();
  const budget = { left: MAX_TILES };
  const subtree = v.cp ? tileSubtrees(size, (level, n, width) => hashTile(v, level, n, width, budget)) : null;
  const rows = [];
  for (const e of list) {
    const tree = v.cp ? await checkInTree(v, e, subtree, budget) : { state: 'unverified', text: 'not verified' };
    rows.push({ e, tree, signer: await checkSigner(e) });
  }
  if (gen !== ov.gen) return; // a newer page or view was asked for meanwhile
  const cell = (c, what) => el('td', { class: `check ${c.state}`, 'data-check': what }, c.text);
  tb.replaceChildren(...rows.map(({ e, tree, signer }) => {
    const verdict = tree.state === 'failed' || signer.state === 'failed' ? 'failed'
      : tree.state === 'ok' && signer.state === 'ok' ? 'verified' : 'unverified';
    const f = e.st ? [e.st.fields.kind, e.st.fields.subject, e.st.fields.version]
      : [e.entry === null ? '(entry not read)' : '(not a valid statement)', '', ''];
    return el('tr', { 'data-index': e.index.toString(), 'data-verdict': verdict, class: verdict },
      el('td', {}, el('a', { href: `#/entry/${e.index}` }, e.index.toString())), ...f.map((v) => el('td', {}, v)),
      cell(signer, 'submitter'), el('td', {}, e.st ? utc(e.st.fields.time) : ''), cell(tree, 'tree'));
  }));
  if (size === 0n) tb.append(el('tr', {}, el('td', { colspan: 7 }, 'The log is empty.')));
  overviewEntriesLabels(v, rows, lo, hi);
}

// The entries of a view just replaced no longer stand (verified against
// its checkpoint, not this one): the table is emptied until this view's
// rows are drawn, however long its other answers take.
function overviewEntriesPending() {
  $('ov-entries').querySelector('tbody').replaceChildren();
  $('ov-entries-h').textContent = 'Latest entries (being read)';
  $('ov-entries-caption').textContent = 'Latest entries, being read';
  const note = $('ov-entries-note');
  note.className = 'warning';
  note.textContent = 'The entries are being read and checked against the checkpoint above.';
}

// The heading, caption and note of the entries table say what was verified.
function overviewEntriesLabels(v, rows, lo, hi) {
  const n = (st) => rows.filter((r) => r.tree.state === st).length, nok = n('ok'), nfail = n('failed'), nun = n('unverified');
  const nsig = rows.filter((r) => r.signer.state === 'failed').length, size = v.size, note = $('ov-entries-note');
  const badSig = nsig ? `${nsig} of ${rows.length} entries below FAILED the submitter check (not a valid statement, or ` +
    'a signature that does not verify). ' : '';
  const range = size === 0n ? 'Latest entries' : `Entries ${lo} to ${hi - 1n}, newest first`;
  const signers = state.policy && !state.cantVerify ? 'The Submitter column checks each statement\'s signature against ' +
    'your policy\'s submitter keys.' : 'Without a policy a submitter is unchecked: the name its signature line claims.';
  let summary;
  if (!v.cp) {
    summary = 'not verified';
    note.className = nsig ? 'error' : 'warning';
    note.textContent = `Not verified: ${v.why}. These rows are what the log's entry bundles say, not checked against ` +
      `a checkpoint. ${badSig}${signers} Open an entry to verify it.`;
  } else {
    summary = nfail || nun ? `checked against the checkpoint of size ${size}: ${nok} verified` +
      (nfail ? `, ${nfail} FAILED` : '') + (nun ? `, ${nun} not verified` : '') : `verified against the checkpoint of size ${size}`;
    note.className = nfail || nsig ? 'error' : nun ? 'warning' : '';
    note.textContent = (nfail ? `${nfail} of ${rows.length} entries below FAILED the check against the checkpoint above: ` +
      'the log served entry bundles or hash tiles that are not those of the tree it signed. ' : '') + badSig +
      (nun ? `${nun} of ${rows.length} entries below could not be checked (marked not verified). ` : '') +
      `Verified in this browser: each entry ${nfail || nun ? 'marked verified ' : ''}was hashed from its entry bundle, ` +
      'found in the log\'s level-0 hash tile, and an inclusion proof computed from the log\'s hash tiles leads from it ' +
      `to the root of the checkpoint above (tree size ${size}). ${signers}`;
  }
  $('ov-entries-h').textContent = `Latest entries (${summary})`;
  $('ov-entries-caption').textContent = `${range}, ${summary}`;
}

const RECENT = 1024n, SAMPLES = 32;

// The charts of view v.
async function overviewCharts(v, stale) {
  const note = $('chart-note');
  ov.charts.forEach((c) => c.destroy());
  ov.charts = [];
  if (!globalThis.Chart) {
    note.textContent = 'Charts are unavailable: the log serves no Chart.js (Debian package libjs-chart.js).';
    return;
  }
  if (v.size === 0n) { note.textContent = 'No entries yet.'; return; }
  const from = v.size > RECENT ? v.size - RECENT : 0n;
  const recent = (await entries(v, from, v.size)).filter((e) => e.st);
  if (stale()) return;
  note.textContent = `Unverified, from the log's entry bundles and API. Times are the submitters' signing times. Kinds: the latest ${recent.length} entries; ` +
    `growth: ${SAMPLES} samples over the whole log and the latest entries.`;
  const times = recent.map((e) => Number(e.st.fields.time));
  const t0 = Math.min(...times), t1 = Math.max(...times), nb = 24, width = Math.max(1, Math.ceil((t1 - t0 + 1) / nb));
  const kinds = ['build', 'rule-update', 'audit-report', 'source', 'rebuild'];
  const colors = ['#0b57d0', '#b85c00', '#116329', '#6f42c1', '#a0174d'];
  const datasets = kinds.map((k, i) => {
    const counts = new Map();
    for (const e of recent) if (e.st.fields.kind === k) {
      const b = t0 + Math.floor((Number(e.st.fields.time) - t0) / width) * width;
      counts.set(b, (counts.get(b) || 0) + 1);
    }
    return { label: k, backgroundColor: colors[i], data: [...counts].map(([x, y]) => ({ x, y })) };
  });
  const timeAxis = { type: 'linear', ticks: { maxTicksLimit: 5, callback: (v) => utc(v).replace('T', ' ').slice(0, 16) } };
  ov.charts.push(new Chart($('chart-kinds'), { type: 'bar', data: { datasets },
    options: { animation: false, parsing: true, scales: { x: { ...timeAxis, stacked: true, offset: true },
      y: { stacked: true, beginAtZero: true, title: { display: true, text: 'statements' } } } } }));
  const points = new Map();
  const step = v.size / BigInt(SAMPLES) || 1n;
  for (let i = 0n; i < v.size && i < from; i += step) {
    try {
      const e = await getJSON(`/api/v1/entries/${i}`, CAPS.json, { what: `entry ${i}`, signal: v.signal });
      const st = parseStatement(toBin(e.statement));
      points.set(i, Number(st.fields.time));
    } catch { /* a sample less */ }
  }
  if (stale()) return;
  for (const e of recent) points.set(e.index, Number(e.st.fields.time));
  const growth = [...points].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([i, t]) => ({ x: t, y: Number(i) + 1 }));
  ov.charts.push(new Chart($('chart-growth'), { type: 'line', data: { datasets: [{ label: 'tree size', data: growth,
    borderColor: '#0b57d0', pointRadius: 2, stepped: true }] },
  options: { animation: false, scales: { x: timeAxis, y: { beginAtZero: true, title: { display: true, text: 'entries' } } } } }));
}

function initOverview() {
  $('ov-newer').addEventListener('click', () => { ov.page--; overviewEntries().catch((e) => clear($('overview-status'), errorBox(e.message))); });
  $('ov-older').addEventListener('click', () => { ov.page++; overviewEntries().catch((e) => clear($('overview-status'), errorBox(e.message))); });
}

// --- router -------------------------------------------------------------------

function route() {
  const m = location.hash.match(/^#\/(find|bundle|overview|policy|entry\/(0|[1-9][0-9]{0,18}))$/);
  const page = m ? m[1].split('/')[0] : 'find';
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== `page-${page}`;
  for (const a of document.querySelectorAll('nav a'))
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  document.title = `glasslog explorer: ${page}`;
  if (page === 'overview') overview();
  if (page === 'entry') showEntry(m[2]);
}

async function start() {
  const why = await unavailable();
  if (why) {
    state.cantVerify = `This page cannot verify anything here: ${why}`;
    $('capability').textContent = state.cantVerify;
    $('capability').hidden = false;
  }
  if (!why) await loadPolicy(); else showPolicyStatus();
  initPolicyPage();
  initFind();
  initBundle();
  initOverview();
  window.addEventListener('hashchange', () => { route(); $('main').focus(); });
  route();
  document.body.dataset.ready = '1';
}

start();
