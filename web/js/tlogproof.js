// tlogproof: C2SP tlog-proof files (specs/bundle.md), ported from
// lib/tlogproof.c: strict syntax, same caps; verifies nothing.
import { ParseError, bin, b64decode, b64decodeExact, b64encode, bytes, parseU64, nextLine } from './codec.js';
import { parseNote } from './note.js';
import { parseCheckpoint } from './checkpoint.js';

export const TLOGPROOF_MAX_SIZE = 256 * 1024;
const EXTRA_MAX = 65536, MAX_HASHES = 63;

// {index (BigInt), hashes: [Uint8Array(32)], extra (binary string or
// null), checkpoint (binary string)}
export function parseTlogProof(s) {
  if (s.length > TLOGPROOF_MAX_SIZE) throw new ParseError('proof larger than 256 KiB', 'toobig');
  let l = nextLine(s, 0);
  if (!l || l.line !== 'c2sp.org/tlog-proof@v1') throw new ParseError('not a c2sp.org/tlog-proof@v1 file');
  l = nextLine(s, l.pos);
  if (!l) throw new ParseError('truncated proof');
  let extra = null;
  if (l.line.startsWith('extra ')) {
    const b = l.line.slice(6);
    if (b.length === 0) throw new ParseError('empty extra line');
    if (b.length > Math.ceil(EXTRA_MAX / 3) * 4) throw new ParseError('extra data too large', 'toobig');
    const u = b64decode(b);
    if (u.length === 0) throw new ParseError('empty extra data');
    extra = bin(u);
    l = nextLine(s, l.pos);
    if (!l) throw new ParseError('truncated proof');
  }
  if (!l.line.startsWith('index ')) throw new ParseError('no index line');
  const index = parseU64(l.line.slice(6));
  const hashes = [];
  for (;;) {
    l = nextLine(s, l.pos);
    if (!l) throw new ParseError('truncated proof (no empty line before the checkpoint)');
    if (l.line.length === 0) break;
    if (hashes.length === MAX_HASHES) throw new ParseError('more than 63 proof hashes', 'toobig');
    hashes.push(b64decodeExact(l.line, 32));
  }
  const checkpoint = s.slice(l.pos);
  if (checkpoint.length === 0) throw new ParseError('no checkpoint');
  parseCheckpoint(parseNote(checkpoint).text);
  return { index, hashes, extra, checkpoint };
}

export function formatTlogProof(p) {
  let s = 'c2sp.org/tlog-proof@v1\n';
  if (p.extra) s += 'extra ' + b64encode(bytes(p.extra)) + '\n';
  s += 'index ' + p.index.toString() + '\n';
  for (const h of p.hashes) s += b64encode(h) + '\n';
  return s + '\n' + p.checkpoint;
}
