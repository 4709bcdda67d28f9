// ui: DOM helpers and the rendering of a verification report. Text from
// the log or a file only ever goes in through textContent.
import { text, utc } from './trust.js';

export const $ = (id) => document.getElementById(id);

// el('p', {class: 'x'}, 'text', child...): an element with children.
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v; else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}

export function clear(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined));
}

export const errorBox = (msg) => el('p', { class: 'error', role: 'alert' }, msg);
export const warnBox = (msg) => el('p', { class: 'warning' }, msg);

const LABEL = { passed: 'ok', failed: 'FAILED', skipped: 'skipped', not_checked: '-' };

// The statement's fields as a definition list.
export function statementFacts(st, index) {
  const f = st.fields, dl = el('dl', { class: 'facts' });
  const add = (k, v, mono) => dl.append(el('dt', {}, k), el('dd', { class: mono ? 'mono' : null, 'data-fact': k }, v));
  add('Kind', f.kind);
  add('Subject', f.subject);
  add('Version', f.version);
  add('Submitter', `${text(st.sig.name)} (key ID ${st.sig.id.toString(16).padStart(8, '0')})`);
  add('Signed at', utc(f.time));
  if (index !== undefined && index !== null) add('Index', String(index));
  add('SHA-256', f.sha256hex, true);
  add('Format', `glasslog.dev/statement/v${f.format}`);
  // The provenance links of a v2 statement (specs/statement.md section 9).
  if (f.sourcehex) add('Source', f.sourcehex, true);
  for (const a of f.audited) add('Audited', a, true);
  if (f.scope !== null) add('Scope', f.scope);
  for (const m of f.meta) add(`meta ${m.key}`, m.value || '(empty)');
  return dl;
}

// The report of trust.verify as a table and a verdict; policyNote (may be
// null) is shown with the verdict.
export function reportView(report, { policyNote = null, extraFailure = null } = {}) {
  const tb = el('tbody');
  for (const r of report.rows)
    tb.append(el('tr', { class: r.state, 'data-check': r.step },
      el('th', { scope: 'row' }, r.step), el('td', { class: 'state' }, LABEL[r.state]), el('td', {}, r.detail)));
  const ok = report.verified && !extraFailure;
  const table = el('table', { class: 'report' }, el('caption', {}, 'Checks, in order'),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Check'), el('th', { scope: 'col' }, 'Result'),
      el('th', { scope: 'col' }, 'What was found'))), tb);
  return el('div', {},
    el('div', { class: 'scroll' }, table),
    extraFailure ? errorBox(extraFailure) : null,
    el('p', { class: 'verdict ' + (ok ? 'ok' : 'bad'), 'data-verdict': ok ? 'verified' : 'not-verified' },
      ok ? 'VERIFIED' : `NOT VERIFIED: ${extraFailure || `${report.failed.step}: ${report.failed.detail}`}`),
    policyNote ? warnBox(policyNote) : null);
}
