// The explorer in a real browser: Debian's chromium, driven by
// playwright-core, against the real glasslogd that
// tests/integration/40-explorer.sh started and filled. Every case loads
// the page as a visitor would, acts through the page (file inputs, forms,
// keyboard) and asserts on what the page shows, against values the shell
// script computed independently (sha256sum, the CLI's appends).
//
// Environment (all required): LOG_URL, PROXY_URL, MODE_FILE, POLICY,
// POLICY_WITNESS, POLICY_W1, POLICY_M1, BUNDLE_M1, POLICY_CASES (a
// directory: policy N and N.want, "ok" or lib/policy.c's "line N: reason"),
// ARTIFACT, MODIFIED, BUNDLE, BUNDLE_W1,
// BUNDLE_FUTURE, LARGE, LARGE_SHA, SUBJECT, VERSION, TREE_SIZE, SHOTS,
// V2_ENTRIES (files holding `glasslog get entry N` of v2 statements),
// MANY_URL (a second log, with the same key, being filled meanwhile with
// more statements about one subject than a lookup answer holds),
// MANY_SUBJECT (that subject) and MANY_INDICES (a file that appears when
// the appends are done: the indices the CLI reported, a comma list, or
// why the appends failed).
// Prints "ok - <case>" or "FAIL - <case>: why" per case (as each ends: a
// few run at once, see runAll) and
// "N passed, N failed"; exits 1 if any case failed.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { chromium } from 'playwright-core';

const env = {};
for (const k of ['LOG_URL', 'PROXY_URL', 'MODE_FILE', 'POLICY', 'POLICY_WITNESS', 'POLICY_W1', 'POLICY_M1', 'BUNDLE_M1',
  'POLICY_CASES', 'ARTIFACT',
  'MODIFIED', 'BUNDLE', 'BUNDLE_W1', 'BUNDLE_FUTURE', 'LARGE', 'LARGE_SHA', 'SUBJECT', 'VERSION', 'TREE_SIZE', 'SHOTS',
  'V2_ENTRIES', 'MANY_URL', 'MANY_SUBJECT', 'MANY_INDICES', 'LOG_KEY']) {
  if (!process.env[k]) { console.error(`explorer.test: ${k} is not set`); process.exit(2); }
  env[k] = process.env[k];
}
const read = (f) => fs.readFileSync(f, 'utf8');
const T = 30000; // generous: two shared cores
const sha256sum = (f) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const largeSize = fs.statSync(env.LARGE).size;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

let passed = 0, failed = 0;
function check(cond, what) { if (!cond) throw new Error(what); }

// A fresh visitor (empty localStorage); collects console errors, CSP
// violations and page errors, which fail the case.
async function visitor(opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 404/.test(m.text())) page.problems.push(`console: ${m.text()}`);
  });
  return { ctx, page };
}

// Loads the page afresh (a hash change alone would keep the old page): a
// new visitor's empty tab goes there; a page of the same origin and path
// takes the new hash without a hashchange (history.replaceState: the old
// page must not act on it) and reloads; any other goes there. (Through
// about:blank, as before, each load cost chromium a second renderer.)
async function open(page, base, hash = '#/find') {
  const to = new URL(base + '/' + hash), at = new URL(page.url());
  if (at.origin === to.origin && at.pathname === to.pathname) {
    await page.evaluate((h) => history.replaceState(null, '', h), to.hash);
    await page.reload();
  } else await page.goto(to.href);
  await page.waitForSelector('body[data-ready]', { timeout: T });
}

async function setPolicy(page, base, text) {
  await open(page, base, '#/policy');
  await page.fill('#policy-text', text);
  await page.click('#policy-form button[type=submit]');
  await page.waitForFunction(() => /Saved/.test(document.getElementById('policy-msg').textContent), null, { timeout: T });
}

// Waits for the first result card's verdict (or a one-line error) in sel.
async function result(page, sel) {
  await page.waitForSelector(`${sel} .verdict, ${sel} .error`, { timeout: T });
  return page.locator(sel);
}

async function rows(scope) {
  const out = {};
  for (const tr of await scope.locator('tr[data-check]').all())
    out[await tr.getAttribute('data-check')] = (await tr.locator('td.state').textContent()).trim();
  return out;
}

const ORDER = ['statement', 'submitter signature', 'artifact', 'log signature', 'witness quorum',
  'checkpoint age', 'inclusion proof'];

async function expectVerified(scope, want = {}) {
  const r = await rows(scope.locator('.card').first());
  check(JSON.stringify(Object.keys(r)) === JSON.stringify(ORDER), `rows are ${Object.keys(r)}`);
  const v = await scope.locator('.verdict').first().getAttribute('data-verdict');
  for (const [k, s] of Object.entries(want)) check(r[k] === s, `row ${k} is ${r[k]}, want ${s}`);
  check(v === 'verified', `verdict ${v}: ${await scope.textContent()}`);
  return r;
}

async function expectFailed(scope, row, detail) {
  const card = scope.locator('.card').first();
  const r = await rows(card);
  check(r[row] === 'FAILED', `row ${row} is ${r[row]}, want FAILED (${JSON.stringify(r)})`);
  const v = await card.locator('.verdict').getAttribute('data-verdict');
  check(v === 'not-verified', `verdict is ${v}`);
  if (detail) {
    const d = await card.locator(`tr[data-check="${row}"] td`).nth(1).textContent();
    check(detail.test(d), `row ${row} says "${d}", want ${detail}`);
  }
  return r;
}

// The cases run a few at a time (GL_BROWSER_JOBS, default 3), each in its
// own browser context (its own visitor): most of a case's time is spent
// waiting (on the log, on chromium, on the delays the race cases make on
// purpose), not computing. Cases that share state outside their context
// name a group (opts.group) and run one after the other, in the order
// written: the tamper proxy has one mode for all its clients.
// opts: the browser context's, group, and fullPage (default true): false
// screenshots the viewport only (a full page of 100 cards takes chromium
// most of a minute). A case's screenshot is taken when it fails, or for
// every case with GL_SCREENSHOTS=all (they cost a quarter of the run).
const cases = [];
function test(name, fn, opts = {}) { cases.push({ name, fn, opts }); }

async function run({ name, fn, opts: { fullPage = true, group, ...opts } }) {
  const t0 = Date.now();
  const v = await visitor(opts);
  let shot = process.env.GL_SCREENSHOTS === 'all';
  try {
    await fn(v.page);
    check(v.page.problems.length === 0, v.page.problems.join('; '));
    passed++;
    console.log(`ok - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    shot = true;
    console.log(`FAIL - ${name}: ${e.message.split('\n')[0]}`);
  } finally {
    if (shot)
      await v.page.screenshot({ path: path.join(env.SHOTS, `${name.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage })
        .catch(() => {});
    await v.ctx.close();
  }
}

// Runs the cases: a group's as one job, in its place of the first;
// groups first (they are the longest jobs), then the others in the order
// written, so that the last case starts last.
async function runAll(jobs = Number(process.env.GL_BROWSER_JOBS || 3)) {
  const queue = [], groups = new Map();
  for (const c of cases) {
    if (!c.opts.group) { queue.push([c]); continue; }
    if (!groups.has(c.opts.group)) { groups.set(c.opts.group, []); queue.push(groups.get(c.opts.group)); }
    groups.get(c.opts.group).push(c);
  }
  queue.sort((a, b) => (b.length > 1) - (a.length > 1));
  const worker = async () => {
    for (let job; (job = queue.shift());) for (const c of job) await run(c);
  };
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
}

const mode = (m) => fs.writeFileSync(env.MODE_FILE, m);

// --- cases --------------------------------------------------------------------

test('incremental SHA-256 equals WebCrypto', async (page) => {
  await open(page, env.LOG_URL);
  const bad = await page.evaluate(async () => {
    const { Sha256 } = await import('/js/sha256.js');
    const hex = (u) => [...u].map((b) => b.toString(16).padStart(2, '0')).join('');
    const errs = [];
    const lens = [...Array(260).keys(), 1000, 4095, 4096, 4097, 65536 + 13, 1 << 20];
    for (const n of lens) {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; i++) data[i] = (i * 131 + n * 7) & 0xff;
      const want = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', data)));
      const h = new Sha256();
      for (let off = 0, k = 1; off < n; off += k, k = k * 3 + 1) h.update(data.subarray(off, off + k));
      const got = hex(h.digest());
      if (got !== want) errs.push(`${n}: ${got} != ${want}`);
    }
    return errs;
  });
  check(bad.length === 0, bad.join(', '));
});

test('a logged file verifies', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  const res = await result(page, '#find-results');
  await expectVerified(res, { artifact: 'ok', 'log signature': 'ok', 'inclusion proof': 'ok', 'checkpoint age': '-' });
  const facts = await res.locator('.card dl').first().textContent();
  check(facts.includes(env.SUBJECT) && facts.includes(env.VERSION), `facts lack the subject/version: ${facts}`);
});

test('a modified file is not found and fails the artifact row against the bundle', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await page.setInputFiles('#file-input', env.MODIFIED);
  await page.waitForSelector('#find-results .error', { timeout: T });
  const t = await page.textContent('#find-results');
  check(/No statement for this file/.test(t), `says: ${t}`);
  await open(page, env.LOG_URL, '#/bundle');
  await page.setInputFiles('#bundle-input', env.BUNDLE);
  await page.setInputFiles('#bundle-artifact', env.MODIFIED);
  await page.click('#bundle-form button[type=submit]');
  await expectFailed(await result(page, '#bundle-results'), 'artifact', /the SHA-256 of .* is [0-9a-f]{64}, the statement says/);
});

// The note textNote signed by the log's key (LOG_KEY: PRIVATE+KEY+name+id+
// base64 of 0x01 and the Ed25519 seed).
function logSign(textNote) {
  const [, name, id, data] = read(env.LOG_KEY).trim().match(/^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(.+)$/);
  const seed = Buffer.from(data, 'base64').subarray(1);
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der', type: 'pkcs8' });
  const sig = sign(null, Buffer.from(textNote), key);
  return `${textNote}\n\u2014 ${name} ${Buffer.concat([Buffer.from(id, 'hex'), sig]).toString('base64')}\n`;
}

// The bundle's statement at `index` (BigInt) of a tree of `size` leaves
// (default index + 1): made-up proof hashes, the root they lead to (RFC
// 9162 section 2.1.3.2), a checkpoint of that root signed by the log's key.
function bigIndexBundle(bundle, index, size = index + 1n) {
  const extra = bundle.split('\n')[1];
  check(extra.startsWith('extra '), 'the bundle has no extra line');
  const sha = (...b) => createHash('sha256').update(Buffer.concat(b)).digest();
  let r = sha(Buffer.from([0]), Buffer.from(extra.slice(6), 'base64'));
  const hashes = [];
  let fn = index, sn = size - 1n;
  for (let k = 0; sn > 0n; k++) {
    const p = sha(Buffer.from(`made-up ${k}`));
    hashes.push(p.toString('base64'));
    if ((fn & 1n) === 1n || fn === sn) {
      r = sha(Buffer.from([1]), p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else r = sha(Buffer.from([1]), r, p);
    fn >>= 1n;
    sn >>= 1n;
  }
  const cp = logSign(`example.com/log\n${size}\n${r.toString('base64')}\n`);
  return `c2sp.org/tlog-proof@v1\n${extra}\nindex ${index}\n${hashes.join('\n')}\n\n${cp}`;
}

test('a bundle verifies offline', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/bundle');
  const asked = [];
  page.on('request', (r) => asked.push(r.url()));
  await page.setInputFiles('#bundle-input', env.BUNDLE);
  await page.setInputFiles('#bundle-artifact', env.ARTIFACT);
  await page.click('#bundle-form button[type=submit]');
  await expectVerified(await result(page, '#bundle-results'), { artifact: 'ok' });
  check(asked.length === 0, `the bundle's verification asked the network: ${asked.join(', ')}`);
  // An index above 2^53 (no JavaScript number holds it exactly): the same
  // statement at index 2^53 + 1 of a tree of 2^53 + 2, its checkpoint
  // signed by the log's key.
  const big = path.join(path.dirname(env.MODE_FILE), 'big.tlog-proof');
  fs.writeFileSync(big, bigIndexBundle(read(env.BUNDLE), (1n << 53n) + 1n));
  await page.setInputFiles('#bundle-input', big);
  await page.setInputFiles('#bundle-artifact', []);
  await page.click('#bundle-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#bundle-results .card')?.dataset.index === '9007199254740993',
    null, { timeout: T });
  const r = await expectVerified(page.locator('#bundle-results'), { 'inclusion proof': 'ok' });
  const d = await page.locator('#bundle-results tr[data-check="inclusion proof"] td').nth(1).textContent();
  check(d === 'entry 9007199254740993 of 9007199254740994', `inclusion proof row: ${d} (${JSON.stringify(r)})`);
  // A tree of 2^63 leaves is refused, as lib/checkpoint.c refuses it
  // (glasslog verify: a malformed bundle).
  const over = path.join(path.dirname(env.MODE_FILE), 'over.tlog-proof');
  fs.writeFileSync(over, bigIndexBundle(read(env.BUNDLE), (1n << 63n) - 1n));
  await page.setInputFiles('#bundle-input', over);
  await page.click('#bundle-form button[type=submit]');
  await page.waitForSelector('#bundle-results .error', { timeout: T });
  const e = await page.textContent('#bundle-results');
  check(/^NOT VERIFIED: over.tlog-proof is not a valid tlog-proof \(tree size exceeds 2\^63-1\)/.test(e) &&
    await page.locator('#bundle-results .card').count() === 0, `a tree of 2^63: ${e}`);
  check(asked.length === 0, `the bundle's verification asked the network: ${asked.join(', ')}`);
});

// Drops files (name, path) onto the element sel, as a visitor dragging
// them from the desktop would.
async function drop(page, sel, files) {
  const list = files.map(([name, f]) => [name, [...fs.readFileSync(f)]]);
  const dt = await page.evaluateHandle((fl) => {
    const d = new DataTransfer();
    for (const [name, b] of fl) d.items.add(new File([new Uint8Array(b)], name));
    return d;
  }, list);
  await page.dispatchEvent(sel, 'dragover', { dataTransfer: dt });
  await page.dispatchEvent(sel, 'drop', { dataTransfer: dt });
}

test('dropped files: a file on Find, a bundle with its file on Verify a bundle', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await drop(page, '#drop', [['app.bin', env.ARTIFACT]]);
  await expectVerified(await result(page, '#find-results'), { artifact: 'ok' });
  await open(page, env.LOG_URL, '#/bundle');
  await drop(page, '#bundle-drop', [['modified.bin', env.MODIFIED], ['app.tlog-proof', env.BUNDLE]]);
  await expectFailed(await result(page, '#bundle-results'), 'artifact', /the SHA-256 of modified\.bin/);
});

test('a tampered inclusion proof fails the inclusion proof row', async (page) => {
  mode('lookup-proof');
  await setPolicy(page, env.PROXY_URL, read(env.POLICY));
  await open(page, env.PROXY_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  const r = await expectFailed(await result(page, '#find-results'), 'inclusion proof', /does not lead from the statement/);
  check(r['log signature'] === 'ok', `log signature ${r['log signature']}`);
  mode('none');
}, { group: 'proxy' }); // the tamper proxy's one mode

test('a tampered checkpoint fails the log signature row', async (page) => {
  mode('lookup-checkpoint');
  await setPolicy(page, env.PROXY_URL, read(env.POLICY));
  await open(page, env.PROXY_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  const r = await expectFailed(await result(page, '#find-results'), 'log signature', /does not verify/);
  check(r['witness quorum'] === 'skipped' && r['inclusion proof'] === 'skipped', `later rows ${JSON.stringify(r)}`);
  mode('none');
}, { group: 'proxy' }); // the tamper proxy's one mode

test('a tampered statement fails the submitter signature row', async (page) => {
  mode('lookup-statement');
  await setPolicy(page, env.PROXY_URL, read(env.POLICY));
  await open(page, env.PROXY_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  await expectFailed(await result(page, '#find-results'), 'submitter signature', /does not verify/);
  mode('none');
}, { group: 'proxy' }); // the tamper proxy's one mode

test('a policy demanding a missing witness fails the quorum row', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY_WITNESS));
  await open(page, env.LOG_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  await expectFailed(await result(page, '#find-results'), 'witness quorum', /0 of 2 witnesses cosigned.*not cosigned by W1, W2/);
});

test('a cosigned bundle meets a witness quorum; a future-dated cosignature does not count', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY_W1));
  await open(page, env.LOG_URL, '#/bundle');
  await page.setInputFiles('#bundle-input', env.BUNDLE_W1);
  await page.click('#bundle-form button[type=submit]');
  await expectVerified(await result(page, '#bundle-results'), { 'witness quorum': 'ok' });
  await page.setInputFiles('#bundle-input', env.BUNDLE_FUTURE);
  await page.click('#bundle-form button[type=submit]');
  await page.waitForFunction(() => document.querySelector('#bundle-results .verdict')?.dataset.verdict === 'not-verified',
    null, { timeout: T });
  await expectFailed(page.locator('#bundle-results'), 'witness quorum', /dated more than 5 minutes in the future.*W1 at .*dated in the future: not counted/);
});

// A checkpoint with W1's valid cosignature and, before it, a second W1 line
// of the same time whose signature is garbage (intercepted /checkpoint):
// the overview's witness table marks only the valid line valid. Then a
// file that cannot be read, given to "Compare with a file", says so.
test('the overview labels each cosignature line by its own signature; an unreadable file to compare', async (page) => {
  const note = read(env.BUNDLE_W1).split('\n\n').slice(1).join('\n\n');
  const lines = note.split('\n');
  const w = lines.findIndex((l) => l.startsWith('\u2014 w1.example '));
  check(w > 0, 'the W1 bundle has no W1 cosignature');
  const raw = Buffer.from(lines[w].split(' ')[2], 'base64');
  raw[4 + 8 + 10] ^= 0xff; // in the signature, after the key ID and the time
  const bad = `\u2014 w1.example ${raw.toString('base64')}`;
  await setPolicy(page, env.LOG_URL, read(env.POLICY_W1));
  // a bad line after W1's good one, then before it: a witness's first line
  // decides (lib/cosig.c), a later one is labelled by its own signature
  for (const [at, labels, met] of [[w + 1, ['valid (witness W1 of your policy)', 'INVALID'], true],
    [w, ['INVALID', 'valid, but not counted (only the first line of the witness W1 of your policy counts)'], false]]) {
    const body = [...lines.slice(0, at), bad, ...lines.slice(at)].join('\n');
    await page.unrouteAll();
    await page.route('**/checkpoint', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body }));
    await open(page, env.LOG_URL, '#/overview');
    await page.waitForFunction(() => document.querySelectorAll('#ov-witnesses tbody tr td:nth-child(4)').length === 2,
      null, { timeout: T });
    const cells = await page.$$eval('#ov-witnesses tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    check(cells.length === 2 && cells.every((c) => c[0] === 'w1.example') && cells[0][1] === cells[1][1], `rows ${JSON.stringify(cells)}`);
    check(cells[0][3] === labels[0] && cells[1][3] === labels[1], `labels ${JSON.stringify(cells)}`);
    const st = await page.textContent('#overview-status');
    check(met ? /quorum is met/.test(st) : /, but: /.test(st), `status: ${st}`);
  }
  await page.unrouteAll();
  await open(page, env.LOG_URL, '#/find');
  await searchSubject(page, env.SUBJECT);
  await page.waitForSelector('#find-results .card input.compare', { timeout: T });
  await page.evaluate(() => { File.prototype.arrayBuffer = () => Promise.reject(new DOMException('unreadable', 'NotReadableError')); });
  await page.locator('#find-results .card input.compare').first().setInputFiles(env.ARTIFACT);
  await page.waitForSelector('#find-results .compare-error', { timeout: T });
  const t = await page.textContent('#find-results .compare-error');
  check(t === 'Cannot hash app.bin: unreadable', `says ${t}`);
});

test('a mirror\'s cosignature meets a quorum naming the mirror', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY_M1));
  await open(page, env.LOG_URL, '#/bundle');
  await page.setInputFiles('#bundle-input', env.BUNDLE_M1);
  await page.click('#bundle-form button[type=submit]');
  await expectVerified(await result(page, '#bundle-results'), { 'witness quorum': 'ok' });
});

test('policies with roles, requirements and mirrors parse as lib/policy.c parses them', async (page) => {
  await open(page, env.LOG_URL);
  const names = fs.readdirSync(env.POLICY_CASES).filter((f) => !f.includes('.')).sort();
  check(names.length >= 10, `only ${names.length} policy cases`);
  for (const n of names) {
    const want = read(path.join(env.POLICY_CASES, `${n}.want`)).trim();
    const got = await page.evaluate(async (text) => {
      const { parsePolicy } = await import('/js/policy.js');
      try { await parsePolicy(text); return 'ok'; } catch (e) { return e.message; }
    }, read(path.join(env.POLICY_CASES, n)));
    check(got === want, `policy ${n}: the explorer says "${got}", lib/policy.c "${want}"`);
  }
});

// The overview's entries table: each row as the page shows it, and the
// table's heading, caption and note.
const overviewRows = (page) => page.$$eval('#ov-entries tbody tr[data-index]', (trs) => trs.map((tr) => ({
  index: tr.dataset.index, verdict: tr.dataset.verdict,
  submitter: tr.querySelector('td[data-check="submitter"]')?.textContent,
  tree: tr.querySelector('td[data-check="tree"]')?.textContent })));
const overviewLabels = (page) => page.evaluate(() => ({ heading: document.getElementById('ov-entries-h').textContent,
  caption: document.getElementById('ov-entries-caption').textContent,
  note: document.getElementById('ov-entries-note').textContent,
  noteClass: document.getElementById('ov-entries-note').className }));
// Waits for the rows of entries [lo, hi] (newest first) with their verdicts.
async function overviewPage(page, hi, lo) {
  await page.waitForFunction(([h, l]) => {
    const trs = [...document.querySelectorAll('#ov-entries tbody tr[data-index]')];
    return trs.length > 0 && trs[0].dataset.index === h && trs[trs.length - 1].dataset.index === l &&
      trs.every((tr) => tr.dataset.verdict);
  }, [String(hi), String(lo)], { timeout: T });
  const r = await overviewRows(page);
  check(r.length === hi - lo + 1 && r.every((x, i) => x.index === String(hi - i)), `rows ${r.map((x) => x.index)}`);
  return r;
}
const SIZE = Number(env.TREE_SIZE);
const VERIFIED_IN = `verified: in the checkpoint's tree of size ${SIZE}`;
const SUBMITTER = 'verified (ci.example.com)';

test('the overview verifies its entries against the checkpoint', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/overview');
  await page.waitForFunction((n) => document.getElementById('ov-size').dataset.size === n, env.TREE_SIZE, { timeout: T });
  const rows1 = await overviewPage(page, SIZE - 1, Math.max(0, SIZE - 20));
  for (const r of rows1)
    check(r.verdict === 'verified' && r.submitter === SUBMITTER && r.tree === VERIFIED_IN, `row ${JSON.stringify(r)}`);
  const status = await page.textContent('#overview-status');
  check(/verifies under your policy/.test(status) && /entries listed below are checked against it/.test(status), `status: ${status}`);
  const want = `verified against the checkpoint of size ${SIZE}`;
  const l = await overviewLabels(page);
  check(l.heading === `Latest entries (${want})`, `heading: ${l.heading}`);
  check(l.caption === `Entries ${SIZE - 20} to ${SIZE - 1}, newest first, ${want}`, `caption: ${l.caption}`);
  check(/^Verified in this browser/.test(l.note) && l.note.includes(`tree size ${SIZE}`) && !/not verified|FAILED/.test(l.note),
    `note: ${l.note}`);
  check(await page.isVisible('#ov-entries-note'), 'no visible note on the entries table');
  await page.waitForFunction(() => /latest/.test(document.getElementById('chart-note').textContent), null, { timeout: T });
  check(/^Unverified/.test(await page.textContent('#chart-note')), 'the charts are not labelled unverified');
  const charts = await page.evaluate(() => ['chart-kinds', 'chart-growth'].map((id) => !!globalThis.Chart.getChart(id)));
  check(charts.every(Boolean), `charts drawn: ${charts}`);
  await page.click('#ov-older');
  await page.waitForFunction(() => /Page 2/.test(document.getElementById('ov-page').textContent), null, { timeout: T });
  const rows2 = await overviewPage(page, SIZE - 21, 0);
  for (const r of rows2) check(r.verdict === 'verified' && r.tree === VERIFIED_IN, `row ${JSON.stringify(r)}`);
  await page.locator('#ov-entries tbody tr a').first().click();
  await expectVerified(await result(page, '#entry-results'), { 'inclusion proof': 'ok' });
});

// Two overviews in a row, the first one's checkpoint answered last (after
// 1.5 s) and older (the size-1 checkpoint of BUNDLE): the page keeps
// showing the newer one's tree and verdicts.
test('an overview answered late never replaces a newer one', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  const bundle = read(env.BUNDLE), older = bundle.slice(bundle.indexOf('\n\n') + 2);
  check(/\n1\n/.test(older), `the bundle's checkpoint: ${older}`);
  let asked = 0;
  await page.route('**/checkpoint', async (route) => {
    if (asked++ > 0) return route.continue();
    await new Promise((r) => setTimeout(r, 1500));
    return route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: older });
  });
  await open(page, env.LOG_URL, '#/overview');
  await page.evaluate(() => { location.hash = '#/find'; });
  await page.waitForFunction(() => !document.getElementById('page-find').hidden, null, { timeout: T });
  await page.evaluate(() => { location.hash = '#/overview'; });
  await overviewPage(page, SIZE - 1, Math.max(0, SIZE - 20));
  await new Promise((r) => setTimeout(r, 2000)); // the first answer has come, and was read
  check(asked === 2, `checkpoint requests: ${asked}`);
  const size = await page.evaluate(() => document.getElementById('ov-size').dataset.size);
  check(size === String(SIZE), `the overview shows size ${size}, want ${SIZE}`);
  for (const r of await overviewPage(page, SIZE - 1, Math.max(0, SIZE - 20)))
    check(r.verdict === 'verified' && r.tree === VERIFIED_IN, `row ${JSON.stringify(r)}`);
});

// A newer checkpoint that fails its log signature empties the entries
// verified against the one before at once, while its own answers (the
// log's /metrics, held here) are still awaited.
test('a failing checkpoint removes the verified entries of the one before at once', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/overview');
  for (const r of await overviewPage(page, SIZE - 1, Math.max(0, SIZE - 20)))
    check(r.verdict === 'verified', `row ${JSON.stringify(r)}`);
  const lines = (await (await fetch(`${env.LOG_URL}/checkpoint`)).text()).split('\n');
  lines[2] = (lines[2][0] === 'A' ? 'B' : 'A') + lines[2].slice(1); // another root: the signature fails
  await page.route('**/checkpoint', (route) =>
    route.fulfill({ status: 200, contentType: 'text/plain; charset=utf-8', body: lines.join('\n') }));
  await page.route('**/metrics', async (route) => {
    await new Promise((r) => setTimeout(r, 4000));
    await route.continue().catch(() => {});
  });
  await page.evaluate(() => { location.hash = '#/find'; });
  await page.waitForFunction(() => !document.getElementById('page-find').hidden, null, { timeout: T });
  await page.evaluate(() => { location.hash = '#/overview'; });
  await page.waitForFunction(() => /does not verify/.test(document.getElementById('overview-status').textContent), null,
    { timeout: T });
  const n = await page.$$eval('#ov-entries tbody tr[data-verdict="verified"]', (t) => t.length);
  const h = await page.textContent('#ov-entries-h');
  check(n === 0 && !/verified against/.test(h), `${n} verified rows under "${h}" beside a checkpoint that fails`);
  await page.unrouteAll({ behavior: 'ignoreErrors' });
});

// What the overview showed verified goes as soon as it no longer stands:
// when the next overview's checkpoint is not served (503), and when the
// policy is forgotten; the pager cannot bring the old rows back.
test('a checkpoint not served, a forgotten policy: the overview keeps nothing verified', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  const verified = async () => {
    for (const r of await overviewPage(page, SIZE - 1, SIZE - 20)) check(r.verdict === 'verified', `row ${JSON.stringify(r)}`);
  };
  const cleared = async (when) => {
    const s = await page.evaluate(() => {
      const $ = (id) => document.getElementById(id);
      return { rows: $('ov-entries').querySelectorAll('tbody tr').length, witnesses: $('ov-witnesses').querySelectorAll('tbody tr').length,
        size: $('ov-size').textContent, age: $('ov-age').textContent, heading: $('ov-entries-h').textContent,
        note: $('ov-entries-note').textContent, pager: $('ov-older').disabled && $('ov-newer').disabled };
    });
    check(s.rows === 0 && s.witnesses === 0 && s.size === '…' && s.age === '…' && s.heading === 'Latest entries (not verified)' &&
      /^Not verified: /.test(s.note) && s.pager, `${when}: ${JSON.stringify(s)}`);
  };
  const away = async (hash) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await page.waitForFunction((h) => !document.getElementById(`page-${h.slice(2)}`).hidden, hash, { timeout: T });
  };
  await open(page, env.LOG_URL, '#/overview');
  await verified();
  await page.route('**/checkpoint', (route) => route.fulfill({ status: 503, headers: { 'Retry-After': '5' },
    contentType: 'application/json', body: '{"error":"no checkpoint"}' }));
  await away('#/find');
  await away('#/overview');
  await page.waitForFunction(() => /answered 503/.test(document.getElementById('overview-status').textContent), null, { timeout: T });
  await cleared('after a checkpoint answered 503');
  await page.unrouteAll();
  await away('#/find');
  await away('#/overview');
  await verified();
  await away('#/policy');
  await page.click('#policy-forget');
  await cleared('after the policy was forgotten');
  page.problems = page.problems.filter((p) => !/status of 503/.test(p)); // the browser logs the 503 itself
});

test('without a verified checkpoint the overview says its entries are not verified', async (page) => {
  const plain = (t) => t.replace(/not verified|unverified/gi, '');
  await open(page, env.LOG_URL, '#/overview'); // no policy
  for (const r of await overviewPage(page, SIZE - 1, SIZE - 20))
    check(r.verdict === 'unverified' && r.tree === 'not verified' && r.submitter === 'unchecked (no policy): signed as ci.example.com',
      `row ${JSON.stringify(r)}`);
  let l = await overviewLabels(page);
  check(l.heading === 'Latest entries (not verified)' && / not verified$/.test(l.caption), `heading/caption: ${l.heading} / ${l.caption}`);
  check(/^Not verified: no policy is set/.test(l.note) && /Open an entry to verify it/.test(l.note), `note: ${l.note}`);
  for (const t of [l.heading, l.caption, l.note]) check(!/verified/i.test(plain(t)), `"verified" wording: ${t}`);
  // A policy whose witness quorum the checkpoint does not meet: the
  // signatures are checked, the rows are still not verified.
  await setPolicy(page, env.LOG_URL, read(env.POLICY_WITNESS));
  await open(page, env.LOG_URL, '#/overview');
  for (const r of await overviewPage(page, SIZE - 1, SIZE - 20))
    check(r.verdict === 'unverified' && r.tree === 'not verified' && r.submitter === SUBMITTER, `row ${JSON.stringify(r)}`);
  l = await overviewLabels(page);
  check(l.heading === 'Latest entries (not verified)' && /^Not verified: .*witness quorum/.test(l.note), `labels: ${JSON.stringify(l)}`);
});

test('a tampered entry bundle: its entry is shown FAILED in the overview', async (page) => {
  mode('bundle-entry'); // entry 1's version changed in entry bundle 0
  try {
    await setPolicy(page, env.PROXY_URL, read(env.POLICY));
    await open(page, env.PROXY_URL, '#/overview');
    for (const r of await overviewPage(page, SIZE - 1, SIZE - 20)) check(r.verdict === 'verified', `row ${JSON.stringify(r)}`);
    await page.click('#ov-older');
    const rows = await overviewPage(page, SIZE - 21, 0);
    for (const r of rows) {
      if (r.index !== '1') { check(r.verdict === 'verified' && r.tree === VERIFIED_IN, `row ${JSON.stringify(r)}`); continue; }
      check(r.verdict === 'failed' && /^FAILED: its entry bundle does not match the level-0 hash tile/.test(r.tree) &&
        r.submitter === 'FAILED: the signature of ci.example.com does not verify', `tampered row ${JSON.stringify(r)}`);
    }
    const l = await overviewLabels(page);
    const n = rows.length;
    check(l.heading === `Latest entries (checked against the checkpoint of size ${SIZE}: ${n - 1} verified, 1 FAILED)`,
      `heading: ${l.heading}`);
    check(l.caption.endsWith(`${n - 1} verified, 1 FAILED`) && l.noteClass === 'error' &&
      l.note.startsWith(`1 of ${n} entries below FAILED the check against the checkpoint above`), `labels: ${JSON.stringify(l)}`);
    check(await page.isVisible('#ov-entries tr[data-index="1"]'), 'the tampered row is not shown');
  } finally {
    mode('none');
  }
}, { group: 'proxy' }); // the tamper proxy's one mode

test('a tampered hash tile: the overview entries it covers are shown FAILED', async (page) => {
  mode('tile-hash'); // hash 1 of level-0 tile 0 changed
  try {
    await setPolicy(page, env.PROXY_URL, read(env.POLICY));
    await open(page, env.PROXY_URL, '#/overview');
    const notInTree = /^FAILED: the log's hash tiles do not lead to the root of the checkpoint of size \d+: not in its tree$/;
    const rows1 = await overviewPage(page, SIZE - 1, SIZE - 20);
    for (const r of rows1)
      check(r.verdict === 'failed' && notInTree.test(r.tree) && r.submitter === SUBMITTER, `row ${JSON.stringify(r)}`);
    const l = await overviewLabels(page);
    check(l.heading === `Latest entries (checked against the checkpoint of size ${SIZE}: 0 verified, 20 FAILED)`, `heading: ${l.heading}`);
    await page.click('#ov-older');
    for (const r of await overviewPage(page, SIZE - 21, 0))
      check(r.verdict === 'failed' && (r.index === '1' ? /does not match the level-0 hash tile/ : notInTree).test(r.tree),
        `row ${JSON.stringify(r)}`);
  } finally {
    mode('none');
  }
}, { group: 'proxy' }); // the tamper proxy's one mode

// Partial tiles that are gone (tlog-tiles lets a log or a copy stop
// serving tile/L/N.p/W once tile/L/N is full): the partial paths answer
// 404 and the full tiles are made here from the log's partial ones (their
// SIZE hashes and entries, then filler), so the overview must verify the
// full tiles' first SIZE hashes and entries; a full hash tile one hash
// short shows the entries FAILED. Then tiles.getTile's rules, with a made-up
// get: only a 404 on a partial path falls back; a full bundle of 255 or
// 257 entries is refused; a whole one gives its first W entries.
test('gone partial tiles: the overview reads the full tiles\' prefixes, never short ones', async (page) => {
  const real = async (p) => Buffer.from(await (await fetch(env.LOG_URL + p)).arrayBuffer());
  const tile = await real(`/tile/0/000.p/${SIZE}`), bundle = await real(`/tile/entries/000.p/${SIZE}`);
  check(tile.length === SIZE * 32, `the log's partial tile has ${tile.length} bytes`);
  const filler = Buffer.concat(Array.from({ length: 256 - SIZE }, (_, i) => Buffer.from([0, 2, 0x41 + i % 26, 0x0a])));
  let fullTile = Buffer.concat([tile, Buffer.alloc((256 - SIZE) * 32, 7)]);
  const asked = [];
  await page.route('**/tile/**', (route) => {
    const p = new URL(route.request().url()).pathname;
    asked.push(p);
    const serve = (body) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body });
    if (p.includes('.p/')) return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"gone"}' });
    if (p === '/tile/0/000') return serve(fullTile);
    if (p === '/tile/entries/000') return serve(Buffer.concat([bundle, filler]));
    return route.continue();
  });
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await page.evaluate(() => { location.hash = '#/overview'; });
  for (const r of await overviewPage(page, SIZE - 1, SIZE - 20))
    check(r.verdict === 'verified' && r.tree === VERIFIED_IN && r.submitter === SUBMITTER, `whole full tiles: row ${JSON.stringify(r)}`);
  check(asked.includes('/tile/0/000') && asked.includes('/tile/entries/000'), `asked ${asked}`);
  fullTile = fullTile.subarray(0, 255 * 32);
  await open(page, env.LOG_URL, '#/overview');
  const short = `FAILED: the log's hash tile is malformed (/tile/0/000.p/${SIZE} answered 404, and its full tile is not ` +
    'whole: 8160 bytes, not a full tile of 256 hashes)';
  for (const r of await overviewPage(page, SIZE - 1, SIZE - 20))
    check(r.verdict === 'failed' && r.tree === short, `a short full tile: row ${JSON.stringify(r)}`);
  const got = await page.evaluate(async () => {
    const { getTile } = await import('/js/tiles.js');
    const { ParseError } = await import('/js/codec.js');
    const entry = (i) => [0, 1, i & 0xff];
    const bundleOf = (n) => new Uint8Array(Array.from({ length: n }, (_, i) => entry(i)).flat());
    const run = async (answers, level, n, size) => {
      const asked = [];
      const get = async (path, cap, { allow404 = false } = {}) => {
        asked.push(`${path} ${cap}${allow404 ? ' allow404' : ''}`);
        const a = answers[path];
        if (a === 404 && allow404) return null;
        if (typeof a === 'number') throw new Error(`answered ${a}`);
        return a;
      };
      try {
        const d = await getTile(get, level, n, size, 'what');
        return { asked, len: d.length, last: d[d.length - 1] };
      } catch (e) { return { asked, error: `${e instanceof ParseError ? 'ParseError' : 'Error'}: ${e.message}` }; }
    };
    const p = '/tile/entries/x001/002.p/5', f = '/tile/entries/x001/002';
    return {
      whole: await run({ [p]: 404, [f]: bundleOf(256) }, 'entries', 1002n, 1002n * 256n + 5n),
      short: await run({ [p]: 404, [f]: bundleOf(255) }, 'entries', 1002n, 1002n * 256n + 5n),
      long: await run({ [p]: 404, [f]: bundleOf(257) }, 'entries', 1002n, 1002n * 256n + 5n),
      busy: await run({ [p]: 503, [f]: bundleOf(256) }, 'entries', 1002n, 1002n * 256n + 5n),
      full: await run({ '/tile/1/000': 404 }, 1, 0n, 65536n),
      tile: await run({ '/tile/1/000.p/3': 404, '/tile/1/000': new Uint8Array(8192).fill(9) }, 1, 0n, 3n * 256n),
    };
  });
  const want = {
    whole: { asked: ['/tile/entries/x001/002.p/5 16777472 allow404', '/tile/entries/x001/002 16777472'], len: 15, last: 4 },
    short: { asked: ['/tile/entries/x001/002.p/5 16777472 allow404', '/tile/entries/x001/002 16777472'],
      error: 'ParseError: /tile/entries/x001/002.p/5 answered 404, and its full tile is not whole: 765 bytes, not a bundle of 256 entries' },
    long: { asked: ['/tile/entries/x001/002.p/5 16777472 allow404', '/tile/entries/x001/002 16777472'],
      error: 'ParseError: /tile/entries/x001/002.p/5 answered 404, and its full tile is not whole: 771 bytes, not a bundle of 256 entries' },
    busy: { asked: ['/tile/entries/x001/002.p/5 16777472 allow404'], error: 'Error: answered 503' },
    full: { asked: ['/tile/1/000 8192'], error: 'Error: answered 404' },
    tile: { asked: ['/tile/1/000.p/3 96 allow404', '/tile/1/000 8192'], len: 96, last: 9 },
  };
  check(JSON.stringify(got) === JSON.stringify(want), `getTile: ${JSON.stringify(got)}`);
});

test('inclusion proofs built from hash tiles verify, across tile levels', async (page) => {
  await open(page, env.LOG_URL);
  const bad = await page.evaluate(async () => {
    const { proveInclusion, verifyInclusion, nodeHash } = await import('/js/merkle.js');
    const { tileSubtrees } = await import('/js/tiles.js');
    const errs = [];
    for (const size of [1n, 27n, 256n, 1000n, 65536n + 600n]) {
      // Level-0 hashes (any 32 bytes), a reference MTH (RFC 9162 2.1.1,
      // written out here) and the hash tiles made from it.
      const leaf = (i) => { const u = new Uint8Array(32); new DataView(u.buffer).setBigUint64(0, i); u[31] = 7; return u; };
      const memo = new Map();
      const mth = async (lo, hi) => {
        const key = `${lo}-${hi}`;
        if (memo.has(key)) return memo.get(key);
        let h;
        if (hi - lo === 1n) h = leaf(lo); else {
          let k = 1n;
          while (k * 2n < hi - lo) k *= 2n;
          h = await nodeHash(await mth(lo, lo + k), await mth(lo + k, hi));
        }
        memo.set(key, h);
        return h;
      };
      const root = await mth(0n, size);
      const asked = [];
      const tile = async (level, n, width) => {
        asked.push(`${level}/${n}/${width}`);
        const span = 256n ** BigInt(level), out = [];
        for (let i = 0; i < width; i++) {
          const lo = (n * 256n + BigInt(i)) * span;
          out.push(await mth(lo, lo + span));
        }
        return out;
      };
      const subtree = tileSubtrees(size, tile);
      const picks = [0n, 1n, 26n, 255n, 256n, 511n, 999n, 65535n, 65536n, size - 1n].filter((i) => i < size);
      for (const i of picks) {
        const proof = await proveInclusion(i, size, subtree);
        const r = await verifyInclusion(i, size, leaf(i), proof, root);
        if (r !== 'ok') errs.push(`size ${size} index ${i}: ${r}`);
        const other = await verifyInclusion(i, size, leaf(i + 1n), proof, root);
        if (other === 'ok') errs.push(`size ${size} index ${i}: another leaf verifies`);
      }
      if (size > 65536n && !asked.some((t) => t.startsWith('2/'))) errs.push(`size ${size}: no level-2 tile read: ${asked}`);
    }
    return errs;
  });
  check(bad.length === 0, bad.join(', '));
});

test('a search by subject and version finds the statement', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await page.fill('#subject-input', env.SUBJECT);
  await page.fill('#version-input', env.VERSION);
  await page.click('#find-subject button[type=submit]');
  const res = await result(page, '#find-results');
  await expectVerified(res, { artifact: '-', statement: 'ok' });
  const h = await res.locator('.card h3').first().textContent();
  check(h.includes(env.SUBJECT) && h.includes(env.VERSION), `found ${h}`);
});

// `glasslog get entry N` output: "index N", "leaf_hash H", a blank line,
// the statement. Its index and the facts the page must show, split here
// from the CLI's text (not by the page's parser): [label, value] pairs.
function cliFacts(file) {
  const [head, text] = read(file).split('\n\n');
  const index = head.match(/^index (\d+)$/m)[1];
  const label = { kind: 'Kind', subject: 'Subject', version: 'Version', sha256: 'SHA-256', source: 'Source',
    audited: 'Audited', scope: 'Scope' };
  const lines = text.split('\n');
  const facts = [['Format', lines[0]]];
  for (const l of lines.slice(1)) {
    const sp = l.indexOf(' '), name = l.slice(0, sp), value = l.slice(sp + 1);
    if (name === 'meta') {
      const k = value.indexOf(' ');
      facts.push([`meta ${value.slice(0, k)}`, value.slice(k + 1)]);
    } else if (label[name]) facts.push([label[name], value]);
  }
  return { index, facts };
}

test('v2 statements show their kind and provenance links', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  const want = env.V2_ENTRIES.split(' ').map(cliFacts);
  check(want.length === 3 && want.every((w) => w.facts.some(([k]) => k === 'Kind')), 'V2_ENTRIES');
  for (const w of want) {
    await open(page, env.LOG_URL, `#/entry/${w.index}`);
    const res = await result(page, '#entry-results');
    await expectVerified(res, { statement: 'ok', 'submitter signature': 'ok', 'inclusion proof': 'ok' });
    const shown = await res.locator('.card dl dd[data-fact]').evaluateAll((dds) =>
      dds.map((d) => [d.dataset.fact, d.textContent]));
    for (const f of w.facts)
      check(shown.some(([k, v]) => k === f[0] && v === f[1]), `entry ${w.index}: ${f[0]} ${f[1]} not shown in ${JSON.stringify(shown)}`);
    const links = (k) => shown.filter(([x]) => x === k).length;
    const wantLinks = (k) => w.facts.filter(([x]) => x === k).length;
    for (const k of ['Source', 'Audited', 'Scope'])
      check(links(k) === wantLinks(k), `entry ${w.index}: ${links(k)} ${k} facts shown, the statement has ${wantLinks(k)}`);
  }
  await open(page, env.LOG_URL, '#/overview');
  await page.waitForSelector('#ov-entries tbody tr[data-index]', { timeout: T });
  for (const w of want) {
    const kind = w.facts.find(([k]) => k === 'Kind')[1];
    const cell = await page.locator(`#ov-entries tr[data-index="${w.index}"] td`).nth(1).textContent();
    check(cell === kind, `overview entry ${w.index}: kind ${cell}, want ${kind}`);
  }
});

test('a large file hashed in chunks, and its pasted SHA-256, verify', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await page.setInputFiles('#file-input', env.LARGE);
  const res = await result(page, '#find-results');
  await expectVerified(res, { artifact: 'ok' });
  const sha = await res.locator('.card dd.mono').first().textContent();
  check(sha === env.LARGE_SHA, `hash ${sha}, sha256sum says ${env.LARGE_SHA}`);
  const p = await page.evaluate(() => [document.getElementById('hash-progress').value, document.getElementById('hash-progress').max]);
  check(p[0] === p[1] && p[1] === largeSize, `progress ${p}, file ${largeSize} bytes`);
  await page.fill('#hash-input', env.LARGE_SHA);
  await page.click('#find-hash button[type=submit]');
  await expectVerified(await result(page, '#find-results'), { artifact: 'ok' });
});

test('the suggested policy works and says what it proves', async (page) => {
  await open(page, env.LOG_URL, '#/find');
  const s = await page.textContent('#policy-status');
  check(/No policy yet/.test(s), `status: ${s}`);
  await page.setInputFiles('#file-input', env.ARTIFACT);
  await page.waitForSelector('#find-results .error', { timeout: T });
  check(/No policy is set/.test(await page.textContent('#find-results')), 'no refusal without a policy');
  await open(page, env.LOG_URL, '#/policy');
  await page.click('#policy-suggested');
  await page.waitForFunction(() => /Saved/.test(document.getElementById('policy-msg').textContent), null, { timeout: T });
  const saved = await page.textContent('#policy-msg');
  check(/submitter ci\.example\.com \(builder\)/.test(saved), `the suggested policy's builder is not shown: ${saved}`);
  await open(page, env.LOG_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  const res = await result(page, '#find-results');
  await expectVerified(res);
  check(/only proves consistency with what the log itself claims/.test(await res.textContent()), 'no warning');
  await open(page, env.LOG_URL, '#/overview');
  await page.waitForFunction(() => /quorum is met/.test(document.getElementById('overview-status').textContent), null, { timeout: T });
  const ov = await page.textContent('#overview-status');
  check(/only proves consistency with what the log itself claims/.test(ov), `the overview does not warn: ${ov}`);
});

test('an invalid policy is refused with its line', async (page) => {
  await open(page, env.LOG_URL, '#/policy');
  await page.fill('#policy-text', 'log nonsense\nquorum none\n');
  await page.fill('#max-age', '60');
  await page.click('#policy-form button[type=submit]');
  await page.waitForSelector('#policy-msg .error', { timeout: T });
  const t = await page.textContent('#policy-msg');
  check(/line 1: log key is not a valid vkey/.test(t), `says: ${t}`);
  const age = await page.evaluate(() => localStorage.getItem('glasslog.maxAge'));
  check(age === null, `the refused policy's maximum age was saved: ${age}`);
});

test('without WebCrypto the page says why it cannot verify', async (page) => {
  await page.addInitScript(() => Object.defineProperty(window, 'isSecureContext', { value: false }));
  await open(page, env.LOG_URL, '#/find');
  const t = await page.textContent('#capability');
  check(await page.isVisible('#capability') && /HTTPS/.test(t), `says: ${t}`);
});

test('without Ed25519 the page says why it cannot verify', async (page) => {
  await page.addInitScript(() => {
    if (!globalThis.crypto || !crypto.subtle) return; // about:blank
    const imp = crypto.subtle.importKey.bind(crypto.subtle);
    crypto.subtle.importKey = (f, k, alg, ...rest) => (alg && alg.name === 'Ed25519'
      ? Promise.reject(new DOMException('not supported', 'NotSupportedError')) : imp(f, k, alg, ...rest));
  });
  await open(page, env.LOG_URL, '#/find');
  const t = await page.textContent('#capability');
  check(/no Ed25519/.test(t), `says: ${t}`);
});

test('keyboard: skip link, navigation and the hash form', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.className) === 'skip', 'first Tab is not the skip link');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.textContent) === 'Find', 'second Tab is not the Find link');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !document.getElementById('page-bundle').hidden, null, { timeout: T });
  await open(page, env.LOG_URL, '#/find');
  await page.focus('#hash-input');
  await page.keyboard.type(sha256sum(env.ARTIFACT));
  await page.keyboard.press('Enter');
  await expectVerified(await result(page, '#find-results'), { artifact: 'ok' });
  const live = await page.getAttribute('#find-results', 'aria-live');
  check(live === 'polite', 'results are not a live region');
});

test('phone width: no horizontal scrolling', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await page.setInputFiles('#file-input', env.ARTIFACT);
  await expectVerified(await result(page, '#find-results'));
  const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  check(sw <= w, `page is ${sw} px wide in a ${w} px window`);
}, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });

// --- races: the result shown is the newest action's --------------------------
// An older action made slow on purpose (a file read late, an answer
// delayed) must not replace what a newer one shows.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A copy of file f named name (the page tells files apart by name).
function copyAs(f, name) {
  const to = path.join(path.dirname(env.MODE_FILE), name);
  fs.copyFileSync(f, to);
  return to;
}

// Makes the page read the files named name only after ms milliseconds (a
// slow disk, or a large file's hashing), counting in window.slowReads the
// reads done.
async function slowFiles(page, name, ms) {
  await page.evaluate(([n, t]) => {
    const readAll = File.prototype.arrayBuffer;
    window.slowReads = 0;
    File.prototype.arrayBuffer = function () {
      if (this.name !== n) return readAll.call(this);
      return new Promise((r) => setTimeout(r, t)).then(() => readAll.call(this)).finally(() => { window.slowReads++; });
    };
  }, [name, ms]);
}

// Waits for n slow reads to end, then long enough for the action that
// asked for them to have shown its result, were it still allowed to.
async function afterSlowReads(page, n) {
  await page.waitForFunction((k) => window.slowReads >= k, n, { timeout: T });
  await sleep(1500);
}

// The first bundle (it would verify) is read late; the second, checked
// with a modified file, fails: its result stays, with its file's name.
test('a bundle checked late never replaces a newer bundle\'s result', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/bundle');
  await slowFiles(page, 'slow.tlog-proof', 1500);
  await page.setInputFiles('#bundle-input', copyAs(env.BUNDLE, 'slow.tlog-proof'));
  await page.click('#bundle-form button[type=submit]');
  await page.setInputFiles('#bundle-input', env.BUNDLE);
  await page.setInputFiles('#bundle-artifact', env.MODIFIED);
  await page.click('#bundle-form button[type=submit]');
  await expectFailed(await result(page, '#bundle-results'), 'artifact', /the SHA-256 of modified\.bin/);
  await afterSlowReads(page, 1);
  const res = page.locator('#bundle-results');
  check(await res.locator('.card').count() === 1, `${await res.locator('.card').count()} cards`);
  await expectFailed(res, 'artifact', /the SHA-256 of modified\.bin/);
  const name = await res.locator('.card .bundle-name').textContent();
  check(name === `From the bundle ${path.basename(env.BUNDLE)}`, `the card says "${name}"`);
});

// Entry 5's answer is delayed until after the page moved on to entry 7.
test('an entry answered late never shows under a newer entry\'s heading', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  let asked = false, answered = false;
  await page.route('**/api/v1/entries/5', async (route) => {
    asked = true;
    await sleep(1500);
    await route.continue();
    answered = true;
  });
  await open(page, env.LOG_URL, '#/entry/5');
  for (let i = 0; i < 300 && !asked; i++) await sleep(100);
  check(asked, 'entry 5 was never asked for');
  await page.evaluate(() => { location.hash = '#/entry/7'; });
  await expectVerified(await result(page, '#entry-results'), { 'inclusion proof': 'ok' });
  for (let i = 0; i < 300 && !answered; i++) await sleep(100);
  check(answered, 'entry 5 was never answered');
  await sleep(1500);
  const h = await page.textContent('#entry-h'), cards = page.locator('#entry-results .card');
  check(h === 'Entry 7', `heading ${h}`);
  check(await cards.count() === 1, `${await cards.count()} cards`);
  const shown = [await cards.first().getAttribute('data-index'), await cards.first().locator('h3').textContent()];
  check(shown[0] === '7' && shown[1].startsWith('Entry 7:'), `under "Entry 7" the page shows ${JSON.stringify(shown)}`);
});

// The suggested policy answered late (held until the visitor acted): a
// policy saved, then one forgotten, meanwhile stays as the visitor left it.
test('a suggested policy answered late never replaces a policy saved or forgotten meanwhile', async (page) => {
  let asked = 0, answered = 0, release = null;
  await page.route('**/policy', async (route) => {
    asked++;
    await new Promise((r) => { release = r; });
    await route.continue().catch(() => {});
    answered++;
  });
  await open(page, env.LOG_URL, '#/policy');
  const own = read(env.POLICY_W1);
  for (const then of ['save', 'forget']) {
    const n = asked;
    await page.click('#policy-suggested');
    for (let i = 0; i < T / 10 && asked === n; i++) await sleep(10);
    check(asked === n + 1, `${then}: the suggested policy was never asked for`);
    if (then === 'save') {
      await page.fill('#policy-text', own);
      await page.click('#policy-form button[type=submit]');
      await page.waitForFunction(() => /^Saved/.test(document.getElementById('policy-msg').textContent), null, { timeout: T });
    } else {
      await page.click('#policy-forget');
      await page.waitForFunction(() => /forgotten/.test(document.getElementById('policy-msg').textContent), null, { timeout: T });
    }
    release();
    for (let i = 0; i < T / 10 && answered === n; i++) await sleep(10);
    check(answered === n + 1, `${then}: the suggested policy was never answered`);
    // long enough for the page to save the answer, were it still allowed to
    await page.waitForFunction(() => localStorage.getItem('glasslog.policy.source') === 'log', null, { timeout: 300 })
      .catch(() => {});
    const got = await page.evaluate(() => [localStorage.getItem('glasslog.policy'), localStorage.getItem('glasslog.policy.source'),
      document.getElementById('policy-status').textContent, document.getElementById('policy-text').value]);
    if (then === 'save') check(got[0] === own && got[1] === 'own' && /^Policy \(yours\)/.test(got[2]) && got[3] === own,
      `after a save: ${JSON.stringify(got.slice(1, 3))}`);
    else check(got[0] === null && got[1] === null && /^No policy yet/.test(got[2]) && got[3] === '',
      `after a forget: ${JSON.stringify(got.slice(1, 3))}`);
  }
});

// A log that never finishes its lookup answers (a proxy in front of it
// trickles them, a space every 200 ms): a newer search aborts the older
// one's request at once (the proxy sees it closed), and the last one ends
// at the page's deadline (api.js settings.deadline: 30 s, 1 s here) with
// an error that says so.
test('a trickled lookup: a newer search aborts it, the deadline ends it', async (page) => {
  const held = new Set();
  let asked = 0;
  const srv = http.createServer((req, res) => {
    if (req.url.startsWith('/api/v1/lookup')) {
      asked++;
      held.add(res);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"statements": [');
      const t = setInterval(() => res.write(' '), 200);
      res.on('close', () => { clearInterval(t); held.delete(res); });
      return;
    }
    const up = http.request(env.LOG_URL + req.url, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await open(page, `http://127.0.0.1:${srv.address().port}`, '#/find');
    await page.evaluate(async () => { const api = await import('/js/api.js'); if (api.settings) api.settings.deadline = 1; });
    for (let n = 1; n <= 3; n++) {
      await page.fill('#hash-input', String(n).repeat(64));
      await page.click('#find-hash button[type=submit]');
      for (let i = 0; i < T / 10 && asked < n; i++) await sleep(10);
      check(asked === n, `the log was asked ${asked} lookups, want ${n}`);
    }
    for (let i = 0; i < 50 && held.size > 1; i++) await sleep(10); // well within the deadline
    check(held.size <= 1, `${held.size} of 3 lookups still open after the newest started`);
    await page.waitForSelector('#find-results .error', { timeout: T });
    const t = await page.textContent('#find-results');
    check(t === 'the lookup: the log did not finish answering within 1 s', `says ${t}`);
    for (let i = 0; i < T / 10 && held.size > 0; i++) await sleep(10);
    check(held.size === 0, `${held.size} lookups still open after the deadline`);
  } finally {
    for (const res of held) res.destroy();
    srv.closeAllConnections();
    srv.close();
  }
});

// A file search read late (the file would be found) after a newer search
// by hash (not found); then, on a card, a file to compare read late and
// a newer one that cannot be read: the newer ones' results stay.
test('a file hashed late never replaces a newer search or compared file', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  await slowFiles(page, 'slow.bin', 1500);
  const slow = copyAs(env.ARTIFACT, 'slow.bin'), mod = sha256sum(env.MODIFIED);
  await page.setInputFiles('#file-input', slow);
  await page.fill('#hash-input', mod);
  await page.click('#find-hash button[type=submit]');
  await page.waitForSelector('#find-results .error', { timeout: T });
  await afterSlowReads(page, 1);
  const t = await page.textContent('#find-results');
  check(t === `No statement for SHA-256 ${mod}.` || t.startsWith(`No statement for SHA-256 ${mod}: not in the log`), `says ${t}`);
  check(await page.locator('#find-results .card').count() === 0, 'the file searched first is shown');
  await searchSubject(page, env.SUBJECT);
  await page.waitForSelector('#find-results .card input.compare', { timeout: T });
  await page.evaluate(() => {
    const readAll = File.prototype.arrayBuffer;
    File.prototype.arrayBuffer = function () {
      return this.name === 'unreadable.bin' ? Promise.reject(new DOMException('unreadable', 'NotReadableError')) : readAll.call(this);
    };
  });
  const input = page.locator('#find-results .card input.compare').first();
  await input.setInputFiles(slow);
  await input.setInputFiles(copyAs(env.ARTIFACT, 'unreadable.bin'));
  await page.waitForSelector('#find-results .compare-error', { timeout: T });
  await afterSlowReads(page, 2);
  const err = await page.locator('#find-results .compare-error').allTextContents();
  check(JSON.stringify(err) === '["Cannot hash unreadable.bin: unreadable"]', `says ${JSON.stringify(err)}`);
  const r = await rows(page.locator('#find-results .card').first());
  check(r.artifact === '-', `the first card's artifact row is ${r.artifact}: the file compared first replaced it`);
});

// A maximum age of more than 2^64 - 1 s (as `glasslog verify --max-age`)
// is refused (300 digits: more are a "bad input" the browser itself
// refuses); 400 digits in storage (an older page, another browser) are
// read exactly, so the check still ends. The verified bundle's download is
// made on the click, its object URL revoked after.
test('a maximum age too large is refused, one saved before still verifies; the download', async (page) => {
  await page.addInitScript(() => {
    window.urls = { made: 0, revoked: 0 };
    const make = URL.createObjectURL, revoke = URL.revokeObjectURL;
    URL.createObjectURL = (b) => { window.urls.made++; return make(b); };
    URL.revokeObjectURL = (u) => { window.urls.revoked++; return revoke(u); };
  });
  const huge = '1'.padEnd(400, '0');
  await open(page, env.LOG_URL, '#/policy');
  await page.fill('#policy-text', read(env.POLICY_W1));
  for (const [age, ok] of [['1'.padEnd(300, '0'), false], ['18446744073709551616', false], ['18446744073709551615', true]]) {
    await page.fill('#max-age', age);
    await page.click('#policy-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#policy-msg .error, #policy-msg .ok-msg'), null, { timeout: T });
    const t = await page.textContent('#policy-msg'), saved = await page.evaluate(() => localStorage.getItem('glasslog.maxAge'));
    if (ok) check(/^Saved/.test(t) && saved === age, `${age}: says ${t}, saved ${saved}`);
    else check(t === 'The maximum age must be a whole number of seconds, at most 18446744073709551615.' && saved === null,
      `${age.length} digits: says ${t}, saved ${saved}`);
    await page.evaluate(() => document.getElementById('policy-msg').replaceChildren());
  }
  await page.evaluate((a) => localStorage.setItem('glasslog.maxAge', a), huge);
  await open(page, env.LOG_URL, '#/bundle');
  await page.setInputFiles('#bundle-input', env.BUNDLE_W1);
  await page.click('#bundle-form button[type=submit]');
  const res = await result(page, '#bundle-results');
  await expectVerified(res, { 'checkpoint age': 'ok', 'witness quorum': 'ok' });
  const d = await res.locator('tr[data-check="checkpoint age"] td').nth(1).textContent();
  check(d.includes(`within ${huge} s`), `checkpoint age row: ${d}`);
  check((await page.evaluate(() => window.urls.made)) === 0, 'an object URL was made before the download was asked for');
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }), res.locator('a[download]').click()]);
  const got = fs.readFileSync(await dl.path(), 'utf8');
  check(dl.suggestedFilename() === '0.tlog-proof' && got === read(env.BUNDLE_W1), `downloaded ${dl.suggestedFilename()}: ${got}`);
  await page.waitForFunction(() => window.urls.revoked === 1, null, { timeout: T });
  check((await page.evaluate(() => window.urls.made)) === 1, 'not one object URL for one download');
}, { acceptDownloads: true });

// --- lookup answers the real log cannot be made to give here ------------------
// Intercepted in the browser (page.route): the page's own fetch gets them.

// Answers the lookups of the page with fn(from) ({status, headers, body}),
// recording each lookup's query.
async function fakeLookups(page, fn) {
  const asked = [];
  await page.route('**/api/v1/lookup?**', (route) => {
    const u = new URL(route.request().url());
    asked.push(u.search);
    const r = fn(Number(u.searchParams.get('from') ?? '0'));
    route.fulfill({ status: r.status ?? 200, headers: r.headers ?? {}, contentType: 'application/json',
      body: typeof r.body === 'string' ? r.body : JSON.stringify(r.body) });
  });
  return asked;
}

async function searchSubject(page, subject) {
  await page.fill('#subject-input', subject);
  await page.fill('#version-input', '');
  await page.click('#find-subject button[type=submit]');
}

const foundLine = (page) => page.locator('#find-results > p').first().textContent();

// One case (a visitor costs seconds): no policy is needed, the cards of
// made-up statements say why they are not verified either way.
test('made-up lookup answers: 10 pages at a time, a bad next, tree_size, 503', async (page) => {
  await open(page, env.LOG_URL, '#/find');
  // One made-up statement a page, 16 in all.
  const asked = await fakeLookups(page, (from) => ({
    body: { statements: [{ index: from, leaf_hash: '00'.repeat(32), statement: `not a statement ${from}\n`, proof: 'not a proof\n' }],
      ...(from < 15 ? { next: from + 1 } : {}) } }));
  await searchSubject(page, 'fake/paged');
  await page.waitForSelector('#find-results button.lookup-more', { timeout: T });
  let cards = await page.locator('#find-results .card').count();
  check(cards === 10, `${cards} cards after the first 10 pages`);
  check(/^Showing the first 10 statements found.*the log lists more/.test(await foundLine(page)), `says ${await foundLine(page)}`);
  check(/More statements exist \(from index 10 on\)/.test(await page.textContent('#find-results')), 'no note that more exist');
  await page.click('#find-results button.lookup-more');
  await page.waitForFunction(() => /statements found\.$/.test(document.querySelector('#find-results > p').textContent),
    null, { timeout: T });
  check(await foundLine(page) === '16 statements found.', `says ${await foundLine(page)}`);
  cards = await page.locator('#find-results .card').count();
  check(cards === 16, `${cards} cards, want 16`);
  check(await page.locator('#find-results button.lookup-more').count() === 0, 'a "more" button is left');
  const want = [...Array(16).keys()].map((i) => `?subject=fake/paged&from=${i}`);
  check(JSON.stringify(asked) === JSON.stringify(want), `asked ${asked}`);
  await page.unrouteAll();
  // A "next" that does not move past what was listed is refused.
  await fakeLookups(page, (from) => ({ body: { statements: [{ index: 7, statement: 'x', proof: 'y' }], next: from === 0 ? 7 : 0 } }));
  await searchSubject(page, 'fake/loop');
  await page.waitForFunction(() => /malformed/.test(document.getElementById('find-results').textContent), null, { timeout: T });
  let t = await page.textContent('#find-results');
  check(/"next" is not an index past the 1 statements listed from index 0/.test(t), `says ${t}`);
  await page.unrouteAll();
  // A page holds at most 100 statements, each once, ascending from its
  // "from": a longer page, a statement listed again on the next page or
  // twice on one page is refused, with no card shown.
  const item = (i) => ({ index: i, leaf_hash: '00'.repeat(32), statement: `not a statement ${i}\n`, proof: 'not a proof\n' });
  const refused = [
    ['fake/long', () => ({ statements: [...Array(101).keys()].map(item) }), /it lists 101 statements, more than the 100/],
    ['fake/again', (from) => ({ statements: [item(0)], ...(from < 3 ? { next: from + 1 } : {}) }),
      /Stopped after 1 statements: .*index 0 is before the page's start 1/],
    ['fake/twice', () => ({ statements: [item(4), item(4)] }), /index 4 is listed twice or out of order/]];
  for (const [subject, body, want] of refused) {
    await fakeLookups(page, (from) => ({ body: body(from) }));
    await searchSubject(page, subject);
    await page.waitForFunction(() => /malformed/.test(document.getElementById('find-results').textContent), null, { timeout: T });
    t = await page.textContent('#find-results');
    check(want.test(t), `${subject}: says ${t}`);
    const n = await page.locator('#find-results .card').count();
    check(n === (subject === 'fake/again' ? 1 : 0), `${subject}: ${n} cards`);
    await page.unrouteAll();
  }
  // Nothing found: the tree size the log says it searched, if it says one.
  let answer = { statements: [], tree_size: 4242 };
  await fakeLookups(page, () => ({ body: answer }));
  await searchSubject(page, 'fake/none');
  await page.waitForFunction(() => /fake\/none/.test(document.getElementById('find-results').textContent), null, { timeout: T });
  t = await page.textContent('#find-results');
  check(/^No statement for subject fake\/none: not in the log as of tree size 4242 /.test(t), `says ${t}`);
  answer = { statements: [] };
  await page.fill('#version-input', '1.0');
  await page.click('#find-subject button[type=submit]');
  await page.waitForFunction(() => /version 1\.0/.test(document.getElementById('find-results').textContent), null, { timeout: T });
  t = await page.textContent('#find-results');
  check(t === 'No statement for subject fake/none version 1.0.', `says ${t}`);
  await page.unrouteAll();
  // 503: the log has no checkpoint to serve yet.
  await fakeLookups(page, () => ({ status: 503, headers: { 'Retry-After': '7' }, body: { error: 'no checkpoint to serve yet' } }));
  await searchSubject(page, 'fake/early');
  await page.waitForFunction(() => /503/.test(document.getElementById('find-results').textContent), null, { timeout: T });
  t = await page.textContent('#find-results');
  check(/^The log has no checkpoint to serve yet, so it cannot answer lookups: try again in 7 s\./.test(t), `says ${t}`);
  page.problems = page.problems.filter((p) => !/status of 503/.test(p)); // the browser logs the 503 itself
});

// The real log's answer for SUBJECT, altered in the browser: an item
// without leaf_hash is malformed; a tree_size its proof does not lead to
// fails the item; a second item proven in another tree of the same size (a
// checkpoint signed by the log's key over made-up hashes) fails as a split
// view while the first verifies. A refused search input stops the search
// running, and a forgotten policy removes the cards verified under it.
test('altered lookup answers: leaf_hash, tree_size, one tree a size; a refused input, a forgotten policy', async (page) => {
  await setPolicy(page, env.LOG_URL, read(env.POLICY));
  await open(page, env.LOG_URL, '#/find');
  let alter = (a) => a, delay = 0;
  await page.route('**/api/v1/lookup?**', async (route) => {
    const res = await route.fetch();
    const body = JSON.stringify(alter(await res.json()));
    if (delay) await new Promise((r) => setTimeout(r, delay));
    route.fulfill({ response: res, body });
  });
  const verdicts = () => page.$$eval('#find-results .card .verdict', (v) => v.map((e) => [e.dataset.verdict, e.textContent]));
  const search = async (n) => {
    await searchSubject(page, env.SUBJECT);
    await page.waitForFunction((k) => document.querySelectorAll('#find-results .verdict, #find-results .error').length >= k,
      n, { timeout: T });
  };
  alter = (a) => { for (const it of a.statements) delete it.leaf_hash; return a; };
  await search(1);
  let t = await page.textContent('#find-results');
  check(/malformed \(an item lacks a valid index, leaf_hash, statement or proof\)/.test(t), `no leaf_hash: ${t}`);
  check(await page.locator('#find-results .card').count() === 0, 'an item without leaf_hash has a card');
  let size = 0;
  alter = (a) => { size = a.tree_size; return { ...a, tree_size: a.tree_size + 1 }; };
  await search(1);
  let v = await verdicts();
  check(v.length >= 1 && v.every(([d, t]) => d === 'not-verified' && t.includes(`as of tree size ${size + 1} but this proof ` +
    `leads to a checkpoint of size ${size}`)), `tree_size: ${JSON.stringify(v)}`);
  alter = (a) => {
    const it = a.statements[0], n = BigInt(a.tree_size), j = n - 1n;
    check(BigInt(it.index) < j, `the statement is at ${it.index} of ${n}`);
    const proof = bigIndexBundle(`x\nextra ${Buffer.from(it.statement).toString('base64')}\n`, j, n);
    return { ...a, statements: [it, { ...it, index: Number(j), proof }] };
  };
  await search(2);
  v = await verdicts();
  check(v.length === 2 && v[0][0] === 'verified' && v[1][0] === 'not-verified' &&
    v[1][1].includes('another statement of this answer is proven in a different tree of size'), `split view: ${JSON.stringify(v)}`);
  alter = (a) => a;
  delay = 2000;
  await searchSubject(page, env.SUBJECT);
  await page.fill('#hash-input', 'not-a-hash');
  await page.click('#find-hash button[type=submit]');
  await new Promise((r) => setTimeout(r, 3000));
  t = await page.textContent('#find-results');
  check(t === 'A SHA-256 is 64 hexadecimal digits (0-9, a-f).', `after a refused input: ${t}`);
  delay = 0;
  await search(1);
  check((await verdicts())[0]?.[0] === 'verified', 'the search does not verify');
  await page.evaluate(() => { location.hash = '#/policy'; });
  await page.click('#policy-forget');
  await page.evaluate(() => { location.hash = '#/find'; });
  t = await page.textContent('#find-results');
  check(/^The policy changed: results verified under the old one were removed/.test(t) &&
    await page.locator('#find-results .card').count() === 0, `after the policy was forgotten: ${t}`);
});

// Last, so that the appends to the second log had the other cases' time.
test('a subject with more statements than one lookup answer lists them all', async (page) => {
  for (let i = 0; i < 1200 && !fs.existsSync(env.MANY_INDICES); i++) await new Promise((r) => setTimeout(r, 100));
  check(fs.existsSync(env.MANY_INDICES), 'the appends to the second log did not end in 120 s');
  const ix = read(env.MANY_INDICES).trim();
  check(/^[0-9]+(,[0-9]+)*$/.test(ix), `the appends to the second log: ${ix}`);
  const want = ix.split(',');
  check(want.length > 100, `only ${want.length} statements: one lookup answer holds them all`);
  await setPolicy(page, env.MANY_URL, read(env.POLICY));
  await open(page, env.MANY_URL, '#/find');
  await searchSubject(page, env.MANY_SUBJECT);
  await page.waitForFunction(() => /found\.$/.test(document.querySelector('#find-results > p')?.textContent),
    null, { timeout: 120000 });
  const line = await foundLine(page);
  check(line === `${want.length} statements found.`, `says "${line}", want ${want.length}`);
  const shown = await page.locator('#find-results .card').evaluateAll((cs) => cs.map((c) => c.dataset.index));
  check(JSON.stringify(shown) === JSON.stringify(want), `cards for ${shown}, the CLI appended ${want}`);
  const verdicts = await page.locator('#find-results .card .verdict').evaluateAll((vs) => vs.map((v) => v.dataset.verdict));
  const ok = verdicts.filter((v) => v === 'verified').length;
  check(ok === want.length, `${ok} of ${verdicts.length} verdicts are verified`);
}, { fullPage: false });

await runAll();
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
